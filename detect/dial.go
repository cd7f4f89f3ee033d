package detect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// DefaultAttemptDelay is how long HappyDialer waits for an address before it also
// tries the next one (RFC 8305 recommends 250 ms).
const DefaultAttemptDelay = 250 * time.Millisecond

// refusedGrace is how long the attempts still pending may run once every address was
// tried and one refused: a live address that refuses shows the path works and the port
// is closed, and an address silent this long is not going to change that verdict.
const refusedGrace = time.Second

// HostResolver looks up the addresses of a host name; *net.Resolver and Resolver satisfy it.
type HostResolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// HappyDialer dials every address of a host name "happy eyeballs" style (RFC 8305):
// IPv6 and IPv4 addresses interleaved in the resolver's order, the next attempt started
// whenever the previous one failed or has not answered within Delay, the first
// connection kept and the others closed. A server whose first address is dead (a
// blackholed IPv6 route, one of two A records down) is then reached in about Delay
// instead of after a timeout.
type HappyDialer struct {
	Resolver HostResolver
	// Dialer dials one IP:port; a *net.Dialer when nil.
	Dialer Dialer
	// Delay between attempts; DefaultAttemptDelay when zero.
	Delay time.Duration
}

// DialError is a failed dial of every address of a host; it unwraps to the attempt's
// error that tells the most about the path (refused, then timed out, then the first).
type DialError struct {
	Address  string
	Attempts []AttemptError
}

// AttemptError is one address's failed connection attempt.
type AttemptError struct {
	IP  string
	Err error
}

func (e *DialError) Error() string {
	parts := make([]string, len(e.Attempts))
	for i, a := range e.Attempts {
		// net.Dialer's *net.OpError repeats the address; its inner error is the news.
		var op *net.OpError
		msg := a.Err
		if errors.As(a.Err, &op) && op.Err != nil {
			msg = op.Err
		}
		parts[i] = a.IP + ": " + msg.Error()
	}
	return fmt.Sprintf("every address of %s failed (%s)", e.Address, strings.Join(parts, "; "))
}

// Unwrap returns the most telling attempt error: a refused connection proves the path
// works and the port is closed; a timeout is what a dropping firewall looks like.
func (e *DialError) Unwrap() error {
	if len(e.Attempts) == 0 {
		return nil
	}
	best, rank := e.Attempts[0].Err, 3
	for _, a := range e.Attempts {
		r := 3
		switch {
		case isErrno(a.Err, errnoRefused):
			r = 1
		case endedSilently(a.Err):
			r = 2
		}
		if r < rank {
			best, rank = a.Err, r
		}
	}
	return best
}

// endedSilently reports an attempt that got no answer: it timed out or was stopped.
func endedSilently(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.As(err, &ne) && ne.Timeout()
}

// DialContext implements Dialer.
func (h *HappyDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	d := h.Dialer
	if d == nil {
		d = &net.Dialer{KeepAlive: -1}
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	if _, err := netip.ParseAddr(host); err == nil || h.Resolver == nil {
		return d.DialContext(ctx, network, address)
	}
	addrs, err := h.Resolver.LookupHost(ctx, host)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	ips := attemptOrder(addrs, network)
	if len(ips) == 0 {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no address for " + network, Name: host, IsNotFound: true}}
	}
	if len(ips) == 1 {
		return d.DialContext(ctx, network, net.JoinHostPort(ips[0], port))
	}
	return h.race(ctx, d, network, address, port, ips)
}

type attempt struct {
	ip   string
	conn net.Conn
	err  error
}

// race runs the staggered attempts and returns the first connection.
func (h *HappyDialer) race(ctx context.Context, d Dialer, network, address, port string, ips []string) (net.Conn, error) {
	delay := h.Delay
	if delay <= 0 {
		delay = DefaultAttemptDelay
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan attempt, len(ips))
	started, pending := 0, 0
	start := func() {
		ip := ips[started]
		started++
		pending++
		go func() {
			c, err := d.DialContext(ctx, network, net.JoinHostPort(ip, port))
			results <- attempt{ip, c, err}
		}()
	}
	start()
	next := time.NewTimer(delay)
	defer next.Stop()
	var grace <-chan time.Time
	var graceTimer *time.Timer
	defer func() {
		if graceTimer != nil {
			graceTimer.Stop()
		}
	}()
	refused := false
	failed := &DialError{Address: address}
	for pending > 0 {
		var tick <-chan time.Time
		if started < len(ips) && ctx.Err() == nil {
			tick = next.C
		}
		select {
		case <-grace:
			cancel() // the pending attempts now end with the context's error
			grace = nil
		case a := <-results:
			pending--
			if a.err == nil {
				// The losers end when cancel runs; close any that still connect.
				go func(n int) {
					for ; n > 0; n-- {
						if l := <-results; l.conn != nil {
							l.conn.Close()
						}
					}
				}(pending)
				var others []string
				for _, ip := range ips[:started] {
					if ip != a.ip {
						others = append(others, ip)
					}
				}
				if len(others) == 0 {
					return a.conn, nil
				}
				return &happyConn{Conn: a.conn, others: others}, nil
			}
			failed.Attempts = append(failed.Attempts, AttemptError{a.ip, a.err})
			refused = refused || isErrno(a.err, errnoRefused)
			if started < len(ips) && ctx.Err() == nil {
				start() // a failure frees the slot at once
				next.Reset(delay)
			}
		case <-tick:
			start()
			next.Reset(delay)
		}
		if refused && grace == nil && started == len(ips) && pending > 0 && ctx.Err() == nil {
			graceTimer = time.NewTimer(refusedGrace)
			grace = graceTimer.C
		}
	}
	return nil, failed
}

// happyConn is a connection that was won after other addresses failed or stayed silent.
type happyConn struct {
	net.Conn
	others []string
}

// OtherAddresses returns the addresses tried before or beside the one that answered.
func (c *happyConn) OtherAddresses() []string { return c.others }

// otherAddresses returns the addresses a HappyDialer tried besides the one conn reached.
func otherAddresses(conn net.Conn) []string {
	if hc, ok := conn.(interface{ OtherAddresses() []string }); ok {
		return hc.OtherAddresses()
	}
	return nil
}

// attemptOrder filters addrs by network ("tcp4", "tcp6" or any) and interleaves the
// families, starting with the family of the resolver's first answer (RFC 8305 §4).
func attemptOrder(addrs []string, network string) []string {
	var first, second []string
	firstV4 := false
	for _, a := range addrs {
		ip, err := netip.ParseAddr(a) // keeps an IPv6 zone ("fe80::1%eth0")
		if err != nil {
			continue
		}
		v4 := ip.Is4() || ip.Is4In6()
		if network == "tcp4" && !v4 || network == "tcp6" && v4 {
			continue
		}
		if len(first) == 0 && len(second) == 0 {
			firstV4 = v4
		}
		if v4 == firstV4 {
			first = append(first, a)
		} else {
			second = append(second, a)
		}
	}
	out := make([]string, 0, len(first)+len(second))
	for i := 0; i < len(first) || i < len(second); i++ {
		if i < len(first) {
			out = append(out, first[i])
		}
		if i < len(second) {
			out = append(out, second[i])
		}
	}
	return out
}
