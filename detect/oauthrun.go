package detect

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"golang.org/x/oauth2"

	"github.com/mailsetup/mailsetup/detect/oauth"
	"github.com/mailsetup/mailsetup/detect/trust"
)

// This file signs in with OAuth2 for a run (detect/oauth does the flows) and logs in
// with the token: SASL OAUTHBEARER (RFC 7628) or XOAUTH2, only on trusted encrypted
// connections, with the server's rejection decoded into the report.

// OAuthMode says how a run signs in with OAuth2.
type OAuthMode string

// Sign-in modes: none (passwords only), the user's browser with a loopback redirect
// (RFC 8252), or the device grant for a machine without a browser (RFC 8628).
const (
	OAuthOff     OAuthMode = ""
	OAuthBrowser OAuthMode = "browser"
	OAuthDevice  OAuthMode = "device"
)

// OAuthSettings is how a front end lets the engine sign in with OAuth2.
type OAuthSettings struct {
	// Mode chooses the flow; OAuthOff signs in only when Token is set.
	Mode OAuthMode
	// Token, when set, is used as it is (a sign-in done before the run).
	Token *oauth2.Token
	// Client is the explicit client registration (--oauth-client-id/-secret, the
	// window's option); empty means the config file, environment, build default or
	// dynamic registration (oauth.Options.ResolveClient).
	Client oauth.Registration
	// IssuerURL names the authorization server when no other source does
	// (--oauth-issuer); the knowledge base and the server's own word come first.
	IssuerURL string
	// OpenBrowser shows the authorization URL (the window opens the browser, the CLI
	// prints it); ShowCode shows the device flow's code.
	OpenBrowser func(url string) error
	ShowCode    func(oauth.DeviceCode) error
	// Started, when set, is called with the issuer's name when a sign-in begins.
	Started func(provider string)
	// OAuth is the oauth package's environment (HTTP client, config folder, getenv);
	// its zero value works. An empty HTTPClient means one that dials like the engine
	// and trusts --ca roots.
	OAuth oauth.Options
}

// OAuthReport is what the report says about signing in with OAuth2.
type OAuthReport struct {
	// Provider is the name shown as "Sign in with <Provider>".
	Provider string `json:"provider"`
	// Issuer is the authorization server's URL (or its authorization endpoint).
	Issuer string `json:"issuer"`
	// Source says where the issuer came from: knowledge, server (an OAUTHBEARER
	// failure naming its openid-configuration) or option (--oauth-issuer).
	Source string `json:"source"`
	// Needed is true when the provider refuses passwords (or rejected the password and
	// accepts OAuth2): the settings can be proven only by signing in.
	Needed bool `json:"needed"`
	// Mode is the flow used (browser, device), empty when none ran.
	Mode OAuthMode `json:"mode,omitempty"`
	// SignedIn is true when a token was obtained (it is never in the report).
	SignedIn bool `json:"signed_in"`
	// Client says where the client registration came from (flag, config, env, build, dynamic).
	Client string `json:"client,omitempty"`
	// Error is why signing in did not happen (oauth.Kind: no_client, cancelled,
	// access_denied, issuer_down …) and its words.
	Error      string `json:"error,omitempty"`
	ErrorWords string `json:"error_words,omitempty"`
}

// oauthTable are the bearer-token mechanisms, best first: OAUTHBEARER is the standard
// (and go-imap answers XOAUTH2's error challenge in a way Dovecot calls BAD).
var oauthTable = []oauth.Mechanism{oauth.OAUTHBEARER, oauth.XOAUTH2}

