package detect

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/mailsetup/mailsetup/detect/trust"
)

// This file applies the trust model (detect/trust) to a run: which servers may receive
// a login, which clear-text logins are allowed at all, and what a cell that was not
// given credentials reports.

// runTrust is the trust decision of one run.
type runTrust struct {
	decisions map[string]trust.Decision
	// encrypted lists the servers a trusted source says offer TLS or STARTTLS.
	encrypted map[string]bool
}

// trusted reports whether host may receive a login in this run.
func (t *runTrust) trusted(host string) bool {
	if t == nil {
		return true
	}
	return t.decisions[trust.Normalize(host)].Trusted
}

// decideTrust decides, for every server the sources named, whether it may receive a
// login, and returns the decisions as the report shows them (sorted by host).
func (o *engine) decideTrust(addr Address, cands []Candidate, provider *Provider) (*runTrust, []HostTrust) {
	pol := trust.Policy{Domain: addr.Domain, UserHosts: o.TrustHosts}
	if o.Providers.ByDomain(addr.Domain) != nil {
		pol.KnownProvider = true
	}
	if provider != nil {
		for _, s := range provider.Servers {
			pol.KnowledgeHosts = append(pol.KnowledgeHosts, s.Host)
		}
	}
	claims := map[string][]trust.Claim{}
	sources := map[string][]string{}
	var hosts []string
	for _, c := range cands {
		h := trust.Normalize(c.Host)
		if _, ok := claims[h]; !ok {
			hosts = append(hosts, h)
		}
		claims[h] = append(claims[h], trust.Claim{Host: h, Origin: c.origin, Via: c.Via})
		if !slices.Contains(sources[h], c.Source) {
			sources[h] = append(sources[h], c.Source)
		}
	}
	rt := &runTrust{decisions: map[string]trust.Decision{}, encrypted: map[string]bool{}}
	out := make([]HostTrust, 0, len(hosts))
	for _, h := range hosts {
		d := pol.Decide(h, claims[h])
		rt.decisions[h] = d
		out = append(out, HostTrust{Host: h, Trusted: d.Trusted, Reason: string(d.Reason), Why: TrustWords(d.Reason),
			Via: d.Via, Sources: sources[h]})
	}
	for _, c := range cands {
		if c.Security != SecurityNone && vouches(c.origin) && rt.trusted(c.Host) {
			markEncrypted(rt.encrypted, c.Protocol, c.Host)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return rt, out
}

// vouches reports whether a source's word counts as a fact — that a server offers TLS,
// or which user name logs in there: curated knowledge, the domain's own HTTPS document,
// the online database and the user's own settings, not guesses, DNS or plain HTTP.
func vouches(o trust.Origin) bool {
	switch o {
	case trust.OriginKnowledge, trust.OriginKnowledgeMX, trust.OriginAutoconfigHTTPS, trust.OriginOnlineDB, trust.OriginUser:
		return true
	}
	return false
}

// trustedFirst orders candidates so that trusted servers take the matrix's host slots
// before untrusted ones (a forged document cannot crowd the real servers out), keeping
// source priority within each group.
func trustedFirst(cands []Candidate, rt *runTrust) []Candidate {
	out := slices.Clone(cands)
	sort.SliceStable(out, func(i, j int) bool { return rt.trusted(out[i].Host) && !rt.trusted(out[j].Host) })
	return out
}

// cellLogin is the login a cell may use: none for an untrusted server; no password for
// a clear-text cell, whose login (if any) waits until the whole matrix shows whether the
// server offers encryption (clearTextLogins).
func cellLogin(login *Login, trusted bool, sec Security) *Login {
	switch {
	case !trusted:
		return login.withoutPassword(true)
	case sec == SecurityNone:
		return login.withoutPassword(false)
	}
	return login
}

// untrustedResult turns the result of a cell on an untrusted server that did not fail on
// its own into "untrusted_host": reachable, but not given a login.
func untrustedResult(res ProbeResult, d trust.Decision) ProbeResult {
	if res.Status != StatusOK {
		return res
	}
	f := fail(KindUntrustedHost, "auth", fmt.Errorf("%w: %s", ErrUntrustedHost, TrustWords(d.Reason)))
	res.Status = StatusFor(f.Kind)
	res.Diagnosis = DiagnosisFor(f)
	res.Diagnosis.Explanation += " " + TrustWords(d.Reason)
	if d.Via != "" {
		res.Diagnosis.Explanation += " (" + d.Via + ")"
	}
	res.Diagnosis.Notices = append(res.Diagnosis.Notices, notice(NoticeTrustReason, "reason", string(d.Reason), "via", d.Via))
	res.Error = f.Error()
	res.Transcript = append(res.Transcript, "-- not logged in: "+TrustWords(d.Reason))
	return res
}

// encryptedServers lists the servers on which any cell established TLS (whatever its
// certificate) or which a trusted source says offer it, under two keys: the host (no
// clear-text login there, in any protocol: the password is the same) and protocol|host
// (no clear-text setting of that service is recommended).
func encryptedServers(probes []ProbeResult, rt *runTrust) map[string]bool {
	out := map[string]bool{}
	if rt != nil {
		for k := range rt.encrypted {
			out[k] = true
		}
	}
	for _, p := range probes {
		if p.TLSVersion != "" {
			markEncrypted(out, p.Protocol, p.Host)
		}
	}
	return out
}

func markEncrypted(m map[string]bool, proto Protocol, host string) {
	h := trust.Normalize(host)
	m[h] = true
	m[string(proto)+"|"+h] = true
}

// clearTextLogins decides the clear-text cells of trusted servers once the matrix is
// done. No cell ever logs in without encryption on a server that offers it; on one that
// does not, every mechanism (challenge-response too) needs the user's consent, and only
// then is the cell probed again with the password.
func (o *engine) clearTextLogins(ctx context.Context, probes []ProbeResult, login *Login, rt *runTrust) {
	if !login.hasPassword() {
		return
	}
	encrypted := encryptedServers(probes, rt)
	var wg sync.WaitGroup
	for i := range probes {
		p := probes[i]
		if p.Security != SecurityNone || p.Status != StatusOK || p.Verified || p.Relay != "" || !rt.trusted(p.Host) {
			continue
		}
		f := clearChoice(p, o.AllowPlaintext)
		if f == nil && encrypted[trust.Normalize(p.Host)] {
			f = fail(KindEncryptionExists, "auth", ErrEncryptionExists)
		}
		if f != nil && f.Kind == KindPlaintextRefused && encrypted[trust.Normalize(p.Host)] {
			f = fail(KindEncryptionExists, "auth", ErrEncryptionExists)
		}
		if f != nil {
			probes[i].Status, probes[i].Diagnosis, probes[i].Error = StatusFor(f.Kind), DiagnosisFor(f), f.Error()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := ProbeKey{p.Protocol, p.Host, p.Port, p.Security}
			again := o.probeOne(ctx, key, login)
			again.Source = p.Source
			again.Transcript = append([]string{"-- logged in without encryption: no encrypted connection to this server exists, and you allowed it"}, again.Transcript...)
			probes[i] = again
			o.progress(Event{Probe: &probes[i]})
		}()
	}
	wg.Wait()
}

// clearChoice says whether a clear-text login could be tried on the cell by what the
// server offered: nil when a mechanism is usable with the user's consent, else why not.
func clearChoice(p ProbeResult, allowPlaintext bool) *Failure {
	key := ProbeKey{p.Protocol, p.Host, p.Port, p.Security}
	var f *Failure
	switch p.Protocol {
	case IMAP:
		_, f = imapChoose(p.Capabilities, false, allowPlaintext, key)
	case POP3:
		_, f = chooseFrom(pop3Clear, p.AuthMechanisms, false, allowPlaintext)
	default:
		_, f = chooseMechs(p.AuthMechanisms, false, allowPlaintext)
	}
	return f
}

// TrustWords says in plain words why a server is or is not trusted with a login.
func TrustWords(r trust.Reason) string {
	switch r {
	case trust.ReasonUserConfirmed:
		return "You confirmed this server."
	case trust.ReasonKnowledge:
		return "Our provider knowledge names this server for your address."
	case trust.ReasonOwnDomain:
		return "The server is in your address's own domain; its certificate must prove that name."
	case trust.ReasonOwnAutoconfig:
		return "Your domain's own settings document, fetched encrypted (HTTPS), names this server."
	case trust.ReasonOnlineDB:
		return "The online provider database (fetched encrypted) names this server."
	case trust.ReasonKnownProvider:
		return "Your address belongs to a provider we know, and this server is not one of its servers."
	case trust.ReasonPlainHTTP:
		return "It was named by a settings document fetched without encryption, which anyone on this network could have forged."
	case trust.ReasonRedirect:
		return "It was named by a settings document that your domain's web server redirected to another domain."
	case trust.ReasonOtherDomainDoc:
		return "It was named by another domain's settings document (the domain your mail is delivered to), not by your own domain."
	case trust.ReasonSRVOutside:
		return "A DNS service record points to it, outside your address's domain; DNS answers on this network are not signed."
	case trust.ReasonNotAHostName:
		return "It is not a server name (an IP address or a bare word)."
	case trust.ReasonKnowledgeBlocked:
		return "Our knowledge names it for another provider than yours."
	default:
		return "It is outside your address's domain and no trusted source names it."
	}
}

// untrustedHostsWarning names the servers that were not given a login, so the user can
// confirm one that really belongs to their provider.
func untrustedHostsWarning(rep *Report) (string, Notice) {
	var names []string
	for _, h := range rep.Unvetted() {
		names = append(names, h.Host)
	}
	if len(names) == 0 {
		return "", Notice{}
	}
	return fmt.Sprintf("Not logged in to %s: no source you can trust names %s. Only if %s to your provider, confirm %s (in the window, or --trust-host %s).",
			strings.Join(names, ", "), plural(len(names), "this server", "these servers"), plural(len(names), "it belongs", "they belong"),
			plural(len(names), "it", "them"), strings.Join(names, " --trust-host ")),
		notice(NoticeUntrustedHosts, "hosts", strings.Join(names, ", "), "flags", strings.Join(names, " --trust-host "), "count", strconv.Itoa(len(names)))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
