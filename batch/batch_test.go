package batch_test

import (
	"context"
	"crypto/x509"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/batch"
	"github.com/mailsetup/mailsetup/batch/batchtest"
	"github.com/mailsetup/mailsetup/detect"
)

// engine is the engine options for an Office, every connection through the meter.
func engine(o *batchtest.Office, m *batchtest.Meter) detect.Options {
	return detect.Options{Dialer: m, Resolver: o.Net, ExtraRoots: []*x509.Certificate{o.CA.Cert},
		CaptivePortalURL: "off", Timeout: 5 * time.Second}
}

func clientsOf(t *testing.T, csv string) []batch.Client {
	t.Helper()
	cs, err := batch.ParseList(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func byAddress(rs []batch.Result) map[string]batch.Result {
	m := map[string]batch.Result{}
	for _, r := range rs {
		if _, dup := m[r.Address]; !dup {
			m[r.Address] = r
		}
	}
	return m
}

// TestCheck runs a whole list: three domains with five mailboxes each, one of them
// without IMAP, one whose login name is the local part, a wrong password, a row without
// password, a row that is no address and a repeated row. Every domain gets one whole
// check; every further address costs only its logins; no provider sees more
// connections at once than the limit.
func TestCheck(t *testing.T) {
	t.Parallel()
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{
		Domains: []string{"d01.test", "d02.test", "d03.test"}, Users: 5,
		NoIMAP: []string{"user02@d02.test"}, LocalLogin: []string{"user03@d03.test"},
	})
	meter := batchtest.NewMeter(office.Net, nil)
	csv := office.CSV()
	csv = strings.Replace(csv, "user04@d01.test,"+batchtest.Password("user04@d01.test"), "user04@d01.test,wrong", 1)
	csv = strings.Replace(csv, "user05@d01.test,"+batchtest.Password("user05@d01.test"), "user05@d01.test,", 1)
	csv += "not-an-address,x,Nobody\nuser01@d02.test,again,Twice\n"
	clients := clientsOf(t, csv)

	var mu sync.Mutex
	seen := map[string][]batch.State{}
	const limit = 4
	b := batch.New(batch.Options{Engine: engine(office, meter), DefaultLimit: limit, Progress: func(r batch.Result) {
		mu.Lock()
		defer mu.Unlock()
		seen[r.Address] = append(seen[r.Address], r.State)
		if r.Reason != "" && r.Note.Key == "" {
			t.Errorf("%s %s: %q has no note", r.Address, r.State, r.Reason)
		}
	}})
	results := b.Check(context.Background(), clients)
	if len(results) != len(clients) {
		t.Fatalf("%d results for %d clients", len(results), len(clients))
	}
	got := byAddress(results)
	tests := []struct {
		address string
		state   batch.State
		reason  string // a part of Reason
		differs string // a part of Differs ("" = none)
	}{
		{"user01@d01.test", batch.StateVerified, "IMAP imap.d01.test:993 SSL/TLS · SMTP smtp.d01.test:465 SSL/TLS", ""},
		{"user02@d01.test", batch.StateVerified, "IMAP imap.d01.test:993", ""},
		{"user04@d01.test", batch.StateAttention, "password refused by every server tried", ""},
		{"user05@d01.test", batch.StateUnverified, "no password given", ""},
		{"user02@d02.test", batch.StateVerified, "POP3 pop.d02.test:995", "IMAP imap.d02.test:993 refused this mailbox's login"},
		{"user03@d03.test", batch.StateVerified, "IMAP imap.d03.test:993", `as "user03"`},
		{"user05@d03.test", batch.StateVerified, "SMTP smtp.d03.test:465", ""},
		{"not-an-address", batch.StateAttention, "not an email address", ""},
	}
	for _, tt := range tests {
		r := got[tt.address]
		if r.State != tt.state || !strings.Contains(r.Reason, tt.reason) || !strings.Contains(r.Differs, tt.differs) || tt.differs == "" && r.Differs != "" {
			t.Errorf("%s: %s %q (differs %q), want %s %q (differs %q)", tt.address, r.State, r.Reason, r.Differs, tt.state, tt.reason, tt.differs)
		}
	}
	if r := results[len(results)-1]; r.State != batch.StateAttention || !strings.Contains(r.Reason, "listed twice") {
		t.Errorf("repeated row: %s %q", r.State, r.Reason)
	}

	// One whole check per domain; the others only log in, on two connections each.
	leaders := map[string]int{}
	var network *detect.Network
	for _, r := range results {
		if r.Report == nil {
			continue
		}
		if network == nil {
			network = &r.Report.Network
		} else if r.Report.Network.ElapsedMS != network.ElapsedMS || r.Report.Network.Port25 != network.Port25 {
			t.Errorf("%s: network check %+v, want the batch's one shared check", r.Address, r.Report.Network)
		}
		if !r.Shared {
			leaders[r.Report.Domain]++
			continue
		}
		cells := 0
		for _, p := range r.Report.Probes {
			if p.LoginAttempts > 0 {
				cells++
			}
		}
		want := 2
		switch r.Address {
		case "user02@d02.test", "user04@d01.test":
			want = 3 // a refused service and the alternative that tells why
		case "user05@d01.test":
			want = 0
		}
		if cells != want {
			t.Errorf("%s: logged in on %d cells, want %d", r.Address, cells, want)
		}
	}
	if len(leaders) != 3 || leaders["d01.test"] != 1 || leaders["d02.test"] != 1 || leaders["d03.test"] != 1 {
		t.Errorf("whole checks per domain = %v, want one each", leaders)
	}
	if k, n := meter.MaxPeak(); n > limit || n == 0 {
		t.Errorf("%s had %d connections open at once, limit %d", k, n, limit)
	}
	if meter.Open() != 0 {
		t.Errorf("%d connections left open", meter.Open())
	}
	// Every row passed through its states in order and ended once.
	mu.Lock()
	defer mu.Unlock()
	for addr, states := range seen {
		if !states[len(states)-1].Done() {
			t.Errorf("%s ended in %s", addr, states[len(states)-1])
		}
	}
	if s := seen["user03@d01.test"]; !slices.Contains(s, batch.StateWaiting) || !slices.Contains(s, batch.StateChecking) {
		t.Errorf("user03@d01.test went through %v, want waiting, checking, verified", s)
	}
	if s := seen["user01@d01.test"]; !slices.Contains(s, batch.StateDiscovering) {
		t.Errorf("the leader went through %v, want discovering first", s)
	}
	// Every line has its structured twin, every part of Differs its note.
	for _, r := range results {
		if r.Note.Key == "" {
			t.Errorf("%s: %q has no note", r.Address, r.Reason)
		}
		if parts := len(strings.Split(r.Differs, "; ")); r.Differs != "" && parts != len(r.DiffersNotes) || r.Differs == "" && len(r.DiffersNotes) > 0 {
			t.Errorf("%s: differs %q, notes %+v", r.Address, r.Differs, r.DiffersNotes)
		}
	}
	// Nothing the batch returns holds a password.
	for _, r := range results {
		for _, m := range office.Mailboxes {
			if strings.Contains(r.Reason+r.Differs, m.Password) {
				t.Errorf("%s: a password in the row", r.Address)
			}
		}
	}
}

// TestRecheck: a corrected password is checked again on the shared matrix: its logins only.
func TestRecheck(t *testing.T) {
	t.Parallel()
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: []string{"d01.test"}, Users: 3})
	meter := batchtest.NewMeter(office.Net, nil)
	clients := clientsOf(t, strings.Replace(office.CSV(), batchtest.Password("user02@d01.test"), "typo", 1))
	b := batch.New(batch.Options{Engine: engine(office, meter)})
	first := b.Check(context.Background(), clients)
	if first[1].State != batch.StateAttention {
		t.Fatalf("typo: %s %q", first[1].State, first[1].Reason)
	}
	fixed := clients[1]
	fixed.Password = batchtest.Password(fixed.Address)
	before := meter.Total()
	again := b.Check(context.Background(), []batch.Client{fixed})
	if r := again[0]; r.State != batch.StateVerified || !r.Shared || r.Index != 0 {
		t.Errorf("re-check: %s shared=%v index %d %q", r.State, r.Shared, r.Index, r.Reason)
	}
	if n := meter.Total() - before; n != 2 {
		t.Errorf("re-check opened %d connections, want 2 (one login each way)", n)
	}
}

