package clientconfig

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const full = `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.com">
    <domain>Example.COM</domain>
    <domain>example.net.</domain>
    <domain>example.com</domain>
    <displayName>  Example
      Mail </displayName>
    <incomingServer type="imap">
      <hostname>IMAP.example.com</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>OAuth2</authentication>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname>
      <port>143</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%.%EMAILDOMAIN%</username>
      <authentication>password-encrypted</authentication>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.example.com</hostname>
      <port>110</port>
      <socketType>plain</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>plain</authentication>
    </incomingServer>
    <incomingServer type="ews">
      <url>https://example.com/ews</url>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.com</hostname>
      <port>25</port>
      <socketType>plain</socketType>
      <authentication>none</authentication>
      <restriction>client-IP-address</restriction>
    </outgoingServer>
    <documentation url="https://help.example.com/mail"><descr>Help</descr></documentation>
    <documentation url="javascript:alert(1)"/>
  </emailProvider>
  <oAuth2>
    <issuer>Login.Example.com</issuer>
    <scope>mail offline</scope>
    <authURL>https://login.example.com/auth</authURL>
    <tokenURL>https://login.example.com/token</tokenURL>
  </oAuth2>
  <enable visiturl="https://example.com/settings">
    <instruction>Turn IMAP on.</instruction>
    <instruction lang="de">IMAP einschalten.</instruction>
  </enable>
</clientConfig>`

func TestParseFull(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		ID:          "example.com",
		DisplayName: "Example Mail",
		Domains:     []string{"example.com", "example.net"},
		Incoming: []Server{
			{Type: "imap", Hostname: "imap.example.com", Port: 993, SocketType: SocketSSL, Username: "%EMAILLOCALPART%", Authentication: []string{AuthOAuth2, AuthCleartext}},
			{Type: "imap", Hostname: "imap.%EMAILDOMAIN%", Port: 143, SocketType: SocketSTARTTLS, Username: "%EMAILLOCALPART%.%EMAILDOMAIN%", Authentication: []string{AuthEncrypted}},
			{Type: "pop3", Hostname: "pop.example.com", Port: 110, SocketType: SocketPlain, Username: "%EMAILADDRESS%", Authentication: []string{AuthCleartext}},
		},
		Outgoing: []Server{
			{Type: "smtp", Hostname: "smtp.example.com", Port: 25, SocketType: SocketPlain, Authentication: []string{AuthNone}, Restriction: AuthClientIP},
		},
		OAuth2:        &OAuth2{Issuer: "login.example.com", Scope: []string{"mail", "offline"}, AuthURL: "https://login.example.com/auth", TokenURL: "https://login.example.com/token"},
		Enable:        &Enable{VisitURL: "https://example.com/settings", Instructions: []string{"Turn IMAP on.", "IMAP einschalten."}},
		Documentation: []string{"https://help.example.com/mail"},
		Skipped:       []string{`incomingServer type "ews": not a protocol this program uses`},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", c, want)
	}
	if got, want := Expand(c.Incoming[1].Username, "jane", "example.net"), "jane.example.net"; got != want {
		t.Errorf("Expand = %q, want %q", got, want)
	}
}

// withIMAP wraps one incomingServer element in a document that has one good server too.
func withIMAP(body string) string {
	return `<clientConfig version="1.1"><emailProvider id="x"><domain>x.test</domain>
<incomingServer type="imap">` + body + `</incomingServer>
<outgoingServer type="smtp"><hostname>smtp.x.test</hostname><port>465</port><socketType>SSL</socketType></outgoingServer>
</emailProvider></clientConfig>`
}

