package detect

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/detect/detecttest"
)

// The clear-text cell of an IMAP or POP3 port borrows its STARTTLS sibling's pre-TLS
// conversation (it never carries the password during the matrix), and its result is the
// same as with a connection of its own. After the matrix, a clear-text login happens only
// with consent on a server that offers no encryption at all (one more connection).
func TestPlainCellShares(t *testing.T) {
	users := map[string]string{testUser: testPass}
	type server func(t *testing.T, e *testEnv) int // starts a server, routes it, returns the port
	smtpSrv := func(mechs []string, before bool) server {
		return func(t *testing.T, e *testEnv) int {
			s := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "starttls", Cert: e.cert(t, detecttest.CertOpts{}),
				Mechanisms: mechs, AuthBeforeTLS: before, Users: users})
			e.net.Route(testHost, 587, s.Addr)
			return 587
		}
	}
	imapSrv := func(insecure bool) server {
		return func(t *testing.T, e *testEnv) int {
			s := detecttest.StartIMAP(t, detecttest.IMAPConfig{Mode: "starttls", Cert: e.cert(t, detecttest.CertOpts{}), Users: users, InsecureAuth: insecure})
			e.net.Route(testHost, 143, s.Addr)
			return 143
		}
	}
	imapPlainOnly := func(t *testing.T, e *testEnv) int {
		s := detecttest.StartIMAP(t, detecttest.IMAPConfig{Mode: "none", Users: users, InsecureAuth: true})
		e.net.Route(testHost, 143, s.Addr)
		return 143
	}
	popSrv := func(cram bool) server {
		return func(t *testing.T, e *testEnv) int {
			s := detecttest.StartPOP3(t, detecttest.POP3Config{Mode: "starttls", Cert: e.cert(t, detecttest.CertOpts{}), Users: users, UserBeforeTLS: true, CRAMMD5: cram})
			e.net.Route(testHost, 110, s.Addr)
			return 110
		}
	}
	bye := func(t *testing.T, e *testEnv) int {
		e.net.Route(testHost, 143, scripted(t, func(c net.Conn) { c.Write([]byte("* BYE too many connections\r\n")) }))
		return 143
	}
	closed := func(port int) server {
		return func(_ *testing.T, e *testEnv) int {
			e.net.Host(testHost) // resolves, nothing listens
			return port
		}
	}

	for _, tc := range []struct {
		name       string
		proto      Protocol
		srv        server
		pass       string
		plaintext  bool
		wantShared bool // the clear-text cell needs no connection of its own during the matrix
		wantLogin  bool // … and one more after it, for a consented clear-text login
		wantStatus Status
	}{
		// SMTP never shares: its clear-text cell starts at once on a connection of its own.
		{"SMTP PLAIN before TLS, no consent", SMTP, smtpSrv([]string{"PLAIN", "LOGIN"}, true), testPass, false, false, false, StatusPlaintextRefused},
		{"SMTP PLAIN before TLS, consent, but the server offers STARTTLS", SMTP, smtpSrv([]string{"PLAIN", "LOGIN"}, true), testPass, true, false, false, StatusPlaintextRefused},
		{"SMTP without AUTH before TLS: relay question", SMTP, smtpSrv([]string{"PLAIN"}, false), testPass, false, false, false, StatusAuthUnavailable},
		{"IMAP port closed", IMAP, closed(143), testPass, false, true, false, StatusRefused},
		{"IMAP server says goodbye in its greeting", IMAP, bye, testPass, false, true, false, StatusFor(KindServerTemporary)},
		{"POP3 port closed", POP3, closed(110), "", false, true, false, StatusRefused},
		{"IMAP LOGINDISABLED before TLS", IMAP, imapSrv(false), testPass, false, true, false, StatusAuthUnavailable},
		{"IMAP LOGIN before TLS, consent, but the server offers STARTTLS", IMAP, imapSrv(true), testPass, true, true, false, StatusPlaintextRefused},
		{"IMAP without any encryption, consent", IMAP, imapPlainOnly, testPass, true, true, true, StatusOK},
		{"IMAP without any encryption, no consent", IMAP, imapPlainOnly, testPass, false, true, false, StatusPlaintextRefused},
		{"POP3 USER and APOP before TLS: APOP is not used in clear either", POP3, popSrv(false), testPass, false, true, false, StatusPlaintextRefused},
		{"POP3 without password", POP3, popSrv(false), "", false, true, false, StatusOK},
		{"POP3 CRAM-MD5 before TLS, consent, but the server offers STLS", POP3, popSrv(true), testPass, true, true, false, StatusPlaintextRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]ProbeResult
			var dials [2]int
			for i, share := range []bool{true, false} {
				e := newTestEnv(t)
				port := tc.srv(t, e)
				o := e.opts.engine()
				o.AllowPlaintext, o.noPlainShare = tc.plaintext, !share
				cells := []cell{{key: ProbeKey{tc.proto, testHost, port, SecurityStartTLS}}, {key: ProbeKey{tc.proto, testHost, port, SecurityNone}}}
				login := testLogin(tc.pass)
				res := o.probeAll(context.Background(), cells, login, newCancelGroup(), nil)
				o.clearTextLogins(context.Background(), res, login, nil)
				got[i], dials[i] = res[1], e.net.Dials(testHost, port)
			}
			shared, own := got[0], got[1]
			if shared.Status != tc.wantStatus {
				t.Errorf("status %s, want %s (%s)\n%s", shared.Status, tc.wantStatus, shared.Error, strings.Join(shared.Transcript, "\n"))
			}
			wantDials := 2
			if tc.wantShared {
				wantDials = 1
			}
			if tc.wantLogin {
				wantDials++
			}
			if dials[0] != wantDials {
				t.Errorf("connections to the port: %d shared, want %d", dials[0], wantDials)
			}
			note := slices.ContainsFunc(shared.Transcript, func(l string) bool { return strings.Contains(l, "no second connection") })
			if note != (tc.wantShared && !tc.wantLogin) {
				t.Errorf("transcript says the conversation was shared: %v, want %v", note, tc.wantShared)
			}
			// Whatever the path, the clear-text cell reports what its own connection reports.
			if shared.Status != own.Status || kindOf(shared) != kindOf(own) || apopless(shared.Banner) != apopless(own.Banner) ||
				!slices.Equal(shared.AuthMechanisms, own.AuthMechanisms) || shared.Verified != own.Verified {
				t.Errorf("shared result differs from its own connection's:\nshared: %s %s banner=%q mechs=%v verified=%v \nown:    %s %s banner=%q mechs=%v verified=%v",
					shared.Status, kindOf(shared), shared.Banner, shared.AuthMechanisms, shared.Verified,
					own.Status, kindOf(own), own.Banner, own.AuthMechanisms, own.Verified)
			}
		})
	}
}

// apopless drops a POP3 greeting's APOP timestamp, which differs on every connection.
func apopless(banner string) string {
	if i := strings.IndexByte(banner, '<'); i >= 0 {
		return banner[:i]
	}
	return banner
}

func kindOf(r ProbeResult) Kind {
	if r.Diagnosis == nil {
		return ""
	}
	return r.Diagnosis.Kind
}
