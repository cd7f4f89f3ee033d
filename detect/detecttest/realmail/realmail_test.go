//go:build linux

package realmail

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
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

// xoauth2 is the smallest XOAUTH2 client, so this test needs nothing of detect/oauth.
type xoauth2 struct{ user, token string }

func (x xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}
func (x xoauth2) Next([]byte) ([]byte, error) { return nil, errors.New("rejected") }

// The OAuth2 mode: Dovecot asks an introspection endpoint (here a stub) about bearer
// tokens, with the credentials in the URL as Basic auth; password logins still work.
func TestStartServersOAuth2(t *testing.T) {
	t.Parallel()
	var asked atomic.Int32
	intro := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		id, secret, ok := r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		if !ok || id != "dovecot" || secret != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.PostFormValue("token") == "good-token" {
			w.Write([]byte(`{"active":true,"email":"alice@oauth2.test","scope":"mail"}`))
			return
		}
		w.Write([]byte(`{"active":false}`))
	}))
	t.Cleanup(intro.Close)
	u, _ := url.Parse(intro.URL + "/introspect")
	u.User = url.UserPassword("dovecot", "s3cret")
	s := Start(t, Config{Setup: Modern, Domain: "oauth2.test", Users: map[string]string{"alice": "pw-alice"},
		OAuth2: &OAuth2{IntrospectionURL: u.String(), Scope: "mail"}})

	pool := x509.NewCertPool()
	pool.AddCert(s.CA.Cert)
	tlsConfig := &tls.Config{RootCAs: pool, ServerName: s.Host}
	login := func(a sasl.Client) error {
		c, err := imapclient.DialTLS("127.0.0.1:"+strconv.Itoa(s.Ports["imaps"]), &imapclient.Options{TLSConfig: tlsConfig})
		if err != nil {
			return err
		}
		defer c.Close()
		if !c.Caps().Has("AUTH=XOAUTH2") || !c.Caps().Has("AUTH=OAUTHBEARER") {
			t.Errorf("capabilities %v lack AUTH=XOAUTH2 or AUTH=OAUTHBEARER", c.Caps())
		}
		return c.Authenticate(a)
	}
	tests := []struct {
		name string
		sasl sasl.Client
		ok   bool
	}{
		{"password", sasl.NewPlainClient("", "alice@oauth2.test", "pw-alice"), true},
		{"good token", xoauth2{"alice@oauth2.test", "good-token"}, true},
		{"bad token", xoauth2{"alice@oauth2.test", "bad-token"}, false},
	}
	for _, tt := range tests {
		if err := login(tt.sasl); (err == nil) != tt.ok {
			t.Errorf("%s: login error %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	if asked.Load() != 2 {
		t.Errorf("introspection asked %d times, want 2 (the tokens only)", asked.Load())
	}
}
