//go:build linux

package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/detecttest/realmail"
	"github.com/mailsetup/mailsetup/detect/oauth"
	"github.com/mailsetup/mailsetup/detect/oauth/oauthtest"
)

// TestProbeOAuthRealServers runs `mailsetup probe --oauth browser|device` against a real
// OpenID issuer, Dovecot validating tokens by introspection and Postfix authenticating
// through Dovecot: the issuer is found from Dovecot's own RFC 7628 report, the test plays
// the browser (or approves the device code), and IMAP, POP3 and SMTP logins with the
// token are verified. Then the failures: the user cancels, the state is tampered with,
// the issuer is down, the token has expired.
func TestProbeOAuthRealServers(t *testing.T) {
	t.Parallel()
	const user, pass = "bob", "bob's issuer password"
	iss := oauthtest.Start(t, oauthtest.Config{Users: []oauthtest.User{{Username: user, Password: pass, Email: "bob@oauth.test"}}, Scopes: []string{"mail"}})
	mail := realmail.Start(t, realmail.Config{Setup: realmail.Modern, Domain: "oauth.test",
		Users:  map[string]string{"bob": rand.Text()},
		OAuth2: &realmail.OAuth2{IntrospectionURL: iss.IntrospectionURL(), CAFile: iss.CAFile, Scope: "mail", OpenIDConfigurationURL: iss.MetadataURL()}})
	caFile := filepath.Join(t.TempDir(), "cas.pem")
	a, _ := os.ReadFile(mail.CAFile)
	b, _ := os.ReadFile(iss.CAFile)
	if err := os.WriteFile(caFile, append(a, b...), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The negative cases take the issuer from the knowledge base, as for Google or
	// Microsoft: discovering it from Dovecot costs a failed login, and Dovecot delays
	// every login from an address after failed ones.
	known := &detect.ProviderDB{Providers: []detect.Provider{{ID: "oauthtest", Name: "Test Issuer", Domains: []string{"oauth.test"}, Username: "address",
		Servers: []detect.ProviderServer{
			{Protocol: detect.IMAP, Host: mail.Host, Port: mail.Ports["imaps"], Security: detect.SecurityTLS},
			{Protocol: detect.POP3, Host: mail.Host, Port: mail.Ports["pop3s"], Security: detect.SecurityTLS},
			{Protocol: detect.SMTP, Host: mail.Host, Port: mail.Ports["submissions"], Security: detect.SecurityTLS}},
		OAuth2: &detect.ProviderOAuth2{Issuer: iss.URL, AuthURL: iss.URL + "/authorize", TokenURL: iss.URL + "/oauth/token",
			DeviceURL: iss.URL + "/device_authorization",
			Scopes:    detect.OAuth2Scopes{IMAP: []string{"mail"}, POP3: []string{"mail"}, SMTP: []string{"mail"}}}}}}

	type outcome struct {
		code int
		rep  detect.Report
		err  string
	}
	run := func(t *testing.T, mode string, providers *detect.ProviderDB, env func(*Env, *oauthtest.Browser)) outcome {
		t.Helper()
		var out, errb bytes.Buffer
		e := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Base: detect.Options{SkipNetwork: true, Providers: providers},
			OAuth: oauth.Options{ConfigDir: t.TempDir(), Getenv: func(string) string { return "" }}}
		env(&e, iss.NewBrowser())
		args := []string{"probe", "--json", "--oauth", mode, "--oauth-client-id", iss.ClientID, "--dns", mail.DNS, "--ca", caFile, "--timeout", "8s", "bob@oauth.test"}
		rctx, rcancel := context.WithTimeout(ctx, 40*time.Second)
		defer rcancel()
		start := time.Now()
		code := Main(rctx, args, e)
		t.Logf("%s: exit %d in %v", mode, code, time.Since(start).Round(time.Millisecond))
		var rep detect.Report
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("exit %d, no JSON: %v\n%s\n%s", code, err, out.String(), errb.String())
		}
		return outcome{code, rep, errb.String()}
	}
	browser := func(act func(b *oauthtest.Browser, u string)) func(*Env, *oauthtest.Browser) {
		return func(e *Env, b *oauthtest.Browser) {
			e.OpenBrowser = func(u string) error { go act(b, u); return nil }
		}
	}
	signIn := browser(func(b *oauthtest.Browser, u string) {
		if _, err := b.SignIn(ctx, u, user, pass); err != nil {
			t.Errorf("browser: %v", err)
		}
	})
	approve := func(e *Env, b *oauthtest.Browser) {
		e.ShowCode = func(c oauth.DeviceCode) error {
			go func() {
				if err := b.ApproveDevice(ctx, c.VerificationURI, c.UserCode, user, pass, true); err != nil {
					t.Errorf("device approval: %v", err)
				}
			}()
			return nil
		}
	}
	verified := func(t *testing.T, o outcome, source string) {
		t.Helper()
		if o.code != ExitOK || o.rep.OAuth == nil || !o.rep.OAuth.SignedIn || o.rep.OAuth.Source != source {
			t.Fatalf("exit %d, oauth %+v\n%s", o.code, o.rep.OAuth, o.err)
		}
		for _, s := range []*detect.Setting{o.rep.Recommended.Outgoing, o.rep.Recommended.Incoming} {
			if s == nil || !s.Verified || s.Auth != detect.AuthOAuth2 {
				t.Errorf("recommended %+v", s)
			}
		}
		protos := map[detect.Protocol]bool{}
		for _, p := range o.rep.Probes {
			if p.Verified {
				protos[p.Protocol] = true
			}
		}
		if !protos[detect.IMAP] || !protos[detect.POP3] || !protos[detect.SMTP] {
			t.Errorf("verified protocols %v, want IMAP, POP3 and SMTP", protos)
		}
	}
	failed := func(t *testing.T, o outcome, kind oauth.Kind) {
		t.Helper()
		if o.code != ExitNotFound || o.rep.OAuth == nil || o.rep.OAuth.SignedIn || o.rep.OAuth.Error != string(kind) {
			t.Fatalf("exit %d, oauth %+v, want error %s", o.code, o.rep.OAuth, kind)
		}
		if !strings.Contains(strings.Join(o.rep.Warnings, "\n"), "Signing in did not work") {
			t.Errorf("warnings %q", o.rep.Warnings)
		}
	}

	// In order: the issuer found from the server's own report (both flows), then the
	// failures with the issuer from the knowledge base.
	t.Run("browser, issuer named by the server", func(t *testing.T) { verified(t, run(t, "browser", nil, signIn), "server") })
	t.Run("device, issuer named by the server", func(t *testing.T) { verified(t, run(t, "device", nil, approve), "server") })
	t.Run("browser, issuer from the knowledge base", func(t *testing.T) { verified(t, run(t, "browser", known, signIn), "knowledge") })
	t.Run("user cancels", func(t *testing.T) {
		failed(t, run(t, "browser", known, browser(func(b *oauthtest.Browser, u string) { b.Cancel(ctx, u) })), oauth.KindDenied)
	})
	t.Run("state mismatch", func(t *testing.T) {
		failed(t, run(t, "browser", known, browser(func(b *oauthtest.Browser, u string) {
			b.BeforeApp = func(app *url.URL) bool {
				q := app.Query()
				q.Set("state", "forged")
				app.RawQuery = q.Encode()
				return true
			}
			b.SignIn(ctx, u, user, pass)
		})), oauth.KindStateMismatch)
	})
	t.Run("issuer down", func(t *testing.T) {
		down := oauthtest.Start(t, oauthtest.Config{})
		gone := *known
		gone.Providers = append([]detect.Provider(nil), known.Providers...)
		o2 := *known.Providers[0].OAuth2
		o2.Issuer, o2.AuthURL, o2.TokenURL, o2.DeviceURL = down.URL, down.URL+"/authorize", down.URL+"/oauth/token", down.URL+"/device_authorization"
		gone.Providers[0].OAuth2 = &o2
		down.Stop()
		failed(t, run(t, "device", &gone, approve), oauth.KindIssuerDown)
	})
	t.Run("expired token", func(t *testing.T) {
		// The issuer's clock moves on by two hours once the sign-in is done (the engine
		// announces the probing stage), so every server sees an expired token and says
		// so; the RFC 7628 report is decoded into the cells.
		o := run(t, "browser", known, func(e *Env, b *oauthtest.Browser) {
			signIn(e, b)
			e.Base.Progress = func(ev detect.Event) {
				if ev.Stage == detect.StageProbing {
					iss.Advance(2 * time.Hour)
				}
			}
		})
		if o.code != ExitNotFound || o.rep.OAuth == nil || !o.rep.OAuth.SignedIn {
			t.Fatalf("exit %d, oauth %+v", o.code, o.rep.OAuth)
		}
		decoded := 0
		for _, p := range o.rep.Probes {
			if p.Status != detect.StatusAuthFailed {
				continue
			}
			if p.Diagnosis.Kind != detect.KindOAuthRejected {
				t.Errorf("%s:%d %s: %s", p.Protocol, p.Port, p.Security, p.Diagnosis.Kind)
			}
			if p.OAuthError != nil && p.OAuthError.Kind == oauth.FailureInvalidToken {
				decoded++
			}
		}
		if decoded == 0 {
			t.Errorf("no cell carries the decoded invalid_token report")
		}
	})
}
