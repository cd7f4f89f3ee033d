package oauth_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/mailsetup/mailsetup/detect/oauth"
	"github.com/mailsetup/mailsetup/detect/oauth/oauthtest"
)

// The tests in this file run the flows against a real authorization server
// (zitadel/oidc's OP in oauthtest), with a test playing the user's browser.

const (
	testUser = "alice"
	testPass = "correct horse"
	testMail = "alice@oauth.test"
)

func startIssuer(t *testing.T, cfg oauthtest.Config) (*oauthtest.Server, *oauth.Options, oauth.Issuer) {
	t.Helper()
	cfg.Users = append(cfg.Users, oauthtest.User{Username: testUser, Password: testPass, Email: testMail})
	cfg.Scopes = append(cfg.Scopes, "mail")
	srv := oauthtest.Start(t, cfg)
	o := &oauth.Options{HTTPClient: srv.HTTPClient(), ConfigDir: t.TempDir(), Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iss, err := o.Discover(ctx, srv.URL)
	if err != nil {
		t.Fatalf("discover the test issuer: %v", err)
	}
	iss.ID, iss.Name = "test", "Test Issuer"
	iss.Scopes = map[oauth.Protocol][]string{oauth.IMAP: {"mail"}, oauth.POP3: {"mail"}, oauth.SMTP: {"mail"}}
	iss.ExtraScopes = []string{"openid", "email", "offline_access"}
	return srv, o, iss
}

// browserFlow runs SignInBrowser with a test browser that signs in as the test user
// (or does what act says) and returns the token, the browser's last page and the error.
func browserFlow(t *testing.T, ctx context.Context, srv *oauthtest.Server, o *oauth.Options, iss oauth.Issuer, client string,
	act func(b *oauthtest.Browser, authURL string) (oauthtest.Visit, error)) (*oauth2.Token, oauthtest.Visit, error) {
	t.Helper()
	if act == nil {
		act = func(b *oauthtest.Browser, authURL string) (oauthtest.Visit, error) {
			return b.SignIn(ctx, authURL, testUser, testPass)
		}
	}
	visits := make(chan oauthtest.Visit, 1)
	tok, err := o.SignInBrowser(ctx, oauth.SignIn{
		Issuer: iss, Client: oauth.Registration{ClientID: client}, LoginHint: testMail,
		OpenBrowser: func(authURL string) error {
			go func() {
				v, err := act(srv.NewBrowser(), authURL)
				if err != nil {
					t.Errorf("browser: %v", err)
				}
				visits <- v
			}()
			return nil
		},
	})
	var v oauthtest.Visit
	select {
	case v = <-visits:
	case <-time.After(20 * time.Second):
		t.Error("the browser never finished")
	}
	return tok, v, err
}

func TestRealIssuerBrowserFlow(t *testing.T) {
	t.Parallel()
	srv, o, iss := startIssuer(t, oauthtest.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, page, err := browserFlow(t, ctx, srv, o, iss, srv.ClientID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || !tok.Valid() {
		t.Errorf("token = access %d bytes, refresh %d bytes, valid %v; want both and valid", len(tok.AccessToken), len(tok.RefreshToken), tok.Valid())
	}
	if page.Status != 200 || !strings.Contains(page.Body, "Signed in with Test Issuer") {
		t.Errorf("browser's last page = %d %q, want the success page", page.Status, page.Body)
	}
	if page.AppURL == nil || page.AppURL.Hostname() != "127.0.0.1" || page.AppURL.Query().Get("code") == "" {
		t.Errorf("the issuer's redirect %v did not reach the loopback listener with a code", page.AppURL)
	}
	// The refresh token works with the same client through x/oauth2.
	cfg := &oauth2.Config{ClientID: srv.ClientID, Endpoint: oauth2.Endpoint{TokenURL: iss.TokenURL, AuthStyle: oauth2.AuthStyleInParams}}
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	fresh, err := cfg.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, srv.HTTPClient()), &expired).Token()
	if err != nil || fresh.AccessToken == tok.AccessToken {
		t.Errorf("refresh: %v (new token differs: %v)", err, err == nil && fresh.AccessToken != tok.AccessToken)
	}
}

func TestRealIssuerBrowserFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		act      func(ctx context.Context, srv *oauthtest.Server) func(b *oauthtest.Browser, authURL string) (oauthtest.Visit, error)
		wantKind oauth.Kind
		wantCode string
		wantPage string
	}{
		{
			name: "user cancels on the issuer's page",
			act: func(ctx context.Context, srv *oauthtest.Server) func(*oauthtest.Browser, string) (oauthtest.Visit, error) {
				return func(b *oauthtest.Browser, authURL string) (oauthtest.Visit, error) { return b.Cancel(ctx, authURL) }
			},
			wantKind: oauth.KindDenied, wantCode: "access_denied", wantPage: "declined",
		},
		{
			name: "state changed on the way back",
			act: func(ctx context.Context, srv *oauthtest.Server) func(*oauthtest.Browser, string) (oauthtest.Visit, error) {
				return func(b *oauthtest.Browser, authURL string) (oauthtest.Visit, error) {
					b.BeforeApp = func(u *url.URL) bool {
						q := u.Query()
						q.Set("state", "forged-"+q.Get("state"))
						u.RawQuery = q.Encode()
						return true
					}
					return b.SignIn(ctx, authURL, testUser, testPass)
				}
			},
			wantKind: oauth.KindStateMismatch, wantPage: "does not belong",
		},
		{
			name: "code tampered: the issuer says invalid_grant",
			act: func(ctx context.Context, srv *oauthtest.Server) func(*oauthtest.Browser, string) (oauthtest.Visit, error) {
				return func(b *oauthtest.Browser, authURL string) (oauthtest.Visit, error) {
					b.BeforeApp = func(u *url.URL) bool {
						q := u.Query()
						q.Set("code", q.Get("code")+"x")
						u.RawQuery = q.Encode()
						return true
					}
					return b.SignIn(ctx, authURL, testUser, testPass)
				}
			},
			wantKind: oauth.KindInvalidGrant, wantCode: "invalid_grant", wantPage: "one-time code",
		},
		{
			name: "issuer goes down before the code is exchanged",
			act: func(ctx context.Context, srv *oauthtest.Server) func(*oauthtest.Browser, string) (oauthtest.Visit, error) {
				return func(b *oauthtest.Browser, authURL string) (oauthtest.Visit, error) {
					var app *url.URL
					b.BeforeApp = func(u *url.URL) bool { app = u; return false }
					if _, err := b.SignIn(ctx, authURL, testUser, testPass); err != nil {
						return oauthtest.Visit{}, err
					}
					srv.Stop()
					return b.Follow(ctx, app)
				}
			},
			wantKind: oauth.KindIssuerDown, wantPage: "could not be reached",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, o, iss := startIssuer(t, oauthtest.Config{})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tok, page, err := browserFlow(t, ctx, srv, o, iss, srv.ClientID, tt.act(ctx, srv))
			if tok != nil {
				t.Errorf("got a token, want none")
			}
			var e *oauth.Error
			if !asOAuthError(err, &e) || e.Kind != tt.wantKind {
				t.Fatalf("err = %v, want kind %q", err, tt.wantKind)
			}
			if tt.wantCode != "" && e.Code != tt.wantCode {
				t.Errorf("code = %q, want %q", e.Code, tt.wantCode)
			}
			if !strings.Contains(page.Body, tt.wantPage) {
				t.Errorf("browser's last page = %q, want it to say %q", page.Body, tt.wantPage)
			}
		})
	}
}

