package detect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect/detecttest"
)

// scriptedDialer dials by IP: each address hangs, refuses, is unreachable, connects to
// a loopback listener, or connects late whatever the context says ("late").
type scriptedDialer struct {
	target string // loopback listener for "ok" and "late"
	how    map[string]string
	mu     sync.Mutex
	order  []string
}

func (d *scriptedDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	ip, _, _ := net.SplitHostPort(address)
	d.mu.Lock()
	d.order = append(d.order, ip)
	d.mu.Unlock()
	var nd net.Dialer
	switch d.how[ip] {
	case "ok":
		return nd.DialContext(ctx, network, d.target)
	case "late":
		time.Sleep(150 * time.Millisecond)
		return nd.DialContext(context.Background(), network, d.target)
	case "refuse":
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	case "unreachable":
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ENETUNREACH}
	default: // "hang"
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
	}
}

func (d *scriptedDialer) attempts() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.order)
}

type hostTable map[string][]string

func (h hostTable) LookupHost(_ context.Context, host string) ([]string, error) {
	if a, ok := h[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// acceptAll accepts on a loopback listener and hands every connection to conns.
func acceptAll(t *testing.T) (string, chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for {
			select {
			case c := <-conns:
				c.Close()
			default:
				return
			}
		}
	})
	return ln.Addr().String(), conns
}

func TestHappyDialer(t *testing.T) {
	const v6a, v6b, v4a, v4b = "2001:db8::1", "2001:db8::2", "192.0.2.1", "192.0.2.2"
	for _, tc := range []struct {
		name     string
		addrs    []string
		how      map[string]string
		delay    time.Duration
		ctxLimit time.Duration
		wantOK   bool
		wantKind Kind
		order    []string // attempts in this order (prefix)
		min, max time.Duration
	}{
		{name: "dead IPv6, working IPv4: next address after the delay",
			addrs: []string{v6a, v4a}, how: map[string]string{v6a: "hang", v4a: "ok"},
			delay: 100 * time.Millisecond, wantOK: true, order: []string{v6a, v4a},
			min: 90 * time.Millisecond, max: 600 * time.Millisecond},
		{name: "one of two A records dead",
			addrs: []string{v4a, v4b}, how: map[string]string{v4a: "hang", v4b: "ok"},
			delay: 100 * time.Millisecond, wantOK: true, order: []string{v4a, v4b},
			min: 90 * time.Millisecond, max: 600 * time.Millisecond},
		{name: "a refusal starts the next address at once",
			addrs: []string{v4a, v4b}, how: map[string]string{v4a: "refuse", v4b: "ok"},
			delay: 5 * time.Second, wantOK: true, order: []string{v4a, v4b}, max: 500 * time.Millisecond},
		{name: "families interleaved",
			addrs: []string{v6a, v6b, v4a, v4b}, how: map[string]string{v6a: "unreachable", v4a: "refuse", v6b: "unreachable", v4b: "ok"},
			delay: 5 * time.Second, wantOK: true, order: []string{v6a, v4a, v6b, v4b}, max: 500 * time.Millisecond},
		{name: "every address refuses: refused, and each is named",
			addrs: []string{v6a, v4a}, how: map[string]string{v6a: "unreachable", v4a: "refuse"},
			delay: time.Second, wantKind: KindRefused, max: 500 * time.Millisecond},
		{name: "every address dropped: timeout when the context ends",
			addrs: []string{v6a, v4a}, how: map[string]string{}, delay: 50 * time.Millisecond, ctxLimit: 300 * time.Millisecond,
			wantKind: KindTimeout, min: 290 * time.Millisecond, max: 1500 * time.Millisecond},
		{name: "unreachable IPv6 and dropped IPv4 is a timeout, not unreachable",
			addrs: []string{v6a, v4a}, how: map[string]string{v6a: "unreachable"}, delay: time.Second, ctxLimit: 200 * time.Millisecond,
			wantKind: KindTimeout},
		{name: "a single address is dialled directly",
			addrs: []string{v4a}, how: map[string]string{v4a: "ok"}, wantOK: true, order: []string{v4a}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target, _ := acceptAll(t)
			d := &scriptedDialer{target: target, how: tc.how}
			hd := &HappyDialer{Resolver: hostTable{"mail.test": tc.addrs}, Dialer: d, Delay: tc.delay}
			ctx := context.Background()
			if tc.ctxLimit > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxLimit)
				defer cancel()
			}
			start := time.Now()
			c, err := hd.DialContext(ctx, "tcp", "mail.test:587")
			took := time.Since(start)
			if tc.wantOK {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				c.Close()
			} else {
				if err == nil {
					c.Close()
					t.Fatal("dial succeeded, want a failure")
				}
				if k := Classify("connect", err).Kind; k != tc.wantKind {
					t.Errorf("kind %s, want %s (%v)", k, tc.wantKind, err)
				}
				for _, ip := range tc.addrs {
					if !strings.Contains(err.Error(), ip) {
						t.Errorf("error %q does not name %s", err, ip)
					}
				}
			}
			if got := d.attempts(); len(tc.order) > 0 && !slices.Equal(got[:min(len(got), len(tc.order))], tc.order) {
				t.Errorf("attempts %v, want %v", got, tc.order)
			}
			if took < tc.min || tc.max > 0 && took > tc.max {
				t.Errorf("took %v, want between %v and %v", took, tc.min, tc.max)
			}
		})
	}
}

