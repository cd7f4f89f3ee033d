//go:build linux

package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/detecttest/realmail"
)

// TestProbeRealServers runs `mailsetup probe --dns --ca` against real Postfix and
// Dovecot on loopback: the modern setup must be verified over TLS; the legacy one (no
// TLS at all) gets no login without consent — not even CRAM-MD5, whose answer can be
// cracked offline — and with --allow-plaintext is verified by CRAM-MD5.
func TestProbeRealServers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		setup        realmail.Setup
		autodiscover bool
		args         []string
		wantCode     int
		check        func(t *testing.T, s *realmail.Servers, rep *detect.Report)
	}{
		{name: "autodiscover", setup: realmail.Modern, autodiscover: true, check: func(t *testing.T, s *realmail.Servers, rep *detect.Report) {
			// No mail SRV records: only the domain's Autodiscover (found through SRV
			// _autodiscover._tcp, HTTPS, inside the domain) knows the real ports.
			o, in := rep.Recommended.Outgoing, rep.Recommended.Incoming
			if o == nil || o.Port != s.Ports["submissions"] || !o.Verified || in == nil || in.Port != s.Ports["imaps"] || !in.Verified {
				t.Errorf("recommended %+v / %+v, want the Autodiscover ports %d / %d", o, in, s.Ports["submissions"], s.Ports["imaps"])
			}
			found := false
			for _, d := range rep.Discovery {
				if d.Source == detect.SourceAutodiscover && d.Found && strings.Contains(d.Detail, "SRV _autodiscover._tcp") {
					found = true
				}
			}
			if !found {
				t.Errorf("the Autodiscover source found nothing: %+v", rep.Discovery)
			}
			for _, h := range rep.Hosts {
				if h.Host == s.Host && (!h.Trusted || h.Reason != "own_domain") {
					t.Errorf("host %+v", h)
				}
			}
		}},
		{name: "modern", setup: realmail.Modern, args: []string{"--send-test"}, check: func(t *testing.T, s *realmail.Servers, rep *detect.Report) {
			o, in := rep.Recommended.Outgoing, rep.Recommended.Incoming
			if o == nil || o.Host != s.Host || o.Port != s.Ports["submissions"] || o.Security != detect.SecurityTLS || !o.Verified {
				t.Errorf("outgoing = %+v, want %s:%d tls verified", o, s.Host, s.Ports["submissions"])
			}
			if in == nil || in.Protocol != detect.IMAP || in.Port != s.Ports["imaps"] || in.Security != detect.SecurityTLS || !in.Verified {
				t.Errorf("incoming = %+v, want imap %d tls verified", in, s.Ports["imaps"])
			}
			// Dovecot offers SCRAM (and Postfix passes it on): the engine prefers it, as it
			// never reveals the password, and it must really work over SMTP and POP3.
			if o != nil && o.Auth != "SCRAM-SHA-256" {
				t.Errorf("outgoing auth = %s, want SCRAM-SHA-256", o.Auth)
			}
			popSCRAM := false
			for _, p := range rep.Probes {
				popSCRAM = popSCRAM || p.Protocol == detect.POP3 && p.Verified && p.AuthUsed == "SCRAM-SHA-256"
			}
			if !popSCRAM {
				t.Error("no POP3 login with SCRAM-SHA-256")
			}
			if st := rep.SendTest; st == nil || !st.Found {
				t.Errorf("send test = %+v", st)
			} else {
				t.Logf("send test round trip through Postfix and Dovecot: %d ms", st.RoundTrip)
			}
			for _, p := range rep.Probes {
				if p.Port == s.Ports["submission"] && p.Security == detect.SecurityStartTLS {
					if p.Status != detect.StatusOK || !p.Verified {
						t.Errorf("587-role STARTTLS: %s %s", p.Status, p.Error)
					}
				}
				if p.Port == s.Ports["submission"] && p.Security == detect.SecurityNone && p.Status == detect.StatusOK && p.Verified {
					t.Errorf("logged in on the clear submission port: %+v", p)
				}
			}
		}},
		{name: "legacy", setup: realmail.Legacy, wantCode: ExitNotFound, check: func(t *testing.T, s *realmail.Servers, rep *detect.Report) {
			for _, p := range rep.Probes {
				if p.LoginAttempts > 0 {
					t.Errorf("%s %s:%d %s: %d logins without consent on a server without encryption", p.Protocol, p.Host, p.Port, p.Security, p.LoginAttempts)
				}
				if p.Security == detect.SecurityNone && p.Status == detect.StatusOK && p.Relay == "" {
					t.Errorf("%s:%d none is %s, want plaintext_refused", p.Host, p.Port, p.Status)
				}
			}
		}},
		{name: "legacy-consent", setup: realmail.Legacy, args: []string{"--allow-plaintext"}, check: func(t *testing.T, s *realmail.Servers, rep *detect.Report) {
			o, in := rep.Recommended.Outgoing, rep.Recommended.Incoming
			if o == nil || o.Security != detect.SecurityNone || o.Auth != "CRAM-MD5" || !o.Verified {
				t.Errorf("outgoing = %+v, want CRAM-MD5 on a clear port, verified", o)
			}
			if in == nil || in.Protocol != detect.IMAP || in.Security != detect.SecurityNone || in.Auth != "CRAM-MD5" || !in.Verified {
				t.Errorf("incoming = %+v, want IMAP CRAM-MD5 verified", in)
			}
			for _, p := range rep.Probes {
				if p.Verified && p.AuthUsed != "CRAM-MD5" {
					t.Errorf("%s:%d logged in with %s although CRAM-MD5 was offered", p.Host, p.Port, p.AuthUsed)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			domain := tt.name + ".test"
			pass := "Real-" + string(tt.setup) + "-Pa55"
			s := realmail.Start(t, realmail.Config{Setup: tt.setup, Domain: domain, Users: map[string]string{"alice": pass}, Autodiscover: tt.autodiscover})
			var out, errb bytes.Buffer
			env := Env{Stdin: strings.NewReader(pass + "\n"), Stdout: &out, Stderr: &errb,
				Base: detect.Options{SkipNetwork: true}}
			args := append([]string{"probe", "--password-stdin", "--json", "--dns", s.DNS, "--ca", s.CAFile, "--timeout", "5s"}, tt.args...)
			start := time.Now()
			code := Main(context.Background(), append(args, "alice@"+domain), env)
			t.Logf("%s: probe took %v (servers started in %v)", tt.setup, time.Since(start), s.Startup)
			var rep detect.Report
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("exit %d, no JSON: %v\n%s\n%s", code, err, out.String(), errb.String())
			}
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d", code, tt.wantCode)
			}
			tt.check(t, s, &rep)
			all := out.String() + errb.String()
			for _, secret := range []string{pass, base64.StdEncoding.EncodeToString([]byte(pass)), base64.StdEncoding.EncodeToString([]byte("\x00alice@" + domain + "\x00" + pass))} {
				if strings.Contains(all, secret) {
					t.Errorf("password form %q in the output", secret)
				}
			}
			if t.Failed() {
				for _, p := range rep.Probes {
					t.Logf("%s %s:%d %s → %s %s", p.Protocol, p.Host, p.Port, p.Security, p.Status, p.Error)
				}
			}
		})
	}
}

// TestREADMEExample prints a real human-readable run against real Postfix and Dovecot,
// for the README (README_EXAMPLE=1 go test -run TestREADMEExample -v ./cmd/mailsetup/cli).
func TestREADMEExample(t *testing.T) {
	if os.Getenv("README_EXAMPLE") != "1" {
		t.Skip("set README_EXAMPLE=1 to print the README's example run")
	}
	s := realmail.Start(t, realmail.Config{Setup: realmail.Modern, Domain: "example.test", Users: map[string]string{"alice": "secret-Pa55"}})
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader("secret-Pa55\n"), Stdout: &out, Stderr: &errb, Base: detect.Options{SkipNetwork: true}}
	code := Main(context.Background(), []string{"probe", "--password-stdin", "--dns", s.DNS, "--ca", s.CAFile, "alice@example.test"}, env)
	fmt.Printf("exit %d\n%s", code, out.String())
}
