package detect

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect/detecttest"
)

func TestProbeIMAP(t *testing.T) {
	t.Parallel()
	users := map[string]string{testUser: testPass}
	tests := []struct {
		name       string
		cfg        *detecttest.IMAPConfig
		script     func(c net.Conn)
		certOpts   detecttest.CertOpts
		port       int
		sec        Security
		pass       string
		plaintext  bool
		wantStatus Status
		wantKind   Kind
		wantAuth   string
	}{
		{name: "993 implicit TLS", cfg: &detecttest.IMAPConfig{Mode: "tls", Users: users}, port: 993, sec: SecurityTLS, pass: testPass,
			wantStatus: StatusOK, wantKind: KindOK, wantAuth: "PLAIN"},
		{name: "143 STARTTLS", cfg: &detecttest.IMAPConfig{Mode: "starttls", Users: users}, port: 143, sec: SecurityStartTLS, pass: testPass,
			wantStatus: StatusOK, wantKind: KindOK, wantAuth: "PLAIN"},
		{name: "wrong password", cfg: &detecttest.IMAPConfig{Mode: "tls", Users: users}, port: 993, sec: SecurityTLS, pass: "nope",
			wantStatus: StatusAuthFailed, wantKind: KindAuthRejected},
		{name: "no password", cfg: &detecttest.IMAPConfig{Mode: "tls", Users: users}, port: 993, sec: SecurityTLS,
			wantStatus: StatusOK, wantKind: KindUnverified},
		{name: "143 clear with LOGINDISABLED", cfg: &detecttest.IMAPConfig{Mode: "starttls", Users: users}, port: 143, sec: SecurityNone, pass: testPass,
			wantStatus: StatusAuthUnavailable, wantKind: KindLoginDisabled},
		{name: "143 clear without consent", cfg: &detecttest.IMAPConfig{Mode: "none", Users: users, InsecureAuth: true}, port: 143, sec: SecurityNone, pass: testPass,
			wantStatus: StatusPlaintextRefused, wantKind: KindPlaintextRefused},
		{name: "143 clear with consent", cfg: &detecttest.IMAPConfig{Mode: "none", Users: users, InsecureAuth: true}, port: 143, sec: SecurityNone, pass: testPass, plaintext: true,
			wantStatus: StatusOK, wantKind: KindOK},
		{name: "no STARTTLS", cfg: &detecttest.IMAPConfig{Mode: "none", Users: users, InsecureAuth: true}, port: 143, sec: SecurityStartTLS, pass: testPass,
			wantStatus: StatusTLSFailed, wantKind: KindNoStartTLS},
		{name: "expired certificate", cfg: &detecttest.IMAPConfig{Mode: "tls", Users: users}, certOpts: detecttest.CertOpts{Expired: true}, port: 993, sec: SecurityTLS, pass: testPass,
			wantStatus: StatusCertInvalid, wantKind: KindCertExpired},
		{name: "BYE greeting", script: func(c net.Conn) { c.Write([]byte("* BYE too many connections\r\n")) }, port: 143, sec: SecurityNone,
			wantStatus: StatusProtocolError, wantKind: KindServerTemporary},
		{name: "garbage greeting", script: func(c net.Conn) { c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n")) }, port: 143, sec: SecurityNone,
			wantStatus: StatusProtocolError, wantKind: KindProtocol},
		{name: "silent", script: func(c net.Conn) { time.Sleep(3 * time.Second) }, port: 143, sec: SecurityNone,
			wantStatus: StatusTimeout, wantKind: KindTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			e.opts.Timeout = 2 * time.Second
			if tt.script != nil {
				e.net.Route(testHost, tt.port, scripted(t, tt.script))
				e.opts.Timeout = 300 * time.Millisecond
			} else {
				cfg := *tt.cfg
				if cfg.Mode != "none" {
					cfg.Cert = e.cert(t, tt.certOpts)
				}
				s := detecttest.StartIMAP(t, cfg)
				e.net.Route(testHost, tt.port, s.Addr)
			}
			e.opts.AllowPlaintext = tt.plaintext
			r := e.opts.ProbeIMAP(context.Background(), ProbeKey{IMAP, testHost, tt.port, tt.sec}, testLogin(tt.pass))
			if r.Status != tt.wantStatus || r.Diagnosis.Kind != tt.wantKind {
				t.Fatalf("status %q kind %q, want %q %q\nerror: %s\n%s", r.Status, r.Diagnosis.Kind, tt.wantStatus, tt.wantKind, r.Error, strings.Join(r.Transcript, "\n"))
			}
			if tt.wantAuth != "" && (!r.Verified || r.AuthUsed != tt.wantAuth) {
				t.Errorf("auth %q verified %v, want %q", r.AuthUsed, r.Verified, tt.wantAuth)
			}
			if r.LoginAttempts > MaxFailedLogins {
				t.Errorf("%d login attempts", r.LoginAttempts)
			}
		})
	}
}

