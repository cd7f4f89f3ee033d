// Package autodiscover is a client for Microsoft Autodiscover in its "plain old XML"
// form (POX, response schema 2006a), as Outlook asks it: it builds the request for an
// address, posts it over HTTPS, reads the IMAP, POP3 and SMTP Protocol blocks into plain
// structs, and reports redirects as steps for the caller to judge. It never follows a
// redirect out of the address's domain on its own and never sends an address over
// plain HTTP. It imports nothing of the project, so the engine can use it.
package autodiscover

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"
)

// Schemas of the request and of the response the client accepts.
const (
	RequestSchema  = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
	ResponseSchema = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
)

// Security modes a Protocol block resolves to; the strings match the engine's.
const (
	SecurityTLS      = "tls"
	SecurityStartTLS = "starttls"
	SecurityNone     = "none"
	// SecurityAuto means the server asks the client to negotiate the best it can
	// (Encryption "Auto", or SSL on at a port that says neither): try both TLS modes.
	SecurityAuto = "auto"
)

// Limits on a response; real ones are a few KiB with a handful of blocks.
const (
	maxProtocols = 32
	maxText      = 256
)

// Errors of this package; Fetch and Follow wrap them with the URL and step.
var (
	// ErrFormat means the body is not an Autodiscover POX response.
	ErrFormat = errors.New("autodiscover: not an Autodiscover response")
	// ErrNoSettings means a settings response held no usable IMAP, POP3 or SMTP block.
	ErrNoSettings = errors.New("autodiscover: no IMAP, POP3 or SMTP settings")
	// ErrServer is matched by a *ServerError (the response's Error element).
	ErrServer = errors.New("autodiscover: the server answered with an error")
	// ErrAddress means the e-mail address cannot be put into a request.
	ErrAddress = errors.New("autodiscover: not a usable e-mail address")
)

// Protocol is one IMAP, POP3 or SMTP block of a response.
type Protocol struct {
	// Type is "IMAP", "POP3" or "SMTP".
	Type string
	// Server is a lower-case host name (never an IP address literal).
	Server string
	// Port is 0 when the block names none.
	Port int
	// LoginName is the user name to log in with; empty when the block gives none.
	LoginName string
	// DomainRequired and DomainName: the login needs a domain (NTLM-style DOMAIN\user).
	DomainRequired bool
	DomainName     string
	// SPA says Secure Password Authentication (NTLM) is required; on when absent.
	SPA bool
	// SSL says secure logon is required; on when absent.
	SSL bool
	// Encryption is the block's Encryption element as written (None, SSL, TLS, Auto),
	// empty when absent; it overrides SSL.
	Encryption string
	// AuthRequired says the server needs a login; on when absent.
	AuthRequired bool
	// UsePOPAuth (SMTP): log in with the incoming server's credentials.
	UsePOPAuth bool
	// SMTPLast (SMTP): send only after receiving (POP before SMTP).
	SMTPLast bool
	// Security is how to connect, derived from Encryption, SSL and Port.
	Security string
}

// RedirectKind says what kind of redirect a response is.
type RedirectKind string

// Redirect kinds: Action redirectAddr, Action redirectUrl, and an HTTP 3xx answer.
const (
	RedirectAddr RedirectKind = "redirectAddr"
	RedirectURL  RedirectKind = "redirectUrl"
	RedirectHTTP RedirectKind = "http"
)

// Redirect is a response that sends the client elsewhere.
type Redirect struct {
	Kind RedirectKind
	// From is the URL that answered; To the new e-mail address (RedirectAddr) or the
	// new URL (RedirectURL, RedirectHTTP), absolute.
	From, To string
	// Within is true when the target stays inside the domain of the address the
	// conversation started with: a host that is the domain or a subdomain of it, or
	// an address in the same domain.
	Within bool
}

// Result is what one response said.
type Result struct {
	// URL is the URL that answered.
	URL string
	// DisplayName is the User element's display name, cleaned for showing.
	DisplayName string
	// Protocols are the usable IMAP, POP3 and SMTP blocks in document order.
	Protocols []Protocol
	// Other lists the types of blocks this client does not use (EXCH, EXPR, WEB …):
	// an Exchange server that offers none of IMAP, POP3, SMTP shows up here.
	Other []string
	// Redirect is set when the response redirects; Protocols is then empty.
	Redirect *Redirect
	// Skipped says, one line each, which blocks were left out and why.
	Skipped []string
}

