package detect

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect/detecttest"
)

const (
	testHost = "mail.example.test"
	testUser = "me@example.test"
	testPass = "correct horse battery"
)

// testEnv is a fake network with a CA the probe trusts.
type testEnv struct {
	net  *detecttest.Net
	ca   *detecttest.CA
	opts Options
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	n := detecttest.NewNet()
	ca := detecttest.NewCA(t, "Test CA")
	return &testEnv{net: n, ca: ca, opts: Options{
		Dialer: n, Resolver: n, ExtraRoots: []*x509.Certificate{ca.Cert},
		Timeout: 3 * time.Second, SkipNetwork: true,
	}}
}

func (e *testEnv) cert(t *testing.T, opts detecttest.CertOpts, names ...string) tls.Certificate {
	if len(names) == 0 {
		names = []string{testHost}
	}
	return e.ca.Leaf(t, opts, names...)
}

func testLogin(pass string) *Login {
	return &Login{Usernames: []string{testUser, "me"}, Password: pass, From: testUser, Gate: NewLoginGate()}
}

// scripted starts a listener that runs handle for each connection.
func scripted(t *testing.T, handle func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestProbeSMTP(t *testing.T) {
	t.Parallel()
	users := map[string]string{testUser: testPass}
	type server struct {
		cfg      *detecttest.SMTPConfig
		script   func(c net.Conn)
		certOpts detecttest.CertOpts
		names    []string
		noRoute  bool
		noHost   bool
		// unknownCA issues the certificate from a CA the probe does not trust.
		unknownCA bool
	}
	tests := []struct {
		name       string
		srv        server
		sec        Security
		pass       string
		plaintext  bool
		timeout    time.Duration
		wantStatus Status
		wantKind   Kind
		wantAuth   string
		wantProb   string
		check      func(t *testing.T, r ProbeResult)
	}{
		{name: "implicit TLS with PLAIN", srv: server{cfg: &detecttest.SMTPConfig{Mode: "tls", Mechanisms: []string{"PLAIN", "LOGIN"}, Users: users}},
			sec: SecurityTLS, pass: testPass, wantStatus: StatusOK, wantKind: KindOK, wantAuth: "PLAIN",
			check: func(t *testing.T, r ProbeResult) {
				if r.TLSVersion != "TLS 1.3" || r.Cert == nil || r.Cert.Problem != "" || r.Banner == "" {
					t.Errorf("tls %q cert %+v banner %q", r.TLSVersion, r.Cert, r.Banner)
				}
			}},
		{name: "STARTTLS with LOGIN offered only after TLS", srv: server{cfg: &detecttest.SMTPConfig{Mode: "starttls", Mechanisms: []string{"LOGIN"}, Users: users}},
			sec: SecurityStartTLS, pass: testPass, wantStatus: StatusOK, wantKind: KindOK, wantAuth: "LOGIN",
			check: func(t *testing.T, r ProbeResult) {
				if strings.Join(r.AuthMechanisms, " ") != "LOGIN" {
					t.Errorf("mechanisms after TLS = %q, want LOGIN", r.AuthMechanisms)
				}
				pre := strings.Join(r.Transcript, "\n")
				if i := strings.Index(pre, "C: STARTTLS"); i < 0 || strings.Contains(pre[:i], "AUTH") {
					t.Errorf("AUTH seen before STARTTLS or no STARTTLS:\n%s", pre)
				}
			}},
		{name: "CRAM-MD5 on a clear connection needs consent too", srv: server{cfg: &detecttest.SMTPConfig{Mode: "none", Mechanisms: []string{"PLAIN", "CRAM-MD5"}, Users: users}},
			sec: SecurityNone, pass: testPass, wantStatus: StatusPlaintextRefused, wantKind: KindPlaintextRefused,
			check: func(t *testing.T, r ProbeResult) {
				if r.LoginAttempts != 0 {
					t.Errorf("%d logins: a CRAM-MD5 answer can be cracked offline", r.LoginAttempts)
				}
			}},
		{name: "CRAM-MD5 on a clear connection with consent, preferred to PLAIN", srv: server{cfg: &detecttest.SMTPConfig{Mode: "none", Mechanisms: []string{"PLAIN", "CRAM-MD5"}, Users: users}},
			sec: SecurityNone, pass: testPass, plaintext: true, wantStatus: StatusOK, wantKind: KindOK, wantAuth: "CRAM-MD5"},
		{name: "PLAIN on a clear connection refused without consent", srv: server{cfg: &detecttest.SMTPConfig{Mode: "none", Mechanisms: []string{"PLAIN", "LOGIN"}, Users: users}},
			sec: SecurityNone, pass: testPass, wantStatus: StatusPlaintextRefused, wantKind: KindPlaintextRefused,
			check: func(t *testing.T, r ProbeResult) {
				if r.LoginAttempts != 0 || strings.Contains(strings.Join(r.Transcript, "\n"), "AUTH") && !strings.Contains(strings.Join(r.Transcript, "\n"), "250-AUTH") {
					t.Errorf("a login was attempted: %q", r.Transcript)
				}
			}},
		{name: "PLAIN on a clear connection with consent", srv: server{cfg: &detecttest.SMTPConfig{Mode: "none", Mechanisms: []string{"PLAIN"}, Users: users}},
			sec: SecurityNone, pass: testPass, plaintext: true, wantStatus: StatusOK, wantKind: KindOK, wantAuth: "PLAIN"},
		{name: "wrong password", srv: server{cfg: &detecttest.SMTPConfig{Mode: "tls", Mechanisms: []string{"PLAIN"}, Users: users}},
			sec: SecurityTLS, pass: "wrong", wantStatus: StatusAuthFailed, wantKind: KindAuthRejected,
			check: func(t *testing.T, r ProbeResult) {
				if r.LoginAttempts != 2 {
					t.Errorf("login attempts = %d, want 2 (two user name variants)", r.LoginAttempts)
				}
			}},
		{name: "no mechanism in common", srv: server{cfg: &detecttest.SMTPConfig{Mode: "tls", Mechanisms: []string{"XOAUTH2"}, Users: users}},
			sec: SecurityTLS, pass: testPass, wantStatus: StatusAuthUnavailable, wantKind: KindMechanismUnsupported},
		{name: "no password: reachable, unverified", srv: server{cfg: &detecttest.SMTPConfig{Mode: "tls", Mechanisms: []string{"PLAIN"}, Users: users}},
			sec: SecurityTLS, wantStatus: StatusOK, wantKind: KindUnverified,
			check: func(t *testing.T, r ProbeResult) {
				if r.Verified || strings.Join(r.AuthMechanisms, " ") != "PLAIN" {
					t.Errorf("verified %v mechanisms %q", r.Verified, r.AuthMechanisms)
				}
			}},
		{name: "relay by network address", srv: server{cfg: &detecttest.SMTPConfig{Mode: "none", RelayOpen: true}},
			sec: SecurityNone, pass: testPass, wantStatus: StatusOK, wantKind: KindRelayOpen,
			check: func(t *testing.T, r ProbeResult) {
				if r.Relay != RelayAccepted {
					t.Errorf("relay = %q", r.Relay)
				}
			}},
		{name: "no AUTH and no relay", srv: server{cfg: &detecttest.SMTPConfig{Mode: "none"}},
			sec: SecurityNone, pass: testPass, wantStatus: StatusAuthUnavailable, wantKind: KindNoAuth},
		{name: "TLS on a clear-text port", srv: server{cfg: &detecttest.SMTPConfig{Mode: "none", Mechanisms: []string{"PLAIN"}}},
			sec: SecurityTLS, pass: testPass, wantStatus: StatusTLSFailed, wantKind: KindPlainPort},
		{name: "STARTTLS not offered", srv: server{cfg: &detecttest.SMTPConfig{Mode: "none", Mechanisms: []string{"PLAIN"}}},
			sec: SecurityStartTLS, pass: testPass, wantStatus: StatusTLSFailed, wantKind: KindNoStartTLS},
		{name: "expired certificate", srv: server{cfg: &detecttest.SMTPConfig{Mode: "tls", Mechanisms: []string{"PLAIN"}, Users: users}, certOpts: detecttest.CertOpts{Expired: true}},
			sec: SecurityTLS, pass: testPass, wantStatus: StatusCertInvalid, wantKind: KindCertExpired, wantProb: "expired"},
		{name: "certificate for another name", srv: server{cfg: &detecttest.SMTPConfig{Mode: "starttls", Mechanisms: []string{"PLAIN"}, Users: users}, names: []string{"other.example.net"}},
			sec: SecurityStartTLS, pass: testPass, wantStatus: StatusCertInvalid, wantKind: KindCertNameMismatch, wantProb: "wrong_name"},
		{name: "certificate from an unknown authority", srv: server{cfg: &detecttest.SMTPConfig{Mode: "tls", Mechanisms: []string{"PLAIN"}, Users: users}, unknownCA: true},
			sec: SecurityTLS, pass: testPass, wantStatus: StatusCertInvalid, wantKind: KindCertUnknownCA, wantProb: "unknown_authority"},
		{name: "self-signed certificate", srv: server{cfg: &detecttest.SMTPConfig{Mode: "tls", Mechanisms: []string{"PLAIN"}, Users: users}, certOpts: detecttest.CertOpts{SelfSigned: true}},
			sec: SecurityTLS, pass: testPass, wantStatus: StatusCertInvalid, wantKind: KindCertSelfSigned, wantProb: "self_signed",
			check: func(t *testing.T, r ProbeResult) {
				if r.LoginAttempts != 0 {
					t.Errorf("logged in over an untrusted certificate")
				}
			}},
		{name: "connection refused", srv: server{noRoute: true}, sec: SecurityTLS, wantStatus: StatusRefused, wantKind: KindRefused},
		{name: "unknown host", srv: server{noHost: true}, sec: SecurityTLS, wantStatus: StatusDNSFailed, wantKind: KindDNS},
		{name: "silent server", srv: server{script: func(c net.Conn) { time.Sleep(5 * time.Second) }},
			sec: SecurityNone, timeout: 300 * time.Millisecond, wantStatus: StatusTimeout, wantKind: KindTimeout},
		{name: "binary garbage", srv: server{script: func(c net.Conn) { c.Write([]byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n")) }},
			sec: SecurityNone, wantStatus: StatusProtocolError, wantKind: KindProtocol},
		{name: "1 MB line", srv: server{script: func(c net.Conn) { c.Write([]byte("220 " + strings.Repeat("x", 1<<20) + "\r\n")) }},
			sec: SecurityNone, wantStatus: StatusProtocolError, wantKind: KindProtocol},
		{name: "421 greeting", srv: server{script: func(c net.Conn) { c.Write([]byte("421 4.3.2 Service not available, closing\r\n")) }},
			sec: SecurityNone, wantStatus: StatusProtocolError, wantKind: KindServerTemporary},
		{name: "STARTTLS advertised then 454", srv: server{script: func(c net.Conn) {
			r := bufio.NewReader(c)
			c.Write([]byte("220 mail.example.test ESMTP\r\n"))
			r.ReadString('\n')
			c.Write([]byte("250-mail.example.test\r\n250 STARTTLS\r\n"))
			r.ReadString('\n')
			c.Write([]byte("454 4.7.0 TLS not available due to local problem\r\n"))
		}}, sec: SecurityStartTLS, wantStatus: StatusTLSFailed, wantKind: KindNoStartTLS},
		{name: "connection closed during AUTH", srv: server{script: func(c net.Conn) {
			r := bufio.NewReader(c)
			c.Write([]byte("220 mail.example.test ESMTP\r\n"))
			r.ReadString('\n')
			c.Write([]byte("250-mail.example.test\r\n250 AUTH CRAM-MD5\r\n"))
			r.ReadString('\n')
		}}, sec: SecurityNone, pass: testPass, plaintext: true, wantStatus: StatusProtocolError, wantKind: KindProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			port := 465
			switch {
			case tt.srv.noHost:
			case tt.srv.noRoute:
				e.net.Host(testHost)
			case tt.srv.script != nil:
				e.net.Route(testHost, port, scripted(t, tt.srv.script))
			default:
				cfg := *tt.srv.cfg
				if cfg.Mode != "none" {
					cfg.Cert = e.cert(t, tt.srv.certOpts, tt.srv.names...)
					if tt.srv.unknownCA {
						cfg.Cert = detecttest.NewCA(t, "Stranger CA").Leaf(t, detecttest.CertOpts{}, testHost)
					}
				}
				s := detecttest.StartSMTP(t, cfg)
				e.net.Route(testHost, port, s.Addr)
			}
			e.opts.AllowPlaintext = tt.plaintext
			if tt.timeout > 0 {
				e.opts.Timeout = tt.timeout
			}
			start := time.Now()
			r := e.opts.ProbeSMTP(context.Background(), ProbeKey{SMTP, testHost, port, tt.sec}, testLogin(tt.pass))
			if elapsed := time.Since(start); elapsed > e.opts.Timeout+time.Second {
				t.Errorf("probe took %v, cap %v", elapsed, e.opts.Timeout)
			}
			if r.Status != tt.wantStatus || r.Diagnosis == nil || r.Diagnosis.Kind != tt.wantKind {
				t.Fatalf("status %q kind %v, want %q %q\nerror: %s\ntranscript:\n%s", r.Status, r.Diagnosis, tt.wantStatus, tt.wantKind, r.Error, strings.Join(r.Transcript, "\n"))
			}
			if tt.wantAuth != "" && (r.AuthUsed != tt.wantAuth || !r.Verified) {
				t.Errorf("auth used %q verified %v, want %q", r.AuthUsed, r.Verified, tt.wantAuth)
			}
			if tt.wantProb != "" && (r.Cert == nil || r.Cert.Problem != tt.wantProb) {
				t.Errorf("cert = %+v, want problem %q", r.Cert, tt.wantProb)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestSMTPFailedLoginCapAcrossCells(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	s465 := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "tls", Cert: e.cert(t, detecttest.CertOpts{}), Mechanisms: []string{"PLAIN"}, Users: map[string]string{testUser: testPass}})
	s587 := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "starttls", Cert: e.cert(t, detecttest.CertOpts{}), Mechanisms: []string{"PLAIN"}, Users: map[string]string{testUser: testPass}})
	e.net.Route(testHost, 465, s465.Addr)
	e.net.Route(testHost, 587, s587.Addr)
	login := &Login{Usernames: []string{testUser, "me", "ME"}, Password: "wrong", From: testUser, Gate: NewLoginGate()}
	a := e.opts.ProbeSMTP(context.Background(), ProbeKey{SMTP, testHost, 465, SecurityTLS}, login)
	b := e.opts.ProbeSMTP(context.Background(), ProbeKey{SMTP, testHost, 587, SecurityStartTLS}, login)
	if total := a.LoginAttempts + b.LoginAttempts; total > MaxFailedLogins {
		t.Fatalf("%d + %d logins tried, cap is %d", a.LoginAttempts, b.LoginAttempts, MaxFailedLogins)
	}
	if a.Status != StatusAuthFailed || b.Status != StatusAuthFailed || b.Diagnosis.Kind != KindLoginCap {
		t.Fatalf("statuses %s/%s kinds %s/%s", a.Status, b.Status, a.Diagnosis.Kind, b.Diagnosis.Kind)
	}
	if got := login.Gate.Failed()[testHost]; got != MaxFailedLogins {
		t.Fatalf("failed logins recorded = %d", got)
	}
}

func TestSMTPNoSecretInResults(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.opts.AllowPlaintext = true
	users := map[string]string{testUser: testPass}
	var all []ProbeResult
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5"} {
		for _, pass := range []string{testPass, testPass + "x"} {
			s := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "none", Mechanisms: []string{mech}, Users: users})
			host := strings.ToLower(mech) + ".example.test"
			e.net.Route(host, 587, s.Addr)
			all = append(all, e.opts.ProbeSMTP(context.Background(), ProbeKey{SMTP, host, 587, SecurityNone}, testLogin(pass)))
		}
	}
	blob, _ := json.Marshal(all)
	for _, secret := range []string{testPass,
		base64.StdEncoding.EncodeToString([]byte(testPass)),
		base64.StdEncoding.EncodeToString([]byte("\x00" + testUser + "\x00" + testPass)),
		base64.StdEncoding.EncodeToString([]byte("\x00me\x00" + testPass)),
	} {
		if strings.Contains(string(blob), secret) {
			t.Errorf("secret form %q found in results", secret)
		}
	}
	if !strings.Contains(string(blob), "C: AUTH PLAIN [redacted]") {
		t.Errorf("transcript does not show the redacted AUTH line")
	}
	if all[0].Status != StatusOK || all[2].Status != StatusOK || all[4].Status != StatusOK {
		t.Errorf("the correct-password probes failed: %s %s %s", all[0].Status, all[2].Status, all[4].Status)
	}
}

func TestCRAMMD5RFC2195Vector(t *testing.T) {
	t.Parallel()
	c := CRAMMD5Client("tim", "tanstaaftanstaaf")
	mech, ir, err := c.Start()
	if mech != "CRAM-MD5" || ir != nil || err != nil {
		t.Fatalf("Start = %q %q %v", mech, ir, err)
	}
	got, err := c.Next([]byte("<1896.697170952@postoffice.reston.mci.net>"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "tim b913a602c7eda7a495b4e6e7334d3890"; string(got) != want {
		t.Fatalf("response = %q, want %q", got, want)
	}
	if _, err := c.Next([]byte("again")); err == nil {
		t.Fatal("a second challenge was answered")
	}
}

func TestSendMessage(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	s := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "tls", Cert: e.cert(t, detecttest.CertOpts{}), Mechanisms: []string{"PLAIN"}, Users: map[string]string{testUser: testPass}})
	e.net.Route(testHost, 465, s.Addr)
	msg := []byte("From: <me@example.test>\r\nSubject: hi\r\nMessage-ID: <x@y>\r\n\r\nbody\r\n")
	err := e.opts.SendMessage(context.Background(), ProbeKey{SMTP, testHost, 465, SecurityTLS}, testLogin(testPass), testUser, testUser, msg)
	if err != nil {
		t.Fatal(err)
	}
	got := s.Messages()
	if len(got) != 1 || !strings.Contains(string(got[0].Data), "Message-ID: <x@y>") || got[0].To[0] != testUser {
		t.Fatalf("messages = %+v", got)
	}
}

// The fakes satisfy the engine's interfaces (checked when compiling, so a change of an
// interface breaks here, next to the fake, not in a test far away).
var (
	_ Dialer   = (*detecttest.Net)(nil)
	_ Resolver = (*detecttest.Net)(nil)
	_ Dialer   = (*scriptedDialer)(nil)
	_ Resolver = (*countingResolver)(nil)
)