// loginMechs chooses the login methods for a connection: the bearer-token mechanisms
// the server offers when the login carries a token (only on a trusted encrypted
// connection), else the protocol's password methods by chooseFrom.
func (o *engine) loginMechs(login *Login, table []mechanism, offered []string, secure bool, key ProbeKey) ([]mechanism, *Failure) {
	if login.Token == nil {
		return chooseFrom(table, offered, secure, o.AllowPlaintext)
	}
	if !secure {
		return nil, fail(KindPlaintextRefused, "auth", fmt.Errorf("%w: %w", ErrPlaintextRefused, ErrTokenInClear))
	}
	has := map[string]bool{}
	for _, m := range offered {
		has[strings.ToUpper(m)] = true
	}
	var out []mechanism
	for _, mech := range oauthTable {
		if !has[string(mech)] {
			continue
		}
		tok := login.Token
		out = append(out, mechanism{name: string(mech), client: func(user, _ string) sasl.Client {
			c, err := oauth.NewSASLClient(mech, user, tok, key.Host, key.Port)
			if err != nil {
				return errClient{err}
			}
			return c
		}})
	}
	if len(out) == 0 {
		return nil, fail(KindMechanismUnsupported, "auth",
			fmt.Errorf("%w: the server offers no OAuth2 login (XOAUTH2, OAUTHBEARER), only %s", ErrNoMechanism, strings.Join(offered, " ")))
	}
	return out, nil
}

// errClient is a SASL client that fails at once (a token that cannot be sent).
type errClient struct{ err error }

func (c errClient) Start() (string, []byte, error) { return "", nil, c.err }
func (c errClient) Next([]byte) ([]byte, error)    { return nil, c.err }

// wanted reports whether the run signs in with OAuth2 at all.
func (s *OAuthSettings) wanted() bool { return s != nil && (s.Mode != OAuthOff || s.Token != nil) }

func (r *OAuthReport) fail(kind oauth.Kind, words string) {
	r.Error, r.ErrorWords = string(kind), words
}

// forOAuth narrows a token login to the one name the token signs in as.
func (l *Login) forOAuth() *Login {
	if l == nil || l.Token == nil {
		return l
	}
	c := *l
	c.Usernames = []string{l.OAuthUser}
	return &c
}

// tokenRejected types a failed bearer-token login: the server's decoded report (RFC
// 7628 §3.2.2) goes into the result, and a rejection is about the token, not a password.
func (p *probeRun) tokenRejected(f *Failure, c *oauth.SASLClient) *Failure {
	if fr := c.Failure(); fr != nil {
		p.res.OAuthError = fr
		p.tr.Note("the server rejected the token: " + fr.Error())
	}
	decoded := p.res.OAuthError != nil && p.res.OAuthError.Kind != oauth.FailureUnknown
	if f.Kind == KindAuthRejected || decoded && (f.Kind == KindServerPermanent || f.Kind == KindServerTemporary || f.Kind == KindProtocol) {
		return &Failure{Kind: KindOAuthRejected, Step: f.Step, Code: f.Code, Enhanced: f.Enhanced, Err: f.Err}
	}
	return f
}

// issuerFromProvider turns the knowledge base's oauth2 facts into an Issuer.
func issuerFromProvider(p *Provider) (oauth.Issuer, bool) {
	if p == nil || p.OAuth2 == nil || p.OAuth2.AuthURL == "" && p.OAuth2.Issuer == "" {
		return oauth.Issuer{}, false
	}
	f := p.OAuth2
	iss := oauth.Issuer{ID: oauthID(p), Name: p.Name, IssuerURL: f.Issuer, AuthURL: f.AuthURL, TokenURL: f.TokenURL,
		DeviceURL: f.DeviceURL, Scopes: map[oauth.Protocol][]string{
			oauth.IMAP: f.Scopes.IMAP, oauth.POP3: f.Scopes.POP3, oauth.SMTP: f.Scopes.SMTP}}
	if strings.Contains(f.AuthURL, "login.microsoftonline.com") {
		// Microsoft's "common" metadata names a per-tenant issuer, which would fail the
		// discovery check; the endpoints are known, and Entra wants "localhost".
		iss.IssuerURL, iss.LoopbackHost = "", "localhost"
	}
	return iss, true
}

// oauthID is the short name an issuer's client registration is filed under.
func oauthID(p *Provider) string {
	switch {
	case strings.Contains(p.OAuth2.AuthURL, "accounts.google.com"):
		return "google"
	case strings.Contains(p.OAuth2.AuthURL, "microsoftonline.com"):
		return "microsoft"
	}
	return p.ID
}

// oauthHTTPClient talks to issuers the way the engine talks to autoconfig servers:
// through its dialer (so --dns and tests apply), trusting --ca roots, HTTPS only.
func (o *engine) oauthHTTPClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:     o.dialer().DialContext,
			TLSClientConfig: &tls.Config{RootCAs: o.Roots(), MinVersion: tls.VersionTLS12},
			Proxy:           nil,
		},
		CheckRedirect: oauth.CheckRedirect(false),
	}
}

