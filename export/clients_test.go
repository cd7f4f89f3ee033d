package export

// Checkers that read each export the way its client does, with rules taken from the
// clients' own definitions (not from our writers): Thunderbird's clientConfig reader
// (readFromXML.sys.mjs + Sanitizer.sys.mjs), Mozilla's prefs grammar
// (modules/libpref/parser/src/lib.rs), Apple's com.apple.mail.managed schema
// (testdata/apple-mail-managed.yaml), the Autodiscover POX response schema, and the PRF
// sections the Office Customization Tool writes.

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"

	"golang.org/x/net/html"
	"golang.org/x/text/encoding/charmap"
	"gopkg.in/yaml.v3"
	"howett.net/plist"
)

// ---- Thunderbird clientConfig (readFromXML.sys.mjs) ----

// tbHostLegal follows Thunderbird's Sanitizer.hostname: a placeholder pattern, or a legal
// host name (letters, digits, hyphens, dots) or IP address.
func tbHostLegal(h string) bool {
	if regexp.MustCompile(`^[a-zA-Z0-9\-\.]*(%[A-Z0-9]+%[a-zA-Z0-9\-\.]*)+$`).MatchString(h) {
		return true
	}
	if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if !regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`).MatchString(l) {
			return false
		}
	}
	return true
}

var (
	tbIncomingAuth = map[string]int{"password-cleartext": 3, "plain": 3, "password-encrypted": 4, "secure": 4, "GSSAPI": 5, "NTLM": 6, "OAuth2": 10}
	tbOutgoingAuth = map[string]int{"none": 1, "client-IP-address": 1, "smtp-after-pop": 1, "password-cleartext": 3, "plain": 3,
		"password-encrypted": 4, "secure": 4, "GSSAPI": 5, "NTLM": 6, "OAuth2": 10}
	tbSocketTypes = map[string]int{"plain": 0, "SSL": 3, "STARTTLS": 2}
)

type xmlServer struct {
	Type           string   `xml:"type,attr"`
	Hostname       *string  `xml:"hostname"`
	Port           string   `xml:"port"`
	SocketType     []string `xml:"socketType"`
	Authentication []string `xml:"authentication"`
	Username       *string  `xml:"username"`
}

type xmlClientConfig struct {
	XMLName       xml.Name `xml:"clientConfig"`
	EmailProvider *struct {
		ID       string      `xml:"id,attr"`
		Domain   []string    `xml:"domain"`
		Incoming []xmlServer `xml:"incomingServer"`
		Outgoing []xmlServer `xml:"outgoingServer"`
	} `xml:"emailProvider"`
}

// tbServer is what Thunderbird takes from one server element.
type tbServer struct {
	Type, Host, Username string
	Port, Socket, Auth   int
	HasUsername          bool
}

// readClientConfig reads the file as Thunderbird does and returns the first usable
// incoming and outgoing server, or the error Thunderbird would raise.
func readClientConfig(data []byte) (in, out tbServer, err error) {
	var cc xmlClientConfig
	if err := xml.Unmarshal(data, &cc); err != nil {
		return in, out, fmt.Errorf("not XML: %w", err)
	}
	if cc.EmailProvider == nil {
		return in, out, errors.New("no emailProvider")
	}
	ep := cc.EmailProvider
	if !tbHostLegal(ep.ID) {
		return in, out, fmt.Errorf("emailProvider id %q is not a host name", ep.ID)
	}
	okDomain := false
	for _, d := range ep.Domain {
		okDomain = okDomain || tbHostLegal(d)
	}
	if !okDomain {
		return in, out, errors.New("need proper <domain>")
	}
	server := func(x xmlServer, incoming bool) (tbServer, error) {
		s := tbServer{Type: x.Type}
		if incoming && !slices.Contains([]string{"pop3", "imap", "nntp", "exchange"}, x.Type) {
			return s, fmt.Errorf("incoming type %q", x.Type)
		}
		if !incoming && x.Type != "smtp" {
			return s, fmt.Errorf("outgoing type %q", x.Type)
		}
		if x.Hostname == nil || !tbHostLegal(*x.Hostname) {
			return s, fmt.Errorf("hostname %v", x.Hostname)
		}
		s.Host = *x.Hostname
		p, err := strconv.Atoi(strings.TrimSpace(x.Port))
		if err != nil || p < 1 || p > 65535 {
			return s, fmt.Errorf("port %q", x.Port)
		}
		s.Port = p
		s.Socket = -1
		for _, st := range x.SocketType {
			if v, ok := tbSocketTypes[st]; ok {
				s.Socket = v
				break
			}
		}
		if s.Socket < 0 {
			return s, errors.New("need proper <socketType>")
		}
		table := tbOutgoingAuth
		if incoming {
			table = tbIncomingAuth
		}
		s.Auth = -1
		for _, a := range x.Authentication {
			v, ok := table[a]
			if !ok || v == 10 && !thunderbirdOAuthHost(s.Host) {
				continue // Thunderbird tries the next value
			}
			s.Auth = v
			break
		}
		if s.Auth < 0 {
			return s, fmt.Errorf("need proper <authentication> in %q", x.Authentication)
		}
		if x.Username != nil {
			s.Username, s.HasUsername = *x.Username, true
		}
		// Incoming: Sanitizer.string(undefined) would yield the user name "undefined".
		if (incoming || s.Auth == 3 || s.Auth == 4) && !s.HasUsername {
			return s, errors.New("a password login needs <username>")
		}
		return s, nil
	}
	var lastErr error
	found := false
	for _, x := range ep.Incoming {
		if s, err := server(x, true); err == nil {
			in, found = s, true
			break
		} else {
			lastErr = err
		}
	}
	if !found {
		return in, out, fmt.Errorf("no usable incomingServer: %v", lastErr)
	}
	found = false
	for _, x := range ep.Outgoing {
		if s, err := server(x, false); err == nil {
			out, found = s, true
			break
		} else {
			lastErr = err
		}
	}
	if !found {
		return in, out, fmt.Errorf("no usable outgoingServer: %v", lastErr)
	}
	return in, out, nil
}

// tbMechanisms is what Thunderbird sends for an authMethod (its clients' _preferredAuthMethods).
func tbMechanisms(method int, proto string) []string {
	switch method {
	case 3:
		if proto == "pop3" {
			return []string{"PLAIN", "LOGIN", "USER"}
		}
		return []string{"PLAIN", "LOGIN"}
	case 4:
		if proto == "pop3" {
			return []string{"CRAM-MD5", "APOP"}
		}
		return []string{"CRAM-MD5"}
	case 5:
		return []string{"GSSAPI"}
	case 6:
		return []string{"NTLM"}
	case 10:
		return []string{"XOAUTH2"}
	}
	return nil
}

// ---- Mozilla prefs grammar (lib.rs) ----

// parsePrefs parses a user prefs file by the grammar in lib.rs and fails on anything the
// parser would report as an error (it would then drop that pref).
func parsePrefs(src []byte) (map[string]any, error) {
	p := &prefsParser{b: src}
	prefs := map[string]any{}
	for {
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		if tok.kind == tEOF {
			return prefs, nil
		}
		if tok.kind != tKeyword || tok.s != "user_pref" {
			return nil, fmt.Errorf("line %d: expected user_pref, got %q", p.line, tok.s)
		}
		expect := func(c byte) error {
			t, err := p.token()
			if err != nil {
				return err
			}
			if t.kind != tChar || t.c != c {
				return fmt.Errorf("line %d: expected %q", p.line, c)
			}
			return nil
		}
		if err := expect('('); err != nil {
			return nil, err
		}
		name, err := p.token()
		if err != nil || name.kind != tString {
			return nil, fmt.Errorf("line %d: expected pref name: %v", p.line, err)
		}
		if err := expect(','); err != nil {
			return nil, err
		}
		v, err := p.token()
		if err != nil {
			return nil, err
		}
		var val any
		switch {
		case v.kind == tString:
			val = v.s
		case v.kind == tKeyword && (v.s == "true" || v.s == "false"):
			val = v.s == "true"
		case v.kind == tInt:
			if v.n > 2147483647 {
				return nil, fmt.Errorf("line %d: integer literal overflowed", p.line)
			}
			val = int(v.n)
		case v.kind == tChar && (v.c == '-' || v.c == '+'):
			n, err := p.token()
			if err != nil || n.kind != tInt || n.n > 2147483648 || v.c == '+' && n.n > 2147483647 {
				return nil, fmt.Errorf("line %d: bad signed integer", p.line)
			}
			val = int(n.n)
			if v.c == '-' {
				val = -int(n.n)
			}
		default:
			return nil, fmt.Errorf("line %d: expected pref value", p.line)
		}
		if err := expect(')'); err != nil {
			return nil, err
		}
		if err := expect(';'); err != nil {
			return nil, err
		}
		prefs[name.s] = val
	}
}

type tokKind int

const (
	tEOF tokKind = iota
	tChar
	tKeyword
	tString
	tInt
)

type prefTok struct {
	kind tokKind
	c    byte
	s    string
	n    uint64
}

type prefsParser struct {
	b    []byte
	i    int
	line int
}

func (p *prefsParser) get() byte {
	if p.i >= len(p.b) {
		p.i++
		return 0
	}
	c := p.b[p.i]
	p.i++
	return c
}

func (p *prefsParser) token() (prefTok, error) {
	for {
		c := p.get()
		switch {
		case c == 0:
			return prefTok{kind: tEOF}, nil
		case strings.IndexByte("()+,-;", c) >= 0:
			return prefTok{kind: tChar, c: c}, nil
		case c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\n' || c == '\r':
			if c == '\n' {
				p.line++
			}
		case c == '#':
			for c := p.get(); c != '\n' && c != 0; c = p.get() {
			}
		case c == '/':
			switch p.get() {
			case '/':
				for c := p.get(); c != '\n' && c != 0; c = p.get() {
				}
			case '*':
				for {
					c := p.get()
					if c == 0 {
						return prefTok{}, errors.New("unterminated /* comment")
					}
					if c == '*' && p.i < len(p.b) && p.b[p.i] == '/' {
						p.i++
						break
					}
				}
			default:
				return prefTok{}, errors.New("expected '/' or '*' after '/'")
			}
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_':
			start := p.i - 1
			for p.i < len(p.b) && (p.b[p.i] >= 'A' && p.b[p.i] <= 'Z' || p.b[p.i] >= 'a' && p.b[p.i] <= 'z' || p.b[p.i] == '_') {
				p.i++
			}
			w := string(p.b[start:p.i])
			if !slices.Contains([]string{"pref", "true", "false", "user_pref", "sticky", "locked", "sticky_pref", "lockPref"}, w) {
				return prefTok{}, fmt.Errorf("unknown keyword %q", w)
			}
			return prefTok{kind: tKeyword, s: w}, nil
		case c >= '0' && c <= '9':
			start := p.i - 1
			for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
				p.i++
			}
			if p.i < len(p.b) && (p.b[p.i] >= 'A' && p.b[p.i] <= 'Z' || p.b[p.i] >= 'a' && p.b[p.i] <= 'z' || p.b[p.i] == '_') {
				return prefTok{}, errors.New("unexpected character in integer literal")
			}
			n, err := strconv.ParseUint(string(p.b[start:p.i]), 10, 32)
			if err != nil {
				return prefTok{}, errors.New("integer literal overflowed")
			}
			return prefTok{kind: tInt, n: n}, nil
		case c == '"' || c == '\'':
			return p.str(c)
		default:
			return prefTok{}, fmt.Errorf("unexpected character %q", c)
		}
	}
}

func (p *prefsParser) hex(n int) (uint16, bool) {
	if p.i+n > len(p.b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.b[p.i:p.i+n]), 16, 16)
	if err != nil {
		return 0, false
	}
	p.i += n
	return uint16(v), true
}

func (p *prefsParser) str(q byte) (prefTok, error) {
	var out []byte
	for {
		c := p.get()
		switch {
		case c == 0:
			return prefTok{}, errors.New("unterminated string literal")
		case c == q:
			return prefTok{kind: tString, s: string(out)}, nil
		case c == '\\':
			e := p.get()
			switch e {
			case '"', '\'', '\\':
				out = append(out, e)
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 'x':
				v, ok := p.hex(2)
				if !ok || v == 0 {
					return prefTok{}, errors.New("malformed or zero \\x escape")
				}
				out = append(out, byte(v))
			case 'u':
				v, ok := p.hex(4)
				if !ok || v == 0 {
					return prefTok{}, errors.New("malformed or zero \\u escape")
				}
				units := []uint16{v}
				if v&0xfc00 == 0xd800 {
					if p.get() != '\\' || p.get() != 'u' {
						return prefTok{}, errors.New("expected low surrogate after high surrogate")
					}
					lo, ok := p.hex(4)
					if !ok || lo&0xfc00 != 0xdc00 {
						return prefTok{}, errors.New("invalid low surrogate after high surrogate")
					}
					units = append(units, lo)
				} else if v&0xfc00 == 0xdc00 {
					return prefTok{}, errors.New("expected high surrogate before low surrogate")
				}
				out = append(out, string(utf16.Decode(units))...)
			default:
				return prefTok{}, fmt.Errorf("unexpected escape sequence character %q after '\\'", e)
			}
		default:
			out = append(out, c)
		}
	}
}

// ---- Apple com.apple.mail.managed (apple/device-management schema) ----

type appleKey struct {
	Key       string   `yaml:"key"`
	Type      string   `yaml:"type"`
	Presence  string   `yaml:"presence"`
	Rangelist []string `yaml:"rangelist"`
}

var appleSchema = sync.OnceValues(func() (map[string]appleKey, error) {
	data, err := os.ReadFile("testdata/apple-mail-managed.yaml")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Payloadkeys []appleKey `yaml:"payloadkeys"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	keys := map[string]appleKey{}
	for _, k := range doc.Payloadkeys {
		keys[k.Key] = k
	}
	return keys, nil
})