func TestProbePOP3(t *testing.T) {
	t.Parallel()
	users := map[string]string{testUser: testPass}
	tests := []struct {
		name       string
		cfg        detecttest.POP3Config
		port       int
		sec        Security
		pass       string
		plaintext  bool
		wantStatus Status
		wantKind   Kind
		wantAuth   string
	}{
		{name: "995 implicit TLS", cfg: detecttest.POP3Config{Mode: "tls", Users: users}, port: 995, sec: SecurityTLS, pass: testPass,
			wantStatus: StatusOK, wantKind: KindOK, wantAuth: "USER"},
		{name: "110 STLS", cfg: detecttest.POP3Config{Mode: "starttls", Users: users}, port: 110, sec: SecurityStartTLS, pass: testPass,
			wantStatus: StatusOK, wantKind: KindOK, wantAuth: "USER"},
		{name: "110 clear: CRAM-MD5 preferred over APOP and USER, with consent", cfg: detecttest.POP3Config{Mode: "none", Users: users, CRAMMD5: true}, port: 110, sec: SecurityNone, pass: testPass,
			plaintext: true, wantStatus: StatusOK, wantKind: KindOK, wantAuth: "CRAM-MD5"},
		{name: "110 clear: no login at all without consent", cfg: detecttest.POP3Config{Mode: "none", Users: users, CRAMMD5: true}, port: 110, sec: SecurityNone, pass: testPass,
			wantStatus: StatusPlaintextRefused, wantKind: KindPlaintextRefused},
		{name: "wrong password", cfg: detecttest.POP3Config{Mode: "tls", Users: users}, port: 995, sec: SecurityTLS, pass: "nope",
			wantStatus: StatusAuthFailed, wantKind: KindAuthRejected},
		{name: "-ERR to everything", cfg: detecttest.POP3Config{Mode: "tls", Users: users, AllERR: true}, port: 995, sec: SecurityTLS, pass: testPass,
			wantStatus: StatusAuthFailed, wantKind: KindAuthRejected},
		{name: "no STLS", cfg: detecttest.POP3Config{Mode: "none", Users: users}, port: 110, sec: SecurityStartTLS, pass: testPass,
			wantStatus: StatusTLSFailed, wantKind: KindNoStartTLS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			cfg := tt.cfg
			if cfg.Mode != "none" {
				cfg.Cert = e.cert(t, detecttest.CertOpts{})
			}
			s := detecttest.StartPOP3(t, cfg)
			e.net.Route(testHost, tt.port, s.Addr)
			e.opts.AllowPlaintext = tt.plaintext
			r := e.opts.ProbePOP3(context.Background(), ProbeKey{POP3, testHost, tt.port, tt.sec}, testLogin(tt.pass))
			if r.Status != tt.wantStatus || r.Diagnosis.Kind != tt.wantKind {
				t.Fatalf("status %q kind %q, want %q %q\nerror: %s\n%s", r.Status, r.Diagnosis.Kind, tt.wantStatus, tt.wantKind, r.Error, strings.Join(r.Transcript, "\n"))
			}
			if tt.wantAuth != "" && (!r.Verified || r.AuthUsed != tt.wantAuth) {
				t.Errorf("auth %q verified %v, want %q", r.AuthUsed, r.Verified, tt.wantAuth)
			}
		})
	}
}

