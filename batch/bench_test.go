package batch_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/batch"
	"github.com/mailsetup/mailsetup/batch/batchtest"
	"github.com/mailsetup/mailsetup/detect"
)

// benchRTT is the round trip every connection of the benchmark pays (LatencyProxy).
const benchRTT = 50 * time.Millisecond

// TestBatchBench is the batch part of `make bench`: client lists against the in-process
// servers behind a 50 ms round trip, the batch against the single check run once per
// client one after another (and the batch as it was before: a whole check per client,
// four at once), in the same run. It prints clients per minute, the speed-up, peak
// memory and the most connections any provider saw at once, and fails when a provider
// saw more than its limit or a client was not verified.
func TestBatchBench(t *testing.T) {
	if os.Getenv("BENCH") != "1" {
		t.Skip("set BENCH=1 (make bench) to measure")
	}
	type row struct {
		name, how     string
		clients       int
		took          time.Duration
		peakMB, extra float64
		conns, peak   int
		limit         int
	}
	var rows []row
	for _, sc := range []struct {
		name    string
		domains int
		users   int
		// published is the connection limit the domain's provider publishes (0: none).
		published int
	}{
		{"200 clients, 20 domains", 20, 10, 0},
		{"40 clients, one domain", 1, 40, 0},
		{"40 clients, limit 15", 1, 40, 15},
	} {
		var domains []string
		for i := 1; i <= sc.domains; i++ {
			domains = append(domains, fmt.Sprintf("d%02d.test", i))
		}
		office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: domains, Users: sc.users})
		if err := office.Net.AddLatency(benchRTT); err != nil {
			t.Fatal(err)
		}
		clients := clientsOf(t, office.CSV())
		limit := batch.DefaultLimit
		var db *detect.ProviderDB
		if sc.published > 0 {
			// The domain's provider publishes its limit, as providers.yaml does for Gmail (15).
			limit = sc.published
			db = &detect.ProviderDB{Providers: []detect.Provider{{ID: "bench", Name: "Bench Mail", Domains: domains, Username: "address",
				Servers: []detect.ProviderServer{
					{Protocol: detect.SMTP, Host: "smtp.d01.test", Port: 465, Security: detect.SecurityTLS},
					{Protocol: detect.IMAP, Host: "imap.d01.test", Port: 993, Security: detect.SecurityTLS},
					{Protocol: detect.POP3, Host: "pop.d01.test", Port: 995, Security: detect.SecurityTLS},
				},
				Notes: detect.ProviderNotes{MaxConnections: sc.published}}}}
		}
		opts := func(m *batchtest.Meter) detect.Options {
			return detect.Options{Dialer: m, Resolver: office.Net, ExtraRoots: []*x509.Certificate{office.CA.Cert},
				CaptivePortalURL: "off", Timeout: 10 * time.Second, Providers: db}
		}

		// The batch.
		m := batchtest.NewMeter(office.Net, nil)
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
		if p > limit {
			t.Errorf("%s: a provider saw %d connections at once, limit %d", sc.name, p, limit)
		}
		rows = append(rows, row{sc.name, "batch (one matrix per domain)", len(clients), took, peak, extra, m.Total(), p, limit})

		// A whole check per client, four at once (the batch before this one).
		m = batchtest.NewMeter(office.Net, nil)
		took, peak, extra = measure(func() {
			if sc.published > 0 {
				return // the same servers as the list before; not measured again
			}
			sem := make(chan struct{}, 4)
			var wg sync.WaitGroup
			for _, c := range clients {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					o := opts(m)
					o.Password = c.Password
					if rep, err := detect.Run(context.Background(), c.Address, o); err != nil || rep.Recommended.Incoming == nil || !rep.Recommended.Incoming.Verified {
						t.Errorf("whole check of %s failed: %v", c.Address, err)
					}
				}()
			}
			wg.Wait()
		})
		_, p = m.MaxPeak()
		rows = append(rows, row{sc.name, "whole check per client, 4 at once", len(clients), took, peak, extra, m.Total(), p, 0})

		// The single check, one client after another.
		m = batchtest.NewMeter(office.Net, nil)
		took, peak, extra = measure(func() {
			for _, c := range clients {
				o := opts(m)
				o.Password = c.Password
				if rep, err := detect.Run(context.Background(), c.Address, o); err != nil || rep.Recommended.Incoming == nil || !rep.Recommended.Incoming.Verified {
					t.Errorf("single check of %s failed: %v", c.Address, err)
				}
			}
		})
		_, p = m.MaxPeak()
		rows = append(rows, row{sc.name, "single checks one after another", len(clients), took, peak, extra, m.Total(), p, 0})
		office.Close()
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\n%-24s %-34s %9s %12s %8s %11s %12s %s\n", "list", "how", "time", "clients/min", "speed-up", "peak heap", "connections", "most at once per provider")
	for i, r := range rows {
		if r.took < time.Millisecond {
			continue
		}
		base := rows[i-i%3+2].took
		speedup := float64(base) / float64(r.took)
		limit := ""
		if r.limit > 0 {
			limit = fmt.Sprintf(" (limit %d)", r.limit)
		}
		fmt.Fprintf(&b, "%-24s %-34s %9s %12.0f %7.1fx %6.0f MB +%-4.0f %12d %d%s\n", r.name, r.how, r.took.Round(time.Millisecond),
			float64(r.clients)/r.took.Minutes(), speedup, r.peakMB, r.extra, r.conns, r.peak, limit)
		// The target is for the two lists; a provider that publishes a lower limit
		// than DefaultLimit gets fewer addresses at once, and the row shows what that costs.
		if i%3 == 0 && speedup < 10 && r.limit == batch.DefaultLimit {
			t.Errorf("%s: the batch is %.1f× faster than single checks one after another, target 10×", r.name, speedup)
		}
	}
	fmt.Print(b.String())
}

// measure runs f and returns how long it took, the peak of the Go heap and stacks in use
// while it ran (sampled every 5 ms; the in-process servers count too) and that peak above
// the level before f.
func measure(f func()) (took time.Duration, peakMB, extraMB float64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.HeapInuse + ms.StackInuse
	peak := before
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse+ms.StackInuse)
			}
		}
	}()
	start := time.Now()
	f()
	took = time.Since(start)
	close(stop)
	<-done
	return took, float64(peak) / (1 << 20), float64(peak-before) / (1 << 20)
}