// checkAppleProfile checks the profile against Apple's schema; it returns the payload.
func checkAppleProfile(data []byte) (map[string]any, error) {
	schema, err := appleSchema()
	if err != nil {
		return nil, err
	}
	var top map[string]any
	if _, err := plist.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("plist: %w", err)
	}
	for _, k := range []string{"PayloadContent", "PayloadIdentifier", "PayloadType", "PayloadUUID", "PayloadVersion", "PayloadDisplayName"} {
		if _, ok := top[k]; !ok {
			return nil, fmt.Errorf("profile lacks %s", k)
		}
	}
	if top["PayloadType"] != "Configuration" {
		return nil, fmt.Errorf("PayloadType %v", top["PayloadType"])
	}
	content, ok := top["PayloadContent"].([]any)
	if !ok || len(content) != 1 {
		return nil, errors.New("want one payload")
	}
	m, ok := content[0].(map[string]any)
	if !ok {
		return nil, errors.New("payload is not a dictionary")
	}
	uuid := regexp.MustCompile(`^[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{12}$`)
	if !uuid.MatchString(fmt.Sprint(m["PayloadUUID"])) || !uuid.MatchString(fmt.Sprint(top["PayloadUUID"])) || m["PayloadUUID"] == top["PayloadUUID"] || m["PayloadIdentifier"] == top["PayloadIdentifier"] {
		return nil, errors.New("payload UUIDs/identifiers malformed or not unique")
	}
	for k, v := range m {
		if strings.HasPrefix(k, "Payload") {
			continue
		}
		def, ok := schema[k]
		if !ok {
			return nil, fmt.Errorf("key %s is not in Apple's schema", k)
		}
		if k == "IncomingPassword" || k == "OutgoingPassword" {
			return nil, fmt.Errorf("%s is only for encrypted profiles", k)
		}
		switch def.Type {
		case "<string>":
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%s is %T, want string", k, v)
			}
			if len(def.Rangelist) > 0 && !slices.Contains(def.Rangelist, s) {
				return nil, fmt.Errorf("%s=%q not in %v", k, s, def.Rangelist)
			}
		case "<integer>":
			if _, ok := v.(uint64); !ok {
				if _, ok := v.(int64); !ok {
					return nil, fmt.Errorf("%s is %T, want integer", k, v)
				}
			}
		case "<boolean>":
			if _, ok := v.(bool); !ok {
				return nil, fmt.Errorf("%s is %T, want boolean", k, v)
			}
		}
	}
	for k, def := range schema {
		if def.Presence == "required" {
			if _, ok := m[k]; !ok {
				return nil, fmt.Errorf("required key %s missing", k)
			}
		}
	}
	return m, nil
}

