package detect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// hostCache answers LookupHost once per name for one run: discovery's guesses resolve
// the server names, and every probe, the network check and the HTTP sources then dial
// from that answer instead of asking the DNS server again (a slow hotel resolver costs
// its round trip once, not on every probe chain). Askers of the same name share one
// query; "no such host" is kept, a failure that may pass (timeout, server failure) is not.
// MX and SRV questions pass through.
type hostCache struct {
	Resolver
	run     context.Context // the run's context: a query outlives its askers, not the run
	timeout time.Duration
	ttl     time.Duration // 0: answers are kept for the cache's life
	mu      sync.Mutex
	names   map[string]*hostEntry
}

type hostEntry struct {
	done  chan struct{}
	addrs []string
	err   error
	at    time.Time
}

func newHostCache(run context.Context, r Resolver, timeout time.Duration) *hostCache {
	return &hostCache{Resolver: r, run: run, timeout: timeout, names: map[string]*hostEntry{}}
}

// NewHostCache is the run's host cache for callers that run many checks against the
// same servers (a batch): every name is asked once per ttl (0: once) and askers share
// the query, each free to leave when its own context ends; a query lasts at most
// timeout and ends with run. Run adds its own cache on top, as always.
func NewHostCache(run context.Context, r Resolver, timeout, ttl time.Duration) Resolver {
	c := newHostCache(run, r, timeout)
	c.ttl = ttl
	return c
}

// LookupHost implements Resolver.
func (c *hostCache) LookupHost(ctx context.Context, host string) ([]string, error) {
	key := strings.ToLower(strings.TrimSuffix(host, "."))
	c.mu.Lock()
	e, ok := c.names[key]
	if ok && c.ttl > 0 && time.Since(e.at) > c.ttl {
		ok = false
	}
	if !ok {
		e = &hostEntry{done: make(chan struct{}), at: time.Now()}
		c.names[key] = e
		// The query belongs to every asker, so no single asker's cancel may end it.
		qctx, cancel := context.WithTimeout(c.run, c.timeout)
		go func() {
			defer cancel()
			e.addrs, e.err = c.Resolver.LookupHost(qctx, host)
			if e.err != nil && !isNotFound(e.err) {
				c.mu.Lock()
				if c.names[key] == e {
					delete(c.names, key) // the next asker tries again
				}
				c.mu.Unlock()
			}
			close(e.done)
		}()
	}
	c.mu.Unlock()
	select {
	case <-e.done:
		return append([]string(nil), e.addrs...), e.err
	case <-ctx.Done():
		return nil, fmt.Errorf("lookup %s: %w", host, ctx.Err())
	}
}

// LookupAddr passes reverse lookups to the underlying resolver when it has them.
func (c *hostCache) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	r, ok := c.Resolver.(interface {
		LookupAddr(ctx context.Context, addr string) ([]string, error)
	})
	if !ok {
		return nil, errors.New("this resolver does not do reverse lookups")
	}
	return r.LookupAddr(ctx, addr)
}
