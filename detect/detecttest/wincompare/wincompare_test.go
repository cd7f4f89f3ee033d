package wincompare

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/detecttest"
)

func TestDiff(t *testing.T) {
	t.Parallel()
	v := Volatile{Keys: []string{"elapsed_ms"}, Paths: []string{"meta.version", "network.dns_servers"}}
	tests := []struct {
		name string
		a, b string
		want []string
	}{
		{"equal", `{"a":1,"b":["x","y"],"c":{"d":true}}`, `{"c":{"d":true},"b":["x","y"],"a":1}`, nil},
		{"volatile key anywhere", `{"elapsed_ms":1,"p":[{"elapsed_ms":5,"s":"ok"}]}`, `{"elapsed_ms":9,"p":[{"elapsed_ms":7,"s":"ok"}]}`, nil},
		{"volatile path", `{"meta":{"version":"1","x":1},"network":{"dns_servers":["1.1.1.1"]}}`, `{"meta":{"version":"2","x":1},"network":{"dns_servers":[]}}`, nil},
		{"volatile path only there", `{"version":"1"}`, `{"version":"2"}`, []string{`version: "1" vs "2"`}},
		{"value", `{"p":[{"s":"ok"}]}`, `{"p":[{"s":"refused"}]}`, []string{`p[0].s: "ok" vs "refused"`}},
		{"missing field", `{"a":1,"b":2}`, `{"a":1}`, []string{`b: 2 vs absent`}},
		{"extra element", `{"a":[1]}`, `{"a":[1,2]}`, []string{`a[1]: absent vs 2`}},
		{"order matters", `{"a":["x","y"]}`, `{"a":["y","x"]}`, []string{`a[0]: "x" vs "y"`, `a[1]: "y" vs "x"`}},
		{"number as written", `{"n":1}`, `{"n":1.0}`, []string{`n: 1 vs 1.0`}},
		{"string vs number", `{"n":"1"}`, `{"n":1}`, []string{`n: "1" vs 1`}},
		{"null vs object", `{"c":null}`, `{"c":{"x":1}}`, []string{`c: null vs {"x":1}`}},
		{"long strings differ late", `{"s":"` + strings.Repeat("a", 300) + `b"}`, `{"s":"` + strings.Repeat("a", 300) + `c"}`, []string{`s: "` + strings.Repeat("a", 156) + `... vs "` + strings.Repeat("a", 156) + `...`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Diff([]byte(tt.a), []byte(tt.b), v)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Diff = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := Diff([]byte(`{"a":1}{"b":2}`), []byte(`{}`), v); err == nil {
		t.Error("Diff of two concatenated documents: no error")
	}
}

// TestDiffReportVolatile: what ReportVolatile forgives, and what it still catches.
func TestDiffReportVolatile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b string
		want []string
	}{
		{"apop challenge", `{"banner":"ready <84615.1@pop.test>"}`, `{"banner":"ready <1997.1@pop.test>"}`, nil},
		{"message id", `{"t":["Message-ID: <mailsetup-0a1b@wire.example>"]}`, `{"t":["Message-ID: <mailsetup-99ff@wire.example>"]}`, nil},
		{"address in brackets", `{"t":["C: MAIL FROM:<ann@wire.example>"]}`, `{"t":["C: MAIL FROM:<bob@wire.example>"]}`, []string{`t[0]: "C: MAIL FROM:\u003cann@wire.example\u003e" vs "C: MAIL FROM:\u003cbob@wire.example\u003e"`}},
		{"dovecot timing", `{"t":["S: T3 OK Logout completed (0.001 + 0.000 secs)."]}`, `{"t":["S: T3 OK Logout completed (0.012 + 0.000 + 0.004 secs)."]}`, nil},
		{"session resumed", `{"transcript":["-- TLS 1.3 established (session resumed)"]}`, `{"transcript":["-- TLS 1.3 established"]}`, nil},
		{"refused, wine's words", `{"error":"dial tcp 127.1.2.3:25: connect: connection refused"}`, `{"error":"dial tcp 127.1.2.3:25: connectex: Connection refused."}`, nil},
		{"refused, Windows' words", `{"error":"dial tcp 127.1.2.3:25: connect: connection refused"}`, `{"error":"dial tcp 127.1.2.3:25: connectex: No connection could be made because the target machine actively refused it."}`, nil},
		{"other error wording differs", `{"error":"connect: connection refused"}`, `{"error":"connectex: network is unreachable"}`, []string{`error: "connect: connection refused" vs "connect: network is unreachable"`}},
		{"resolver named", `{"e":"lookup a.test on 10.0.0.1:53: no such host"}`, `{"e":"lookup a.test on [fd00::1]:53: no such host"}`, nil},
		{"interleaving", `{"transcript":["C: A1 LOGOUT","C: A2 NOOP","S: * BYE","S: A1 OK"]}`, `{"transcript":["C: A1 LOGOUT","S: * BYE","S: A1 OK","C: A2 NOOP"]}`, nil},
		{"tags taken in another order", `{"transcript":["C: T3 LOGOUT","C: T4 CAPABILITY","S: * BYE","S: T3 OK Logout completed","S: * CAPABILITY IMAP4rev1","S: T4 OK Capability completed"]}`,
			`{"transcript":["C: T3 CAPABILITY","C: T4 LOGOUT","S: * CAPABILITY IMAP4rev1","S: T3 OK Capability completed","S: * BYE","S: T4 OK Logout completed"]}`, nil},
		{"cut short", `{"transcript":["-- connected to 127.0.0.1:465","C: A1 X","S: A1 OK","C: A2 CAPABILITY"]}`, `{"transcript":["C: A1 X"]}`, nil},
		{"empty vs some", `{"transcript":[]}`, `{"transcript":["-- connected to 127.0.0.1:465"]}`, nil},
		{"redacted matches", `{"transcript":["C: [redacted]","S: OK"]}`, `{"transcript":["C: T1 CAPABILITY","S: OK"]}`, nil},
		{"redacted on the longer side", `{"transcript":["C: T1 CAPABILITY"]}`, `{"transcript":["C: [redacted]","C: T2 AUTHENTICATE PLAIN [redacted]"]}`, nil},
		{"client line differs", `{"transcript":["C: EHLO a.test","C: QUIT"]}`, `{"transcript":["C: EHLO b.test","C: QUIT"]}`, []string{`transcript: client line "C: EHLO a.test" only in the first`}},
		{"server line differs", `{"transcript":["C: A1 X","S: A1 OK"]}`, `{"transcript":["C: A1 X","S: A1 NO"]}`, []string{`transcript: server line "S: \u003ctag\u003e OK" only in the first`}},
		{"missing line on the longer-less side", `{"transcript":["S: 220 hi","S: 250 ok"]}`, `{"transcript":["S: 220 hi","S: 250 ok","S: 221 bye"]}`, nil},
		{"repeat counted", `{"transcript":["S: 250 ok","S: 250 ok"]}`, `{"transcript":["S: 250 ok","S: 251 ok","S: 252 ok"]}`, []string{`transcript: server line "S: 250 ok" only in the first`}},
		{"status differs", `{"probes":[{"status":"refused","elapsed_ms":3}]}`, `{"probes":[{"status":"unreachable","elapsed_ms":9}]}`, []string{`probes[0].status: "refused" vs "unreachable"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Diff([]byte(tt.a), []byte(tt.b), ReportVolatile)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Diff = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDNSServer(t *testing.T) {
	t.Parallel()
	ip := netip.MustParseAddr("127.0.0.1")
	s, err := NewDNSServer(Zone{
		A:   map[string]netip.Addr{"mail.zone.test": ip},
		SRV: map[string][]SRV{"_imaps._tcp.zone.test": {{Target: "mail.zone.test", Port: 993}}},
		MX:  map[string][]string{"zone.test": {"mail.zone.test"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			t.Parallel()
			r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, s.Addr)
			}}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if got, err := r.LookupHost(ctx, "MAIL.zone.test"); err != nil || !slices.Equal(got, []string{"127.0.0.1"}) {
				t.Errorf("LookupHost = %v, %v; want [127.0.0.1]", got, err)
			}
			if _, srv, err := r.LookupSRV(ctx, "imaps", "tcp", "zone.test"); err != nil || len(srv) != 1 || srv[0].Target != "mail.zone.test." || srv[0].Port != 993 {
				t.Errorf("LookupSRV = %v, %v; want mail.zone.test.:993", srv, err)
			}
			if mx, err := r.LookupMX(ctx, "zone.test"); err != nil || len(mx) != 1 || mx[0].Host != "mail.zone.test." {
				t.Errorf("LookupMX = %v, %v; want mail.zone.test.", mx, err)
			}
			// Outside the zone: NXDOMAIN, never a forward to a real resolver.
			var dnsErr *net.DNSError
			if _, err := r.LookupHost(ctx, "example.com"); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
				t.Errorf("LookupHost(example.com) error = %v, want not found", err)
			}
			// The domain exists (records below it) but has no address.
			if got, err := r.LookupHost(ctx, "zone.test"); err == nil {
				t.Errorf("LookupHost(zone.test) = %v, want no address", got)
			}
		})
	}
}

// TestPublish runs the engine through a published World, the way the real binaries
// reach it: DNS from the Wire's server, connections to real loopback ports.
func TestPublish(t *testing.T) {
	t.Parallel()
	w := detecttest.StartWorld(t, "wire.example", "ann@wire.example", "ann-Pa55")
	wire, err := Publish(w, RandomLoopback())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wire.Close)
	if len(wire.Ports) != 4 {
		t.Errorf("published %v, want the world's 4 services", wire.Ports)
	}
	r := detect.DNSResolver(wire.DNS.Addr)
	opts := detect.Options{Resolver: r, Dialer: &net.Dialer{Resolver: r}, SkipNetwork: true,
		ExtraRoots: []*x509.Certificate{w.CA.Cert}, Password: "ann-Pa55", Timeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := detect.Run(ctx, "ann@wire.example", opts)
	if err != nil {
		t.Fatal(err)
	}
	o, in := rep.Recommended.Outgoing, rep.Recommended.Incoming
	if o == nil || !o.Verified || o.Host != "smtp.wire.example" || o.Port != wire.Ports["smtp.wire.example:465"] {
		t.Errorf("outgoing = %+v, want smtp.wire.example:%d verified", o, wire.Ports["smtp.wire.example:465"])
	}
	if in == nil || !in.Verified || in.Protocol != detect.IMAP {
		t.Errorf("incoming = %+v, want IMAP verified", in)
	}

	if _, err := Publish(w, netip.MustParseAddr("192.0.2.1")); err == nil {
		t.Error("Publish on a non-loopback address: no error")
	}
}