// A connection that completes after the winner is closed, not leaked.
func TestHappyDialerClosesLosers(t *testing.T) {
	target, conns := acceptAll(t)
	d := &scriptedDialer{target: target, how: map[string]string{"192.0.2.1": "late", "192.0.2.2": "ok"}}
	hd := &HappyDialer{Resolver: hostTable{"mail.test": {"192.0.2.1", "192.0.2.2"}}, Dialer: d, Delay: 20 * time.Millisecond}
	c, err := hd.DialContext(context.Background(), "tcp", "mail.test:25")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Two connections reach the listener; exactly one of them must be closed by the dialer.
	closed := 0
	for range 2 {
		select {
		case s := <-conns:
			_ = s.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := s.Read(make([]byte, 1)); err == io.EOF {
				closed++
			}
			s.Close()
		case <-time.After(2 * time.Second):
			t.Fatal("the late connection never arrived")
		}
	}
	if closed != 1 {
		t.Errorf("%d of 2 server-side connections saw the client close, want 1 (the loser)", closed)
	}
}

func TestHappyDialerLiteralAndDNSError(t *testing.T) {
	target, _ := acceptAll(t)
	d := &scriptedDialer{target: target, how: map[string]string{"127.0.0.1": "ok"}}
	hd := &HappyDialer{Resolver: hostTable{}, Dialer: d}
	c, err := hd.DialContext(context.Background(), "tcp", "127.0.0.1:25")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	_, err = hd.DialContext(context.Background(), "tcp", "nowhere.test:25")
	if k := Classify("connect", err).Kind; k != KindDNS {
		t.Errorf("unknown name: kind %s (%v), want %s", k, err, KindDNS)
	}
}

func TestAttemptOrder(t *testing.T) {
	for _, tc := range []struct {
		in      []string
		network string
		want    []string
	}{
		{[]string{"2001:db8::1", "2001:db8::2", "192.0.2.1", "192.0.2.2"}, "tcp", []string{"2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2"}},
		{[]string{"192.0.2.1", "2001:db8::1", "192.0.2.2"}, "tcp", []string{"192.0.2.1", "2001:db8::1", "192.0.2.2"}},
		{[]string{"2001:db8::1", "192.0.2.1"}, "tcp4", []string{"192.0.2.1"}},
		{[]string{"2001:db8::1", "192.0.2.1"}, "tcp6", []string{"2001:db8::1"}},
		{[]string{"not-an-ip", "192.0.2.1"}, "tcp", []string{"192.0.2.1"}},
		{[]string{"fe80::1%eth0", "::ffff:192.0.2.1"}, "tcp", []string{"fe80::1%eth0", "::ffff:192.0.2.1"}},
		{[]string{"fe80::1%eth0", "::ffff:192.0.2.1"}, "tcp4", []string{"::ffff:192.0.2.1"}},
		{nil, "tcp", []string{}},
	} {
		if got := attemptOrder(tc.in, tc.network); !slices.Equal(got, tc.want) {
			t.Errorf("attemptOrder(%v, %s) = %v, want %v", tc.in, tc.network, got, tc.want)
		}
	}
}