// signIn finds the issuer, the client registration and a token for the run, and
// records what happened; the token goes into login, never into the report.
func (o *engine) signIn(ctx context.Context, addr Address, provider *Provider, sources []SourceResult, cands []Candidate, rt *runTrust, login *Login) *OAuthReport {
	s := o.OAuth
	rep := &OAuthReport{}
	login.OAuthUser = addr.String()
	if o.Username != "" {
		login.OAuthUser = o.Username
	}
	iss, src, err := o.findIssuer(ctx, addr, provider, sources, cands, rt)
	if err == nil {
		rep.Provider, rep.Source = iss.Name, src
		rep.Issuer = iss.IssuerURL
		if rep.Issuer == "" {
			rep.Issuer = iss.AuthURL
		}
	}
	if s.Token != nil {
		login.Token, rep.SignedIn = s.Token, true
		return rep
	}
	if err != nil {
		rep.fail(oauth.KindOf(err), "No sign-in service is known for "+addr.Domain+": "+err.Error())
		return rep
	}
	oo := s.OAuth
	if oo.HTTPClient == nil {
		oo.HTTPClient = o.oauthHTTPClient()
	}
	client, err := oo.ResolveClient(ctx, iss, s.Client)
	if err != nil {
		var need *oauth.RegistrationNeededError
		if errors.As(err, &need) {
			rep.fail(oauth.KindNoClient, need.Error())
		} else {
			rep.fail(oauth.KindOf(err), err.Error())
		}
		return rep
	}
	rep.Client = string(client.Source)
	if s.Started != nil {
		s.Started(iss.Name)
	}
	o.progress(Event{Stage: StageSignIn})
	in := oauth.SignIn{Issuer: iss, Client: client, LoginHint: addr.String(), OpenBrowser: s.OpenBrowser, ShowCode: s.ShowCode}
	var tok *oauth2.Token
	rep.Mode = s.Mode
	if s.Mode == OAuthDevice {
		tok, err = oo.SignInDevice(ctx, in)
	} else {
		rep.Mode = OAuthBrowser
		tok, err = oo.SignInBrowser(ctx, in)
	}
	if err != nil {
		rep.fail(oauth.KindOf(err), scrub(err.Error(), nil))
		return rep
	}
	login.Token, rep.SignedIn = tok, true
	return rep
}

// findIssuer says which authorization server signs the account in, in order: the
// knowledge base (by domain or MX), the <oAuth2> element of a trusted document (the
// online ISPDB, the domain's own HTTPS autoconfig), --oauth-issuer, and the
// openid-configuration a trusted server names when it rejects an empty OAUTHBEARER token.
func (o *engine) findIssuer(ctx context.Context, addr Address, provider *Provider, sources []SourceResult, cands []Candidate, rt *runTrust) (oauth.Issuer, string, error) {
	if iss, ok := issuerFromProvider(provider); ok {
		return iss, "knowledge", nil
	}
	for _, s := range sources {
		if h := s.OAuth2; h != nil && (h.origin == trust.OriginOnlineDB || h.origin == trust.OriginAutoconfigHTTPS) {
			return oauth.Issuer{ID: h.Issuer, Name: h.Issuer, AuthURL: h.AuthURL, TokenURL: h.TokenURL,
				Scopes: map[oauth.Protocol][]string{oauth.IMAP: h.Scopes, oauth.POP3: h.Scopes, oauth.SMTP: h.Scopes}}, "document", nil
		}
	}
	oo := o.OAuth.OAuth
	if oo.HTTPClient == nil {
		oo.HTTPClient = o.oauthHTTPClient()
	}
	if u := o.OAuth.IssuerURL; u != "" {
		iss, err := oo.Discover(ctx, u)
		if err != nil {
			return oauth.Issuer{}, "", err
		}
		iss.Name = iss.IssuerURL
		return iss, "option", nil
	}
	hint, err := o.askServerForIssuer(ctx, cands, rt, addr)
	if err != nil {
		return oauth.Issuer{}, "", err
	}
	iss, err := oo.DiscoverConfig(ctx, hint.OpenIDConfiguration)
	if err != nil {
		return oauth.Issuer{}, "", err
	}
	iss.Name = iss.IssuerURL
	if scopes := strings.Fields(hint.Scope); len(scopes) > 0 && len(iss.Scopes) == 0 {
		// RFC 7628 §3.2.2: the scope the server says a token needs.
		iss.Scopes = map[oauth.Protocol][]string{oauth.IMAP: scopes, oauth.POP3: scopes, oauth.SMTP: scopes}
	}
	return iss, "server", nil
}

