package detect

import (
	"strconv"
	"strings"
	"testing"
)

func okProbe(p Protocol, port int, sec Security, verified bool, auth string) ProbeResult {
	r := ProbeResult{Protocol: p, Host: "mail.example.test", Port: port, Security: sec, Status: StatusOK, Verified: verified}
	if verified {
		r.AuthUsed, r.UsernameUsed = auth, "me@example.test"
	} else {
		r.AuthMechanisms = []string{auth}
	}
	return r
}

func TestRecommendOrder(t *testing.T) {
	t.Parallel()
	withPW := &Login{Password: "pw", From: "me@example.test", Usernames: []string{"me@example.test"}}
	noPW := &Login{From: "me@example.test", Usernames: []string{"me@example.test"}}
	failed := ProbeResult{Protocol: SMTP, Host: "mail.example.test", Port: 465, Security: SecurityTLS, Status: StatusAuthFailed}
	tests := []struct {
		name       string
		probes     []ProbeResult
		login      *Login
		preferPOP3 bool
		wantOut    string // "port/security" or "" for none
		wantIn     string // "proto/port/security" or ""
		wantVerif  bool
	}{
		{
			name: "implicit TLS beats STARTTLS",
			probes: []ProbeResult{
				okProbe(SMTP, 587, SecurityStartTLS, true, "PLAIN"),
				okProbe(SMTP, 465, SecurityTLS, true, "PLAIN"),
				okProbe(IMAP, 143, SecurityStartTLS, true, "LOGIN"),
				okProbe(IMAP, 993, SecurityTLS, true, "LOGIN"),
			},
			login: withPW, wantOut: "465/tls", wantIn: "imap/993/tls", wantVerif: true,
		},
		{
			name: "587 beats 2525 beats 25",
			probes: []ProbeResult{
				okProbe(SMTP, 25, SecurityStartTLS, true, "PLAIN"),
				okProbe(SMTP, 2525, SecurityStartTLS, true, "PLAIN"),
				okProbe(SMTP, 587, SecurityStartTLS, true, "PLAIN"),
				okProbe(POP3, 995, SecurityTLS, true, "USER"),
			},
			login: withPW, wantOut: "587/starttls", wantIn: "pop3/995/tls", wantVerif: true,
		},
		{
			name: "verified beats unverified even if the unverified cell ranks higher",
			probes: []ProbeResult{
				okProbe(SMTP, 465, SecurityTLS, false, "PLAIN"),
				okProbe(SMTP, 587, SecurityStartTLS, true, "PLAIN"),
				okProbe(IMAP, 993, SecurityTLS, true, "LOGIN"),
			},
			login: noPW, wantOut: "587/starttls", wantIn: "imap/993/tls", wantVerif: true,
		},
		{
			name: "with a password unverified cells are not recommended",
			probes: []ProbeResult{
				okProbe(SMTP, 465, SecurityTLS, false, "PLAIN"),
				failed,
				okProbe(IMAP, 993, SecurityTLS, false, "LOGIN"),
			},
			login: withPW, wantOut: "", wantIn: "",
		},
		{
			name: "without a password reachable cells are recommended unverified",
			probes: []ProbeResult{
				okProbe(SMTP, 587, SecurityStartTLS, false, "PLAIN"),
				okProbe(IMAP, 143, SecurityStartTLS, false, "PLAIN"),
			},
			login: noPW, wantOut: "587/starttls", wantIn: "imap/143/starttls", wantVerif: false,
		},
		{
			name: "challenge-response on plain beats nothing, IMAP 143 STARTTLS beats POP3 995",
			probes: []ProbeResult{
				okProbe(SMTP, 25, SecurityNone, true, "CRAM-MD5"),
				okProbe(POP3, 995, SecurityTLS, true, "USER"),
				okProbe(IMAP, 143, SecurityStartTLS, true, "LOGIN"),
			},
			login: withPW, wantOut: "25/none", wantIn: "imap/143/starttls", wantVerif: true,
		},
		{
			name: "POP3 preferred",
			probes: []ProbeResult{
				okProbe(SMTP, 465, SecurityTLS, true, "PLAIN"),
				okProbe(IMAP, 993, SecurityTLS, true, "LOGIN"),
				okProbe(POP3, 995, SecurityTLS, true, "USER"),
			},
			login: withPW, preferPOP3: true, wantOut: "465/tls", wantIn: "pop3/995/tls", wantVerif: true,
		},
		{
			name: "encrypted POP3 beats clear-text IMAP",
			probes: []ProbeResult{
				okProbe(SMTP, 465, SecurityTLS, true, "PLAIN"),
				okProbe(IMAP, 143, SecurityNone, true, "CRAM-MD5"),
				okProbe(POP3, 110, SecurityStartTLS, true, "USER"),
			},
			login: withPW, wantOut: "465/tls", wantIn: "pop3/110/starttls", wantVerif: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := recommend(tt.probes, tt.preferPOP3, tt.login, tt.login.hasPassword(), nil)
			gotOut := ""
			if rec.Outgoing != nil {
				gotOut = strings.Join([]string{strconv.Itoa(rec.Outgoing.Port), string(rec.Outgoing.Security)}, "/")
				if rec.Outgoing.Verified != tt.wantVerif {
					t.Errorf("outgoing verified = %v, want %v", rec.Outgoing.Verified, tt.wantVerif)
				}
			}
			gotIn := ""
			if rec.Incoming != nil {
				gotIn = strings.Join([]string{string(rec.Incoming.Protocol), strconv.Itoa(rec.Incoming.Port), string(rec.Incoming.Security)}, "/")
			}
			if gotOut != tt.wantOut {
				t.Errorf("outgoing = %q, want %q", gotOut, tt.wantOut)
			}
			if gotIn != tt.wantIn {
				t.Errorf("incoming = %q, want %q", gotIn, tt.wantIn)
			}
		})
	}
}

func TestRecommendUnverifiedSettingUsesFirstUsername(t *testing.T) {
	t.Parallel()
	login := &Login{From: "me@example.test", Usernames: []string{"me"}}
	rec := recommend([]ProbeResult{okProbe(SMTP, 587, SecurityStartTLS, false, "LOGIN")}, false, login, login.hasPassword(), nil)
	if rec.Outgoing == nil || rec.Outgoing.Username != "me" || rec.Outgoing.Auth != "LOGIN" {
		t.Fatalf("outgoing = %+v, want username me and auth LOGIN", rec.Outgoing)
	}
}

func TestProviderWarnings(t *testing.T) {
	t.Parallel()
	got := ProviderWarnings("Gmail", ProviderNotes{AppPassword: true, AppPasswordURL: "https://myaccount.google.com/apppasswords", MaxMessageMB: 25, SendPerDay: 500})
	want := []string{
		"Gmail needs an app password when two-step verification is on: create one at https://myaccount.google.com/apppasswords.",
		"Gmail accepts messages up to 25 MB.",
		"Gmail limits sending to about 500 per day.",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
