package detect

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect/detecttest"
)

// exampleWorld is a fake mail provider for example.test: SMTP 465 (TLS) and 587
// (STARTTLS), IMAP 993, POP3 995, all on loopback behind a fake network.
type exampleWorld struct {
	e    *testEnv
	smtp *detecttest.SMTPServer
	imap *detecttest.IMAPServer
}

func newExampleWorld(t *testing.T) *exampleWorld {
	t.Helper()
	e := newTestEnv(t)
	users := map[string]string{testUser: testPass}
	w := &exampleWorld{e: e}
	w.imap = detecttest.StartIMAP(t, detecttest.IMAPConfig{Mode: "tls", Cert: e.cert(t, detecttest.CertOpts{}), Users: users})
	deliver := func(from string, to []string, data []byte) { _ = w.imap.Append(testUser, data) }
	w.smtp = detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "tls", Cert: e.cert(t, detecttest.CertOpts{}), Mechanisms: []string{"PLAIN", "LOGIN"}, Users: users, Deliver: deliver})
	s587 := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "starttls", Cert: e.cert(t, detecttest.CertOpts{}), Mechanisms: []string{"PLAIN"}, Users: users, Deliver: deliver})
	pop := detecttest.StartPOP3(t, detecttest.POP3Config{Mode: "tls", Cert: e.cert(t, detecttest.CertOpts{}), Users: users})
	e.net.Route(testHost, 465, w.smtp.Addr)
	e.net.Route(testHost, 587, s587.Addr)
	e.net.Route(testHost, 993, w.imap.Addr)
	e.net.Route(testHost, 995, pop.Addr)
	e.opts.Providers = &ProviderDB{Providers: []Provider{{
		ID: "example", Name: "Example Mail", Domains: []string{"example.test"}, Username: "address",
		Servers: []ProviderServer{
			{Protocol: SMTP, Host: testHost, Port: 465, Security: SecurityTLS},
			{Protocol: IMAP, Host: testHost, Port: 993, Security: SecurityTLS},
			{Protocol: POP3, Host: testHost, Port: 995, Security: SecurityTLS},
		},
		Notes: ProviderNotes{AppPassword: true, AppPasswordURL: "https://example.test/app"},
	}}}
	return w
}

func TestRunVerifiesAndRecommends(t *testing.T) {
	t.Parallel()
	w := newExampleWorld(t)
	opts := w.e.opts
	opts.Password = testPass
	var mu sync.Mutex
	events := map[string]int{}
	opts.Progress = func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case ev.Source != nil:
			events["source"]++
		case ev.Start != nil:
			events["start"]++
		case ev.Probe != nil:
			events["probe"]++
		case ev.Network != nil:
			events["network"]++
		}
	}
	start := time.Now()
	rep, err := Run(context.Background(), "me@example.test", opts)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	out, in := rep.Recommended.Outgoing, rep.Recommended.Incoming
	if out == nil || out.Port != 465 || out.Security != SecurityTLS || !out.Verified || out.Username != testUser || out.Auth != "PLAIN" {
		t.Fatalf("outgoing = %+v", out)
	}
	if in == nil || in.Protocol != IMAP || in.Port != 993 || !in.Verified {
		t.Fatalf("incoming = %+v", in)
	}
	// 4 SMTP ports × 3 modes + IMAP 3 + POP3 3 cells for the one host.
	if len(rep.Probes) != 18 {
		t.Errorf("%d probes, want 18", len(rep.Probes))
	}
	byKey := map[string]ProbeResult{}
	for _, p := range rep.Probes {
		byKey[string(p.Protocol)+"/"+strconv.Itoa(p.Port)+"/"+string(p.Security)] = p
		if p.Status == "" || p.Diagnosis == nil || p.Transcript == nil || p.AuthMechanisms == nil {
			t.Errorf("incomplete result %+v", p)
		}
	}
	if p := byKey["smtp/465/none"]; p.Diagnosis.Kind != KindImplicitTLSPort {
		t.Errorf("465/none = %s %s, want it cut short as an implicit-TLS port", p.Status, p.Diagnosis.Kind)
	}
	if p := byKey["smtp/587/tls"]; p.Status != StatusTLSFailed || p.Diagnosis.Kind != KindPlainPort {
		t.Errorf("587/tls = %s %s, want tls_failed explained as a port that starts plain", p.Status, p.Diagnosis.Kind)
	}
	if p := byKey["smtp/587/starttls"]; p.Status != StatusOK || !p.Verified {
		t.Errorf("587/starttls = %s", p.Status)
	}
	if p := byKey["smtp/25/starttls"]; p.Status != StatusRefused {
		t.Errorf("25/starttls = %s", p.Status)
	}
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "app password") {
		t.Errorf("warnings lack the provider note: %q", rep.Warnings)
	}
	if elapsed > 2*time.Second {
		t.Errorf("run took %v against loopback servers", elapsed)
	}
	if events["source"] != 7 || events["probe"] < 18 || events["network"] != 1 || events["start"] == 0 {
		t.Errorf("progress events %v", events)
	}
	t.Logf("full matrix with logins: %v", elapsed)
}