func asOAuthError(err error, target **oauth.Error) bool {
	e, ok := err.(*oauth.Error)
	if ok {
		*target = e
	}
	return ok
}

// The user closes the browser tab: the flow waits until the caller cancels, then
// returns promptly.
func TestRealIssuerBrowserCancelledByCaller(t *testing.T) {
	t.Parallel()
	srv, o, iss := startIssuer(t, oauthtest.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	opened := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := o.SignInBrowser(ctx, oauth.SignIn{Issuer: iss, Client: oauth.Registration{ClientID: srv.ClientID},
			OpenBrowser: func(string) error { close(opened); return nil }})
		done <- err
	}()
	<-opened
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if oauth.KindOf(err) != oauth.KindCancelled {
			t.Errorf("err = %v, want cancelled", err)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("returned %v after cancel", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SignInBrowser did not return after cancel")
	}
}

func TestRealIssuerDeviceFlow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		approve  bool
		wantKind oauth.Kind
	}{
		{"approved", true, ""},
		{"denied", false, oauth.KindDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, o, iss := startIssuer(t, oauthtest.Config{})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			approved := make(chan error, 1)
			var shown oauth.DeviceCode
			start := time.Now()
			tok, err := o.SignInDevice(ctx, oauth.SignIn{
				Issuer: iss, Client: oauth.Registration{ClientID: srv.ClientID},
				ShowCode: func(c oauth.DeviceCode) error {
					shown = c
					go func() {
						approved <- srv.NewBrowser().ApproveDevice(ctx, c.VerificationURIComplete, c.UserCode, testUser, testPass, tt.approve)
					}()
					return nil
				},
			})
			if aerr := <-approved; aerr != nil {
				t.Fatalf("approving on the issuer's page: %v", aerr)
			}
			if !strings.HasPrefix(shown.VerificationURI, srv.URL+"/device") || shown.UserCode == "" || shown.Expires.Before(start.Add(4*time.Minute)) {
				t.Errorf("shown code = %+v", shown)
			}
			if tt.wantKind != "" {
				if oauth.KindOf(err) != tt.wantKind {
					t.Fatalf("err = %v, want %q", err, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken == "" || tok.RefreshToken == "" {
				t.Errorf("token lacks access or refresh token")
			}
			// The issuer's interval is 1 s: the first poll waits for it.
			if d := time.Since(start); d < time.Second {
				t.Errorf("device flow finished in %v, before one polling interval", d)
			}
		})
	}
}

func TestRealIssuerDeviceFlowIssuerDown(t *testing.T) {
	t.Parallel()
	srv, o, iss := startIssuer(t, oauthtest.Config{})
	srv.Stop()
	_, err := o.SignInDevice(context.Background(), oauth.SignIn{Issuer: iss, Client: oauth.Registration{ClientID: srv.ClientID},
		ShowCode: func(oauth.DeviceCode) error { return nil }})
	if oauth.KindOf(err) != oauth.KindIssuerDown {
		t.Errorf("err = %v, want issuer_down", err)
	}
}

// Dynamic registration against the real OP (its metadata names the endpoint), then a
// browser sign-in with the registered client.
func TestRealIssuerDynamicRegistration(t *testing.T) {
	t.Parallel()
	srv, o, iss := startIssuer(t, oauthtest.Config{Registration: true})
	if iss.RegistrationURL != srv.URL+"/register" {
		t.Fatalf("discovered registration endpoint %q", iss.RegistrationURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reg, err := o.ResolveClient(ctx, iss, oauth.Registration{})
	if err != nil {
		t.Fatal(err)
	}
	if reg.Source != oauth.SourceDynamic || !strings.HasPrefix(reg.ClientID, "dyn-") {
		t.Fatalf("registration = %+v, want a dynamic one", reg)
	}
	if _, _, err := browserFlow(t, ctx, srv, o, iss, reg.ClientID, nil); err != nil {
		t.Fatalf("sign-in with the registered client: %v", err)
	}
}

// Discovery against the real OP: it serves only OpenID's document, so the RFC 8414
// name is tried first and the OpenID one is found; the OAUTHBEARER-failure path
// (DiscoverConfig) reaches the same issuer.
func TestRealIssuerDiscovery(t *testing.T) {
	t.Parallel()
	srv, o, iss := startIssuer(t, oauthtest.Config{})
	if iss.IssuerURL != srv.URL || iss.AuthURL == "" || iss.TokenURL == "" || !strings.HasSuffix(iss.DeviceURL, "/device_authorization") {
		t.Errorf("discovered %+v", iss)
	}
	got, err := o.DiscoverConfig(context.Background(), srv.MetadataURL())
	if err != nil || got.TokenURL != iss.TokenURL {
		t.Errorf("DiscoverConfig = %+v, %v", got, err)
	}
	// Without the issuer's CA the certificate is not trusted.
	_, err = (&oauth.Options{}).Discover(context.Background(), srv.URL)
	if oauth.KindOf(err) != oauth.KindIssuerUntrusted {
		t.Errorf("untrusted issuer: err = %v, want issuer_untrusted", err)
	}
}

// An issuer that registers http://localhost (Microsoft Entra) gets that redirect; the
// browser may reach it over 127.0.0.1 or ::1.
func TestRealIssuerLocalhostRedirect(t *testing.T) {
	t.Parallel()
	srv, o, iss := startIssuer(t, oauthtest.Config{})
	iss.LoopbackHost = "localhost"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, page, err := browserFlow(t, ctx, srv, o, iss, srv.ClientID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || page.AppURL == nil || page.AppURL.Hostname() != "localhost" {
		t.Errorf("redirect %v, token %d bytes; want http://localhost:PORT and a token", page.AppURL, len(tok.AccessToken))
	}
}
