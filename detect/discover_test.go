package detect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect/detecttest"
)

const sampleClientConfig = `<?xml version="1.0"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname><port>993</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.example.test</hostname><port>110</port><socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username><authentication>password-encrypted</authentication>
    </incomingServer>
    <incomingServer type="exchange"><hostname>ews.example.test</hostname></incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.test</hostname><port>465</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </outgoingServer>
    <outgoingServer type="smtp">
      <hostname>bad host</hostname><port>587</port><socketType>STARTTLS</socketType>
    </outgoingServer>
  </emailProvider>
</clientConfig>`

func testAddr(t *testing.T) Address {
	t.Helper()
	a, err := ParseAddress("Me@example.test")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestParseClientConfig(t *testing.T) {
	t.Parallel()
	got, err := ParseClientConfig([]byte(sampleClientConfig), testAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []Candidate{
		{Protocol: IMAP, Host: "imap.example.test", Port: 993, Security: SecurityTLS, Username: "Me@example.test", Auth: "password-cleartext"},
		{Protocol: POP3, Host: "pop.example.test", Port: 110, Security: SecurityStartTLS, Username: "Me", Auth: "password-encrypted"},
		{Protocol: SMTP, Host: "smtp.example.test", Port: 465, Security: SecurityTLS, Username: "Me@example.test", Auth: "password-cleartext"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d candidates %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("candidate %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"", "<html>nope</html>", "<clientConfig><emailProvider></emailProvider></clientConfig>", "<clientConfig><emailProvider><incomingServer type=\"imap\"><port>99999</port>"} {
		if _, err := ParseClientConfig([]byte(bad), testAddr(t)); err == nil {
			t.Errorf("ParseClientConfig(%q) accepted", bad)
		}
	}
}

// Documents are hostile input: IP addresses and single-label names are no servers, a
// user name with a line break would smuggle a command, and thousands of servers are cut.
func TestParseClientConfigHostile(t *testing.T) {
	t.Parallel()
	server := func(host, user string) string {
		return fmt.Sprintf(`<incomingServer type="imap"><hostname>%s</hostname><port>993</port><socketType>SSL</socketType><username>%s</username></incomingServer>`, host, user)
	}
	doc := func(servers ...string) []byte {
		return []byte(`<clientConfig version="1.1"><emailProvider id="x">` + strings.Join(servers, "") + `</emailProvider></clientConfig>`)
	}
	if _, err := ParseClientConfig(doc(server("192.168.1.1", "u"), server("10.0.0.1.", "u"), server("router", "u"), server("[::1]", "u")), testAddr(t)); err == nil {
		t.Error("a document of IP addresses and bare words gave servers")
	}
	got, err := ParseClientConfig(doc(server("imap.example.test", "me&#13;&#10;QUIT")), testAddr(t))
	if err != nil || len(got) != 1 || got[0].Username != "" {
		t.Errorf("user name with CR/LF: %+v, %v", got, err)
	}
	var many []string
	for i := 0; i < 4145; i++ {
		many = append(many, server(fmt.Sprintf("imap%d.example.test", i), "u"))
	}
	got, err = ParseClientConfig(doc(many...), testAddr(t))
	if len(got) != maxDocServers || !errors.Is(err, ErrTooManyServers) {
		t.Errorf("4145 servers: kept %d, err %v", len(got), err)
	}
}

func FuzzParseClientConfig(f *testing.F) {
	f.Add([]byte(sampleClientConfig))
	f.Add([]byte("<clientConfig><emailProvider><outgoingServer type='smtp'><hostname>%EMAILDOMAIN%</hostname><port>1</port><socketType>plain</socketType></outgoingServer></emailProvider></clientConfig>"))
	f.Add([]byte("<clientConfig><emailProvider><incomingServer type=\"imap\"><hostname>x</hostname>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a := Address{Local: "me", Domain: "example.test", DomainUnicode: "example.test"}
		cands, err := ParseClientConfig(data, a)
		if err != nil {
			return
		}
		for _, c := range cands {
			if c.Port < 1 || c.Port > 65535 || !validHostname(c.Host) {
				t.Fatalf("invalid candidate accepted: %+v", c)
			}
		}
	})
}

// autoconfigServer serves body at the autoconfig path over HTTPS for the given names.
func autoconfigServer(t *testing.T, e *testEnv, handler http.Handler, tlsNames ...string) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(handler)
	if len(tlsNames) > 0 {
		srv.TLS = detecttest.ServerTLS(e.cert(t, detecttest.CertOpts{}, tlsNames...))
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func TestDiscoverSources(t *testing.T) {
	t.Parallel()
	db := &ProviderDB{Providers: []Provider{
		{ID: "known", Name: "Known Mail", Domains: []string{"known.test"}, Username: "localpart",
			Servers: []ProviderServer{{Protocol: SMTP, Host: "smtp.known.test", Port: 465, Security: SecurityTLS}, {Protocol: IMAP, Host: "imap.known.test", Port: 993, Security: SecurityTLS}}},
		{ID: "workspace", Name: "Google Workspace", MXSuffixes: []string{"google.com"},
			Servers: []ProviderServer{{Protocol: SMTP, Host: "smtp.gmail.com", Port: 465, Security: SecurityTLS}}},
	}}
	tests := []struct {
		name      string
		address   string
		setup     func(t *testing.T, e *testEnv)
		wantFound map[string]bool
		wantFirst string // "proto host port security" of the first merged candidate
		wantProv  string
		check     func(t *testing.T, res []SourceResult, cands []Candidate)
	}{
		{
			name: "provider by domain", address: "me@known.test",
			wantFound: map[string]bool{SourceProviders: true},
			wantFirst: "smtp smtp.known.test 465 tls", wantProv: "known",
			check: func(t *testing.T, res []SourceResult, cands []Candidate) {
				if cands[0].Username != "me" {
					t.Errorf("username = %q, want the local part", cands[0].Username)
				}
			},
		},
		{
			name: "autoconfig over https", address: "me@example.test",
			setup: func(t *testing.T, e *testEnv) {
				addr := autoconfigServer(t, e, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path != "/mail/config-v1.1.xml" || r.URL.Query().Get("emailaddress") != "me@example.test" {
						http.NotFound(w, r)
						return
					}
					w.Write([]byte(sampleClientConfig))
				}), "autoconfig.example.test")
				e.net.Route("autoconfig.example.test", 443, addr)
			},
			wantFound: map[string]bool{SourceAutoconfig: true},
			wantFirst: "imap imap.example.test 993 tls",
		},
		{
			name: "autoconfig falls back to http .well-known", address: "me@example.test",
			setup: func(t *testing.T, e *testEnv) {
				addr := autoconfigServer(t, e, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path != "/.well-known/autoconfig/mail/config-v1.1.xml" {
						http.NotFound(w, r)
						return
					}
					w.Write([]byte(sampleClientConfig))
				}))
				e.net.Route("example.test", 80, addr)
				e.net.Route("autoconfig.example.test", 80, addr)
			},
			wantFound: map[string]bool{SourceAutoconfig: true},
			check: func(t *testing.T, res []SourceResult, cands []Candidate) {
				if !strings.Contains(res[2].Detail, "http://example.test/.well-known/autoconfig/mail/config-v1.1.xml: found (autoconfig_http)") {
					t.Errorf("detail = %s", res[2].Detail)
				}
			},
		},
		{
			name: "autoconfig: oversize body, redirect loop, 404 are all reported", address: "me@example.test",
			setup: func(t *testing.T, e *testEnv) {
				addr := autoconfigServer(t, e, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					switch r.URL.Path {
					case "/mail/config-v1.1.xml":
						w.Write([]byte(strings.Repeat("<a>", maxAutoconfigBody)))
					default:
						http.Redirect(w, r, r.URL.String(), http.StatusFound)
					}
				}), "autoconfig.example.test", "example.test")
				e.net.Route("autoconfig.example.test", 443, addr)
				e.net.Route("example.test", 443, addr)
			},
			wantFound: map[string]bool{SourceAutoconfig: false},
			check: func(t *testing.T, res []SourceResult, cands []Candidate) {
				d := res[2].Detail
				if !strings.Contains(d, "larger than") || !strings.Contains(d, "redirects") || res[2].Error == "" {
					t.Errorf("detail %q error %q", d, res[2].Error)
				}
			},
		},
		{
			name: "SRV records in priority order, '.' means not offered", address: "me@example.test",
			setup: func(t *testing.T, e *testEnv) {
				e.net.SRV("submission", "example.test", "backup.example.test", 587)
				e.net.SRV("imaps", "example.test", "imap.example.test", 993)
				e.net.SRV("pop3", "example.test", ".", 0)
			},
			wantFound: map[string]bool{SourceSRV: true},
			check: func(t *testing.T, res []SourceResult, cands []Candidate) {
				if !strings.Contains(res[4].Detail, "_pop3: not offered") {
					t.Errorf("detail = %q", res[4].Detail)
				}
				for _, c := range cands {
					if c.Protocol == POP3 {
						t.Errorf("a '.' target produced a candidate: %+v", c)
					}
				}
			},
		},
		{
			name: "custom domain hosted by Google found through MX", address: "me@example.test",
			setup: func(t *testing.T, e *testEnv) {
				e.net.MX("example.test", "aspmx.l.google.com", "alt1.aspmx.l.google.com")
			},
			wantFound: map[string]bool{SourceMX: true},
			wantFirst: "smtp smtp.gmail.com 465 tls", wantProv: "workspace",
		},
		{
			name: "autoconfig of the MX host's domain", address: "me@example.test",
			setup: func(t *testing.T, e *testEnv) {
				e.net.MX("example.test", "mx1.hoster.test")
				addr := autoconfigServer(t, e, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(sampleClientConfig)) }), "autoconfig.hoster.test")
				e.net.Route("autoconfig.hoster.test", 443, addr)
			},
			wantFound: map[string]bool{SourceMX: true, SourceAutoconfig: false},
		},
		{
			name: "guessing keeps only names that resolve, most specific first", address: "me@example.test",
			setup: func(t *testing.T, e *testEnv) {
				e.net.Host("mail.example.test")
				e.net.Host("smtp.example.test")
			},
			wantFound: map[string]bool{SourceGuess: true},
			wantFirst: "smtp smtp.example.test 465 tls",
			check: func(t *testing.T, res []SourceResult, cands []Candidate) {
				for _, c := range cands {
					if c.Host != "mail.example.test" && c.Host != "smtp.example.test" {
						t.Errorf("unresolvable guess kept: %+v", c)
					}
				}
			},
		},
		{
			name: "provider wins the merge over guesses", address: "me@known.test",
			setup:     func(t *testing.T, e *testEnv) { e.net.Host("smtp.known.test") },
			wantFound: map[string]bool{SourceProviders: true, SourceGuess: true},
			wantFirst: "smtp smtp.known.test 465 tls", wantProv: "known",
			check: func(t *testing.T, res []SourceResult, cands []Candidate) {
				n := 0
				for _, c := range cands {
					if c.Host == "smtp.known.test" && c.Port == 465 {
						n++
						if c.Source != SourceProviders {
							t.Errorf("duplicate kept from %s", c.Source)
						}
					}
				}
				if n != 1 {
					t.Errorf("smtp.known.test:465 appears %d times", n)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			e.opts.Providers = db
			if tt.setup != nil {
				tt.setup(t, e)
			}
			addr, err := ParseAddress(tt.address)
			if err != nil {
				t.Fatal(err)
			}
			res, cands, prov := e.opts.Discover(context.Background(), addr)
			names := []string{SourceProviders, SourceISPDB, SourceAutoconfig, SourceAutodiscover, SourceSRV, SourceMX, SourceGuess}
			if len(res) != len(names) {
				t.Fatalf("%d source results", len(res))
			}
			for i, r := range res {
				if r.Source != names[i] {
					t.Errorf("source %d = %q, want %q", i, r.Source, names[i])
				}
				if want, ok := tt.wantFound[r.Source]; ok && r.Found != want {
					t.Errorf("%s found = %v, want %v (detail %q, error %q)", r.Source, r.Found, want, r.Detail, r.Error)
				}
			}
			if tt.wantFirst != "" {
				if len(cands) == 0 {
					t.Fatal("no candidates")
				}
				c := cands[0]
				if got := strings.Join([]string{string(c.Protocol), c.Host, strconv.Itoa(c.Port), string(c.Security)}, " "); got != tt.wantFirst {
					t.Errorf("first candidate = %q, want %q", got, tt.wantFirst)
				}
			}
			gotProv := ""
			if prov != nil {
				gotProv = prov.ID
			}
			if gotProv != tt.wantProv {
				t.Errorf("provider = %q, want %q", gotProv, tt.wantProv)
			}
			if tt.check != nil {
				tt.check(t, res, cands)
			}
		})
	}
}

func TestDiscoverCancelReturnsPromptly(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.net.Drop("*", 443)
	e.net.Drop("*", 80)
	e.net.Host("autoconfig.example.test")
	e.net.Host("example.test")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	start := time.Now()
	res, _, _ := e.opts.Discover(ctx, testAddr(t))
	if d := time.Since(start); d > 400*time.Millisecond {
		t.Fatalf("Discover took %v after cancel", d)
	}
	if len(res) != 7 || res[1].Error == "" || res[2].Error == "" {
		t.Fatalf("results %+v", res)
	}
}
