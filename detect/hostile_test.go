package detect

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mailsetup/mailsetup/detect/detecttest"
)

// Hostile servers and networks: every one must end in the right typed status within
// its deadline, with no secret leaked and nothing unsafe recommended.

func TestHostileServers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		script   func(t *testing.T, e *testEnv) func(c net.Conn)
		sec      Security
		timeout  time.Duration
		want     Status
		wantKind Kind
	}{
		{name: "banner at 1 byte per second", timeout: time.Second, sec: SecurityNone, want: StatusTimeout, wantKind: KindTimeout,
			script: func(*testing.T, *testEnv) func(net.Conn) {
				return func(c net.Conn) {
					for _, b := range []byte("220 slow.example.test ESMTP\r\n") {
						if _, err := c.Write([]byte{b}); err != nil {
							return
						}
						time.Sleep(time.Second)
					}
				}
			}},
		{name: "TLS handshake fails midway", sec: SecurityTLS, want: StatusTLSFailed, wantKind: KindTLSHandshake,
			script: func(*testing.T, *testEnv) func(net.Conn) {
				return func(c net.Conn) {
					buf := make([]byte, 512)
					c.Read(buf) // the ClientHello
					c.Write([]byte{0x16, 0x03, 0x03, 0x00, 0x40, 0x02, 0x00})
				}
			}},
		{name: "server that closes right after connect", sec: SecurityNone, want: StatusProtocolError, wantKind: KindProtocol,
			script: func(*testing.T, *testEnv) func(net.Conn) { return func(net.Conn) {} }},
		{name: "EHLO answered with garbage", sec: SecurityStartTLS, want: StatusProtocolError, wantKind: KindServerPermanent,
			script: func(*testing.T, *testEnv) func(net.Conn) {
				return func(c net.Conn) {
					r := bufio.NewReader(c)
					c.Write([]byte("220 ok ESMTP\r\n"))
					r.ReadString('\n')
					c.Write([]byte("599 \x00\x01\x02 what\r\n"))
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			if tt.timeout > 0 {
				e.opts.Timeout = tt.timeout
			}
			e.net.Route(testHost, 587, scripted(t, tt.script(t, e)))
			start := time.Now()
			r := e.opts.ProbeSMTP(context.Background(), ProbeKey{SMTP, testHost, 587, tt.sec}, testLogin(testPass))
			if d := time.Since(start); d > e.opts.Timeout+500*time.Millisecond {
				t.Errorf("took %v, deadline %v", d, e.opts.Timeout)
			}
			if r.Status != tt.want || r.Diagnosis.Kind != tt.wantKind {
				t.Fatalf("status %s kind %s, want %s %s (%s)", r.Status, r.Diagnosis.Kind, tt.want, tt.wantKind, r.Error)
			}
		})
	}
}

// A middlebox strips STARTTLS on 587 while 465 works: the engine must recommend 465 and
// explain 587, never fall back to sending the password in clear on 587.
func TestSTARTTLSDowngradeIsRefused(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	users := map[string]string{testUser: testPass}
	s465 := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "tls", Cert: e.cert(t, detecttest.CertOpts{}), Mechanisms: []string{"PLAIN"}, Users: users})
	stripped := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "none", Mechanisms: []string{"PLAIN", "LOGIN"}, Users: users})
	e.net.Route(testHost, 465, s465.Addr)
	e.net.Route(testHost, 587, stripped.Addr)
	opts := e.opts
	opts.Password = testPass
	opts.Only = []Protocol{SMTP}
	rep, err := Run(context.Background(), testUser, opts)
	if err != nil {
		t.Fatal(err)
	}
	if o := rep.Recommended.Outgoing; o == nil || o.Port != 465 || o.Security != SecurityTLS {
		t.Fatalf("outgoing = %+v", o)
	}
	for _, p := range rep.Probes {
		if p.Port == 587 && p.Security == SecurityStartTLS && p.Diagnosis.Kind != KindNoStartTLS {
			t.Errorf("587 starttls: %s", p.Diagnosis.Kind)
		}
		if p.Port == 587 && p.Security == SecurityNone && (p.Status != StatusPlaintextRefused || p.LoginAttempts != 0) {
			t.Errorf("587 none: %s with %d logins — a clear-text password was risked", p.Status, p.LoginAttempts)
		}
	}
}

// A certificate exception names one exact certificate; consent to clear text does not
// extend to an untrusted certificate.
func TestCertificateExceptionIsExact(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	cert := e.cert(t, detecttest.CertOpts{SelfSigned: true})
	s := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "tls", Cert: cert, Mechanisms: []string{"PLAIN"}, Users: map[string]string{testUser: testPass}})
	e.net.Route(testHost, 465, s.Addr)
	key := ProbeKey{SMTP, testHost, 465, SecurityTLS}

	plain := e.opts
	plain.AllowPlaintext = true
	if r := plain.ProbeSMTP(context.Background(), key, testLogin(testPass)); r.Status != StatusCertInvalid || r.LoginAttempts != 0 {
		t.Fatalf("untrusted certificate with clear-text consent: %s, %d logins", r.Status, r.LoginAttempts)
	}
	first := e.opts.ProbeSMTP(context.Background(), key, testLogin(testPass))
	fp := first.Cert.SHA256
	other := e.opts
	other.AcceptFingerprints = []string{strings.Repeat("ab", 32)}
	if r := other.ProbeSMTP(context.Background(), key, testLogin(testPass)); r.Status != StatusCertInvalid {
		t.Fatalf("another fingerprint unlocked the certificate: %s", r.Status)
	}
	exact := e.opts
	exact.AcceptFingerprints = []string{strings.ToUpper(fp)}
	if r := exact.ProbeSMTP(context.Background(), key, testLogin(testPass)); r.Status != StatusOK || !r.Verified {
		t.Fatalf("the accepted certificate: %s (%s)", r.Status, r.Error)
	}
}

