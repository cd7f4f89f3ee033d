//go:build linux

package realmail

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStartServers(t *testing.T) {
	t.Parallel()
	for _, setup := range []Setup{Modern, Legacy} {
		t.Run(string(setup), func(t *testing.T) {
			t.Parallel()
			s := Start(t, Config{Setup: setup, Domain: string(setup) + ".test", Users: map[string]string{"alice": "pw-" + string(setup)}})
			t.Logf("%s started in %v, ports %v", setup, s.Startup, s.Ports)
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.Ports["submission"]), 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			r := bufio.NewReader(c)
			banner, _ := r.ReadString('\n')
			if !strings.HasPrefix(banner, "220 mail."+string(setup)+".test ESMTP") {
				t.Fatalf("banner %q", banner)
			}
			c.Write([]byte("EHLO test\r\n"))
			var ehlo strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				ehlo.WriteString(l)
				if strings.HasPrefix(l, "250 ") {
					break
				}
			}
			got := ehlo.String()
			switch setup {
			case Modern:
				if !strings.Contains(got, "STARTTLS") || strings.Contains(got, "AUTH") {
					t.Errorf("modern submission before TLS must offer STARTTLS and no AUTH:\n%s", got)
				}
			case Legacy:
				if !strings.Contains(got, "CRAM-MD5") || strings.Contains(got, "STARTTLS") {
					t.Errorf("legacy must offer CRAM-MD5 and no STARTTLS:\n%s", got)
				}
			}
			r2 := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, s.DNS)
			}}
			mx, err := r2.LookupMX(context.Background(), string(setup)+".test")
			if err != nil || len(mx) != 1 || mx[0].Host != s.Host+"." {
				t.Errorf("MX = %v, %v", mx, err)
			}
			_, srv, err := r2.LookupSRV(context.Background(), "imap", "tcp", string(setup)+".test")
			if err != nil || len(srv) != 1 || int(srv[0].Port) != s.Ports["imap"] {
				t.Errorf("SRV = %v, %v", srv, err)
			}
		})
	}
}
