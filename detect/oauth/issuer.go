package oauth

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"
)

// Protocol names a mail protocol an access token is requested for.
type Protocol string

// The protocols a mail account uses; an issuer may want a different scope for each.
const (
	IMAP Protocol = "imap"
	POP3 Protocol = "pop3"
	SMTP Protocol = "smtp"
)

// Issuer is an OAuth2 authorization server as plain facts: from the provider knowledge
// base, an autoconfig document's <oAuth2> element, or metadata discovery.
type Issuer struct {
	// ID is a short stable key ("google", "microsoft"): it names the issuer in
	// oauth.json, in environment variables and in the -ldflags build default.
	ID string
	// Name is what the user reads: "Sign in with <Name>".
	Name string
	// IssuerURL is the issuer identifier (RFC 8414 §2), e.g. "https://accounts.google.com".
	IssuerURL string
	// AuthURL is the authorization endpoint the browser is sent to.
	AuthURL string
	// TokenURL is the token endpoint.
	TokenURL string
	// DeviceURL is the device authorization endpoint (RFC 8628); empty when the
	// issuer offers no device grant for mail scopes.
	DeviceURL string
	// RegistrationURL is the dynamic client registration endpoint (RFC 7591); empty
	// when the issuer has none.
	RegistrationURL string
	// Scopes lists the scopes a token needs per protocol; ScopesFor joins them.
	Scopes map[Protocol][]string
	// ExtraScopes are requested with every protocol (e.g. "offline_access").
	ExtraScopes []string
	// LoopbackHost is the host name of the loopback redirect URI the issuer accepts:
	// "127.0.0.1" (the default, RFC 8252 §8.3) or "localhost" (Microsoft Entra).
	LoopbackHost string
	// ConsoleURL is where an application is registered with this issuer; the
	// registration-needed message points there.
	ConsoleURL string
}

// ScopesFor returns the scopes to request for a token that serves every protocol
// given (all protocols the issuer knows when none is given), without duplicates, in
// a stable order: protocol scopes in IMAP, POP3, SMTP order, then ExtraScopes.
func (i Issuer) ScopesFor(protocols ...Protocol) []string {
	if len(protocols) == 0 {
		protocols = []Protocol{IMAP, POP3, SMTP}
	}
	var out []string
	add := func(s string) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, p := range []Protocol{IMAP, POP3, SMTP} {
		if !slices.Contains(protocols, p) {
			continue
		}
		for _, s := range i.Scopes[p] {
			add(s)
		}
	}
	// Protocols outside the three known ones keep the caller's order.
	for _, p := range protocols {
		if p != IMAP && p != POP3 && p != SMTP {
			for _, s := range i.Scopes[p] {
				add(s)
			}
		}
	}
	for _, s := range i.ExtraScopes {
		add(s)
	}
	return out
}

// Endpoint returns the issuer's endpoints in golang.org/x/oauth2's form.
func (i Issuer) Endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: i.AuthURL, TokenURL: i.TokenURL, DeviceAuthURL: i.DeviceURL}
}

// key is the ID the issuer is looked up by in oauth.json, the environment and the
// build default: ID, or the issuer URL's host when ID is empty.
func (i Issuer) key() string {
	if i.ID != "" {
		return i.ID
	}
	if u, err := url.Parse(i.IssuerURL); err == nil && u.Host != "" {
		return u.Hostname()
	}
	return ""
}

// displayName is Name, or the key when Name is empty.
func (i Issuer) displayName() string {
	if i.Name != "" {
		return i.Name
	}
	if k := i.key(); k != "" {
		return k
	}
	return "the sign-in service"
}

func (i Issuer) loopbackHost() string {
	if i.LoopbackHost == "localhost" {
		return "localhost"
	}
	return "127.0.0.1"
}

// validate checks that every endpoint the flows will use is an absolute https URL
// (http only on a loopback address when allowLoopbackHTTP is set).
func (i Issuer) validate(allowLoopbackHTTP bool, needAuth, needDevice bool) error {
	check := func(name, raw string, need bool) error {
		if raw == "" {
			if need {
				return fmt.Errorf("issuer %s has no %s", i.displayName(), name)
			}
			return nil
		}
		return checkURL(name, raw, allowLoopbackHTTP)
	}
	if err := check("authorization endpoint", i.AuthURL, needAuth); err != nil {
		return err
	}
	if err := check("token endpoint", i.TokenURL, true); err != nil {
		return err
	}
	if err := check("device authorization endpoint", i.DeviceURL, needDevice); err != nil {
		return err
	}
	return check("registration endpoint", i.RegistrationURL, false)
}

// checkURL accepts an absolute https URL without user information or fragment, or
// an http URL whose host is a loopback address when allowLoopbackHTTP is set.
func checkURL(name, raw string, allowLoopbackHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s %q: %w", name, clip(raw), err)
	}
	if u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%s %q: not an absolute URL without user or fragment", name, clip(raw))
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if allowLoopbackHTTP && isLoopbackHost(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%s %q: not https", name, clip(raw))
	default:
		return fmt.Errorf("%s %q: scheme %q is not https", name, clip(raw), u.Scheme)
	}
}

// isLoopbackHost reports whether host is a loopback IP address literal (or "localhost").
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
