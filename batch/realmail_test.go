//go:build linux

package batch_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/batch"
	"github.com/mailsetup/mailsetup/batch/batchtest"
	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/detecttest"
	"github.com/mailsetup/mailsetup/detect/detecttest/realmail"
)

// realStaff starts real Postfix and Dovecot (modern setup: TLS, SCRAM) for n mailboxes
// user01@ … of domain, each with the password batchtest.Password gives it.
func realStaff(t *testing.T, domain string, n int) (*realmail.Servers, []batchtest.Mailbox) {
	t.Helper()
	users := map[string]string{}
	var boxes []batchtest.Mailbox
	for i := 1; i <= n; i++ {
		addr := fmt.Sprintf("user%02d@%s", i, domain)
		local, _, _ := strings.Cut(addr, "@")
		users[local] = batchtest.Password(addr)
		boxes = append(boxes, batchtest.Mailbox{Address: addr, Password: batchtest.Password(addr), Name: "User " + local})
	}
	s := realmail.Start(t, realmail.Config{Setup: realmail.Modern, Domain: domain, Users: users})
	return s, boxes
}

// latencyNet puts the real servers behind a fake network with a round trip of rtt: the
// same names, ports and SRV records dnsmasq publishes, every connection through a
// LatencyProxy in front of the real listener.
func latencyNet(t *testing.T, s *realmail.Servers, domain string, rtt time.Duration) *detecttest.Net {
	t.Helper()
	n := detecttest.NewNet()
	t.Cleanup(n.Close)
	for svc, port := range s.Ports {
		n.Route(s.Host, port, "127.0.0.1:"+strconv.Itoa(port))
		if svc != "smtp" {
			n.SRV(svc, domain, s.Host, port)
		}
	}
	n.MX(domain, s.Host)
	if err := n.AddLatency(rtt); err != nil {
		t.Fatal(err)
	}
	return n
}

// freshSource dials every connection from a loopback address of its own: Dovecot delays
// every login from an address after a failed one there (its auth penalty, 2 s doubling
// up to 15 s), which would make one wrong password slow the rest of the test.
type freshSource struct{ n atomic.Uint32 }

func (f *freshSource) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	n := f.n.Add(1)
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 2, byte(n/250), byte(n%250+1))}, Timeout: 10 * time.Second, KeepAlive: -1}
	return d.DialContext(ctx, network, address)
}

// TestBatchRealServers checks a list against real Postfix and Dovecot: the mailboxes
// with their passwords are verified on one matrix (SCRAM over TLS), a wrong password
// needs attention, a row without password is found but not tested, and the servers
// never see more connections at once than the limit.
func TestBatchRealServers(t *testing.T) {
	t.Parallel()
	s, boxes := realStaff(t, "staff.test", 8)
	meter := batchtest.NewMeter(&freshSource{}, func(string) string { return "realmail" })
	csv := "address,password,name\n"
	for i, m := range boxes {
		switch i {
		case 3:
			m.Password = "wrong"
		case 5:
			m.Password = ""
		}
		csv += m.Address + "," + m.Password + "," + m.Name + "\n"
	}
	const limit = 6
	opts := detect.Options{Resolver: detect.DNSResolver(s.DNS), IPDialer: meter, ExtraRoots: []*x509.Certificate{s.CA.Cert},
		CaptivePortalURL: "off", Timeout: 10 * time.Second}
	results := batch.New(batch.Options{Engine: opts, DefaultLimit: limit}).Check(context.Background(), clientsOf(t, csv))
	for i, r := range results {
		want := batch.StateVerified
		switch i {
		case 3:
			want = batch.StateAttention
		case 5:
			want = batch.StateUnverified
		}
		if r.State != want {
			t.Errorf("%s: %s %q, want %s", r.Address, r.State, r.Reason, want)
		}
		if want == batch.StateVerified && (r.Report.Recommended.Outgoing.Auth != "SCRAM-SHA-256" || r.Report.Recommended.Incoming.Port != s.Ports["imaps"]) {
			t.Errorf("%s: %+v %+v", r.Address, r.Report.Recommended.Outgoing, r.Report.Recommended.Incoming)
		}
	}
	if !strings.Contains(results[3].Reason, "password refused") {
		t.Errorf("wrong password: %q", results[3].Reason)
	}
	if _, n := meter.MaxPeak(); n > limit {
		t.Errorf("the servers saw %d connections at once, limit %d", n, limit)
	}
}

