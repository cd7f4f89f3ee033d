package detect

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect/detecttest"
)

// countingResolver counts LookupHost calls per name and answers after delay.
type countingResolver struct {
	Resolver
	delay time.Duration
	fail  map[string]error
	mu    sync.Mutex
	calls map[string]int
}

func (r *countingResolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	r.mu.Lock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	r.calls[host]++
	err := r.fail[host]
	r.mu.Unlock()
	select {
	case <-time.After(r.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return r.Resolver.LookupHost(ctx, host)
}

func (r *countingResolver) count(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[host]
}

func TestHostCache(t *testing.T) {
	n := detecttest.NewNet()
	n.Host("mail.test", "192.0.2.1")
	temp := &net.DNSError{Err: "server misbehaving", Name: "flaky.test", IsTemporary: true}
	r := &countingResolver{Resolver: n, delay: 50 * time.Millisecond, fail: map[string]error{"flaky.test": temp}}
	c := newHostCache(context.Background(), r, time.Second)

	// Ten askers at once share one query.
	var wg sync.WaitGroup
	var bad atomic.Int32
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a, err := c.LookupHost(context.Background(), "mail.test"); err != nil || len(a) != 1 || a[0] != "192.0.2.1" {
				bad.Add(1)
			}
		}()
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Errorf("%d askers got a wrong answer", bad.Load())
	}
	if _, err := c.LookupHost(context.Background(), "MAIL.test."); err != nil {
		t.Fatal(err)
	}
	if got := r.count("mail.test"); got != 1 {
		t.Errorf("mail.test asked %d times, want 1", got)
	}

	// "No such host" is an answer and is kept; a temporary failure is asked again.
	for range 2 {
		if _, err := c.LookupHost(context.Background(), "nowhere.test"); !isNotFound(err) {
			t.Errorf("nowhere.test: %v, want not found", err)
		}
		if _, err := c.LookupHost(context.Background(), "flaky.test"); !errors.As(err, new(*net.DNSError)) {
			t.Errorf("flaky.test: %v, want the DNS error", err)
		}
	}
	if got := r.count("nowhere.test"); got != 1 {
		t.Errorf("nowhere.test asked %d times, want 1", got)
	}
	if got := r.count("flaky.test"); got != 2 {
		t.Errorf("flaky.test asked %d times, want 2 (temporary failures are not kept)", got)
	}

	// An asker that gives up does not spoil the answer for the others.
	slow := &countingResolver{Resolver: n, delay: 200 * time.Millisecond}
	c = newHostCache(context.Background(), slow, time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.LookupHost(ctx, "mail.test")
	if k := Classify("connect", err).Kind; k != KindTimeout {
		t.Errorf("asker past its deadline: kind %s (%v), want timeout", k, err)
	}
	if a, err := c.LookupHost(context.Background(), "mail.test"); err != nil || len(a) != 1 {
		t.Errorf("second asker: %v %v", a, err)
	}
	if got := slow.count("mail.test"); got != 1 {
		t.Errorf("asked %d times, want 1", got)
	}
}

// A batch's cache (NewHostCache) keeps an answer for its ttl only, and its first asker
// leaves when its own context ends, like every other asker.
func TestHostCacheTTLAndFirstAskerCancel(t *testing.T) {
	t.Parallel()
	n := detecttest.NewNet()
	n.Host("mail.test", "192.0.2.1")
	r := &countingResolver{Resolver: n}
	c := NewHostCache(context.Background(), r, time.Second, 100*time.Millisecond)
	for range 3 {
		if _, err := c.LookupHost(context.Background(), "mail.test"); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(150 * time.Millisecond)
	if _, err := c.LookupHost(context.Background(), "mail.test"); err != nil {
		t.Fatal(err)
	}
	if got := r.count("mail.test"); got != 2 {
		t.Errorf("asked %d times over two ttl periods, want 2", got)
	}

	hang := &countingResolver{Resolver: n, delay: 10 * time.Second}
	c = NewHostCache(context.Background(), hang, 10*time.Second, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.LookupHost(ctx, "mail.test"); err == nil {
		t.Error("a hanging query answered")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the first asker returned %v after asking with a 50 ms context", d)
	}
}

// In a whole run every name is resolved once, however many probes dial it.
func TestRunResolvesEachNameOnce(t *testing.T) {
	w := detecttest.StartWorld(t, "once.test", "me@once.test", "pw")
	w.Net.Host("smtp.once.test", "192.0.2.10", "127.0.0.1")
	w.Net.DropIP("192.0.2.10")
	r := &countingResolver{Resolver: w.Net, delay: 20 * time.Millisecond}
	opts := Options{
		IPDialer: w.Net, Resolver: r,
		ExtraRoots: []*x509.Certificate{w.CA.Cert}, CaptivePortalURL: "off", Password: "pw", Timeout: 5 * time.Second,
	}
	rep, err := Run(context.Background(), "me@once.test", opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Recommended.Outgoing == nil || !rep.Recommended.Outgoing.Verified {
		t.Fatalf("no verified outgoing setting: %+v", rep.Recommended.Outgoing)
	}
	for _, h := range []string{"smtp.once.test", "imap.once.test", "pop.once.test"} {
		if got := r.count(h); got != 1 {
			t.Errorf("%s resolved %d times in one run, want 1", h, got)
		}
	}
}

// A custom resolver (what --dns sets) takes the default path: the run's host cache asks
// it once per name, and the happy-eyeballs dialer connects to the addresses it gave
// (the transcript names the address, a dialer given names would not).
func TestCustomResolverTakesTheDefaultPath(t *testing.T) {
	w := detecttest.StartWorld(t, "dns.test", "me@dns.test", "pw")
	w.Net.Host("smtp.dns.test", "127.0.77.1")
	r := &countingResolver{Resolver: w.Net}
	opts := Options{IPDialer: w.Net, Resolver: r, ExtraRoots: []*x509.Certificate{w.CA.Cert}, SkipNetwork: true, Password: "pw", OnlineISPDB: "off"}
	rep, err := Run(context.Background(), "me@dns.test", opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.count("smtp.dns.test"); got != 1 {
		t.Errorf("smtp.dns.test resolved %d times, want 1 (the host cache)", got)
	}
	for _, p := range rep.Probes {
		if p.Host == "smtp.dns.test" && p.Port == 465 && p.Security == SecurityTLS {
			if !slices.ContainsFunc(p.Transcript, func(l string) bool { return strings.Contains(l, "connected to 127.0.77.1:465") }) {
				t.Errorf("not dialled by address through the engine's dialer:\n%s", strings.Join(p.Transcript, "\n"))
			}
			return
		}
	}
	t.Fatal("no 465 cell")
}
