package gui

import (
	"context"
	"crypto/x509"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/detecttest"
	"github.com/mailsetup/mailsetup/detect/oauth/oauthtest"
)

// The window's OAuth2 flow against a real OpenID issuer: the address of a provider the
// knowledge base knows a sign-in for shows "Sign in with <provider>"; tapping it opens
// the provider's page (the test plays the browser and signs in), shows the waiting
// dialog, and ends on a result verified with the token. The mail servers accept only
// tokens the issuer vouches for (introspection).
func TestFlowSignInWithProvider(t *testing.T) {
	const who, issuerPass = "bob", "issuer password"
	iss := oauthtest.Start(t, oauthtest.Config{Users: []oauthtest.User{{Username: who, Password: issuerPass, Email: user}}, Scopes: []string{"mail"}})
	w, err := detecttest.NewWorldWith("demo.test", user, "a password nobody types", &detecttest.Tokens{Valid: iss.Introspect})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	db := &detect.ProviderDB{Providers: []detect.Provider{{ID: "demo", Name: "Demo Mail", Domains: []string{"demo.test"}, Username: "address",
		Servers: []detect.ProviderServer{
			{Protocol: detect.SMTP, Host: "smtp.demo.test", Port: 465, Security: detect.SecurityTLS, Auth: []string{"OAUTHBEARER"}},
			{Protocol: detect.IMAP, Host: "imap.demo.test", Port: 993, Security: detect.SecurityTLS, Auth: []string{"OAUTHBEARER"}}},
		OAuth2: &detect.ProviderOAuth2{Issuer: iss.URL, AuthURL: iss.URL + "/authorize", TokenURL: iss.URL + "/oauth/token",
			Scopes: detect.OAuth2Scopes{IMAP: []string{"mail"}, POP3: []string{"mail"}, SMTP: []string{"mail"}}}}}}
	db.Index()
	roots := []*x509.Certificate{w.CA.Cert, iss.CA.Cert}
	browserDone := make(chan error, 1)
	var waited bool
	var u *UI
	a := newApp(t)
	u = New(a, Config{
		Base: detect.Options{Dialer: w.Net, Resolver: w.Net, ExtraRoots: roots, SkipNetwork: true, Timeout: 5 * time.Second, Providers: db},
		// The engine runs in the background, as in the real window: the sign-in waits for the browser.
		OpenURL: func(target *url.URL) error {
			waited = u.signIn != nil && strings.Contains(textsOf(u.win.Canvas().Overlays().Top()), "Sign in with Demo Mail")
			go func() {
				_, err := iss.NewBrowser().SignIn(context.Background(), target.String(), who, issuerPass)
				browserDone <- err
			}()
			return nil
		},
	})
	t.Cleanup(u.Window().Close)
	// The issuer listens on 127.0.0.1: let the fake network reach it.
	issuerURL, _ := url.Parse(iss.URL)
	port, err := strconv.Atoi(issuerURL.Port())
	if err != nil {
		t.Fatal(err)
	}
	w.Net.Route(issuerURL.Hostname(), port, issuerURL.Host)
	test.Type(u.acct.address, user)
	texts := allText(u)
	if !strings.Contains(texts, "Sign in with Demo Mail") {
		t.Fatalf("no sign-in button for a provider with a known sign-in:\n%s", texts)
	}
	test.Type(u.acct.clientID, iss.ClientID)
	done := make(chan struct{})
	prevResult := u.cfg.OnResult
	u.cfg.OnResult = func(rep *detect.Report) {
		if prevResult != nil {
			prevResult(rep)
		}
		close(done)
	}
	u.submitSignIn()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("no result within a minute")
	}
	if err := <-browserDone; err != nil {
		t.Fatalf("browser: %v", err)
	}
	if !waited {
		t.Error("the waiting dialog was not shown while the browser was open")
	}
	rep := u.result.report
	if rep.OAuth == nil || !rep.OAuth.SignedIn {
		t.Fatalf("oauth %+v", rep.OAuth)
	}
	if got := u.result.fields["incoming login method"]; got != "OAuth2 (sign in with your provider)" {
		t.Errorf("incoming login method %q", got)
	}
	if u.result.fields["outgoing server"] != "smtp.demo.test" || !rep.Recommended.Outgoing.Verified {
		t.Errorf("outgoing %+v", rep.Recommended.Outgoing)
	}
	if u.signIn != nil {
		t.Error("the waiting dialog is still open")
	}
}
