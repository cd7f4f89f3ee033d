package autodiscover

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// exchangeDoc is shaped like an Exchange answer for a mailbox that also has IMAP, POP3
// and SMTP turned on (the Outlook-only blocks come first).
const exchangeDoc = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User>
      <DisplayName>Jane Doe</DisplayName>
      <LegacyDN>/o=Example/ou=Exchange Administrative Group/cn=Recipients/cn=jane</LegacyDN>
      <AutoDiscoverSMTPAddress>jane@example.test</AutoDiscoverSMTPAddress>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol>
        <Type>EXCH</Type>
        <Server>ex01.example.test</Server>
        <ASUrl>https://mail.example.test/EWS/Exchange.asmx</ASUrl>
      </Protocol>
      <Protocol>
        <Type>EXPR</Type>
        <Server>mail.example.test</Server>
        <SSL>On</SSL>
        <AuthPackage>Ntlm</AuthPackage>
      </Protocol>
      <Protocol>
        <Type>WEB</Type>
        <Internal><OWAUrl AuthenticationMethod="Basic, Fba">https://mail.example.test/owa/</OWAUrl></Internal>
      </Protocol>
      <Protocol>
        <Type>IMAP</Type>
        <Server>Mail.Example.test.</Server>
        <Port>993</Port>
        <LoginName>EXAMPLE\jane</LoginName>
        <DomainRequired>on</DomainRequired>
        <DomainName>EXAMPLE</DomainName>
        <SPA>on</SPA>
        <SSL>on</SSL>
        <AuthRequired>on</AuthRequired>
      </Protocol>
      <Protocol>
        <Type>SMTP</Type>
        <Server>mail.example.test</Server>
        <Port>587</Port>
        <SPA>off</SPA>
        <Encryption>TLS</Encryption>
        <AuthRequired>on</AuthRequired>
        <UsePOPAuth>on</UsePOPAuth>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>`

// hosterDoc is shaped like what web hosters' Autodiscover generators serve: no
// namespace prefixes beyond the defaults, SSL and Encryption both given, SPA off.
const hosterDoc = `<?xml version="1.0" encoding="utf-8" ?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
<Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
<Account>
<AccountType>email</AccountType>
<Action>settings</Action>
<Protocol>
<Type>IMAP</Type>
<Server>imap.hoster.test</Server>
<Port>143</Port>
<DomainRequired>off</DomainRequired>
<LoginName>jane@example.test</LoginName>
<SPA>off</SPA>
<SSL>on</SSL>
<Encryption>Auto</Encryption>
<AuthRequired>on</AuthRequired>
</Protocol>
<Protocol>
<Type>POP3</Type>
<Server>pop.hoster.test</Server>
<Port>995</Port>
<LoginName>jane@example.test</LoginName>
<SPA>off</SPA>
<SSL>on</SSL>
<AuthRequired>on</AuthRequired>
</Protocol>
<Protocol>
<Type>SMTP</Type>
<Server>smtp.hoster.test</Server>
<Port>465</Port>
<LoginName>jane@example.test</LoginName>
<SPA>off</SPA>
<Encryption>SSL</Encryption>
<AuthRequired>on</AuthRequired>
<UsePOPAuth>on</UsePOPAuth>
<SMTPLast>off</SMTPLast>
</Protocol>
</Account>
</Response>
</Autodiscover>`

func TestParseDocuments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want *Result
	}{
		{"Exchange", exchangeDoc, &Result{
			DisplayName: "Jane Doe",
			Protocols: []Protocol{
				{Type: "IMAP", Server: "mail.example.test", Port: 993, LoginName: `EXAMPLE\jane`, DomainRequired: true, DomainName: "EXAMPLE",
					SPA: true, SSL: true, AuthRequired: true, Security: SecurityTLS},
				{Type: "SMTP", Server: "mail.example.test", Port: 587, SSL: true, Encryption: "TLS", AuthRequired: true, UsePOPAuth: true, Security: SecurityStartTLS},
			},
			Other: []string{"EXCH", "EXPR", "WEB"},
		}},
		{"hoster", hosterDoc, &Result{
			Protocols: []Protocol{
				{Type: "IMAP", Server: "imap.hoster.test", Port: 143, LoginName: "jane@example.test", SSL: true, Encryption: "Auto", AuthRequired: true, Security: SecurityAuto},
				{Type: "POP3", Server: "pop.hoster.test", Port: 995, LoginName: "jane@example.test", SSL: true, AuthRequired: true, Security: SecurityTLS},
				{Type: "SMTP", Server: "smtp.hoster.test", Port: 465, LoginName: "jane@example.test", SSL: true, Encryption: "SSL", AuthRequired: true, UsePOPAuth: true, Security: SecurityTLS},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// doc wraps Account content in a response.
func doc(account string) string {
	return `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="` +
		ResponseSchema + `"><Account><AccountType>email</AccountType>` + account + `</Account></Response></Autodiscover>`
}

