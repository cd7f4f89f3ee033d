// Package trust decides which mail servers may receive a login: a password, or a
// verifier of it such as a CRAM-MD5 answer. The decision is made before any credential
// leaves the machine, from where each server name came from and what the user confirmed.
//
// The rules (docs/SECURITY.md states them for users):
//
//  1. A server the user confirmed (--trust-host, the window's dialog, the user's own
//     mail program's settings) is trusted.
//  2. A server the curated knowledge assigns to the address's domain, or to the provider
//     its MX records point at, is trusted.
//  3. When the address's domain is itself a known provider, no other server is trusted:
//     other sources' answers (HTTP documents, DNS) are exactly what a hostile network
//     can forge.
//  4. A server in the address's registrable domain (public suffix list) is trusted; its
//     certificate must still prove that name before a password is sent.
//  5. A server named by an HTTPS autoconfig document that the domain itself served,
//     with no redirect to another domain or to plain HTTP, is trusted.
//
// Every other server (named by a plain-HTTP document, an SRV record pointing outside the
// domain, another domain's document found through MX, a redirect) is probed without
// credentials and shown, but gets a login only after the user confirms it.
//
// The package is pure: no network, no clock, table-tested.
package trust

import (
	"net"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// Origin says how a server name was learned.
type Origin string

// Origins, from most to least vouched for.
const (
	// OriginUser is a server the user confirmed or configured themselves.
	OriginUser Origin = "user"
	// OriginKnowledge is a server the curated knowledge assigns to the address's domain.
	OriginKnowledge Origin = "knowledge"
	// OriginKnowledgeMX is a server of the provider the domain's MX records point at.
	OriginKnowledgeMX Origin = "knowledge_mx"
	// OriginAutoconfigHTTPS is an HTTPS autoconfig document served by the address's own
	// domain (autoconfig.<domain> or <domain>/.well-known) with no cross-domain redirect.
	OriginAutoconfigHTTPS Origin = "autoconfig_https"
	// OriginAutoconfigHTTP is a document fetched over plain HTTP (forgeable on any network).
	OriginAutoconfigHTTP Origin = "autoconfig_http"
	// OriginAutoconfigRedirect is an HTTPS document reached through a redirect to another domain.
	OriginAutoconfigRedirect Origin = "autoconfig_redirect"
	// OriginAutoconfigOther is an HTTPS document of another domain (the MX host's domain).
	OriginAutoconfigOther Origin = "autoconfig_other_domain"
	// OriginOnlineDB is a server named by an online provider database the project trusts
	// like its curated knowledge (fetched over HTTPS from a fixed host).
	OriginOnlineDB Origin = "online_database"
	// OriginSRV is a DNS SRV record (RFC 6186/8314); DNS answers are not signed.
	OriginSRV Origin = "srv"
	// OriginGuess is a name built from the domain (smtp.<domain>, mail.<domain> …).
	OriginGuess Origin = "guess"
)

// Claim is one source's statement that a server belongs to the account.
type Claim struct {
	Host   string
	Origin Origin
	// Via says exactly where: the document's final URL, the DNS record's name.
	Via string
}

// Reason names why a server is or is not trusted.
type Reason string

// Reasons a decision gives; the report carries them as they are.
const (
	ReasonUserConfirmed    Reason = "user_confirmed"
	ReasonKnowledge        Reason = "knowledge"
	ReasonOwnDomain        Reason = "own_domain"
	ReasonOwnAutoconfig    Reason = "own_https_autoconfig"
	ReasonOnlineDB         Reason = "online_database"
	ReasonKnownProvider    Reason = "not_a_server_of_known_provider"
	ReasonPlainHTTP        Reason = "plain_http_document"
	ReasonRedirect         Reason = "redirected_document"
	ReasonOtherDomainDoc   Reason = "other_domains_document"
	ReasonSRVOutside       Reason = "srv_outside_domain"
	ReasonOutsideDomain    Reason = "outside_domain"
	ReasonNotAHostName     Reason = "not_a_host_name"
	ReasonNoClaim          Reason = "no_source"
	ReasonKnowledgeBlocked Reason = "knowledge_other_provider"
)

// Policy is what the decision knows about one account.
type Policy struct {
	// Domain is the address's domain, lower-case ASCII.
	Domain string
	// KnownProvider is true when the address's domain itself is in the curated knowledge.
	KnownProvider bool
	// KnowledgeHosts are the servers the knowledge assigns to the domain or its MX provider.
	KnowledgeHosts []string
	// UserHosts are the servers the user confirmed.
	UserHosts []string
}

// Decision is the verdict on one server.
type Decision struct {
	Host    string
	Trusted bool
	Reason  Reason
	// Via is the claim the reason rests on (a URL, a DNS record), when there is one.
	Via string
}

// Decide returns whether host may receive a login, given every claim made about it.
func (p Policy) Decide(host string, claims []Claim) Decision {
	host = Normalize(host)
	d := Decision{Host: host}
	if !IsHostName(host) {
		d.Reason = ReasonNotAHostName
		return d
	}
	if containsHost(p.UserHosts, host) {
		d.Trusted, d.Reason = true, ReasonUserConfirmed
		return d
	}
	if containsHost(p.KnowledgeHosts, host) {
		d.Trusted, d.Reason = true, ReasonKnowledge
		return d
	}
	for _, c := range claims {
		switch c.Origin {
		case OriginUser:
			d.Trusted, d.Reason, d.Via = true, ReasonUserConfirmed, c.Via
			return d
		case OriginOnlineDB:
			// The online database is curated knowledge, fetched over HTTPS from one fixed host.
			d.Trusted, d.Reason, d.Via = true, ReasonOnlineDB, c.Via
			return d
		}
	}
	if p.KnownProvider {
		d.Reason = ReasonKnownProvider
		d.Via = bestVia(claims)
		return d
	}
	if SameRegistrable(host, p.Domain) {
		d.Trusted, d.Reason = true, ReasonOwnDomain
		return d
	}
	for _, c := range claims {
		if c.Origin == OriginAutoconfigHTTPS {
			d.Trusted, d.Reason, d.Via = true, ReasonOwnAutoconfig, c.Via
			return d
		}
	}
	d.Reason, d.Via = untrustedReason(claims)
	return d
}

// untrustedReason explains an untrusted server by the most telling claim about it.
func untrustedReason(claims []Claim) (Reason, string) {
	order := []struct {
		o Origin
		r Reason
	}{
		{OriginAutoconfigHTTP, ReasonPlainHTTP},
		{OriginAutoconfigRedirect, ReasonRedirect},
		{OriginAutoconfigOther, ReasonOtherDomainDoc},
		{OriginSRV, ReasonSRVOutside},
		{OriginKnowledgeMX, ReasonKnowledgeBlocked},
		{OriginKnowledge, ReasonKnowledgeBlocked},
	}
	for _, x := range order {
		for _, c := range claims {
			if c.Origin == x.o {
				return x.r, c.Via
			}
		}
	}
	if len(claims) == 0 {
		return ReasonNoClaim, ""
	}
	return ReasonOutsideDomain, claims[0].Via
}

func bestVia(claims []Claim) string {
	if len(claims) > 0 {
		return claims[0].Via
	}
	return ""
}

// Registrable returns the registrable domain of host ("mail.example.co.uk" →
// "example.co.uk"), or host itself when it is a public suffix or not a DNS name.
func Registrable(host string) string {
	host = Normalize(host)
	if net.ParseIP(host) != nil {
		return host
	}
	r, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return r
}

// SameRegistrable reports whether a and b lie in the same registrable domain.
func SameRegistrable(a, b string) bool {
	ra, rb := Registrable(a), Registrable(b)
	if ra == "" || rb == "" {
		return false
	}
	// A public suffix is nobody's domain: "co.uk" never shares with "example.co.uk".
	if IsPublicSuffix(ra) || IsPublicSuffix(rb) {
		return false
	}
	return ra == rb
}

// IsPublicSuffix reports whether name is a public suffix (com, co.uk, github.io …),
// which anyone may register names under.
func IsPublicSuffix(name string) bool {
	name = Normalize(name)
	if name == "" {
		return false
	}
	suffix, _ := publicsuffix.PublicSuffix(name)
	return suffix == name
}

// Normalize lower-cases host and drops a trailing dot.
func Normalize(host string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(host), "."))
}

// IsHostName reports whether h is a DNS host name a source may propose: ASCII letters,
// digits, hyphens and underscores in dot-separated labels, at least two labels, and not
// an IP address (a document that names an address could aim the probes at the user's
// own network).
func IsHostName(h string) bool {
	h = Normalize(h)
	if h == "" || len(h) > 253 || net.ParseIP(h) != nil {
		return false
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return false
	}
	for _, label := range labels {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	// All-numeric dotted names ("10.0.0.1.") are addresses in disguise.
	last := labels[len(labels)-1]
	return strings.Trim(last, "0123456789") != ""
}

func containsHost(list []string, host string) bool {
	for _, h := range list {
		if Normalize(h) == host {
			return true
		}
	}
	return false
}
