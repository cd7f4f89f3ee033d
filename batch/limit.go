package batch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
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

// hostCacheTTL bounds how long a batch trusts an answer (a batch of thousands may run
// for many minutes); lookupTimeout caps one query.
const (
	hostCacheTTL  = 5 * time.Minute
	lookupTimeout = 10 * time.Second
)