// ServerError is an Autodiscover Error element (for example 500 "The e-mail address
// cannot be found").
type ServerError struct {
	Code    string
	Message string
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("autodiscover: server error %s: %s", e.Code, e.Message)
}

// Is makes errors.Is(err, ErrServer) true.
func (e *ServerError) Is(target error) bool { return target == ErrServer }

// RequestBody returns the POX request for email.
func RequestBody(email string) ([]byte, error) {
	if err := checkAddress(email); err != nil {
		return nil, err
	}
	type request struct {
		EMailAddress             string `xml:"EMailAddress"`
		AcceptableResponseSchema string `xml:"AcceptableResponseSchema"`
	}
	doc := struct {
		XMLName xml.Name `xml:"Autodiscover"`
		XMLNS   string   `xml:"xmlns,attr"`
		Request request  `xml:"Request"`
	}{XMLNS: RequestSchema, Request: request{email, ResponseSchema}}
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("autodiscover: request: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// checkAddress accepts a plain local@domain address without display name, comments or
// control characters.
func checkAddress(email string) error {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || len(email) > 254 || strings.ContainsFunc(email, isControl) {
		return fmt.Errorf("%w: %q", ErrAddress, clean(email))
	}
	return nil
}

// DomainOf returns the lower-case domain of an address, or "".
func DomainOf(email string) string {
	i := strings.LastIndexByte(email, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(email[i+1:], "."))
}

type xmlResponse struct {
	XMLName  xml.Name `xml:"Autodiscover"`
	Response *struct {
		User struct {
			DisplayName string `xml:"DisplayName"`
		} `xml:"User"`
		Account *struct {
			AccountType  string        `xml:"AccountType"`
			Action       string        `xml:"Action"`
			RedirectAddr string        `xml:"RedirectAddr"`
			RedirectURL  string        `xml:"RedirectUrl"`
			Protocol     []xmlProtocol `xml:"Protocol"`
		} `xml:"Account"`
		Error *struct {
			ErrorCode string `xml:"ErrorCode"`
			Message   string `xml:"Message"`
		} `xml:"Error"`
	} `xml:"Response"`
}

type xmlProtocol struct {
	Type           string `xml:"Type"`
	Server         string `xml:"Server"`
	Port           string `xml:"Port"`
	LoginName      string `xml:"LoginName"`
	DomainRequired string `xml:"DomainRequired"`
	DomainName     string `xml:"DomainName"`
	SPA            string `xml:"SPA"`
	SSL            string `xml:"SSL"`
	Encryption     string `xml:"Encryption"`
	AuthRequired   string `xml:"AuthRequired"`
	UsePOPAuth     string `xml:"UsePOPAuth"`
	SMTPLast       string `xml:"SMTPLast"`
}

// Parse reads one response body. A redirect comes back as a Result with Redirect set
// (From left empty and Within false: Fetch and Follow fill them in); an Error element
// as a *ServerError. The caller limits the size of data; encoding/xml expands no
// entities beyond XML's five and stops at a nesting depth of 10,000.
func Parse(data []byte) (*Result, error) {
	var x xmlResponse
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	r := x.Response
	if r == nil {
		return nil, fmt.Errorf("%w: no Response element", ErrFormat)
	}
	if e := r.Error; e != nil {
		return nil, &ServerError{Code: clean(e.ErrorCode), Message: clean(e.Message)}
	}
	acc := r.Account
	if acc == nil {
		return nil, fmt.Errorf("%w: no Account element", ErrFormat)
	}
	res := &Result{DisplayName: clean(r.User.DisplayName)}
	switch action := strings.TrimSpace(acc.Action); strings.ToLower(action) {
	case "redirectaddr":
		to := strings.TrimSpace(acc.RedirectAddr)
		if err := checkAddress(to); err != nil {
			return nil, fmt.Errorf("%w: redirectAddr: %w", ErrFormat, err)
		}
		res.Redirect = &Redirect{Kind: RedirectAddr, To: to}
		return res, nil
	case "redirecturl":
		to := strings.TrimSpace(acc.RedirectURL)
		if !isHTTPS(to) {
			return nil, fmt.Errorf("%w: redirectUrl %q is not an https URL", ErrFormat, clean(to))
		}
		res.Redirect = &Redirect{Kind: RedirectURL, To: to}
		return res, nil
	case "settings", "":
	default:
		return nil, fmt.Errorf("%w: Action %q", ErrFormat, clean(action))
	}
	if len(acc.Protocol) > maxProtocols {
		return nil, fmt.Errorf("%w: %d Protocol blocks", ErrFormat, len(acc.Protocol))
	}
	for i, xp := range acc.Protocol {
		typ := strings.ToUpper(strings.TrimSpace(xp.Type))
		switch typ {
		case "IMAP", "POP3", "SMTP":
		default:
			if typ = clean(typ); typ != "" && len(res.Other) < maxProtocols {
				res.Other = append(res.Other, typ)
			}
			continue
		}
		p, err := protocol(typ, xp)
		if err != nil {
			res.Skipped = append(res.Skipped, fmt.Sprintf("Protocol[%d] %s: %v", i, typ, err))
			continue
		}
		res.Protocols = append(res.Protocols, p)
	}
	if len(res.Protocols) == 0 {
		return res, ErrNoSettings
	}
	return res, nil
}

// protocol checks and converts one IMAP, POP3 or SMTP block.
func protocol(typ string, x xmlProtocol) (Protocol, error) {
	p := Protocol{Type: typ}
	host := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(x.Server), "."))
	if err := checkHost(host); err != nil {
		return p, fmt.Errorf("server %q: %w", clean(host), err)
	}
	p.Server = host
	if s := strings.TrimSpace(x.Port); s != "" {
		port, err := strconv.Atoi(s)
		if err != nil || port < 1 || port > 65535 {
			return p, fmt.Errorf("port %q out of range", clean(s))
		}
		p.Port = port
	}
	p.LoginName = strings.TrimSpace(x.LoginName)
	p.DomainName = strings.TrimSpace(x.DomainName)
	for _, s := range []string{p.LoginName, p.DomainName} {
		if len(s) > maxText || strings.ContainsFunc(s, isControl) {
			return p, errors.New("login or domain name holds control characters or is too long")
		}
	}
	var err error
	flag := func(name, v string, def bool) bool {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "":
			return def
		case "on":
			return true
		case "off":
			return false
		}
		err = fmt.Errorf("%s %q: want on or off", name, clean(v))
		return def
	}
	p.SPA = flag("SPA", x.SPA, true)
	p.SSL = flag("SSL", x.SSL, true)
	p.AuthRequired = flag("AuthRequired", x.AuthRequired, true)
	p.DomainRequired = flag("DomainRequired", x.DomainRequired, false)
	p.UsePOPAuth = flag("UsePOPAuth", x.UsePOPAuth, false)
	p.SMTPLast = flag("SMTPLast", x.SMTPLast, false)
	if err != nil {
		return p, err
	}
	switch enc := strings.TrimSpace(x.Encryption); strings.ToLower(enc) {
	case "":
		p.Security = fromSSL(p.SSL, p.Port)
	case "none":
		p.Encryption, p.Security = "None", SecurityNone
	case "ssl":
		p.Encryption, p.Security = "SSL", SecurityTLS
	case "tls":
		p.Encryption, p.Security = "TLS", SecurityStartTLS
	case "auto":
		p.Encryption, p.Security = "Auto", SecurityAuto
	default:
		return p, fmt.Errorf("element Encryption %q: want None, SSL, TLS or Auto", clean(enc))
	}
	return p, nil
}

