package detect

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect/detecttest"
)

// TestBenchTable is `make bench`: the engine against loopback servers behind a proxy
// that adds a real round-trip time, compared with the slowest single probe chain of the
// same run, a sequential baseline (one probe after another, as a one-at-a-time tester
// does) and a Thunderbird-style baseline (every try started at once, staggered 100 ms,
// each allowed 10 s). It prints one table.
func TestBenchTable(t *testing.T) {
	if os.Getenv("BENCH") != "1" {
		t.Skip("set BENCH=1 (make bench) to measure")
	}
	const rtt = 50 * time.Millisecond
	type row struct {
		scenario                    string
		ours, slowest, seq, tbStyle time.Duration
		cells, conns                int
	}
	var rows []row
	for _, sc := range []struct {
		name  string
		drop  bool
		login bool
	}{
		{"matrix with login, 50 ms RTT", false, true},
		{"matrix without password, 50 ms RTT", false, false},
		{"matrix with login, port 25 dropped", true, true},
	} {
		w := detecttest.StartWorld(t, "bench.test", "me@bench.test", "bench-pass")
		if err := w.Net.AddLatency(rtt); err != nil {
			t.Fatal(err)
		}
		if sc.drop {
			w.Net.Drop("smtp.bench.test", 25)
		}
		opts := Options{Dialer: w.Net, Resolver: w.Net, ExtraRoots: []*x509.Certificate{w.CA.Cert}, CaptivePortalURL: "off", Timeout: 10 * time.Second}
		if sc.login {
			opts.Password = "bench-pass"
		}
		start := time.Now()
		rep, err := Run(context.Background(), "me@bench.test", opts)
		if err != nil {
			t.Fatal(err)
		}
		ours := time.Since(start)
		conns := w.Net.TotalDials()
		if rep.Recommended.Outgoing == nil || rep.Recommended.Incoming == nil {
			t.Fatalf("%s: nothing recommended", sc.name)
		}
		var slowest time.Duration
		var keys []ProbeKey
		for _, p := range rep.Probes {
			if p.Status != StatusSkipped {
				slowest = max(slowest, time.Duration(p.ElapsedMS)*time.Millisecond)
			}
			keys = append(keys, ProbeKey{p.Protocol, p.Host, p.Port, p.Security})
		}
		login := &Login{Usernames: []string{"me@bench.test"}, Password: opts.Password, From: "me@bench.test", Gate: NewLoginGate()}
		// Sequential: the same cells one after another.
		seqStart := time.Now()
		for _, k := range keys {
			opts.engine().probeOne(context.Background(), k, login)
		}
		seq := time.Since(seqStart)
		// Thunderbird-style: all at once, staggered 100 ms, 10 s per try, no early decisions.
		tbStart := time.Now()
		var wg sync.WaitGroup
		for i, k := range keys {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(i) * 100 * time.Millisecond)
				o := opts
				o.Timeout = 10 * time.Second
				o.engine().probeOne(context.Background(), k, &Login{Usernames: login.Usernames, Password: login.Password, From: login.From, Gate: NewLoginGate()})
			}()
		}
		wg.Wait()
		rows = append(rows, row{sc.name, ours, slowest, seq, time.Since(tbStart), len(rep.Probes), conns})
	}

	// Port-25 verdict on a network that drops port 25.
	n := detecttest.NewNet()
	n.Drop("smtp.bench.test", 25)
	n.Route("smtp.bench.test", 587, scripted(t, func(c net.Conn) { time.Sleep(100 * time.Millisecond) }))
	start := time.Now()
	nw := (&Options{Dialer: n, Resolver: n, CaptivePortalURL: "off"}).CheckNetwork(context.Background(), []string{"smtp.bench.test"})
	verdict := time.Since(start)

	dead, serial := benchDeadFirstAddress(t, rtt)
	withCache, noCache, slowestDNS := benchSlowDNS(t, rtt)

	var b strings.Builder
	fmt.Fprintf(&b, "\n%-38s %9s %9s %6s %11s %12s %12s\n", "scenario", "ours", "slowest", "ratio", "sequential", "tb-style", "cells/conns")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-38s %9s %9s %6.2f %11s %12s %12s\n", r.scenario, r.ours.Round(time.Millisecond), r.slowest.Round(time.Millisecond),
			float64(r.ours)/float64(r.slowest), r.seq.Round(time.Millisecond), r.tbStyle.Round(time.Millisecond), fmt.Sprintf("%d/%d", r.cells, r.conns))
	}
	fmt.Fprintf(&b, "%-38s %9s (verdict %s)\n", "port-25 verdict, 25 dropped", verdict.Round(time.Millisecond), nw.Port25)
	fmt.Fprintf(&b, "%-38s %9s (serial dialing, Go net.Dialer's rule: %s)\n", "first of two addresses dead, connect", dead.Round(time.Millisecond), serial.Round(time.Millisecond))
	fmt.Fprintf(&b, "%-38s %9s %9s %6.2f (without the run's DNS cache: %s)\n", "matrix with login, 50 ms RTT + DNS", withCache.Round(time.Millisecond),
		slowestDNS.Round(time.Millisecond), float64(withCache)/float64(slowestDNS), noCache.Round(time.Millisecond))
	fmt.Print(b.String())
}