// A whole run reaches servers whose first address is dead in about the attempt delay,
// not after a probe timeout.
func TestRunDeadFirstAddress(t *testing.T) {
	w := detecttest.StartWorld(t, "dead.test", "me@dead.test", "pw")
	for _, h := range []string{"smtp.dead.test", "imap.dead.test", "pop.dead.test"} {
		w.Net.Host(h, "192.0.2.10", "127.0.0.1")
	}
	w.Net.DropIP("192.0.2.10")
	opts := Options{
		IPDialer:   w.Net, // the engine's own resolving and happy-eyeballs dialing over the fake network
		Resolver:   w.Net,
		ExtraRoots: []*x509.Certificate{w.CA.Cert}, CaptivePortalURL: "off", SkipNetwork: true,
		Password: "pw", Timeout: 10 * time.Second,
	}
	start := time.Now()
	rep, err := Run(context.Background(), "me@dead.test", opts)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("run took %v with a dead first address, want well under the 10 s probe timeout", took)
	}
	out, in := rep.Recommended.Outgoing, rep.Recommended.Incoming
	if out == nil || in == nil || !out.Verified || !in.Verified {
		t.Fatalf("want verified outgoing and incoming settings, got %+v / %+v", out, in)
	}
	if n := w.Net.Dials("192.0.2.10", 465); n == 0 {
		t.Error("the dead address was never tried, so the test proves nothing")
	}
	for _, p := range rep.Probes {
		if p.Port == 465 && p.Security == SecurityTLS {
			if tr := strings.Join(p.Transcript, "\n"); !strings.Contains(tr, "tried 192.0.2.10 too: no connection there") {
				t.Errorf("465 transcript does not say the first address was silent:\n%s", tr)
			}
		}
	}
}

// Once a live address refused and every address was tried, a silent one gets a short
// grace, not the whole timeout: the port is closed.
func TestHappyDialerRefusedGrace(t *testing.T) {
	for _, addrs := range [][]string{{"192.0.2.1", "192.0.2.2"}, {"192.0.2.2", "192.0.2.1"}} {
		d := &scriptedDialer{how: map[string]string{"192.0.2.1": "refuse", "192.0.2.2": "hang"}}
		hd := &HappyDialer{Resolver: hostTable{"mail.test": addrs}, Dialer: d, Delay: 50 * time.Millisecond}
		start := time.Now()
		_, err := hd.DialContext(context.Background(), "tcp", "mail.test:25")
		took := time.Since(start)
		if k := Classify("connect", err).Kind; k != KindRefused {
			t.Errorf("%v: kind %s (%v), want refused", addrs, k, err)
		}
		if took < refusedGrace || took > refusedGrace+time.Second {
			t.Errorf("%v: took %v, want about the %v grace", addrs, took, refusedGrace)
		}
	}
}

// A second TLS connection of a run to the same server resumes the session, and the
// certificate is still reported and verified.
func TestTLSSessionResumed(t *testing.T) {
	w := newExampleWorld(t)
	o := w.e.opts.engine() // one engine: its TLS sessions live as long as it does
	o.sessions = tls.NewLRUClientSessionCache(8)
	key := ProbeKey{SMTP, testHost, 465, SecurityTLS}
	for i, wantResumed := range []bool{false, true} {
		res := o.ProbeSMTP(context.Background(), key, testLogin(testPass))
		if res.Status != StatusOK || !res.Verified {
			t.Fatalf("probe %d: %s %s", i, res.Status, res.Error)
		}
		tr := strings.Join(res.Transcript, "\n")
		if got := strings.Contains(tr, "session resumed"); got != wantResumed {
			t.Errorf("probe %d: resumed=%v, want %v:\n%s", i, got, wantResumed, tr)
		}
		if res.Cert == nil || res.Cert.SHA256 == "" || res.Cert.Problem != "" {
			t.Errorf("probe %d: certificate %+v, want a verified summary", i, res.Cert)
		}
	}
	// The send test's connection (SendMessage dials through dialSMTP) resumes too.
	sp := o.startProbe(key, nil)
	sc, f := o.dialSMTP(context.Background(), sp, key)
	if f != nil {
		t.Fatalf("send-test dial: %v", f)
	}
	sc.close()
	if tr := strings.Join(sp.tr.Lines(), "\n"); !strings.Contains(tr, "session resumed") {
		t.Errorf("the send test's connection did not resume:\n%s", tr)
	}
	// A certificate that fails verification fails again on a resumed session.
	o2 := w.e.opts.engine()
	o2.sessions = o.sessions
	o2.ExtraRoots = nil
	res := o2.ProbeSMTP(context.Background(), key, nil)
	if !strings.Contains(strings.Join(res.Transcript, "\n"), "session resumed") {
		t.Fatalf("the session was not resumed, so the test proves nothing:\n%s", strings.Join(res.Transcript, "\n"))
	}
	if res.Status != StatusCertInvalid || res.Cert == nil || res.Cert.Problem == "" {
		t.Errorf("resumed session with an untrusted certificate: %s %+v, want cert_invalid with the problem named", res.Status, res.Cert)
	}
}