// block is one IMAP Protocol block with the given elements.
func block(elems string) string {
	return doc("<Action>settings</Action><Protocol><Type>IMAP</Type>" + elems + "</Protocol>")
}

func TestParseDefaultsAndSecurity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		elems        string
		spa, ssl, ar bool
		sec          string
	}{
		{"<Server>a.example.test</Server><Port>993</Port>", true, true, true, SecurityTLS},
		{"<Server>a.example.test</Server><Port>143</Port>", true, true, true, SecurityStartTLS},
		{"<Server>a.example.test</Server><Port>1993</Port>", true, true, true, SecurityAuto},
		{"<Server>a.example.test</Server>", true, true, true, SecurityAuto},
		{"<Server>a.example.test</Server><Port>993</Port><SSL>off</SSL><SPA>OFF</SPA><AuthRequired>off</AuthRequired>", false, false, false, SecurityNone},
		{"<Server>a.example.test</Server><Port>993</Port><SSL>off</SSL><Encryption>ssl</Encryption>", true, false, true, SecurityTLS},
		{"<Server>a.example.test</Server><Port>143</Port><Encryption>None</Encryption>", true, true, true, SecurityNone},
	}
	for _, tt := range tests {
		r, err := Parse([]byte(block(tt.elems)))
		if err != nil {
			t.Errorf("%s: %v", tt.elems, err)
			continue
		}
		p := r.Protocols[0]
		if p.SPA != tt.spa || p.SSL != tt.ssl || p.AuthRequired != tt.ar || p.Security != tt.sec {
			t.Errorf("%s: SPA %v SSL %v AuthRequired %v Security %s; want %v %v %v %s", tt.elems, p.SPA, p.SSL, p.AuthRequired, p.Security, tt.spa, tt.ssl, tt.ar, tt.sec)
		}
	}
}