func TestPOP3PlaintextRefusedAndNoSecretsInTranscripts(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	users := map[string]string{testUser: testPass}
	pop := detecttest.StartPOP3(t, detecttest.POP3Config{Mode: "none", Users: users})
	e.net.Route(testHost, 110, pop.Addr)
	r := e.opts.ProbePOP3(context.Background(), ProbeKey{POP3, testHost, 110, SecurityNone}, testLogin(testPass))
	// The fixture's greeting carries an APOP timestamp, but APOP on a clear connection
	// reveals an MD5 answer from which the password can be cracked: refused without consent.
	if r.Status != StatusPlaintextRefused || r.LoginAttempts != 0 {
		t.Fatalf("status %q kind %q, %d logins (%s)", r.Status, r.Diagnosis.Kind, r.LoginAttempts, r.Error)
	}
	withConsent := e.opts
	withConsent.AllowPlaintext = true
	if r := withConsent.ProbePOP3(context.Background(), ProbeKey{POP3, testHost, 110, SecurityNone}, testLogin(testPass)); r.AuthUsed != "APOP" || !r.Verified {
		t.Fatalf("with consent: auth used %q verified %v, want APOP", r.AuthUsed, r.Verified)
	}

	tls := detecttest.StartPOP3(t, detecttest.POP3Config{Mode: "tls", Cert: e.cert(t, detecttest.CertOpts{}, "pop.example.test"), Users: users})
	e.net.Route("pop.example.test", 995, tls.Addr)
	r2 := e.opts.ProbePOP3(context.Background(), ProbeKey{POP3, "pop.example.test", 995, SecurityTLS}, testLogin(testPass))
	imapS := detecttest.StartIMAP(t, detecttest.IMAPConfig{Mode: "tls", Cert: e.cert(t, detecttest.CertOpts{}), Users: users})
	e.net.Route(testHost, 993, imapS.Addr)
	r3 := e.opts.ProbeIMAP(context.Background(), ProbeKey{IMAP, testHost, 993, SecurityTLS}, testLogin(testPass))
	blob, _ := json.Marshal([]ProbeResult{r, r2, r3})
	for _, s := range []string{testPass, base64.StdEncoding.EncodeToString([]byte(testPass)), base64.StdEncoding.EncodeToString([]byte("\x00" + testUser + "\x00" + testPass))} {
		if strings.Contains(string(blob), s) {
			t.Errorf("secret %q leaked", s)
		}
	}
	if !strings.Contains(string(blob), "C: PASS [redacted]") {
		t.Errorf("POP3 transcript lacks the redacted PASS line:\n%s", strings.Join(r2.Transcript, "\n"))
	}
	if !strings.Contains(string(blob), "AUTHENTICATE PLAIN [redacted]") && !strings.Contains(string(blob), "LOGIN [redacted]") {
		t.Errorf("IMAP transcript lacks a redacted login line:\n%s", strings.Join(r3.Transcript, "\n"))
	}
}

func TestFindMessage(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	users := map[string]string{testUser: testPass}
	msg := []byte("From: <me@example.test>\r\nTo: <me@example.test>\r\nSubject: t\r\nMessage-ID: <abc@example.test>\r\n\r\nhi\r\n")
	im := detecttest.StartIMAP(t, detecttest.IMAPConfig{Mode: "tls", Cert: e.cert(t, detecttest.CertOpts{}), Users: users})
	if err := im.Append(testUser, msg); err != nil {
		t.Fatal(err)
	}
	po := detecttest.StartPOP3(t, detecttest.POP3Config{Mode: "tls", Cert: e.cert(t, detecttest.CertOpts{}), Users: users})
	po.Deliver(testUser, msg)
	e.net.Route(testHost, 993, im.Addr)
	e.net.Route(testHost, 995, po.Addr)
	for _, key := range []ProbeKey{{IMAP, testHost, 993, SecurityTLS}, {POP3, testHost, 995, SecurityTLS}} {
		for _, id := range []string{"<abc@example.test>", "<other@example.test>"} {
			found, err := e.opts.FindMessage(context.Background(), key, testLogin(testPass), testUser, id)
			if err != nil {
				t.Fatalf("%s %s: %v", key.Protocol, id, err)
			}
			if want := id == "<abc@example.test>"; found != want {
				t.Errorf("%s %s: found %v, want %v", key.Protocol, id, found, want)
			}
		}
	}
}
