package detect

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect/detecttest"
)

// smtpGreeter answers like an SMTP server: a greeting naming host, and an EHLO reply
// that lists STARTTLS when starttls is true.
func smtpGreeter(t *testing.T, host string, starttls bool) string {
	t.Helper()
	return scripted(t, func(c net.Conn) {
		r := bufio.NewReader(c)
		c.Write([]byte("220 " + host + " ESMTP\r\n"))
		if _, err := r.ReadString('\n'); err != nil {
			return
		}
		if starttls {
			c.Write([]byte("250-" + host + "\r\n250 STARTTLS\r\n"))
		} else {
			c.Write([]byte("250 " + host + "\r\n"))
		}
		r.ReadString('\n')
	})
}

func listener(t *testing.T) string {
	t.Helper()
	return scripted(t, func(c net.Conn) { time.Sleep(100 * time.Millisecond) })
}

func TestCheckNetworkVerdicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		targets   []string
		refs      []ReferenceHost
		providers []Provider
		setup     func(t *testing.T, n *detecttest.Net)
		want      Port25Verdict
		wantWords string
		maxTime   time.Duration
	}{
		{
			name: "blocked: 25 dropped while 587 answers", targets: []string{"smtp.example.test"},
			setup: func(t *testing.T, n *detecttest.Net) {
				n.Drop("smtp.example.test", 25)
				n.Route("smtp.example.test", 587, listener(t))
				n.Route("smtp.example.test", 465, listener(t))
			},
			want: Port25Blocked, wantWords: "smtp.example.test:25 stayed silent", maxTime: 3 * time.Second,
		},
		{
			name: "blocked: refused by several independent hosts", targets: []string{"smtp.a.test", "smtp.b.test"},
			setup: func(t *testing.T, n *detecttest.Net) {
				n.Host("smtp.a.test")
				n.Host("smtp.b.test")
				n.Route("smtp.a.test", 587, listener(t))
				n.Route("smtp.b.test", 465, listener(t))
			},
			want: Port25Blocked, wantWords: "refused the connection",
		},
		{
			name: "single refusal is not proof", targets: []string{"smtp.a.test"},
			setup: func(t *testing.T, n *detecttest.Net) {
				n.Host("smtp.a.test")
				n.Route("smtp.a.test", 587, listener(t))
			},
			want: Port25Unknown, wantWords: "may simply not offer it",
		},
		{
			name: "intercepted: greeting names someone else", targets: []string{"smtp.example.test"},
			setup: func(t *testing.T, n *detecttest.Net) {
				n.Route("smtp.example.test", 25, smtpGreeter(t, "proxy.hotel-isp.test", false))
			},
			want: Port25Intercepted, wantWords: "greeted as proxy.hotel-isp.test",
		},
		{
			name: "intercepted: different targets, same greeting", targets: []string{"smtp.a.test", "smtp.b.test"},
			setup: func(t *testing.T, n *detecttest.Net) {
				g := smtpGreeter(t, "mx.a.test", true)
				n.Route("smtp.a.test", 25, g)
				n.Route("smtp.b.test", 25, g)
			},
			want: Port25Intercepted, wantWords: "same greeting",
		},
		{
			name: "intercepted: STARTTLS missing where it is known", refs: []ReferenceHost{{Host: "mx.bigmail.test", Ports: []int{25}, STARTTLS25: true, BannerSuffix: "bigmail.test"}},
			setup: func(t *testing.T, n *detecttest.Net) {
				n.Route("mx.bigmail.test", 25, smtpGreeter(t, "mx.bigmail.test", false))
			},
			want: Port25Intercepted, wantWords: "lacked it",
		},
		{
			name: "open", targets: []string{"smtp.example.test"}, refs: []ReferenceHost{{Host: "mx.bigmail.test", Ports: []int{25}, STARTTLS25: true, BannerSuffix: "bigmail.test"}},
			setup: func(t *testing.T, n *detecttest.Net) {
				n.Route("smtp.example.test", 25, smtpGreeter(t, "mail.example.test", true))
				n.Route("mx.bigmail.test", 25, smtpGreeter(t, "mx7.bigmail.test", true))
			},
			want: Port25Open,
		},
		{
			name: "unknown: everything dropped", targets: []string{"smtp.example.test"},
			setup: func(t *testing.T, n *detecttest.Net) {
				for _, p := range outboundPorts {
					n.Drop("smtp.example.test", p)
				}
			},
			want: Port25Unknown, wantWords: "offline", maxTime: 3 * time.Second,
		},
		{name: "unknown: nothing to compare", want: Port25Unknown, wantWords: "no host was tried"},
		{
			name: "open: smtp., mail. and the bare domain all reach one server", targets: []string{"smtp.example.test", "mail.example.test", "example.test"},
			setup: func(t *testing.T, n *detecttest.Net) {
				g := smtpGreeter(t, "mail.example.test", true)
				for _, h := range []string{"smtp.example.test", "mail.example.test", "example.test"} {
					n.Route(h, 25, g)
				}
			},
			want: Port25Open,
		},
		{
			name: "open: a hosted domain greets as its hoster on every port", targets: []string{"smtp.shop.test"},
			setup: func(t *testing.T, n *detecttest.Net) {
				g := smtpGreeter(t, "mx3.hoster.test", true)
				n.Route("smtp.shop.test", 25, g)
				n.Route("smtp.shop.test", 587, g)
			},
			want: Port25Open,
		},
		{
			name: "intercepted: port 25 greets unlike the host's own 587", targets: []string{"smtp.shop.test"},
			setup: func(t *testing.T, n *detecttest.Net) {
				n.Route("smtp.shop.test", 25, smtpGreeter(t, "proxy.hotel-isp.test", true))
				n.Route("smtp.shop.test", 587, smtpGreeter(t, "mx3.hoster.test", true))
			},
			want: Port25Intercepted, wantWords: "its port 587 greets as mx3.hoster.test",
		},
		{
			name: "intercepted: unrelated reference hosts greet alike", refs: []ReferenceHost{
				{Host: "mx.bigmail.test", Ports: []int{25}, BannerSuffix: "bigmail.test"},
				{Host: "mx.othermail.test", Ports: []int{25}, BannerSuffix: "othermail.test"}},
			providers: []Provider{{ID: "x", BannerSuffixes: []string{"relay.test"}}},
			setup: func(t *testing.T, n *detecttest.Net) {
				g := smtpGreeter(t, "mx.bigmail.test", true)
				n.Route("mx.bigmail.test", 25, g)
				n.Route("mx.othermail.test", 25, g)
			},
			want: Port25Intercepted, wantWords: "of unrelated domains, all gave the same greeting",
		},
		{
			name: "open: a provider greeting under its known banner domain", targets: []string{"smtp-mail.outlook.com"},
			providers: []Provider{{ID: "outlook", Domains: []string{"outlook.com"}, BannerSuffixes: []string{"office365.com"},
				Servers: []ProviderServer{{Protocol: SMTP, Host: "smtp-mail.outlook.com", Port: 587, Security: SecurityStartTLS}}}},
			setup: func(t *testing.T, n *detecttest.Net) {
				n.Route("smtp-mail.outlook.com", 25, smtpGreeter(t, "bn9pr03ca0123.outlook.office365.com", true))
			},
			want: Port25Open,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := detecttest.NewNet()
			if tt.setup != nil {
				tt.setup(t, n)
			}
			o := Options{Dialer: n, Resolver: n, CaptivePortalURL: "off", Providers: &ProviderDB{ReferenceHosts: tt.refs, Providers: tt.providers}}
			start := time.Now()
			got := o.CheckNetwork(context.Background(), tt.targets)
			elapsed := time.Since(start)
			if got.Port25 != tt.want {
				t.Fatalf("port25 = %s, want %s; evidence %q", got.Port25, tt.want, got.Port25Evidence)
			}
			if tt.wantWords != "" && !strings.Contains(strings.Join(got.Port25Evidence, "\n"), tt.wantWords) {
				t.Errorf("evidence %q lacks %q", got.Port25Evidence, tt.wantWords)
			}
			if tt.maxTime > 0 && elapsed > tt.maxTime {
				t.Errorf("verdict took %v, want ≤ %v", elapsed, tt.maxTime)
			}
			if elapsed > networkCap+500*time.Millisecond {
				t.Errorf("network section took %v", elapsed)
			}
			t.Logf("%s in %v", got.Port25, elapsed.Round(time.Millisecond))
			if len(got.Outbound) != len(outboundPorts) {
				t.Errorf("outbound map %v", got.Outbound)
			}
		})
	}
}