// TestParseHostileBlocks checks that a block a hostile or broken server could send is
// left out with a reason, never handed on.
func TestParseHostileBlocks(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, elems, want string }{
		{"huge port", "<Server>a.example.test</Server><Port>99999999999999999999</Port>", "out of range"},
		{"port 65536", "<Server>a.example.test</Server><Port>65536</Port>", "out of range"},
		{"negative port", "<Server>a.example.test</Server><Port>-993</Port>", "out of range"},
		{"port with text", "<Server>a.example.test</Server><Port>993; rm</Port>", "out of range"},
		{"IPv4 literal", "<Server>127.0.0.1</Server><Port>993</Port>", "IP address"},
		{"IPv6 literal", "<Server>::1</Server><Port>993</Port>", "IP address"},
		{"bracketed IPv6", "<Server>[fe80::1]</Server><Port>993</Port>", "IP address"},
		{"decimal IPv4", "<Server>2130706433.1</Server><Port>993</Port>", "IP address"},
		{"single label", "<Server>localhost</Server><Port>993</Port>", "fully qualified"},
		{"empty server", "<Server> </Server><Port>993</Port>", "empty"},
		{"host with port", "<Server>a.example.test:993</Server>", "not a host name"},
		{"URL as host", "<Server>https://a.example.test/</Server>", "not a host name"},
		{"unicode host", "<Server>mail.bücher.test</Server>", "not a host name"},
		{"tab in host", "<Server>mail.&#9;example.test</Server>", "not a host name"},
		{"newline in login", "<Server>a.example.test</Server><LoginName>jane&#10;AUTH PLAIN</LoginName>", "control characters"},
		{"C1 control in login", "<Server>a.example.test</Server><LoginName>jane\u0085x</LoginName>", "control characters"},
		{"long login", "<Server>a.example.test</Server><LoginName>" + strings.Repeat("j", 300) + "</LoginName>", "too long"},
		{"bad flag", "<Server>a.example.test</Server><SSL>yes</SSL>", "want on or off"},
		{"bad encryption", "<Server>a.example.test</Server><Encryption>STARTTLS</Encryption>", "want None, SSL, TLS or Auto"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Parse([]byte(block(tt.elems)))
			if !errors.Is(err, ErrNoSettings) {
				t.Fatalf("Parse error %v, want ErrNoSettings", err)
			}
			if len(r.Protocols) != 0 || len(r.Skipped) != 1 || !strings.Contains(r.Skipped[0], tt.want) {
				t.Errorf("Protocols %+v, Skipped %q; want the block skipped mentioning %q", r.Protocols, r.Skipped, tt.want)
			}
			for _, s := range r.Skipped {
				if strings.ContainsFunc(s, isControl) {
					t.Errorf("Skipped line holds a control character: %q", s)
				}
			}
		})
	}
}

