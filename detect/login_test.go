package detect

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect/detecttest"
)

func TestLoginGateCapsFailuresPerServer(t *testing.T) {
	t.Parallel()
	g := NewLoginGate()
	ctx := context.Background()
	tries := 0
	for cellNo := 0; cellNo < 4; cellNo++ {
		h, err := g.Acquire(ctx, "mail.example.test", "mail.example.test")
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range h.Order([]string{"me@example.test", "me", "other"}) {
			if !h.CanTry() {
				break
			}
			tries++
			h.Record(u, false)
		}
		h.Done()
	}
	if tries != MaxFailedLogins {
		t.Fatalf("tries = %d, want %d", tries, MaxFailedLogins)
	}
	if got := g.Failed()["mail.example.test"]; got != MaxFailedLogins {
		t.Fatalf("Failed = %d", got)
	}
}

// One server reached under several names shares one budget, and the report names it the
// same way whichever name's probe came first.
func TestLoginGateNamesAServerTheSameWayInAnyOrder(t *testing.T) {
	t.Parallel()
	for _, order := range [][]string{
		{"smtp.example.test", "imap.example.test", "pop.example.test"},
		{"pop.example.test", "smtp.example.test", "imap.example.test"},
		{"imap.example.test", "pop.example.test", "smtp.example.test"},
	} {
		g := NewLoginGate()
		for _, name := range order {
			h, err := g.Acquire(context.Background(), "192.0.2.7:0", name)
			if err != nil {
				t.Fatal(err)
			}
			if h.CanTry() {
				h.Record("me", false)
			}
			h.Done()
		}
		got := g.Failed()
		if len(got) != 1 || got["imap.example.test"] != len(order) {
			t.Errorf("order %v: Failed = %v, want {imap.example.test: %d}", order, got, len(order))
		}
	}
}

func TestLoginGateOrdersKnownGoodFirstAndSerialises(t *testing.T) {
	t.Parallel()
	g := NewLoginGate()
	ctx := context.Background()
	h1, _ := g.Acquire(ctx, "h", "h")
	// A second turn waits while the first holds the server.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := g.Acquire(short, "h", "h"); err == nil {
		t.Fatal("second Acquire did not wait")
	}
	h1.Record("bad", false)
	h1.Record("me", true)
	h1.Done()
	h2, err := g.Acquire(ctx, "h", "h")
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Done()
	got := h2.Order([]string{"bad", "x", "me"})
	if len(got) != 2 || got[0] != "me" || got[1] != "x" {
		t.Fatalf("Order = %q, want [me x]", got)
	}
	// Once a name works, turns are no longer serialised.
	h3, err := g.Acquire(short, "h", "h")
	if err != nil && short.Err() == nil {
		t.Fatalf("Acquire after success: %v", err)
	}
	if h3 != nil {
		h3.Done()
	}
}

func TestProbeClockDoesNotCountPausedTime(t *testing.T) {
	t.Parallel()
	o := &Options{Timeout: 150 * time.Millisecond}
	ctx, clock, release := o.engine().withBudget(context.Background())
	defer release()
	time.Sleep(50 * time.Millisecond)
	clock.pause()
	time.Sleep(200 * time.Millisecond) // longer than the whole budget
	if ctx.Err() != nil {
		t.Fatal("the budget ran out while paused")
	}
	clock.resume()
	select {
	case <-ctx.Done():
		t.Fatal("resumed budget ended at once")
	case <-time.After(50 * time.Millisecond):
	}
	select {
	case <-ctx.Done():
		if !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
			t.Fatalf("cause %v", context.Cause(ctx))
		}
	case <-time.After(time.Second):
		t.Fatal("budget never ended")
	}
}

// A gate shared by several runs (a traveler's check, a batch row) caps the rejected
// logins per server over all of them, not per run.
func TestSharedLoginGateCapsAcrossRuns(t *testing.T) {
	t.Parallel()
	w := detecttest.StartWorld(t, "gate.test", "me@gate.test", "right")
	gate := NewLoginGate()
	opts := Options{IPDialer: w.Net, Resolver: w.Net, ExtraRoots: []*x509.Certificate{w.CA.Cert}, SkipNetwork: true,
		OnlineISPDB: "off", Password: "wrong", Timeout: 5 * time.Second, LoginGate: gate}
	var perRun []map[string]int
	for range 2 {
		rep, err := Run(context.Background(), "me@gate.test", opts)
		if err != nil {
			t.Fatal(err)
		}
		perRun = append(perRun, rep.FailedLogins)
	}
	total := gate.Failed()
	if len(total) == 0 {
		t.Fatal("no rejected login counted")
	}
	for host, n := range total {
		if n > MaxFailedLogins {
			t.Errorf("%s: %d rejected logins over two runs, want at most %d", host, n, MaxFailedLogins)
		}
	}
	if len(perRun[1]) == 0 || perRun[1][firstKey(perRun[1])] != total[firstKey(perRun[1])] {
		t.Errorf("the second run reports %v, want the shared totals %v", perRun[1], total)
	}
}

func firstKey(m map[string]int) string {
	for k := range m {
		return k
	}
	return ""
}
