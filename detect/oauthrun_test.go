package detect

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/mailsetup/mailsetup/detect/detecttest"
	"github.com/mailsetup/mailsetup/detect/oauth"
)

const goodToken = "ya29.good-token-0123456789abcdef"

// tokenWorld is a provider whose SMTP, IMAP and POP3 servers accept OAuth2 tokens.
func tokenWorld(t *testing.T) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	users := map[string]string{testUser: "unused-password"}
	tokens := &detecttest.Tokens{Users: map[string]string{goodToken: testUser}, OpenIDConfiguration: "https://issuer.example.test/.well-known/openid-configuration"}
	cert := e.cert(t, detecttest.CertOpts{})
	e.net.Route(testHost, 465, detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "tls", Cert: cert, Mechanisms: []string{"XOAUTH2", "OAUTHBEARER", "PLAIN"}, Users: users, Tokens: tokens}).Addr)
	e.net.Route(testHost, 993, detecttest.StartIMAP(t, detecttest.IMAPConfig{Mode: "tls", Cert: cert, Users: users, Tokens: tokens}).Addr)
	e.net.Route(testHost, 995, detecttest.StartPOP3(t, detecttest.POP3Config{Mode: "tls", Cert: cert, Users: users, Tokens: tokens}).Addr)
	e.opts.Providers = &ProviderDB{Providers: []Provider{{ID: "tok", Name: "Token Mail", Domains: []string{"example.test"}, Username: "address",
		Servers: []ProviderServer{
			{Protocol: SMTP, Host: testHost, Port: 465, Security: SecurityTLS, Auth: []string{"XOAUTH2"}},
			{Protocol: IMAP, Host: testHost, Port: 993, Security: SecurityTLS, Auth: []string{"XOAUTH2"}},
			{Protocol: POP3, Host: testHost, Port: 995, Security: SecurityTLS, Auth: []string{"XOAUTH2"}},
		},
		OAuth2: &ProviderOAuth2{Issuer: "https://issuer.example.test", AuthURL: "https://issuer.example.test/auth", TokenURL: "https://issuer.example.test/token",
			Scopes: OAuth2Scopes{IMAP: []string{"mail"}, POP3: []string{"mail"}, SMTP: []string{"mail"}}},
		Notes: ProviderNotes{OAuth2: true},
	}}}
	return e
}

// A token signs in to SMTP, IMAP and POP3; the settings are reported verified with
// auth "oauth2"; the token is in no form anywhere in the report.
func TestOAuthTokenLogins(t *testing.T) {
	t.Parallel()
	e := tokenWorld(t)
	opts := e.opts
	tok := &oauth2.Token{AccessToken: goodToken, RefreshToken: "refresh-secret-0123456789"}
	opts.OAuth = &OAuthSettings{Token: tok}
	rep, err := Run(context.Background(), testUser, opts)
	if err != nil {
		t.Fatal(err)
	}
	o, in := rep.Recommended.Outgoing, rep.Recommended.Incoming
	if o == nil || !o.Verified || o.Auth != AuthOAuth2 || in == nil || !in.Verified || in.Auth != AuthOAuth2 {
		t.Fatalf("recommended %+v / %+v", o, in)
	}
	popOK := false
	for _, p := range rep.Probes {
		popOK = popOK || p.Protocol == POP3 && p.Verified && (p.AuthUsed == "OAUTHBEARER" || p.AuthUsed == "XOAUTH2")
	}
	if !popOK {
		t.Error("no POP3 login with a token")
	}
	if rep.OAuth == nil || !rep.OAuth.SignedIn || rep.OAuth.Provider != "Token Mail" || rep.OAuth.Needed {
		t.Errorf("oauth section %+v", rep.OAuth)
	}
	blob, _ := json.Marshal(rep)
	forms := []string{goodToken, tok.RefreshToken, base64.StdEncoding.EncodeToString([]byte("user=" + testUser + "\x01auth=Bearer " + goodToken + "\x01\x01"))}
	for _, f := range oauth.SecretForms(testUser, tok, testHost, 465) {
		forms = append(forms, string(f))
	}
	for _, f := range forms {
		if strings.Contains(string(blob), f) {
			t.Errorf("token form %q in the report", f)
		}
	}
	if !strings.Contains(string(blob), "AUTH OAUTHBEARER [redacted]") && !strings.Contains(string(blob), "AUTHENTICATE OAUTHBEARER [redacted]") {
		t.Error("no redacted token login in the transcripts; the sweep proves little")
	}
}