// TestCheckTrust: the rows of a domain whose DNS points at another domain's servers
// never share that domain's matrix, and get no login there until the servers are
// confirmed for the batch.
func TestCheckTrust(t *testing.T) {
	t.Parallel()
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: []string{"d01.test"}, Users: 2})
	for _, s := range []struct {
		svc, host string
		port      int
	}{{"submissions", "smtp.d01.test", 465}, {"imaps", "imap.d01.test", 993}, {"pop3s", "pop.d01.test", 995}} {
		office.Net.SRV(s.svc, "hosted.test", s.host, s.port)
	}
	csv := office.CSV() + "user01@hosted.test,pw,Hosted One\nuser02@hosted.test,pw,Hosted Two\n"
	for _, confirmed := range []bool{false, true} {
		meter := batchtest.NewMeter(office.Net, nil)
		opts := engine(office, meter)
		if confirmed {
			opts.TrustHosts = []string{"smtp.d01.test", "imap.d01.test", "pop.d01.test"}
		}
		results := batch.New(batch.Options{Engine: opts}).Check(context.Background(), clientsOf(t, csv))
		for _, r := range results[2:] {
			logins := 0
			for _, p := range r.Report.Probes {
				logins += p.LoginAttempts
			}
			if !confirmed && (r.State != batch.StateAttention || logins > 0 || !strings.Contains(r.Reason, "no trusted source names")) {
				t.Errorf("unconfirmed %s: %s %q, %d logins", r.Address, r.State, r.Reason, logins)
			}
			if confirmed && logins == 0 {
				t.Errorf("confirmed %s: no login tried", r.Address)
			}
			if r.Report.Hosts[0].Trusted != confirmed {
				t.Errorf("%s: hosts %+v", r.Address, r.Report.Hosts)
			}
		}
		if r := results[0]; r.State != batch.StateVerified {
			t.Errorf("d01.test: %s %q", r.State, r.Reason)
		}
	}
}