// fromSSL derives the security mode when only SSL is given: Outlook's "SSL on" means
// an encrypted logon, which the well-known ports make precise.
func fromSSL(ssl bool, port int) string {
	if !ssl {
		return SecurityNone
	}
	switch port {
	case 993, 995, 465:
		return SecurityTLS
	case 143, 110, 587, 25:
		return SecurityStartTLS
	}
	return SecurityAuto
}

// checkHost accepts a lower-case ASCII DNS name with at least two labels; IP address
// literals and single-label names (localhost, intranet names) are refused, so a
// response cannot point the client at an address it did not look up.
func checkHost(h string) error {
	if h == "" {
		return errors.New("empty")
	}
	if net.ParseIP(strings.Trim(h, "[]")) != nil || strings.HasPrefix(h, "[") {
		return errors.New("an IP address, not a host name")
	}
	if len(h) > 253 || !strings.Contains(h, ".") {
		return errors.New("not a fully qualified host name")
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New("not a host name")
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return errors.New("not a host name")
			}
		}
	}
	// A name made of digits and dots only would be dialled as an IPv4 address.
	if strings.Trim(h, "0123456789.") == "" {
		return errors.New("an IP address, not a host name")
	}
	return nil
}

func isControl(r rune) bool { return r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0 }

// clean makes text from a response safe to show: control characters become spaces,
// runs of white space one space, and the length is capped.
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
