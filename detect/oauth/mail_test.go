//go:build linux

package oauth_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"
	"golang.org/x/oauth2"

	"github.com/mailsetup/mailsetup/detect/detecttest/realmail"
	"github.com/mailsetup/mailsetup/detect/oauth"
	"github.com/mailsetup/mailsetup/detect/oauth/oauthtest"
)

// TestMailLoginsWithOAuth2 is the whole chain: a real authorization server, tokens
// from the browser flow (the test plays the browser) and the device grant (the test
// approves the code), and real Dovecot (IMAP, POP3) and Postfix (SMTP AUTH through
// Dovecot SASL) validating them by RFC 7662 introspection at that server.
func TestMailLoginsWithOAuth2(t *testing.T) {
	t.Parallel()
	srv, o, iss := startIssuer(t, oauthtest.Config{Users: []oauthtest.User{{Username: "bob", Password: "bob's password", Email: "bob@oauth.test"}}})
	mail := realmail.Start(t, realmail.Config{
		Setup:  realmail.Modern,
		Domain: "oauth.test",
		// The passwords are not used: these users sign in with tokens.
		Users: map[string]string{"alice": rand.Text(), "bob": rand.Text()},
		OAuth2: &realmail.OAuth2{
			IntrospectionURL:       srv.IntrospectionURL(),
			CAFile:                 srv.CAFile,
			Scope:                  "mail",
			OpenIDConfigurationURL: srv.MetadataURL(),
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	browserTok, _, err := browserFlow(t, ctx, srv, o, iss, srv.ClientID, nil)
	if err != nil {
		t.Fatalf("browser flow: %v", err)
	}
	deviceTok, err := deviceFlow(ctx, srv, o, iss, testUser, testPass, nil)
	if err != nil {
		t.Fatalf("device flow: %v", err)
	}

	services := []string{"imaps", "imap", "pop3s", "submissions", "submission"}
	mechs := []oauth.Mechanism{oauth.XOAUTH2, oauth.OAUTHBEARER}
	logins, scrubbed := 0, 0
	start := time.Now()
	for _, tc := range []struct {
		flow string
		tok  *oauth2.Token
	}{{"browser", browserTok}, {"device", deviceTok}} {
		for _, svc := range services {
			for _, mech := range mechs {
				r := mailLogin(t, ctx, mail, svc, mech, testMail, tc.tok)
				if r.err != nil {
					t.Errorf("%s token, %s %s: %v (failure %+v)", tc.flow, svc, mech, r.err, r.failure)
				}
				logins++
				if r.sent != nil {
					forms := oauth.SecretForms(testMail, tc.tok, mail.Host, mail.Ports[svc])
					checkScrubbed(t, tc.flow+" "+svc+" "+string(mech), r.sent, forms, tc.tok.AccessToken)
					scrubbed++
				}
			}
		}
	}
	t.Logf("%d successful logins (IMAP, POP3, SMTP × XOAUTH2, OAUTHBEARER × both flows) in %v; %d wire records scrubbed clean", logins, time.Since(start), scrubbed)
	if t.Failed() {
		return
	}

	// Negative cases, in an order that keeps the issuer's clock and life for last.
	// Dovecot answers every rejection after auth_failure_delay (2 s), so the logins
	// within each case run in parallel.
	each := func(t *testing.T, services []string, check func(t *testing.T, svc string, mech oauth.Mechanism)) {
		for _, svc := range services {
			for _, mech := range mechs {
				t.Run(svc+"/"+string(mech), func(t *testing.T) {
					t.Parallel()
					check(t, svc, mech)
				})
			}
		}
	}
	rejecting := []string{"imaps", "pop3s", "submissions"}
	t.Run("wrong scope", func(t *testing.T) {
		tok, err := deviceFlow(ctx, srv, o, iss, testUser, testPass, []string{"openid", "email"})
		if err != nil {
			t.Fatal(err)
		}
		each(t, rejecting, func(t *testing.T, svc string, mech oauth.Mechanism) {
			wantRejected(t, svc, mech, mailLogin(t, ctx, mail, svc, mech, testMail, tok), srv.MetadataURL())
		})
	})
	t.Run("another user's token", func(t *testing.T) {
		bobTok, err := deviceFlow(ctx, srv, o, iss, "bob", "bob's password", nil)
		if err != nil {
			t.Fatal(err)
		}
		if r := mailLogin(t, ctx, mail, "imaps", oauth.OAUTHBEARER, "bob@oauth.test", bobTok); r.err != nil {
			t.Fatalf("bob's own login: %v", r.err)
		}
		each(t, []string{"imaps"}, func(t *testing.T, svc string, mech oauth.Mechanism) {
			wantRejected(t, svc, mech, mailLogin(t, ctx, mail, svc, mech, testMail, bobTok), srv.MetadataURL())
		})
	})
	t.Run("expired token", func(t *testing.T) {
		srv.Advance(2 * time.Hour)
		each(t, rejecting, func(t *testing.T, svc string, mech oauth.Mechanism) {
			r := mailLogin(t, ctx, mail, svc, mech, testMail, browserTok)
			wantRejected(t, svc, mech, r, srv.MetadataURL())
			// The server names its issuer (RFC 7628 §3.2.2): discovery from there
			// finds the issuer the token came from.
			if r.failure != nil && svc == "imaps" {
				if got, err := o.DiscoverConfig(ctx, r.failure.OpenIDConfiguration); err != nil || got.TokenURL != iss.TokenURL {
					t.Errorf("discovery from the failure's openid-configuration: %+v, %v", got, err)
				}
			}
		})
	})
	t.Run("issuer down", func(t *testing.T) {
		fresh, err := deviceFlow(ctx, srv, o, iss, testUser, testPass, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r := mailLogin(t, ctx, mail, "imaps", oauth.XOAUTH2, testMail, fresh); r.err != nil {
			t.Fatalf("a fresh token before the issuer goes down: %v", r.err)
		}
		srv.Stop()
		each(t, rejecting, func(t *testing.T, svc string, mech oauth.Mechanism) {
			r := mailLogin(t, ctx, mail, svc, mech, testMail, fresh)
			t.Logf("%s %s with the issuer down: %v; failure challenge %v", svc, mech, r.err, r.failure)
			switch {
			case r.err == nil:
				t.Errorf("login succeeded while the issuer is down")
			case r.failure != nil:
				t.Errorf("a failure challenge %+v: the server blamed the token, not its issuer", r.failure)
			case svc == "submissions":
				// Postfix turns Dovecot's temporary failure into a plain 535.
				var se *smtp.SMTPError
				if !errors.As(r.err, &se) || se.Code != 535 {
					t.Errorf("%v, want Postfix's 535", r.err)
				}
			case !r.temporary:
				t.Errorf("%v, want a temporary failure (the server could not ask the issuer)", r.err)
			}
		})
	})
}

// wantRejected checks a login that Dovecot refused with its RFC 7628 failure:
// XOAUTH2 {"status":"401","schemes":"bearer","scope":"mail",…} and OAUTHBEARER
// {"status":"invalid_token",…}, both naming the issuer's openid-configuration (Dovecot
// reports a token without the needed scope as invalid too).
func wantRejected(t *testing.T, svc string, mech oauth.Mechanism, r loginResult, openidConfig string) {
	t.Helper()
	if r.err == nil {
		t.Errorf("%s %s: login succeeded, want it refused", svc, mech)
		return
	}
	if r.temporary {
		t.Errorf("%s %s: %v is a temporary failure, want a rejection", svc, mech, r.err)
	}
	if r.failure == nil {
		t.Errorf("%s %s: %v without a failure challenge", svc, mech, r.err)
		return
	}
	want := oauth.Failure{Mechanism: mech, Kind: oauth.FailureInvalidToken, Status: "invalid_token", OpenIDConfiguration: openidConfig, Raw: r.failure.Raw}
	if mech == oauth.XOAUTH2 {
		want.Status, want.Schemes, want.Scope = "401", "bearer", "mail"
	}
	if *r.failure != want {
		t.Errorf("%s %s: failure %+v, want %+v", svc, mech, *r.failure, want)
	}
	// The server's final answer after the client's dummy response.
	var (
		ie *imap.Error
		se *smtp.SMTPError
	)
	switch {
	case strings.HasPrefix(svc, "imap") && mech == oauth.XOAUTH2:
		// go-imap v2 sends XOAUTH2's empty dummy response as "=", which Dovecot
		// answers with BAD (emersion/go-imap#760); NO once that is fixed.
		if !errors.As(r.err, &ie) || (ie.Type != imap.StatusResponseTypeBad && ie.Code != imap.ResponseCodeAuthenticationFailed) {
			t.Errorf("%s %s: final answer %v, want BAD (go-imap#760) or NO [AUTHENTICATIONFAILED]", svc, mech, r.err)
		}
	case strings.HasPrefix(svc, "imap"):
		if !errors.As(r.err, &ie) || ie.Code != imap.ResponseCodeAuthenticationFailed {
			t.Errorf("%s %s: final answer %v, want NO [AUTHENTICATIONFAILED]", svc, mech, r.err)
		}
	case strings.HasPrefix(svc, "pop3"):
		if !strings.Contains(r.err.Error(), "-ERR [AUTH]") {
			t.Errorf("%s %s: final answer %v, want -ERR [AUTH]", svc, mech, r.err)
		}
	default:
		if !errors.As(r.err, &se) || se.Code != 535 {
			t.Errorf("%s %s: final answer %v, want 535", svc, mech, r.err)
		}
	}
}

// deviceFlow signs in with the device grant; the test approves the code as user.
func deviceFlow(ctx context.Context, srv *oauthtest.Server, o *oauth.Options, iss oauth.Issuer, user, pass string, scopes []string) (*oauth2.Token, error) {
	approved := make(chan error, 1)
	tok, err := o.SignInDevice(ctx, oauth.SignIn{
		Issuer: iss, Client: oauth.Registration{ClientID: srv.ClientID}, Scopes: scopes,
		ShowCode: func(c oauth.DeviceCode) error {
			go func() {
				approved <- srv.NewBrowser().ApproveDevice(ctx, c.VerificationURI, c.UserCode, user, pass, true)
			}()
			return nil
		},
	})
	if aerr := <-approved; aerr != nil {
		return nil, fmt.Errorf("approve: %w", aerr)
	}
	return tok, err
}

type loginResult struct {
	err error
	// sent is the clear text the client sent, on implicit TLS services.
	sent []byte
	// failure is what the SASL client decoded from the server's challenge.
	failure *oauth.Failure
	// temporary: the server said "try again later" (IMAP UNAVAILABLE, SMTP 4xx, POP3 [SYS/TEMP]).
	temporary bool
}

// sourceN numbers the loopback source addresses logins come from: Dovecot delays
// authentication from an address after failures there (its auth penalty, 2 s
// doubling up to 15 s), so each login comes from an address of its own.
var sourceN atomic.Uint32

func dialFresh(ctx context.Context, addr string) (net.Conn, error) {
	n := sourceN.Add(1)
	src := net.IPv4(127, 1, byte(n/250), byte(n%250+1))
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(deadline(ctx))
	return conn, nil
}

// mailLogin logs in to one service of the real servers with a bearer token.
func mailLogin(t *testing.T, ctx context.Context, mail *realmail.Servers, svc string, mech oauth.Mechanism, user string, tok *oauth2.Token) loginResult {
	t.Helper()
	port := mail.Ports[svc]
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	pool := x509.NewCertPool()
	pool.AddCert(mail.CA.Cert)
	tlsConfig := &tls.Config{RootCAs: pool, ServerName: mail.Host, MinVersion: tls.VersionTLS12}
	sc, err := oauth.NewSASLClient(mech, user, tok, mail.Host, port)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := dialFresh(ctx, addr)
	if err != nil {
		return loginResult{err: fmt.Errorf("dial %s: %w", svc, err)}
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	// On implicit TLS the test sees the clear text the client sends.
	starttls := svc == "imap" || svc == "submission"
	wire := &recorder{Conn: conn}
	if !starttls {
		wire.Conn = tls.Client(conn, tlsConfig)
	}
	var r loginResult
	switch svc {
	case "imaps", "imap":
		r.err = imapLogin(wire, starttls, tlsConfig, sc)
		var ie *imap.Error
		r.temporary = errors.As(r.err, &ie) && ie.Code == imap.ResponseCodeUnavailable
	case "pop3s":
		r.err = pop3Login(wire, sc)
		r.temporary = r.err != nil && strings.Contains(r.err.Error(), "[SYS/TEMP]")
	case "submissions", "submission":
		r.err = smtpLogin(wire, starttls, tlsConfig, sc)
		var se *smtp.SMTPError
		r.temporary = errors.As(r.err, &se) && se.Code/100 == 4
	default:
		t.Fatalf("unknown service %s", svc)
	}
	r.failure = sc.Failure()
	if !starttls {
		r.sent = wire.sent.Bytes()
	}
	return r
}

// recorder keeps what the client writes.
type recorder struct {
	net.Conn
	sent bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.sent.Write(p)
	return r.Conn.Write(p)
}

// checkScrubbed shows that oauth.SecretForms catches the token as each client library
// put it on the wire: after replacing every form, neither the token nor any base64
// word that decodes to something containing it is left.
func checkScrubbed(t *testing.T, what string, sent []byte, forms [][]byte, token string) {
	t.Helper()
	found := false
	for _, f := range forms {
		if bytes.Contains(sent, f) {
			found = true
		}
		sent = bytes.ReplaceAll(sent, f, []byte("[redacted]"))
	}
	if !found {
		t.Errorf("%s: no secret form in what the client sent; was the login recorded?", what)
	}
	if bytes.Contains(sent, []byte(token)) {
		t.Errorf("%s: the token survives scrubbing", what)
	}
	for _, word := range strings.Fields(string(sent)) {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
			if raw, err := enc.DecodeString(word); err == nil && bytes.Contains(raw, []byte(token)) {
				t.Errorf("%s: a base64 word still carries the token after scrubbing", what)
			}
		}
	}
}

func deadline(ctx context.Context) time.Time {
	d := time.Now().Add(20 * time.Second)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

// imapLogin authenticates on conn (already TLS unless starttls), then opens INBOX.
func imapLogin(conn net.Conn, starttls bool, tlsConfig *tls.Config, sc *oauth.SASLClient) error {
	var (
		c   *imapclient.Client
		err error
	)
	opts := &imapclient.Options{TLSConfig: tlsConfig}
	if starttls {
		if c, err = imapclient.NewStartTLS(conn, opts); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	} else {
		c = imapclient.New(conn, opts)
	}
	defer c.Close()
	if err := c.Authenticate(sc); err != nil {
		return err
	}
	// The session is the user's: INBOX opens.
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		return fmt.Errorf("select after login: %w", err)
	}
	return c.Logout().Wait()
}

type pop3Error string

func (e pop3Error) Error() string { return "pop3: " + string(e) }

// pop3Login runs RFC 5034 AUTH, then STAT.
func pop3Login(conn net.Conn, sc *oauth.SASLClient) error {
	tp := textproto.NewConn(conn)
	if line, err := tp.ReadLine(); err != nil || !strings.HasPrefix(line, "+OK") {
		return fmt.Errorf("greeting %q: %v", line, err)
	}
	mech, ir, err := sc.Start()
	if err != nil {
		return err
	}
	b64 := base64.StdEncoding.EncodeToString(ir)
	// RFC 5034 §4: an initial response that makes the line longer than 255 octets is
	// sent after an empty challenge instead.
	pending := ""
	if cmd := "AUTH " + mech + " " + b64; len(cmd)+2 <= 255 {
		err = tp.PrintfLine("%s", cmd)
	} else {
		err = tp.PrintfLine("AUTH %s", mech)
		pending = b64
	}
	if err != nil {
		return err
	}
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(line, "+OK"):
			if err := tp.PrintfLine("STAT"); err != nil {
				return err
			}
			if stat, err := tp.ReadLine(); err != nil || !strings.HasPrefix(stat, "+OK") {
				return fmt.Errorf("STAT after login: %q %v", stat, err)
			}
			tp.PrintfLine("QUIT")
			return nil
		case strings.HasPrefix(line, "-ERR"):
			return pop3Error(line)
		case strings.HasPrefix(line, "+"):
			challenge := strings.TrimSpace(strings.TrimPrefix(line, "+"))
			if challenge == "" && pending != "" {
				err = tp.PrintfLine("%s", pending)
				pending = ""
			} else {
				raw, derr := base64.StdEncoding.DecodeString(challenge)
				if derr != nil {
					return fmt.Errorf("challenge %q: %w", challenge, derr)
				}
				resp, nerr := sc.Next(raw)
				if nerr != nil {
					return nerr
				}
				err = tp.PrintfLine("%s", base64.StdEncoding.EncodeToString(resp))
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected line %q", line)
		}
	}
}

// smtpLogin authenticates, then shows the login took effect: Postfix relays to an
// outside domain only for authenticated clients (permit_sasl_authenticated).
func smtpLogin(conn net.Conn, starttls bool, tlsConfig *tls.Config, sc *oauth.SASLClient) error {
	var (
		c   *smtp.Client
		err error
	)
	if starttls {
		if c, err = smtp.NewClientStartTLS(conn, tlsConfig); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	} else {
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	c.CommandTimeout = 20 * time.Second
	if err := c.Hello("client.oauth.test"); err != nil {
		return err
	}
	if err := c.Auth(sc); err != nil {
		return err
	}
	if err := c.Mail(testMail, nil); err != nil {
		return fmt.Errorf("MAIL after login: %w", err)
	}
	if err := c.Rcpt("someone@elsewhere.test", nil); err != nil {
		return fmt.Errorf("relay after login: %w", err)
	}
	c.Reset()
	return c.Quit()
}