func TestRunReportJSONContract(t *testing.T) {
	t.Parallel()
	w := newExampleWorld(t)
	rep, err := Run(context.Background(), "me@example.test", w.e.opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Recommended.Outgoing == nil || rep.Recommended.Outgoing.Verified {
		t.Fatalf("without a password the recommendation must exist and be unverified: %+v", rep.Recommended.Outgoing)
	}
	blob, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(blob, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"address", "domain", "discovery", "probes", "network", "recommended", "warnings"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	probe := m["probes"].([]any)[0].(map[string]any)
	for _, k := range []string{"protocol", "host", "port", "security", "status", "auth_mechanisms", "auth_used", "username_used", "tls_version", "cert", "banner", "elapsed_ms", "diagnosis", "transcript"} {
		if _, ok := probe[k]; !ok {
			t.Errorf("probe lacks %q", k)
		}
	}
	for _, k := range []string{"source", "found", "detail", "error", "elapsed_ms"} {
		if _, ok := m["discovery"].([]any)[0].(map[string]any)[k]; !ok {
			t.Errorf("discovery entry lacks %q", k)
		}
	}
	rec := m["recommended"].(map[string]any)
	for _, k := range []string{"protocol", "host", "port", "security", "auth", "username", "verified"} {
		if _, ok := rec["outgoing"].(map[string]any)[k]; !ok {
			t.Errorf("recommended.outgoing lacks %q", k)
		}
	}
	if _, ok := m["network"].(map[string]any)["port25"]; !ok {
		t.Error("network lacks port25")
	}
}

func TestRunBadAddress(t *testing.T) {
	t.Parallel()
	_, err := Run(context.Background(), "not an address", Options{SkipNetwork: true})
	if !errors.Is(err, ErrBadAddress) {
		t.Fatalf("err = %v", err)
	}
}

func TestRunSendTest(t *testing.T) {
	t.Parallel()
	w := newExampleWorld(t)
	opts := w.e.opts
	opts.Password = testPass
	opts.SendTest = true
	rep, err := Run(context.Background(), "me@example.test", opts)
	if err != nil {
		t.Fatal(err)
	}
	st := rep.SendTest
	if st == nil || !st.Sent || !st.Found || st.MessageID == "" {
		t.Fatalf("send test = %+v", st)
	}
	t.Logf("send-test round trip %d ms", st.RoundTrip)
}

func TestRunWrongPasswordCapsLogins(t *testing.T) {
	t.Parallel()
	w := newExampleWorld(t)
	opts := w.e.opts
	opts.Password = "wrong"
	rep, err := Run(context.Background(), "me@example.test", opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Recommended.Outgoing != nil || rep.Recommended.Incoming != nil {
		t.Fatalf("recommended with a wrong password: %+v", rep.Recommended)
	}
	total := 0
	for _, p := range rep.Probes {
		total += p.LoginAttempts
	}
	if total > MaxFailedLogins {
		t.Fatalf("%d login attempts against one server, cap %d", total, MaxFailedLogins)
	}
	if rep.FailedLogins[testHost] != total {
		t.Errorf("failed_logins = %v, attempts %d", rep.FailedLogins, total)
	}
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "rejected the password") {
		t.Errorf("warnings do not explain the cap: %q", rep.Warnings)
	}
}

func TestRunCancelIsPrompt(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.net.Drop("*", 465)
	e.net.Drop("*", 587)
	e.net.Drop("*", 25)
	e.net.Drop("*", 2525)
	e.net.Drop("*", 993)
	e.net.Drop("*", 143)
	e.net.Drop("*", 995)
	e.net.Drop("*", 110)
	e.net.Host("mail.example.test")
	e.opts.Timeout = 10 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	start := time.Now()
	rep, err := Run(ctx, "me@example.test", e.opts)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 400*time.Millisecond+200*time.Millisecond {
		t.Fatalf("Run returned %v after start, cancel came at 200ms", d)
	}
	for _, p := range rep.Probes {
		if p.Status != StatusTimeout {
			t.Errorf("%s:%d %s after cancel", p.Host, p.Port, p.Status)
		}
	}
}

func TestRunDetectsPOPBeforeSMTP(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	users := map[string]string{testUser: testPass}
	var popped atomic.Bool
	smtpSrv := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "none", RelayAllowed: popped.Load})
	pop := detecttest.StartPOP3(t, detecttest.POP3Config{Mode: "tls", Cert: e.cert(t, detecttest.CertOpts{}), Users: users,
		OnLogin: func(string) { popped.Store(true) }})
	e.net.Route(testHost, 25, smtpSrv.Addr)
	e.net.Route(testHost, 995, pop.Addr)
	e.net.Host("example.test")
	e.opts.Providers = &ProviderDB{Providers: []Provider{{ID: "isp", Name: "Old ISP", Domains: []string{"example.test"}, Username: "address",
		Servers: []ProviderServer{{Protocol: SMTP, Host: testHost, Port: 25, Security: SecurityNone}, {Protocol: POP3, Host: testHost, Port: 995, Security: SecurityTLS}}}}}
	// The first relay question must come before any POP3 login: probe SMTP alone first.
	first := e.opts.ProbeSMTP(context.Background(), ProbeKey{SMTP, testHost, 25, SecurityNone}, testLogin(testPass))
	if first.Relay != RelayRejected {
		t.Fatalf("before POP3 the relay answer was %q", first.Relay)
	}
	opts := e.opts
	opts.Password = testPass
	opts.Only = []Protocol{SMTP, POP3}
	rep, err := Run(context.Background(), testUser, opts)
	if err != nil {
		t.Fatal(err)
	}
	out := rep.Recommended.Outgoing
	if out == nil || out.Port != 25 || out.Auth != "pop-before-smtp" {
		t.Fatalf("outgoing = %+v", out)
	}
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "POP before SMTP") {
		t.Errorf("warnings %q", rep.Warnings)
	}
}