func TestCaptivePortal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"open network", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }, "false"},
		{"portal redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://login.hotel.test/", http.StatusFound)
		}, "true"},
		{"portal page", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>accept terms</html>")) }, "true"},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(tt.handler)
		n := detecttest.NewNet()
		n.Route("check.test", 80, srv.Listener.Addr().String())
		o := Options{Dialer: n, Resolver: n, CaptivePortalURL: "http://check.test/generate_204"}
		got := o.engine().captivePortal(context.Background())
		srv.Close()
		gotS := "nil"
		if got != nil {
			gotS = map[bool]string{true: "true", false: "false"}[*got]
		}
		if gotS != tt.want {
			t.Errorf("%s: captive = %s, want %s", tt.name, gotS, tt.want)
		}
	}
	n := detecttest.NewNet()
	n.Drop("check.test", 80)
	n.Host("check.test")
	o := Options{Dialer: n, Resolver: n, CaptivePortalURL: "http://check.test/generate_204"}
	if got := o.engine().captivePortal(context.Background()); got != nil {
		t.Errorf("unreachable check = %v, want nil (unknown)", *got)
	}
}

func TestRunSkipsPort25WhenBlocked(t *testing.T) {
	t.Parallel()
	w := newExampleWorld(t)
	w.e.net.Drop(testHost, 25)
	opts := w.e.opts
	opts.SkipNetwork = false
	opts.CaptivePortalURL = "off"
	opts.Password = testPass
	opts.Timeout = 8 * time.Second
	start := time.Now()
	rep, err := Run(context.Background(), "me@example.test", opts)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("run took %v: it waited on port 25", d)
	}
	if rep.Network.Port25 != Port25Blocked {
		t.Fatalf("port25 = %s %q", rep.Network.Port25, rep.Network.Port25Evidence)
	}
	for _, p := range rep.Probes {
		if p.Port == 25 && (p.Status != StatusSkipped || p.Diagnosis.Kind != KindPort25Blocked) {
			t.Errorf("25/%s = %s %s", p.Security, p.Status, p.Diagnosis.Kind)
		}
	}
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "blocks outgoing port 25") {
		t.Errorf("warnings %q", rep.Warnings)
	}
}
