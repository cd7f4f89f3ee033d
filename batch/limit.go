package batch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/trust"
)

// DefaultLimit is the connections open at once to one provider that publishes no limit
// (providers.yaml notes.max_connections), counted over SMTP, IMAP and POP3 together.
// Server software defaults allow more from one address: Postfix 50 SMTP connections
// (smtpd_client_connection_count_limit), Exchange 20 per source on a receive connector,
// Dovecot 10 IMAP sessions per user and address (a batch opens one per user), Exim 20
// SMTP connections in all (smtp_accept_max), of which a batch takes at most half,
// since every client's incoming and outgoing logins go out together.
const DefaultLimit = 20

// limiter bounds the connections open at once per provider: the provider the knowledge
// names for a server, else the server's registrable domain (so an ISP's one mail server
// under many customer domains counts once).
type limiter struct {
	db  *detect.ProviderDB
	def int
	mu  sync.Mutex
	// slots holds one semaphore per provider key; keys caches each host's key.
	slots map[string]chan struct{}
	keys  map[string]string
}

func newLimiter(db *detect.ProviderDB, def int) *limiter {
	if def <= 0 {
		def = DefaultLimit
	}
	return &limiter{db: db, def: def, slots: map[string]chan struct{}{}, keys: map[string]string{}}
}

// ProviderKey names the provider whose connection limit host counts against, and that
// limit: the knowledge's provider of the server, or of the server's registrable domain
// (a provider's unlisted servers, such as a guessed mail.<domain>, are its servers
// too), with its published max_connections or def; else the registrable domain with def.
func ProviderKey(db *detect.ProviderDB, host string, def int) (string, int) {
	host = trust.Normalize(host)
	reg := trust.Registrable(host)
	p := db.ByServer(host)
	if p == nil && reg != "" {
		p = db.ByDomain(reg)
	}
	if p == nil && reg != "" && db != nil {
		for i := range db.Providers {
			if slices.ContainsFunc(db.Providers[i].Servers, func(s detect.ProviderServer) bool { return trust.Registrable(s.Host) == reg }) {
				p = &db.Providers[i]
				break
			}
		}
	}
	switch {
	case p != nil && p.Notes.MaxConnections > 0:
		return "provider:" + p.ID, p.Notes.MaxConnections
	case p != nil:
		return "provider:" + p.ID, def
	case reg != "":
		return "domain:" + reg, def
	}
	return "host:" + host, def
}

// slot returns the semaphore of host's provider.
func (l *limiter) slot(host string) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	key, ok := l.keys[host]
	n := 0
	if !ok {
		key, n = ProviderKey(l.db, host, l.def)
		l.keys[host] = key
	}
	s := l.slots[key]
	if s == nil {
		s = make(chan struct{}, n)
		l.slots[key] = s
	}
	return s
}

// errNoSlot wraps the context's error when a connection waited for a slot in vain.
var errNoSlot = errors.New("batch: waited for a free connection to this provider")

// limitDialer holds a slot of the server's provider for as long as a connection it
// opened stays open, so no provider sees more connections from a batch than its limit.
type limitDialer struct {
	inner detect.Dialer
	l     *limiter
}

// DialContext implements detect.Dialer.
func (d *limitDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	s := d.l.slot(host)
	select {
	case s <- struct{}{}:
	case <-ctx.Done():
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("%w: %w", errNoSlot, ctx.Err())}
	}
	c, err := d.inner.DialContext(ctx, network, address)
	if err != nil {
		<-s
		return nil, err
	}
	return &limitedConn{Conn: c, release: sync.OnceFunc(func() { <-s })}, nil
}

// limitedConn gives its provider slot back when it is closed.
type limitedConn struct {
	net.Conn
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

// OtherAddresses passes on the addresses a happy-eyeballs dial tried besides this one.
func (c *limitedConn) OtherAddresses() []string {
	if hc, ok := c.Conn.(interface{ OtherAddresses() []string }); ok {
		return hc.OtherAddresses()
	}
	return nil
}

// hostCache answers LookupHost once per name for a whole batch (the engine keeps one
// cache per run; a batch runs many, and hundreds of logins to the same servers).
// Answers are kept for the batch; a failure that may pass is asked again. MX and SRV
// questions and reverse lookups pass through.
type hostCache struct {
	detect.Resolver
	mu    sync.Mutex
	names map[string]*hostAnswer
	ttl   time.Duration
}

type hostAnswer struct {
	done  chan struct{}
	addrs []string
	err   error
	at    time.Time
}

// hostCacheTTL bounds how long a batch trusts an answer (a batch of thousands may run
// for many minutes).
const hostCacheTTL = 5 * time.Minute

// lookupTimeout caps one query of the cache.
const lookupTimeout = 10 * time.Second

func newHostCache(r detect.Resolver) *hostCache {
	return &hostCache{Resolver: r, names: map[string]*hostAnswer{}, ttl: hostCacheTTL}
}

// LookupHost implements detect.Resolver.
func (c *hostCache) LookupHost(ctx context.Context, host string) ([]string, error) {
	key := strings.ToLower(strings.TrimSuffix(host, "."))
	c.mu.Lock()
	a := c.names[key]
	if a != nil && time.Since(a.at) > c.ttl {
		a = nil
	}
	if a == nil {
		a = &hostAnswer{done: make(chan struct{}), at: time.Now()}
		c.names[key] = a
		c.mu.Unlock()
		// The answer serves every asker, so no single asker's cancel may end the query.
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTimeout)
		a.addrs, a.err = c.Resolver.LookupHost(qctx, host)
		cancel()
		var dnsErr *net.DNSError
		if a.err != nil && !(errors.As(a.err, &dnsErr) && dnsErr.IsNotFound) {
			c.mu.Lock()
			delete(c.names, key) // the next asker tries again
			c.mu.Unlock()
		}
		close(a.done)
		return append([]string(nil), a.addrs...), a.err
	}
	c.mu.Unlock()
	select {
	case <-a.done:
		return append([]string(nil), a.addrs...), a.err
	case <-ctx.Done():
		return nil, fmt.Errorf("lookup %s: %w", host, ctx.Err())
	}
}

// LookupAddr passes reverse lookups on when the resolver has them.
func (c *hostCache) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	r, ok := c.Resolver.(interface {
		LookupAddr(ctx context.Context, addr string) ([]string, error)
	})
	if !ok {
		return nil, errors.New("batch: this resolver does not do reverse lookups")
	}
	return r.LookupAddr(ctx, addr)
}
