package detect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/detect/detecttest"
)

// staffWorld is one domain's mail servers with several mailboxes: SMTP 465 (TLS) and
// 587 (STARTTLS), IMAP 993, POP3 995 under smtp./imap./pop. names, announced by SRV.
// imapUsers, when set, replaces the user list of the IMAP server alone (a mailbox whose
// IMAP access is off).
func staffWorld(t *testing.T, domain string, users, imapUsers map[string]string) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	hosts := []string{"smtp." + domain, "imap." + domain, "pop." + domain}
	cert := e.ca.Leaf(t, detecttest.CertOpts{}, hosts...)
	if imapUsers == nil {
		imapUsers = users
	}
	s465 := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "tls", Cert: cert, Mechanisms: []string{"PLAIN", "LOGIN"}, Users: users})
	s587 := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "starttls", Cert: cert, Mechanisms: []string{"PLAIN", "LOGIN"}, Users: users})
	imap := detecttest.StartIMAP(t, detecttest.IMAPConfig{Mode: "tls", Cert: cert, Users: imapUsers})
	pop := detecttest.StartPOP3(t, detecttest.POP3Config{Mode: "tls", Cert: cert, Users: users})
	e.net.Route(hosts[0], 465, s465.Addr)
	e.net.Route(hosts[0], 587, s587.Addr)
	e.net.Route(hosts[1], 993, imap.Addr)
	e.net.Route(hosts[2], 995, pop.Addr)
	e.net.SRV("submissions", domain, hosts[0], 465)
	e.net.SRV("submission", domain, hosts[0], 587)
	e.net.SRV("imaps", domain, hosts[1], 993)
	e.net.SRV("pop3s", domain, hosts[2], 995)
	return e
}

var staff = map[string]string{
	"alice@staff.test": "alice-pw",
	"bob@staff.test":   "bob-pw",
	"carol":            "carol-pw", // an old mailbox whose login name is the local part
	"dave@staff.test":  "dave-pw",
	"erin@other.test":  "erin-pw", // a mailbox of another domain hosted on these servers
}

// leaderReport runs the whole check for alice, as a batch does once per domain.
func leaderReport(t *testing.T, e *testEnv) *Report {
	t.Helper()
	opts := e.opts
	opts.Password = "alice-pw"
	rep, err := Run(context.Background(), "alice@staff.test", opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Recommended.Outgoing == nil || !rep.Recommended.Outgoing.Verified || rep.Recommended.Incoming == nil || !rep.Recommended.Incoming.Verified {
		t.Fatalf("the leader's run verified nothing: %+v", rep.Recommended)
	}
	return rep
}

func TestVerifyLogin(t *testing.T) {
	t.Parallel()
	noIMAPForDave := map[string]string{}
	for u, p := range staff {
		if u != "dave@staff.test" {
			noIMAPForDave[u] = p
		}
	}
	tests := []struct {
		name, address, password string
		// wantOut, wantIn are "proto:port user" of the verified settings ("" = none).
		wantOut, wantIn string
		// wantDials is the connections the check may open.
		wantDials int
		// wantLogins lists the cells (proto:port) that received a login.
		wantLogins []string
	}{
		{"same settings, one login each", "bob@staff.test", "bob-pw", "smtp:465 bob@staff.test", "imap:993 bob@staff.test", 2,
			[]string{"smtp:465", "imap:993"}},
		{"login name is the local part", "carol@staff.test", "carol-pw", "smtp:465 carol", "imap:993 carol", 2,
			[]string{"smtp:465", "imap:993"}},
		{"IMAP off for this mailbox: POP3 tells it is not the password", "dave@staff.test", "dave-pw", "smtp:465 dave@staff.test", "pop3:995 dave@staff.test", 3,
			[]string{"smtp:465", "imap:993", "pop3:995"}},
		{"wrong password: every service refuses, nothing else is tried", "bob@staff.test", "not-bobs", "", "", 3,
			[]string{"smtp:465", "imap:993", "pop3:995"}},
		{"no password: nothing to connect for", "bob@staff.test", "", "", "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := staffWorld(t, "staff.test", staff, noIMAPForDave)
			base := leaderReport(t, e)
			before := e.net.TotalDials()
			opts := e.opts
			opts.Password = tt.password
			rep, err := opts.VerifyLogin(context.Background(), tt.address, base)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.net.TotalDials() - before; got != tt.wantDials {
				t.Errorf("connections = %d, want %d", got, tt.wantDials)
			}
			if got, want := settingWords(rep.Recommended.Outgoing), tt.wantOut; got != want && want != "" {
				t.Errorf("outgoing = %q, want %q", got, want)
			}
			if got, want := settingWords(rep.Recommended.Incoming), tt.wantIn; got != want && want != "" {
				t.Errorf("incoming = %q, want %q", got, want)
			}
			if tt.password != "" && tt.wantOut == "" && (rep.Recommended.Outgoing != nil || rep.Recommended.Incoming != nil) {
				t.Errorf("a refused password got a recommendation: %+v", rep.Recommended)
			}
			var logins []string
			for _, p := range rep.Probes {
				if p.LoginAttempts > 0 {
					logins = append(logins, string(p.Protocol)+":"+itoa(p.Port))
				}
				if p.UsernameUsed == "alice@staff.test" || strings.Contains(strings.Join(p.Transcript, "\n"), "alice-pw") {
					t.Errorf("%s:%d carries the other address's login: %q", p.Host, p.Port, p.UsernameUsed)
				}
				if p.LoginAttempts == 0 && (len(p.Transcript) == 0 || p.Transcript[0] != sharedMatrixNote) {
					t.Errorf("%s:%d %s: inherited cell does not say so: %q", p.Host, p.Port, p.Security, first(p.Transcript))
				}
			}
			slices.Sort(logins)
			want := slices.Clone(tt.wantLogins)
			slices.Sort(want)
			if !slices.Equal(logins, want) {
				t.Errorf("logins on %v, want %v", logins, want)
			}
			for host, n := range rep.FailedLogins {
				if n > MaxFailedLogins {
					t.Errorf("%s: %d failed logins, cap %d", host, n, MaxFailedLogins)
				}
			}
			if d := fmt.Sprint(rep.Discovery); strings.Contains(d, "alice") || !strings.Contains(d, tt.address) {
				t.Errorf("the discovery notes name the other address, or not this one: %s", d)
			}
			if rep.Address != tt.address || rep.Meta.PasswordUsed != (tt.password != "") {
				t.Errorf("address %q password used %v", rep.Address, rep.Meta.PasswordUsed)
			}
			if tt.password == "" && (rep.Recommended.Outgoing == nil || rep.Recommended.Outgoing.Verified || rep.Recommended.Outgoing.Username != tt.address) {
				t.Errorf("without password: outgoing %+v, want unverified for %s", rep.Recommended.Outgoing, tt.address)
			}
		})
	}
}