func TestParseRedirectsAndErrors(t *testing.T) {
	t.Parallel()
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>` +
		`<Autodiscover><Response><User><DisplayName>&lol3;</DisplayName></User></Response></Autodiscover>`
	external := `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Autodiscover><Response><User><DisplayName>&xxe;</DisplayName></User></Response></Autodiscover>`
	deep := "<Autodiscover>" + strings.Repeat("<x>", 20000) + strings.Repeat("</x>", 20000) + "</Autodiscover>"
	many := doc("<Action>settings</Action>" + strings.Repeat("<Protocol><Type>IMAP</Type><Server>a.example.test</Server></Protocol>", maxProtocols+1))
	tests := []struct {
		name     string
		doc      string
		wantErr  error
		redirect *Redirect
	}{
		{"redirectAddr", doc("<Action>redirectAddr</Action><RedirectAddr> jane@other.test </RedirectAddr>"), nil, &Redirect{Kind: RedirectAddr, To: "jane@other.test"}},
		{"redirectUrl", doc("<Action>redirectUrl</Action><RedirectUrl>https://ad.other.test/autodiscover/autodiscover.xml</RedirectUrl>"), nil,
			&Redirect{Kind: RedirectURL, To: "https://ad.other.test/autodiscover/autodiscover.xml"}},
		{"redirectUrl over http", doc("<Action>redirectUrl</Action><RedirectUrl>http://ad.other.test/x</RedirectUrl>"), ErrFormat, nil},
		{"redirectUrl with credentials", doc("<Action>redirectUrl</Action><RedirectUrl>https://u:p@ad.other.test/x</RedirectUrl>"), ErrFormat, nil},
		{"redirectAddr not an address", doc("<Action>redirectAddr</Action><RedirectAddr>Jane &lt;jane@other.test&gt;</RedirectAddr>"), ErrAddress, nil},
		{"unknown action", doc("<Action>format-disk</Action>"), ErrFormat, nil},
		{"server error", `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response><Error Time="16:48:49.4694686" Id="1054583878"><ErrorCode>500</ErrorCode><Message>The e-mail address cannot be found.</Message><DebugData /></Error></Response></Autodiscover>`, ErrServer, nil},
		{"only Exchange blocks", doc("<Action>settings</Action><Protocol><Type>EXCH</Type><Server>ex.example.test</Server></Protocol>"), ErrNoSettings, nil},
		{"no Response", "<Autodiscover/>", ErrFormat, nil},
		{"no Account", "<Autodiscover><Response/></Autodiscover>", ErrFormat, nil},
		{"other root", "<html><body>It works!</body></html>", ErrFormat, nil},
		{"JSON", `{"Protocol":"AutodiscoverV1","Url":"https://x/"}`, ErrFormat, nil},
		{"empty", "", ErrFormat, nil},
		{"billion laughs", laughs, ErrFormat, nil},
		{"external entity", external, ErrFormat, nil},
		{"deep nesting", deep, ErrFormat, nil},
		{"too many blocks", many, ErrFormat, nil},
		{"escape sequence", "<Autodiscover><Response><User><DisplayName>\x1b[2J</DisplayName></User></Response></Autodiscover>", ErrFormat, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			r, err := Parse([]byte(tt.doc))
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Parse took %v", d)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Parse error %v, want %v", err, tt.wantErr)
				}
				if strings.ContainsFunc(err.Error(), isControl) {
					t.Errorf("error text holds a control character: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.Redirect, tt.redirect) || len(r.Protocols) != 0 {
				t.Errorf("Redirect = %+v, Protocols %v; want %+v", r.Redirect, r.Protocols, tt.redirect)
			}
		})
	}
	var se *ServerError
	if _, err := Parse([]byte(tests[6].doc)); !errors.As(err, &se) || se.Code != "500" || se.Message != "The e-mail address cannot be found." {
		t.Errorf("server error = %#v", err)
	}
}

func TestRequestBody(t *testing.T) {
	t.Parallel()
	b, err := RequestBody("o'neil&co@example.test")
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>o&#39;neil&amp;co@example.test</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>
`
	if string(b) != want {
		t.Errorf("RequestBody =\n%s\nwant\n%s", b, want)
	}
	for _, bad := range []string{"", "jane", "Jane <jane@example.test>", "jane@example.test\r\nBcc: x@y.test", "jane@example.test (home)", strings.Repeat("a", 250) + "@example.test"} {
		if _, err := RequestBody(bad); !errors.Is(err, ErrAddress) {
			t.Errorf("RequestBody(%q) error %v, want ErrAddress", bad, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(exchangeDoc))
	f.Add([]byte(hosterDoc))
	f.Add([]byte(doc("<Action>redirectUrl</Action><RedirectUrl>https://a.test/</RedirectUrl>")))
	f.Add([]byte(block("<Server>a.example.test</Server><Port>0993</Port><Encryption>auto</Encryption>")))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data)
		if r == nil {
			return
		}
		if err != nil && !errors.Is(err, ErrNoSettings) {
			t.Fatalf("a Result with error %v", err)
		}
		for _, p := range r.Protocols {
			if p.Port < 0 || p.Port > 65535 {
				t.Fatalf("port %d accepted", p.Port)
			}
			if checkHost(p.Server) != nil {
				t.Fatalf("server %q accepted", p.Server)
			}
			if strings.ContainsFunc(p.LoginName+p.DomainName, isControl) {
				t.Fatalf("control character accepted: %q", p.LoginName)
			}
			switch p.Security {
			case SecurityTLS, SecurityStartTLS, SecurityNone, SecurityAuto:
			default:
				t.Fatalf("security %q", p.Security)
			}
		}
		if rd := r.Redirect; rd != nil {
			if rd.Kind == RedirectAddr && checkAddress(rd.To) != nil || rd.Kind == RedirectURL && !isHTTPS(rd.To) {
				t.Fatalf("redirect %+v accepted", rd)
			}
		}
		if strings.ContainsFunc(r.DisplayName+strings.Join(r.Other, "")+strings.Join(r.Skipped, ""), isControl) {
			t.Fatal("control character in shown text")
		}
	})
}
