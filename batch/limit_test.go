package batch

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect"
)

func TestProviderKey(t *testing.T) {
	t.Parallel()
	db := &detect.ProviderDB{Providers: []detect.Provider{
		{ID: "gmail", Domains: []string{"gmail.com"}, Servers: []detect.ProviderServer{{Protocol: detect.IMAP, Host: "imap.gmail.com"}},
			Notes: detect.ProviderNotes{MaxConnections: 15}},
		{ID: "hoster", Domains: []string{"hoster.example"}, Servers: []detect.ProviderServer{{Protocol: detect.IMAP, Host: "mail.hosting.example"}}},
	}}
	tests := []struct {
		host, key string
		limit     int
	}{
		{"imap.gmail.com", "provider:gmail", 15},
		{"IMAP.GMAIL.COM.", "provider:gmail", 15},
		{"mail.gmail.com", "provider:gmail", 15},       // an unlisted server of the provider's domain
		{"smtp.hosting.example", "provider:hoster", 9}, // beside a listed server
		{"mail.hoster.example", "provider:hoster", 9},
		{"smtp.example.co.uk", "domain:example.co.uk", 9},
		{"mail.customer.example", "domain:customer.example", 9},
	}
	for _, tt := range tests {
		key, n := ProviderKey(db, tt.host, 9)
		if key != tt.key || n != tt.limit {
			t.Errorf("ProviderKey(%q) = %s %d, want %s %d", tt.host, key, n, tt.key, tt.limit)
		}
	}
}

// pipeDialer hands out in-memory connections and counts the ones open.
type pipeDialer struct {
	open, peak atomic.Int32
}

func (p *pipeDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, s := net.Pipe()
	go func() { _, _ = s.Read(make([]byte, 1)); s.Close() }()
	n := p.open.Add(1)
	for {
		old := p.peak.Load()
		if n <= old || p.peak.CompareAndSwap(old, n) {
			break
		}
	}
	return &countedConn{Conn: c, p: p}, nil
}

type countedConn struct {
	net.Conn
	p    *pipeDialer
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.p.open.Add(-1) })
	return c.Conn.Close()
}

// TestLimitDialer: connections to one provider wait for a free slot, a slot comes back
// when its connection closes (once, however often Close is called), another provider
// is not held up, and a wait ends with the context.
func TestLimitDialer(t *testing.T) {
	t.Parallel()
	inner := &pipeDialer{}
	d := &limitDialer{inner: inner, l: newLimiter(nil, 3)}
	ctx := context.Background()
	var conns []net.Conn
	for i := 0; i < 3; i++ {
		c, err := d.DialContext(ctx, "tcp", "imap.a.example:993")
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	if c, err := d.DialContext(ctx, "tcp", "imap.b.example:993"); err != nil {
		t.Errorf("another provider waits: %v", err)
	} else {
		c.Close()
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := d.DialContext(short, "tcp", "smtp.a.example:465"); !errors.Is(err, errNoSlot) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a fourth connection to a.example: err = %v, want a wait that ends with the context", err)
	}
	got := make(chan error, 1)
	go func() {
		c, err := d.DialContext(ctx, "tcp", "pop.a.example:995")
		if err == nil {
			c.Close()
		}
		got <- err
	}()
	conns[0].Close()
	conns[0].Close() // a second Close must not free a second slot
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if p := inner.peak.Load(); p > 3+1 {
		t.Errorf("%d connections open at once, limit 3 per provider (+1 of another)", p)
	}
	// After the double Close only one slot is free: two more dials, and one must wait.
	c1, err := d.DialContext(ctx, "tcp", "imap.a.example:993")
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	short2, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	if _, err := d.DialContext(short2, "tcp", "imap.a.example:993"); err == nil {
		t.Error("a double Close freed two slots")
	}
	for _, c := range conns[1:] {
		c.Close()
	}
}