func settingWords(s *Setting) string {
	if s == nil || !s.Verified {
		return ""
	}
	return string(s.Protocol) + ":" + itoa(s.Port) + " " + s.Username
}

func itoa(n int) string { return strconv.Itoa(n) }

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// TestVerifyLoginTrust: another domain's matrix is never shared (its servers are not
// trusted for this address), and a server the trust decision withholds a login from
// gets none from VerifyLogin either, until the user confirms it for every address.
func TestVerifyLoginTrust(t *testing.T) {
	t.Parallel()
	e := staffWorld(t, "staff.test", staff, nil)
	base := leaderReport(t, e)

	// other.test's DNS points at staff.test's servers: the decision differs, nothing is shared.
	for _, s := range []struct {
		svc, host string
		port      int
	}{{"submissions", "smtp.staff.test", 465}, {"imaps", "imap.staff.test", 993}} {
		e.net.SRV(s.svc, "other.test", s.host, s.port)
	}
	before := e.net.TotalDials()
	opts := e.opts
	opts.Password = "bob-pw"
	if _, err := opts.VerifyLogin(context.Background(), "bob@other.test", base); !errors.Is(err, ErrNotShared) {
		t.Errorf("another domain: err = %v, want ErrNotShared", err)
	}
	if got := e.net.TotalDials() - before; got != 0 {
		t.Errorf("refusing to share opened %d connections", got)
	}

	// other.test's own check (its SRV records point outside it): nothing is trusted …
	run := e.opts
	run.Password = "bob-pw"
	other, err := Run(context.Background(), "bob@other.test", run)
	if err != nil {
		t.Fatal(err)
	}
	before = e.net.TotalDials()
	rep, err := opts.VerifyLogin(context.Background(), "carl@other.test", other)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Probes {
		if p.LoginAttempts > 0 || p.Verified {
			t.Errorf("%s:%d got a login without the user's trust", p.Host, p.Port)
		}
	}
	if got := e.net.TotalDials() - before; got != 0 {
		t.Errorf("untrusted servers: %d connections", got)
	}
	// … and a confirmation for the whole batch lets the logins through; a check whose
	// confirmations differ from the run's shares nothing.
	hosts := []string{"smtp.staff.test", "imap.staff.test", "pop.staff.test"}
	confirmedBase := withTrust(t, e, "carl@other.test", hosts...)
	erin := e.opts
	erin.Password = "erin-pw"
	if _, err := erin.VerifyLogin(context.Background(), "erin@other.test", confirmedBase); !errors.Is(err, ErrNotShared) {
		t.Errorf("confirmations differ between the run and the check: err = %v, want ErrNotShared", err)
	}
	erin.TrustHosts = hosts
	rep, err = erin.VerifyLogin(context.Background(), "erin@other.test", confirmedBase)
	if err != nil {
		t.Fatal(err)
	}
	if o, in := rep.Recommended.Outgoing, rep.Recommended.Incoming; o == nil || !o.Verified || in == nil || !in.Verified {
		t.Errorf("confirmed servers: outgoing %+v incoming %+v, want verified", o, in)
	}
}