// ---- Autodiscover POX (responseschema 2006a) ----

type poxProtocol struct {
	Type, Server, Port, LoginName, DomainRequired, SPA, SSL, Encryption, AuthRequired, UsePOPAuth, SMTPLast string
	Present                                                                                                 map[string]bool
}

// readPOX checks the elements and values the POX Protocol element allows.
func readPOX(data []byte) ([]poxProtocol, error) {
	const ns1 = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
	const ns2 = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []xml.Name
	var out []poxProtocol
	var cur *poxProtocol
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && (t.Name.Space != ns1 || t.Name.Local != "Autodiscover") {
				return nil, fmt.Errorf("root %v", t.Name)
			}
			if len(stack) == 1 && (t.Name.Space != ns2 || t.Name.Local != "Response") {
				return nil, fmt.Errorf("response %v", t.Name)
			}
			if t.Name.Local == "Protocol" {
				out = append(out, poxProtocol{Present: map[string]bool{}})
				cur = &out[len(out)-1]
			}
			stack = append(stack, t.Name)
			text.Reset()
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			v := strings.TrimSpace(text.String())
			if cur != nil && len(stack) > 0 && stack[len(stack)-1].Local == "Protocol" {
				cur.Present[t.Name.Local] = true
				switch t.Name.Local {
				case "Type":
					cur.Type = v
				case "Server":
					cur.Server = v
				case "Port":
					cur.Port = v
				case "LoginName":
					cur.LoginName = v
				case "DomainRequired":
					cur.DomainRequired = v
				case "SPA":
					cur.SPA = v
				case "SSL":
					cur.SSL = v
				case "Encryption":
					cur.Encryption = v
				case "AuthRequired":
					cur.AuthRequired = v
				case "UsePOPAuth":
					cur.UsePOPAuth = v
				case "SMTPLast":
					cur.SMTPLast = v
				default:
					return nil, fmt.Errorf("element %s is not in the Protocol schema", t.Name.Local)
				}
			}
			text.Reset()
		}
	}
	for _, p := range out {
		if !slices.Contains([]string{"IMAP", "POP3", "SMTP"}, p.Type) {
			return nil, fmt.Errorf("Type %q", p.Type)
		}
		if n, err := strconv.Atoi(p.Port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("Port %q", p.Port)
		}
		for name, v := range map[string]string{"SPA": p.SPA, "SSL": p.SSL, "AuthRequired": p.AuthRequired, "DomainRequired": p.DomainRequired} {
			if v != "on" && v != "off" {
				return nil, fmt.Errorf("%s %q", name, v)
			}
		}
		for name, v := range map[string]string{"UsePOPAuth": p.UsePOPAuth, "SMTPLast": p.SMTPLast} {
			if p.Present[name] && v != "on" && v != "off" {
				return nil, fmt.Errorf("%s %q", name, v)
			}
		}
		if !slices.Contains([]string{"None", "SSL", "TLS", "Auto"}, p.Encryption) {
			return nil, fmt.Errorf("Encryption %q", p.Encryption)
		}
		if p.AuthRequired == "on" && p.LoginName == "" {
			return nil, errors.New("AuthRequired on without LoginName")
		}
		if !tbHostLegal(p.Server) {
			return nil, fmt.Errorf("Server %q", p.Server)
		}
	}
	return out, nil
}