// benchDeadFirstAddress times one connection to a server whose first address drops
// packets and whose second answers (rtt away): with HappyDialer, and dialing serially
// with the timeout spread over the addresses, as net.Dialer and getaddrinfo-order tools do.
func benchDeadFirstAddress(t *testing.T, rtt time.Duration) (happy, serial time.Duration) {
	w := detecttest.StartWorld(t, "dead.test", "me@dead.test", "pw")
	if err := w.Net.AddLatency(rtt); err != nil {
		t.Fatal(err)
	}
	w.Net.Host("smtp.dead.test", "192.0.2.10", "127.0.0.1")
	w.Net.DropIP("192.0.2.10")
	const timeout = 10 * time.Second
	start := time.Now()
	c, err := (&HappyDialer{Resolver: w.Net, Dialer: w.Net}).DialContext(context.Background(), "tcp", "smtp.dead.test:465")
	if err != nil {
		t.Fatal(err)
	}
	happy = time.Since(start)
	c.Close()
	start = time.Now()
	deadline := start.Add(timeout)
	ips, _ := w.Net.LookupHost(context.Background(), "smtp.dead.test")
	for i, ip := range ips {
		share := time.Until(deadline) / time.Duration(len(ips)-i)
		ctx, cancel := context.WithTimeout(context.Background(), share)
		c, err := w.Net.DialContext(ctx, "tcp", net.JoinHostPort(ip, "465"))
		cancel()
		if err == nil {
			c.Close()
			break
		}
	}
	return happy, time.Since(start)
}

// benchSlowDNS runs the matrix with login where every DNS answer takes one round trip
// too and names are resolved by the engine (its default HappyDialer over the fake network), once
// with the run's host cache and once without it.
func benchSlowDNS(t *testing.T, rtt time.Duration) (withCache, noCache, slowest time.Duration) {
	for _, cached := range []bool{true, false} {
		w := detecttest.StartWorld(t, "dns.test", "me@dns.test", "pw")
		if err := w.Net.AddLatency(rtt); err != nil {
			t.Fatal(err)
		}
		w.Net.SetDNSDelay(rtt)
		opts := Options{IPDialer: w.Net, Resolver: w.Net, ExtraRoots: []*x509.Certificate{w.CA.Cert},
			CaptivePortalURL: "off", Timeout: 10 * time.Second, Password: "pw", noHostCache: !cached}
		start := time.Now()
		rep, err := Run(context.Background(), "me@dns.test", opts)
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		if rep.Recommended.Outgoing == nil || !rep.Recommended.Outgoing.Verified {
			t.Fatal("slow DNS: nothing verified")
		}
		if cached {
			withCache = took
			for _, p := range rep.Probes {
				slowest = max(slowest, time.Duration(p.ElapsedMS)*time.Millisecond)
			}
		} else {
			noCache = took
		}
	}
	return withCache, noCache, slowest
}

func benchReport() *Report {
	var probes []ProbeResult
	for _, h := range []string{"smtp.a.test", "mail.a.test", "a.test"} {
		for _, p := range []int{465, 587, 25, 2525} {
			for _, s := range []Security{SecurityTLS, SecurityStartTLS, SecurityNone} {
				probes = append(probes, ProbeResult{Protocol: SMTP, Host: h, Port: p, Security: s, Status: StatusOK, Verified: p == 587, AuthUsed: "PLAIN"})
			}
		}
	}
	return &Report{Probes: probes}
}

func BenchmarkRecommend(b *testing.B) {
	rep := benchReport()
	login := &Login{Password: "x", Usernames: []string{"me@a.test"}}
	b.ReportAllocs()
	for b.Loop() {
		recommend(rep.Probes, false, login, login.hasPassword(), nil)
	}
}

func BenchmarkMergeCandidates(b *testing.B) {
	var res []SourceResult
	for _, src := range []string{SourceProviders, SourceAutoconfig, SourceSRV, SourceMX, SourceGuess} {
		r := SourceResult{Source: src}
		for _, p := range []int{465, 587, 993, 995, 143, 110} {
			r.Servers = append(r.Servers, Candidate{Protocol: SMTP, Host: "mail.a.test", Port: p, Security: SecurityTLS})
		}
		res = append(res, r)
	}
	b.ReportAllocs()
	for b.Loop() {
		mergeCandidates(res)
	}
}

func BenchmarkClassifyAndDiagnose(b *testing.B) {
	errs := []error{context.DeadlineExceeded, ErrNoStartTLS, fmt.Errorf("x: %w", ErrPlaintextRefused)}
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range errs {
			DiagnosisFor(Classify("auth", e))
		}
	}
}

func BenchmarkParseClientConfig(b *testing.B) {
	a := Address{Local: "me", Domain: "example.test", DomainUnicode: "example.test"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseClientConfig([]byte(sampleClientConfig), a); err != nil {
			b.Fatal(err)
		}
	}
}