// TestCheckCancel: cancelling ends every row at once, and leaves no goroutine behind.
func TestCheckCancel(t *testing.T) {
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: []string{"d01.test", "d02.test"}, Users: 10})
	office.Net.Drop("*", 993) // every IMAP login hangs until the context ends
	meter := batchtest.NewMeter(office.Net, nil)
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	results := batch.New(batch.Options{Engine: engine(office, meter)}).Check(ctx, clientsOf(t, office.CSV()))
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("cancel took %s", took)
	}
	for _, r := range results {
		if r.State != batch.StateCancelled {
			t.Errorf("%s: %s after cancel", r.Address, r.State)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Errorf("%d goroutines after cancel, %d before", n, before)
	}
	if meter.Open() != 0 {
		t.Errorf("%d connections open after cancel", meter.Open())
	}
}

// TestCheckProviderGroup: two domains of one known provider share one check (an alias
// domain: the same mailboxes log in by local part), and the provider's published
// connection limit holds.
func TestCheckProviderGroup(t *testing.T) {
	t.Parallel()
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: []string{"d01.test"}, Users: 6,
		LocalLogin: []string{"user01@d01.test", "user02@d01.test", "user03@d01.test", "user04@d01.test", "user05@d01.test", "user06@d01.test"}})
	db := &detect.ProviderDB{Providers: []detect.Provider{{
		ID: "office", Name: "Office Mail", Domains: []string{"d01.test", "alias.test"}, Username: "localpart",
		Servers: []detect.ProviderServer{
			{Protocol: detect.SMTP, Host: "smtp.d01.test", Port: 465, Security: detect.SecurityTLS},
			{Protocol: detect.IMAP, Host: "imap.d01.test", Port: 993, Security: detect.SecurityTLS},
		},
		Notes: detect.ProviderNotes{MaxConnections: 3},
	}}}
	meter := batchtest.NewMeter(office.Net, func(string) string { return "office" })
	opts := engine(office, meter)
	opts.Providers = db
	csv := "address,password\n"
	for _, m := range office.Mailboxes {
		csv += m.Address + "," + m.Password + "\n"
		csv += strings.Replace(m.Address, "d01.test", "alias.test", 1) + "," + m.Password + "\n"
	}
	results := batch.New(batch.Options{Engine: opts}).Check(context.Background(), clientsOf(t, csv))
	whole := 0
	for _, r := range results {
		if r.State != batch.StateVerified {
			t.Errorf("%s: %s %q", r.Address, r.State, r.Reason)
		}
		if !r.Shared {
			whole++
		}
	}
	if whole != 1 {
		t.Errorf("%d whole checks for one provider's two domains, want 1", whole)
	}
	if _, n := meter.MaxPeak(); n > 3 {
		t.Errorf("%d connections at once, the provider publishes 3", n)
	}
}