// TestBatchBenchRealServers is the real-server part of `make bench`: 40 mailboxes of one
// domain on real Postfix and Dovecot, the batch against single checks one after
// another, behind a 50 ms round trip (target 10×) and on bare loopback (reported).
func TestBatchBenchRealServers(t *testing.T) {
	if os.Getenv("BENCH") != "1" {
		t.Skip("set BENCH=1 (make bench) to measure")
	}
	s, boxes := realStaff(t, "bench.test", 40)
	var csv strings.Builder
	for _, m := range boxes {
		fmt.Fprintf(&csv, "%s,%s,%s\n", m.Address, m.Password, m.Name)
	}
	clients := clientsOf(t, csv.String())
	lat := latencyNet(t, s, "bench.test", benchRTT)
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-40s %-32s %9s %12s %8s %11s %12s %s\n", "real Postfix + Dovecot, 40 mailboxes", "how", "time", "clients/min", "speed-up", "peak heap", "connections", "most at once")
	for _, network := range []string{"50 ms round trip", "loopback"} {
		opts := func(m *batchtest.Meter) detect.Options {
			o := detect.Options{ExtraRoots: []*x509.Certificate{s.CA.Cert}, CaptivePortalURL: "off", Timeout: 10 * time.Second}
			if network == "loopback" {
				o.Resolver, o.IPDialer = detect.DNSResolver(s.DNS), m
			} else {
				o.Resolver, o.Dialer = lat, m
			}
			return o
		}
		key := func(string) string { return "realmail" }
		var lines []string
		m := batchtest.NewMeter(dialerFor(network, lat), key)
		var results []batch.Result
		took, peak, extra := measure(func() {
			results = batch.New(batch.Options{Engine: opts(m)}).Check(context.Background(), clients)
		})
		for _, r := range results {
			if r.State != batch.StateVerified {
				t.Errorf("%s: %s %q", r.Address, r.State, r.Reason)
			}
		}
		_, p := m.MaxPeak()
		if p > batch.DefaultLimit {
			t.Errorf("%s: %d connections at once, limit %d", network, p, batch.DefaultLimit)
		}
		batchTook := took
		lines = append(lines, fmt.Sprintf("%-40s %-32s %9s %12.0f %7.1fx %6.0f MB +%-4.0f %12d %d (limit %d)", network, "batch", took.Round(time.Millisecond),
			float64(len(clients))/took.Minutes(), 0.0, peak, extra, m.Total(), p, batch.DefaultLimit))

		m = batchtest.NewMeter(dialerFor(network, lat), key)
		var mu sync.Mutex
		took, peak, extra = measure(func() {
			for _, c := range clients {
				o := opts(m)
				o.Password = c.Password
				rep, err := detect.Run(context.Background(), c.Address, o)
				if err != nil || rep.Recommended.Incoming == nil || !rep.Recommended.Incoming.Verified {
					mu.Lock()
					t.Errorf("single check of %s failed: %v", c.Address, err)
					mu.Unlock()
				}
			}
		})
		_, p = m.MaxPeak()
		speedup := float64(took) / float64(batchTook)
		lines[0] = strings.Replace(lines[0], fmt.Sprintf("%7.1fx", 0.0), fmt.Sprintf("%7.1fx", speedup), 1)
		lines = append(lines, fmt.Sprintf("%-40s %-32s %9s %12.0f %7.1fx %6.0f MB +%-4.0f %12d %d", network, "single checks one after another", took.Round(time.Millisecond),
			float64(len(clients))/took.Minutes(), 1.0, peak, extra, m.Total(), p))
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
		// On bare loopback a login costs the servers' processes and the password hashing
		// (SCRAM), not round trips: the batch saves connections, not waiting. The target is
		// set for a network with a round trip, like the in-process benchmark.
		if speedup < 10 && network != "loopback" {
			t.Errorf("%s: the batch is %.1f× faster than single checks one after another, target 10×", network, speedup)
		}
	}
	fmt.Print(b.String())
}

// dialerFor is the dialer a meter wraps for each network of the real-server benchmark.
func dialerFor(network string, lat *detecttest.Net) batchtest.Dialer {
	if network == "loopback" {
		return &net.Dialer{Timeout: 10 * time.Second, KeepAlive: -1}
	}
	return lat
}