// A server that accepts any password proves only that the login succeeded.
func TestAcceptAnyPasswordClaimsOnlyTheLogin(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	s := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "tls", Cert: e.cert(t, detecttest.CertOpts{}), Mechanisms: []string{"PLAIN"}, AcceptAnyPassword: true})
	e.net.Route(testHost, 465, s.Addr)
	r := e.opts.ProbeSMTP(context.Background(), ProbeKey{SMTP, testHost, 465, SecurityTLS}, testLogin("anything"))
	if r.Status != StatusOK || !r.Verified || strings.Contains(r.Diagnosis.Explanation, "deliver") {
		t.Fatalf("%s %q", r.Status, r.Diagnosis.Explanation)
	}
}

// TestNoSecretAnywhere runs whole probes (successful and failing, every mechanism and
// protocol) and searches every byte of the JSON report and its exports for the password
// and its encoded forms.
func TestNoSecretAnywhere(t *testing.T) {
	t.Parallel()
	const pw = "Tr0ub4dor&3-unique"
	e := newTestEnv(t)
	users := map[string]string{testUser: pw}
	e.opts.AllowPlaintext = true
	cert := e.cert(t, detecttest.CertOpts{})
	routes := map[int]string{
		465:  detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "tls", Cert: cert, Mechanisms: []string{"PLAIN"}, Users: users}).Addr,
		587:  detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "starttls", Cert: cert, Mechanisms: []string{"LOGIN"}, Users: users}).Addr,
		25:   detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "none", Mechanisms: []string{"CRAM-MD5"}, Users: users}).Addr,
		2525: detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "none", Mechanisms: []string{"PLAIN", "LOGIN"}, Users: users}).Addr,
		993:  detecttest.StartIMAP(t, detecttest.IMAPConfig{Mode: "tls", Cert: cert, Users: users}).Addr,
		143:  detecttest.StartIMAP(t, detecttest.IMAPConfig{Mode: "none", Users: users, InsecureAuth: true}).Addr,
		995:  detecttest.StartPOP3(t, detecttest.POP3Config{Mode: "tls", Cert: cert, Users: users}).Addr,
		110:  detecttest.StartPOP3(t, detecttest.POP3Config{Mode: "none", Users: users, CRAMMD5: true}).Addr,
	}
	for port, addr := range routes {
		e.net.Route(testHost, port, addr)
	}
	e.net.Host("example.test")
	var blobs []string
	var logs bytes.Buffer
	for _, pass := range []string{pw, pw + "-wrong"} {
		opts := e.opts
		opts.Password = pass
		opts.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		rep, err := Run(context.Background(), testUser, opts)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(rep)
		blobs = append(blobs, string(b))
	}
	if !strings.Contains(logs.String(), "probe") {
		t.Error("the debug log recorded nothing; the sweep of it proves little")
	}
	blobs = append(blobs, logs.String())
	forms := []string{pw, base64.StdEncoding.EncodeToString([]byte(pw)),
		base64.StdEncoding.EncodeToString([]byte("\x00" + testUser + "\x00" + pw)),
		base64.StdEncoding.EncodeToString([]byte("\x00me\x00" + pw))}
	for _, blob := range blobs {
		for _, f := range forms {
			if strings.Contains(blob, f) {
				t.Errorf("secret form %q found in a report", f)
			}
		}
	}
	if !strings.Contains(blobs[0], `"verified":true`) {
		t.Error("the correct password verified nothing; the sweep proves little")
	}
}

// Cancelling mid-probe returns within 200 ms and leaves no goroutine behind.
func TestCancelLeavesNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e := newTestEnv(t)
	// A server that accepts and then says nothing, so every probe is mid-flight; its
	// handlers end when the engine closes the connections.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	for _, p := range []int{25, 465, 587, 2525, 143, 993, 110, 995} {
		e.net.Route(testHost, p, ln.Addr().String())
	}
	e.net.Host("example.test")
	e.opts.Timeout = 10 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan time.Time, 1)
	go func() {
		Run(ctx, testUser, e.opts)
		done <- time.Now()
	}()
	time.Sleep(300 * time.Millisecond)
	cancelled := time.Now()
	cancel()
	select {
	case end := <-done:
		if d := end.Sub(cancelled); d > 200*time.Millisecond {
			t.Errorf("returned %v after cancel, want ≤ 200 ms", d)
		} else {
			t.Logf("returned %v after cancel", d.Round(time.Millisecond))
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	ln.Close()
}

func FuzzParseEHLO(f *testing.F) {
	f.Add("mail.example.test\nPIPELINING\nAUTH PLAIN LOGIN\nAUTH=CRAM-MD5\nSIZE 1000\nSTARTTLS")
	f.Add("x\nAUTH=\nAUTH")
	f.Fuzz(func(t *testing.T, msg string) {
		ext := parseEHLO(msg)
		for _, m := range authMechs(ext) {
			if m == "" || strings.ContainsAny(m, " \t") {
				t.Fatalf("bad mechanism %q from %q", m, msg)
			}
		}
		_ = capNames(ext)
	})
}