// TestCheckProviderMatricesTakeTurns: domains hosted by one known provider (found by
// their MX records) get their whole checks one after another, so the provider's
// connection limit is never spent waiting inside probes.
func TestCheckProviderMatricesTakeTurns(t *testing.T) {
	t.Parallel()
	domains := []string{"d01.test", "d02.test", "d03.test"}
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: domains, Users: 2})
	for _, d := range domains {
		office.Net.MX(d, "mx.bigmail.test")
	}
	db := &detect.ProviderDB{Providers: []detect.Provider{{
		ID: "bigmail", Name: "Big Mail", MXSuffixes: []string{"bigmail.test"}, Username: "address",
		Servers: []detect.ProviderServer{{Protocol: detect.SMTP, Host: "smtp.d01.test", Port: 465, Security: detect.SecurityTLS}},
		Notes:   detect.ProviderNotes{MaxConnections: 15},
	}}}
	opts := engine(office, batchtest.NewMeter(office.Net, nil))
	opts.Providers = db
	var mu sync.Mutex
	active, most := map[string]bool{}, 0
	b := batch.New(batch.Options{Engine: opts, Progress: func(r batch.Result) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.State == batch.StateDiscovering:
			active[r.Address] = true
		case r.State.Done():
			delete(active, r.Address)
		}
		most = max(most, len(active))
	}})
	b.Check(context.Background(), clientsOf(t, office.CSV()))
	if most != 1 {
		t.Errorf("%d whole checks on one provider's servers at once, want 1", most)
	}
}

// TestCheckBadOptions: options the engine refuses end every row with the engine's words
// (the CLI and the window validate first; this is the last line).
func TestCheckBadOptions(t *testing.T) {
	t.Parallel()
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: []string{"d01.test"}, Users: 3})
	opts := engine(office, batchtest.NewMeter(office.Net, nil))
	opts.TrustHosts = []string{"192.0.2.1"}
	for _, r := range batch.New(batch.Options{Engine: opts}).Check(context.Background(), clientsOf(t, office.CSV())) {
		if r.State != batch.StateAttention || !strings.Contains(r.Reason, "not a server name") {
			t.Errorf("%s: %s %q", r.Address, r.State, r.Reason)
		}
	}
}