func TestParseSkipsBadServers(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body, want string }{
		{"port too big", `<hostname>imap.x.test</hostname><port>99999</port><socketType>SSL</socketType>`, "out of range"},
		{"port not a number", `<hostname>imap.x.test</hostname><port>993a</port><socketType>SSL</socketType>`, "out of range"},
		{"negative port", `<hostname>imap.x.test</hostname><port>-1</port><socketType>SSL</socketType>`, "out of range"},
		{"unknown socket type", `<hostname>imap.x.test</hostname><port>993</port><socketType>QUIC</socketType>`, "socketType"},
		{"IP literal with port", `<hostname>[::1]:993</hostname><port>993</port><socketType>SSL</socketType>`, "not a host name"},
		{"space in host", `<hostname>imap x.test</hostname><port>993</port><socketType>SSL</socketType>`, "not a host name"},
		{"control character in host", "<hostname>imap.x&#9;.test</hostname><port>993</port><socketType>SSL</socketType>", "not a host name"},
		{"unicode host", `<hostname>imap.bücher.test</hostname><port>993</port><socketType>SSL</socketType>`, "not a host name"},
		{"two hostnames", `<hostname>a.x.test</hostname><hostname>b.x.test</hostname><port>993</port><socketType>SSL</socketType>`, "want one hostname"},
		{"no hostname", `<port>993</port><socketType>SSL</socketType>`, "want one hostname"},
		{"control character in user name", "<hostname>imap.x.test</hostname><port>993</port><socketType>SSL</socketType><username>a&#9;b&#10;</username>", "control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse([]byte(withIMAP(tt.body)))
			if err != nil {
				t.Fatalf("Parse: %v (the SMTP server is good)", err)
			}
			if len(c.Incoming) != 0 {
				t.Errorf("bad server accepted: %+v", c.Incoming)
			}
			if len(c.Skipped) != 1 || !strings.Contains(c.Skipped[0], tt.want) {
				t.Errorf("Skipped = %q, want one line mentioning %q", c.Skipped, tt.want)
			}
			for _, s := range c.Skipped {
				if strings.ContainsFunc(s, isControl) {
					t.Errorf("Skipped line holds a control character: %q", s)
				}
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>` +
		`<clientConfig><emailProvider id="x"><domain>&lol3;</domain></emailProvider></clientConfig>`
	external := `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
		`<clientConfig><emailProvider id="x"><domain>&xxe;</domain></emailProvider></clientConfig>`
	deep := "<clientConfig>" + strings.Repeat("<a>", 20000) + strings.Repeat("</a>", 20000) + "</clientConfig>"
	tests := []struct {
		name, doc string
		want      error
	}{
		{"not XML", "hello", ErrFormat},
		{"HTML page", "<html><body>Not found</body></html>", ErrFormat},
		{"empty", "", ErrFormat},
		{"two providers", `<clientConfig><emailProvider id="a"/><emailProvider id="b"/></clientConfig>`, ErrFormat},
		{"no server", `<clientConfig><emailProvider id="a"><domain>a.test</domain></emailProvider></clientConfig>`, ErrNoServers},
		{"only unusable servers", `<clientConfig><emailProvider id="a"><incomingServer type="exchange"><hostname>a.test</hostname></incomingServer></emailProvider></clientConfig>`, ErrNoServers},
		{"billion laughs", laughs, ErrFormat},
		{"external entity", external, ErrFormat},
		{"deep nesting", deep, ErrFormat},
		{"escape character", "<clientConfig><emailProvider><domain>a&#x1b;[2J</domain></emailProvider></clientConfig>", ErrFormat},
		{"other charset", `<?xml version="1.0" encoding="ISO-8859-1"?><clientConfig/>`, ErrFormat},
		{"too many domains", "<clientConfig><emailProvider>" + strings.Repeat("<domain>a.test</domain>", maxDomains+1) + "</emailProvider></clientConfig>", ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			c, err := Parse([]byte(tt.doc))
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse = %+v, %v; want %v", c, err, tt.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Parse took %v", d)
			}
		})
	}
}

func TestParseOAuth2Checked(t *testing.T) {
	t.Parallel()
	doc := strings.Replace(full, "https://login.example.com/token", "http://login.example.com/token", 1)
	c, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if c.OAuth2 != nil {
		t.Errorf("OAuth2 with an http token URL accepted: %+v", c.OAuth2)
	}
	if !strings.Contains(strings.Join(c.Skipped, "\n"), "oAuth2") {
		t.Errorf("Skipped = %q, want the oAuth2 element named", c.Skipped)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(full))
	f.Add([]byte(withIMAP(`<hostname>imap.x.test</hostname><port>993</port><socketType>SSL</socketType>`)))
	f.Add([]byte(`<clientConfig><emailProvider><incomingServer type="pop3"><hostname>%EMAILDOMAIN%</hostname><port>995</port><socketType>ssl</socketType></incomingServer></emailProvider></clientConfig>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		for _, s := range append(append([]Server(nil), c.Incoming...), c.Outgoing...) {
			if s.Port < 1 || s.Port > 65535 {
				t.Fatalf("port %d accepted", s.Port)
			}
			if !validHost(strings.ReplaceAll(s.Hostname, "%EMAILDOMAIN%", "example.org")) {
				t.Fatalf("host %q accepted", s.Hostname)
			}
			switch s.SocketType {
			case SocketSSL, SocketSTARTTLS, SocketPlain:
			default:
				t.Fatalf("socket type %q accepted", s.SocketType)
			}
			if strings.ContainsFunc(s.Username, isControl) {
				t.Fatalf("user name %q accepted", s.Username)
			}
		}
		for _, d := range c.Domains {
			if !validHost(d) {
				t.Fatalf("domain %q accepted", d)
			}
		}
	})
}