// A token the servers reject: typed oauth_rejected with the decoded RFC 7628 report.
func TestOAuthTokenRejectedIsDecoded(t *testing.T) {
	t.Parallel()
	e := tokenWorld(t)
	opts := e.opts
	opts.OAuth = &OAuthSettings{Token: &oauth2.Token{AccessToken: "expired-token-abcdef0123"}}
	opts.Only = []Protocol{IMAP, SMTP}
	rep, err := Run(context.Background(), testUser, opts)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, p := range rep.Probes {
		if p.Security != SecurityTLS || p.Status == StatusRefused {
			continue
		}
		if p.Diagnosis.Kind != KindOAuthRejected || p.OAuthError == nil || p.OAuthError.Kind != oauth.FailureInvalidToken ||
			p.OAuthError.OpenIDConfiguration != "https://issuer.example.test/.well-known/openid-configuration" {
			t.Errorf("%s:%d: kind %s, oauth error %+v (%s)", p.Protocol, p.Port, p.Diagnosis.Kind, p.OAuthError, p.Error)
		}
		seen++
	}
	if seen < 2 {
		t.Fatalf("only %d TLS cells answered", seen)
	}
	if rep.Recommended.Outgoing != nil || rep.Recommended.Incoming != nil {
		t.Error("recommended settings with a rejected token")
	}
}

// A token is a bearer credential: never on a clear-text connection, whatever the
// consent, and never to a server no trusted source names.
func TestOAuthTokenNeverInClearOrUntrusted(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	tokens := &detecttest.Tokens{Users: map[string]string{goodToken: testUser}}
	plain := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "none", Mechanisms: []string{"XOAUTH2", "OAUTHBEARER"}, Tokens: tokens})
	rec := detecttest.StartRecorder(t, plain.Addr)
	e.net.Route(testHost, 587, rec.Addr())
	impostor := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "none", Mechanisms: []string{"XOAUTH2", "OAUTHBEARER"}, Tokens: tokens})
	irec := detecttest.StartTLSRecorder(t, e.cert(t, detecttest.CertOpts{}, "smtp.attacker.test"), impostor.Addr)
	e.net.Route("smtp.attacker.test", 465, irec.Addr())
	e.net.SRV("submissions", "example.test", "smtp.attacker.test", 465)
	opts := e.opts
	opts.AllowPlaintext = true
	opts.Only = []Protocol{SMTP}
	opts.OAuth = &OAuthSettings{Token: &oauth2.Token{AccessToken: goodToken}}
	if _, err := Run(context.Background(), testUser, opts); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*detecttest.Recorder{"clear-text 587": rec, "untrusted smtp.attacker.test": irec} {
		if r.Conns() == 0 {
			t.Errorf("%s was never contacted", name)
		}
		if strings.Contains(r.Received(), "AUTH") || strings.Contains(r.Received(), goodToken) {
			t.Errorf("%s received a token login:\n%s", name, r.Received())
		}
	}
}

// Without a sign-in, a provider that takes only OAuth2 is reported as needing it, with
// the words that say what to do.
func TestOAuthNeededIsReported(t *testing.T) {
	t.Parallel()
	e := tokenWorld(t)
	opts := e.opts
	opts.Password = "a password the provider refuses"
	rep, err := Run(context.Background(), testUser, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OAuth == nil || !rep.OAuth.Needed || rep.OAuth.SignedIn || rep.OAuth.Provider != "Token Mail" {
		t.Fatalf("oauth section %+v", rep.OAuth)
	}
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "sign in with Token Mail") {
		t.Errorf("warnings %q", rep.Warnings)
	}
}

// The sign-in service can come from a trusted document's <oAuth2> element (here the
// online ISPDB's): the browser is sent to the authorization URL it names.
func TestOAuthIssuerFromDocument(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	doc := strings.Replace(clientConfigFor("smtp.hoster.test", 465, "SSL", "imap.hoster.test", 993, "SSL"), "</emailProvider>",
		"</emailProvider><oAuth2><issuer>login.hoster.test</issuer><scope>mail offline_access</scope>"+
			"<authURL>https://login.hoster.test/authorize</authURL><tokenURL>https://login.hoster.test/token</tokenURL></oAuth2>", 1)
	ispdbServer(t, e, map[string]string{"shop.test": doc})
	opened := make(chan string, 1)
	opts := e.opts
	opts.OAuth = &OAuthSettings{Mode: OAuthBrowser, Client: oauth.Registration{ClientID: "test-client"},
		OAuth:       oauth.Options{ConfigDir: emptyDir(t), Getenv: func(string) string { return "" }},
		OpenBrowser: func(u string) error { opened <- u; return errors.New("no browser here") }}
	rep, err := Run(context.Background(), "me@shop.test", opts)
	if err != nil {
		t.Fatal(err)
	}
	if a := rep.OAuth; a == nil || a.Source != "document" || a.SignedIn || a.Error != string(oauth.KindBrowser) {
		t.Fatalf("oauth %+v", rep.OAuth)
	}
	u := <-opened
	if !strings.HasPrefix(u, "https://login.hoster.test/authorize?") || !strings.Contains(u, "scope=mail+offline_access") || !strings.Contains(u, "code_challenge_method=S256") {
		t.Errorf("authorization URL %s", u)
	}
}

// emptyDir is a directory with nothing in it, removed with os.Remove after the test (not
// t.TempDir: its RemoveAll uses unlinkat, which wine, where these tests also run, lacks).
func emptyDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mailsetup-empty-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Remove(dir); err != nil {
			t.Error(err)
		}
	})
	return dir
}