// The send test polls one logged-in IMAP session while the message is on its way
// (delivered 2.5 s after it was accepted): one connection and one login, not one a second.
func TestSendTestPollsOneSession(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	users := map[string]string{testUser: testPass}
	im := detecttest.StartIMAP(t, detecttest.IMAPConfig{Mode: "tls", Cert: e.cert(t, detecttest.CertOpts{}), Users: users})
	late := func(_ string, to []string, data []byte) {
		time.AfterFunc(2500*time.Millisecond, func() { _ = im.Append(testUser, data) })
	}
	s := detecttest.StartSMTP(t, detecttest.SMTPConfig{Mode: "tls", Cert: e.cert(t, detecttest.CertOpts{}), Mechanisms: []string{"PLAIN"}, Users: users, Deliver: late})
	e.net.Route(testHost, 465, s.Addr)
	e.net.Route(testHost, 993, im.Addr)
	opts := e.opts
	opts.Password = testPass
	login := testLogin(testPass)
	rec := Recommendation{
		Outgoing: &Setting{Protocol: SMTP, Host: testHost, Port: 465, Security: SecurityTLS, Username: testUser, Verified: true},
		Incoming: &Setting{Protocol: IMAP, Host: testHost, Port: 993, Security: SecurityTLS, Username: testUser, Verified: true},
	}
	addr, _ := ParseAddress(testUser)
	res := opts.engine().sendTest(context.Background(), addr, rec, login)
	if !res.Found || res.RoundTrip < 2500 {
		t.Fatalf("send test %+v", res)
	}
	if n := e.net.Dials(testHost, 993); n != 1 {
		t.Errorf("%d IMAP connections while waiting %d ms, want 1", n, res.RoundTrip)
	}
}
