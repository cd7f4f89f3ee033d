// Package clientconfig parses Mozilla's clientConfig v1.1 documents — the format of
// Thunderbird's ISPDB and of ISP autoconfig files — into plain data with the
// placeholders (%EMAILADDRESS%, %EMAILLOCALPART%, %EMAILDOMAIN%) kept, so one document
// serves every address of its domains. It imports nothing of the project, so both the
// engine and the knowledge base can use it.
package clientconfig

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Socket types (clientConfig's socketType), normalised.
const (
	SocketSSL      = "SSL"
	SocketSTARTTLS = "STARTTLS"
	SocketPlain    = "plain"
)

// Authentication values of clientConfig, spelled as the format defines them.
const (
	AuthCleartext = "password-cleartext"
	AuthEncrypted = "password-encrypted"
	AuthOAuth2    = "OAuth2"
	AuthNTLM      = "NTLM"
	AuthGSSAPI    = "GSSAPI"
	AuthNone      = "none"
	AuthClientIP  = "client-IP-address"
	AuthSMTPAfter = "smtp-after-pop"
)

// knownAuth maps a lower-cased authentication value to its canonical spelling.
var knownAuth = map[string]string{}

func init() {
	for _, a := range []string{AuthCleartext, AuthEncrypted, AuthOAuth2, AuthNTLM, AuthGSSAPI, AuthNone, AuthClientIP, AuthSMTPAfter} {
		knownAuth[strings.ToLower(a)] = a
	}
	// Older documents spell the cleartext and encrypted methods like this.
	knownAuth["plain"] = AuthCleartext
	knownAuth["secure"] = AuthEncrypted
}

// Config is one parsed clientConfig document.
type Config struct {
	// ID is the emailProvider's id attribute (not unique across the ISPDB).
	ID          string
	DisplayName string
	// Domains are the address (or MX) domains the document serves: lower case, trimmed,
	// without duplicates, in document order.
	Domains []string
	// Incoming are the IMAP and POP3 servers, Outgoing the SMTP servers, in document
	// order (the first of a type is the provider's preferred one).
	Incoming []Server
	Outgoing []Server
	// OAuth2 is the document's <oAuth2> element, or nil.
	OAuth2 *OAuth2
	// Enable is the document's <enable> element (how to turn mail-program access on), or nil.
	Enable *Enable
	// Documentation are the URLs of the provider's help pages the document names.
	Documentation []string
	// Skipped says, one line each, which servers were left out and why.
	Skipped []string
}

// Server is one incoming or outgoing server.
type Server struct {
	// Type is "imap", "pop3" or "smtp".
	Type string
	// Hostname is lower case; it may hold %EMAILDOMAIN% (see Expand).
	Hostname string
	Port     int
	// SocketType is SocketSSL, SocketSTARTTLS or SocketPlain.
	SocketType string
	// Username is the login name template; empty when the document gives none.
	Username string
	// Authentication are the methods in document order, canonical spelling.
	Authentication []string
	// Restriction is AuthClientIP or AuthSMTPAfter when the document names one.
	Restriction string
}

// OAuth2 is the <oAuth2> element: the provider's authorization server.
type OAuth2 struct {
	// Issuer is the host name of the authorization server, as the ISPDB spells it.
	Issuer string
	// Scope are the scopes to ask for, split on white space.
	Scope    []string
	AuthURL  string
	TokenURL string
}

// Enable is the <enable> element.
type Enable struct {
	VisitURL     string
	Instructions []string
}

// Limits a document must stay within; real ISPDB documents are far smaller.
const (
	maxDomains = 5000
	maxServers = 64
	maxText    = 2048
)

type xmlConfig struct {
	XMLName       xml.Name `xml:"clientConfig"`
	Version       string   `xml:"version,attr"`
	EmailProvider []struct {
		ID            string      `xml:"id,attr"`
		Domains       []string    `xml:"domain"`
		DisplayName   string      `xml:"displayName"`
		Incoming      []xmlServer `xml:"incomingServer"`
		Outgoing      []xmlServer `xml:"outgoingServer"`
		Documentation []struct {
			URL string `xml:"url,attr"`
		} `xml:"documentation"`
	} `xml:"emailProvider"`
	OAuth2 *struct {
		Issuer   string `xml:"issuer"`
		Scope    string `xml:"scope"`
		AuthURL  string `xml:"authURL"`
		TokenURL string `xml:"tokenURL"`
	} `xml:"oAuth2"`
	Enable *struct {
		VisitURL    string   `xml:"visiturl,attr"`
		Instruction []string `xml:"instruction"`
	} `xml:"enable"`
}

type xmlServer struct {
	Type           string   `xml:"type,attr"`
	Hostname       []string `xml:"hostname"`
	Port           string   `xml:"port"`
	SocketType     string   `xml:"socketType"`
	Username       string   `xml:"username"`
	Authentication []string `xml:"authentication"`
	Restriction    []string `xml:"restriction"`
}

// Errors Parse returns (wrapped with detail).
var (
	// ErrFormat means the bytes are not a clientConfig document.
	ErrFormat = errors.New("clientconfig: not a clientConfig document")
	// ErrNoServers means the document holds no usable IMAP, POP3 or SMTP server.
	ErrNoServers = errors.New("clientconfig: no usable server")
)

// Parse reads one clientConfig document. Servers it cannot use are left out and named
// in Config.Skipped; a document with no usable server is an error. The caller limits
// the size of data; encoding/xml expands no entities beyond XML's five, so a
// "billion laughs" document fails instead of growing.
func Parse(data []byte) (*Config, error) {
	var x xmlConfig
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if len(x.EmailProvider) != 1 {
		return nil, fmt.Errorf("%w: %d emailProvider elements, want 1", ErrFormat, len(x.EmailProvider))
	}
	ep := x.EmailProvider[0]
	if len(ep.Domains) > maxDomains || len(ep.Incoming)+len(ep.Outgoing) > maxServers {
		return nil, fmt.Errorf("%w: too many domains or servers", ErrFormat)
	}
	c := &Config{ID: clean(ep.ID), DisplayName: clean(ep.DisplayName)}
	seen := map[string]bool{}
	for _, d := range ep.Domains {
		d = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
		if d == "" || seen[d] {
			continue
		}
		if !validHost(d) {
			c.Skipped = append(c.Skipped, fmt.Sprintf("domain %q: not an ASCII domain name", clean(d)))
			continue
		}
		seen[d] = true
		c.Domains = append(c.Domains, d)
	}
	for _, s := range ep.Incoming {
		if srv, err := server(s, false); err != nil {
			c.Skipped = append(c.Skipped, "incomingServer "+err.Error())
		} else {
			c.Incoming = append(c.Incoming, srv)
		}
	}
	for _, s := range ep.Outgoing {
		if srv, err := server(s, true); err != nil {
			c.Skipped = append(c.Skipped, "outgoingServer "+err.Error())
		} else {
			c.Outgoing = append(c.Outgoing, srv)
		}
	}
	for _, d := range ep.Documentation {
		if u := strings.TrimSpace(d.URL); isWebURL(u) {
			c.Documentation = append(c.Documentation, u)
		}
	}
	if o := x.OAuth2; o != nil {
		oa := &OAuth2{Issuer: strings.ToLower(strings.TrimSpace(o.Issuer)), Scope: strings.Fields(o.Scope),
			AuthURL: strings.TrimSpace(o.AuthURL), TokenURL: strings.TrimSpace(o.TokenURL)}
		switch {
		case !validHost(oa.Issuer):
			c.Skipped = append(c.Skipped, fmt.Sprintf("oAuth2: issuer %q is not a host name", clean(oa.Issuer)))
		case !isHTTPS(oa.AuthURL) || !isHTTPS(oa.TokenURL):
			c.Skipped = append(c.Skipped, "oAuth2: authURL and tokenURL must be https URLs")
		case len(oa.Scope) == 0:
			c.Skipped = append(c.Skipped, "oAuth2: no scope")
		default:
			c.OAuth2 = oa
		}
	}
	if e := x.Enable; e != nil {
		en := &Enable{VisitURL: strings.TrimSpace(e.VisitURL)}
		if !isWebURL(en.VisitURL) {
			en.VisitURL = ""
		}
		for _, i := range e.Instruction {
			if i = clean(i); i != "" {
				en.Instructions = append(en.Instructions, i)
			}
		}
		if en.VisitURL != "" || len(en.Instructions) > 0 {
			c.Enable = en
		}
	}
	if len(c.Incoming)+len(c.Outgoing) == 0 {
		return nil, ErrNoServers
	}
	return c, nil
}

// server checks and normalises one server element.
func server(s xmlServer, outgoing bool) (Server, error) {
	typ := strings.ToLower(strings.TrimSpace(s.Type))
	where := fmt.Sprintf("type %q", clean(typ))
	switch {
	case outgoing && typ != "smtp", !outgoing && typ != "imap" && typ != "pop3":
		return Server{}, fmt.Errorf("%s: not a protocol this program uses", where)
	case len(s.Hostname) != 1:
		return Server{}, fmt.Errorf("%s: want one hostname, found %d", where, len(s.Hostname))
	}
	host := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s.Hostname[0]), "."))
	where = fmt.Sprintf("%s %s", typ, clean(host))
	if !validHost(strings.ReplaceAll(host, "%emaildomain%", "example.org")) {
		return Server{}, fmt.Errorf("%s: not a host name", where)
	}
	host = strings.ReplaceAll(host, "%emaildomain%", "%EMAILDOMAIN%")
	port, err := strconv.Atoi(strings.TrimSpace(s.Port))
	if err != nil || port < 1 || port > 65535 {
		return Server{}, fmt.Errorf("%s: port %q out of range", where, clean(s.Port))
	}
	srv := Server{Type: typ, Hostname: host, Port: port, Username: strings.TrimSpace(s.Username)}
	switch strings.ToUpper(strings.TrimSpace(s.SocketType)) {
	case "SSL", "TLS":
		srv.SocketType = SocketSSL
	case "STARTTLS":
		srv.SocketType = SocketSTARTTLS
	case "PLAIN":
		srv.SocketType = SocketPlain
	default:
		return Server{}, fmt.Errorf("%s:%d: socketType %q unknown", where, port, clean(s.SocketType))
	}
	if strings.ContainsFunc(srv.Username, isControl) || len(srv.Username) > 255 {
		return Server{}, fmt.Errorf("%s:%d: username holds control characters or is too long", where, port)
	}
	for _, a := range s.Authentication {
		if ca, ok := knownAuth[strings.ToLower(strings.TrimSpace(a))]; ok {
			srv.Authentication = append(srv.Authentication, ca)
		}
	}
	for _, r := range s.Restriction {
		switch ca := knownAuth[strings.ToLower(strings.TrimSpace(r))]; ca {
		case AuthClientIP, AuthSMTPAfter:
			srv.Restriction = ca
		}
	}
	return srv, nil
}

// Expand replaces the placeholders of a template for an address local@domain.
func Expand(template, local, domain string) string {
	return strings.NewReplacer("%EMAILADDRESS%", local+"@"+domain, "%EMAILLOCALPART%", local,
		"%EMAILDOMAIN%", domain).Replace(template)
}

// validHost accepts a lower-case ASCII host name (letters, digits, hyphen, underscore).
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

func isHTTPS(u string) bool {
	pu, err := url.Parse(u)
	return err == nil && pu.Scheme == "https" && pu.Host != ""
}

func isWebURL(u string) bool {
	pu, err := url.Parse(u)
	return err == nil && (pu.Scheme == "https" || pu.Scheme == "http") && pu.Host != ""
}

func isControl(r rune) bool { return r < ' ' || r == 0x7f }

// clean collapses white space, drops control characters and caps the length of text
// taken from a document, so it is safe to show.
func clean(s string) string {
	s = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)), " ")
	if len(s) > maxText {
		s = strings.ToValidUTF8(s[:maxText], "")
	}
	return s
}