// ---- PRF (OCT sections) ----

// readPRF decodes Windows-1252, checks CRLF, sections and that every account key is one
// the mapping section for its account type declares, with a value of the declared type.
func readPRF(data []byte) (map[string]map[string]string, error) {
	if bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\n")) {
		return nil, errors.New("line ending other than CRLF")
	}
	text, err := charmap.Windows1252.NewDecoder().Bytes(data)
	if err != nil {
		return nil, err
	}
	secs := map[string]map[string]string{}
	var cur map[string]string
	for _, l := range strings.Split(strings.TrimSuffix(string(text), "\r\n"), "\r\n") {
		switch {
		case l == "" || strings.HasPrefix(l, ";"):
		case strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]"):
			cur = map[string]string{}
			secs[l[1:len(l)-1]] = cur
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok || cur == nil || k == "" {
				return nil, fmt.Errorf("line %q is no key=value in a section", l)
			}
			if _, dup := cur[k]; dup {
				return nil, fmt.Errorf("key %s twice", k)
			}
			cur[k] = v
		}
	}
	g := secs["General"]
	if g == nil || g["Custom"] != "1" || g["ProfileName"] == "" || !slices.Contains([]string{"Yes", "No", "Append"}, g["OverwriteProfile"]) {
		return nil, fmt.Errorf("[General] %v", g)
	}
	list := secs["Internet Account List"]
	if len(list) == 0 {
		return nil, errors.New("no [Internet Account List]")
	}
	for acct, typ := range list {
		mapping := secs[typ]
		if mapping == nil || (typ != "I_Mail" && typ != "IMAP_I_Mail") {
			return nil, fmt.Errorf("%s=%s has no mapping section", acct, typ)
		}
		vals := secs[acct]
		if vals == nil {
			return nil, fmt.Errorf("no [%s]", acct)
		}
		prefix := map[string]string{"I_Mail": "POP3", "IMAP_I_Mail": "IMAP"}[typ]
		for _, need := range []string{"AccountName", "EmailAddress", prefix + "Server", prefix + "UserName", prefix + "Port", "SMTPServer", "SMTPPort"} {
			if vals[need] == "" {
				return nil, fmt.Errorf("[%s] lacks %s", acct, need)
			}
		}
		for k, v := range vals {
			if k == "UniqueService" {
				continue
			}
			m, ok := mapping[k]
			if !ok {
				return nil, fmt.Errorf("[%s] key %s is not in [%s]", acct, k, typ)
			}
			if strings.HasPrefix(m, "PT_LONG") {
				n, err := strconv.Atoi(v)
				if err != nil {
					return nil, fmt.Errorf("%s=%q is not a number", k, v)
				}
				if (strings.HasSuffix(k, "UseSSL") || k == "SMTPSecureConnection") && (n < 0 || n > 3) {
					return nil, fmt.Errorf("%s=%d", k, n)
				}
				if (strings.HasSuffix(k, "UseSPA") || k == "SMTPUseAuth") && n != 0 && n != 1 {
					return nil, fmt.Errorf("%s=%d", k, n)
				}
				if strings.HasSuffix(k, "Port") && (n < 1 || n > 65535) {
					return nil, fmt.Errorf("%s=%d", k, n)
				}
			}
		}
	}
	return secs, nil
}

// ---- HTML sheets ----

// htmlText parses the page with an HTML5 tokenizer and returns its text.
func htmlText(data []byte) (string, error) {
	z := html.NewTokenizer(bytes.NewReader(data))
	var b strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err().Error() == "EOF" {
				return b.String(), nil
			}
			return "", z.Err()
		case html.StartTagToken:
			if name, _ := z.TagName(); string(name) == "script" {
				return "", errors.New("script element in a sheet")
			}
		case html.TextToken:
			b.Write(z.Text())
		}
	}
}