// withTrust runs the check for address with the given servers confirmed.
func withTrust(t *testing.T, e *testEnv, address string, hosts ...string) *Report {
	t.Helper()
	opts := e.opts
	opts.TrustHosts = hosts
	rep, err := Run(context.Background(), address, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestVerifyLoginClearText: a server without any encryption gets a clear-text login
// from VerifyLogin only with the consent Run needed for it.
func TestVerifyLoginClearText(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	users := map[string]string{"alice@plain.test": "alice-pw", "bob@plain.test": "bob-pw"}
	s := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "none", Mechanisms: []string{"PLAIN"}, Users: users})
	i := detecttest.StartIMAP(t, detecttest.IMAPConfig{Mode: "none", Users: users, InsecureAuth: true})
	e.net.Route("mail.plain.test", 587, s.Addr)
	e.net.Route("mail.plain.test", 143, i.Addr)
	opts := e.opts
	opts.Password, opts.AllowPlaintext = "alice-pw", true
	base, err := Run(context.Background(), "alice@plain.test", opts)
	if err != nil {
		t.Fatal(err)
	}
	if base.Recommended.Incoming == nil || !base.Recommended.Incoming.Verified {
		t.Fatalf("the leader's run with consent verified nothing: %+v", base.Recommended)
	}
	for _, consent := range []bool{false, true} {
		v := e.opts
		v.Password, v.AllowPlaintext = "bob-pw", consent
		rep, err := v.VerifyLogin(context.Background(), "bob@plain.test", base)
		if err != nil {
			t.Fatal(err)
		}
		logins := 0
		for _, p := range rep.Probes {
			logins += p.LoginAttempts
		}
		if consent && (rep.Recommended.Incoming == nil || !rep.Recommended.Incoming.Verified) {
			t.Errorf("with consent: incoming %+v, want verified", rep.Recommended.Incoming)
		}
		if !consent && logins > 0 {
			t.Errorf("without consent: %d clear-text logins", logins)
		}
	}
}

func TestVerifyLoginBadInput(t *testing.T) {
	t.Parallel()
	opts := Options{}
	for _, tt := range []struct {
		addr string
		base *Report
		want error
	}{
		{"not an address", &Report{Address: "a@b.test"}, ErrBadAddress},
		{"a@b.test", nil, ErrBadOption},
		{"a@b.test", &Report{Address: ""}, ErrNotShared},
		{"a@b.test", &Report{Address: "c@b.test", Provider: &ProviderSummary{ID: "nowhere"}}, ErrNotShared},
	} {
		if _, err := opts.VerifyLogin(context.Background(), tt.addr, tt.base); !errors.Is(err, tt.want) {
			t.Errorf("VerifyLogin(%q) err = %v, want %v", tt.addr, err, tt.want)
		}
	}
}

// TestDiscoveryFor: the sources' notes and user names speak of the address checked,
// never of the one whose run is shared (autoconfig's HTTPS URL carries the address).
func TestDiscoveryFor(t *testing.T) {
	t.Parallel()
	from, _ := ParseAddress("alice@staff.test")
	to, _ := ParseAddress("bob@staff.test")
	src := []SourceResult{{Source: SourceAutoconfig, Detail: "https://autoconfig.staff.test/mail/config-v1.1.xml?emailaddress=alice%40staff.test",
		Error: "alice@staff.test unknown", Servers: []Candidate{{Protocol: IMAP, Host: "imap.staff.test", Username: "alice"}}}}
	got := discoveryFor(src, from, to, nil)[0]
	if got.Detail != "https://autoconfig.staff.test/mail/config-v1.1.xml?emailaddress=bob%40staff.test" || got.Error != "bob@staff.test unknown" || got.Servers[0].Username != "bob" {
		t.Errorf("discoveryFor = %+v", got)
	}
	if src[0].Servers[0].Username != "alice" {
		t.Error("discoveryFor changed the shared report")
	}
}

// A report read back from JSON (or built by hand) is not a run of this process: its
// sources' word is not taken again for another address.
func TestVerifyLoginRefusesAReportFromAFile(t *testing.T) {
	t.Parallel()
	e := staffWorld(t, "staff.test", staff, nil)
	base := leaderReport(t, e)
	raw, err := json.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	var disk Report
	if err := json.Unmarshal(raw, &disk); err != nil {
		t.Fatal(err)
	}
	opts := e.opts
	opts.Password = "bob-pw"
	if _, err := opts.VerifyLogin(context.Background(), "bob@staff.test", &disk); !errors.Is(err, ErrNotShared) {
		t.Errorf("a report from JSON: err = %v, want ErrNotShared", err)
	}
	if _, err := opts.VerifyLogin(context.Background(), "bob@staff.test", base); err != nil {
		t.Errorf("the same report as the run made it: %v", err)
	}
}