// askServerForIssuer asks a trusted IMAP server that offers OAUTHBEARER which issuer it
// trusts: a login with an empty token is rejected with an RFC 7628 report that may
// name the issuer's openid-configuration. No credential is sent.
func (o *engine) askServerForIssuer(ctx context.Context, cands []Candidate, rt *runTrust, addr Address) (*oauth.Failure, error) {
	tried := map[ProbeKey]bool{}
	for _, c := range cands {
		key := ProbeKey{IMAP, trust.Normalize(c.Host), c.Port, c.Security}
		if c.Protocol != IMAP || c.Security == SecurityNone || !rt.trusted(c.Host) || tried[key] {
			continue
		}
		tried[key] = true
		cctx, cancel := context.WithTimeout(ctx, o.timeout())
		hint := o.imapIssuerHint(cctx, key, addr)
		cancel()
		if hint != nil {
			return hint, nil
		}
	}
	return nil, ErrNoIssuer
}

// imapIssuerHint runs the empty-token OAUTHBEARER exchange on one IMAP cell and returns
// the server's report when it names an https openid-configuration.
func (o *engine) imapIssuerHint(ctx context.Context, key ProbeKey, addr Address) *oauth.Failure {
	p := o.startProbe(key, nil)
	ic, f := o.dialIMAP(ctx, p, key)
	if f != nil {
		return nil
	}
	defer ic.close()
	if !ic.secure || !hasCap(ic.caps, "AUTH=OAUTHBEARER") {
		return nil
	}
	c, err := oauth.NewSASLClient(oauth.OAUTHBEARER, addr.String(), &oauth2.Token{AccessToken: "-"}, key.Host, key.Port)
	if err != nil {
		return nil
	}
	_ = ic.client.Authenticate(c)
	fr := c.Failure()
	if fr == nil || !strings.HasPrefix(fr.OpenIDConfiguration, "https://") {
		return nil
	}
	if fr.Scope == "" && hasCap(ic.caps, "AUTH=XOAUTH2") {
		// Dovecot names the scope only in its XOAUTH2 report; ask once more for it.
		if x, err := oauth.NewSASLClient(oauth.XOAUTH2, addr.String(), &oauth2.Token{AccessToken: "-"}, key.Host, key.Port); err == nil {
			_ = ic.client.Authenticate(x)
			if xf := x.Failure(); xf != nil {
				fr.Scope = xf.Scope
			}
		}
	}
	return fr
}

// oauthNeeded says whether the provider can be proven only by signing in: its servers
// take OAuth2 only, or it offers OAuth2 and rejected the password.
func oauthNeeded(p *Provider, probes []ProbeResult) bool {
	if p == nil || p.OAuth2 == nil && !p.Notes.OAuth2 {
		return false
	}
	for _, s := range p.Servers {
		if s.OAuth2Only() {
			return true
		}
	}
	for _, r := range probes {
		if r.Diagnosis != nil && r.Diagnosis.Kind == KindAuthRejected {
			return true
		}
	}
	return false
}

// oauthOffer is the report's OAuth2 section when no sign-in ran: which provider the
// user could sign in with, and whether that is the only way to prove the settings.
func oauthOffer(p *Provider, probes []ProbeResult) *OAuthReport {
	iss, ok := issuerFromProvider(p)
	if !ok {
		return nil
	}
	r := &OAuthReport{Provider: iss.Name, Issuer: iss.IssuerURL, Source: "knowledge", Needed: oauthNeeded(p, probes)}
	if r.Issuer == "" {
		r.Issuer = iss.AuthURL
	}
	return r
}
