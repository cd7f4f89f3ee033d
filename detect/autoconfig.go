package detect

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mailsetup/mailsetup/detect/knowledge/clientconfig"
	"github.com/mailsetup/mailsetup/detect/trust"
)

// maxAutoconfigBody caps an autoconfig document; real ones are a few KiB.
const maxAutoconfigBody = 256 << 10

// maxRedirects bounds how many redirects an autoconfig fetch follows.
const maxRedirects = 3

// maxDocServers caps the servers taken from one document per direction (incoming,
// outgoing); real documents name one to three. A document naming thousands would
// otherwise turn into thousands of probes.
const maxDocServers = 6

// clientConfig is Mozilla's clientConfig v1.1 document (the parts we use).
type clientConfig struct {
	XMLName       xml.Name `xml:"clientConfig"`
	EmailProvider struct {
		ID       string     `xml:"id,attr"`
		Domains  []string   `xml:"domain"`
		Incoming []ccServer `xml:"incomingServer"`
		Outgoing []ccServer `xml:"outgoingServer"`
	} `xml:"emailProvider"`
}

type ccServer struct {
	Type           string   `xml:"type,attr"`
	Hostname       string   `xml:"hostname"`
	Port           int      `xml:"port"`
	SocketType     string   `xml:"socketType"`
	Username       string   `xml:"username"`
	Authentication []string `xml:"authentication"`
}

// ParseClientConfig parses Mozilla clientConfig v1.1 XML and expands %EMAILADDRESS%,
// %EMAILLOCALPART% and %EMAILDOMAIN%. Servers it cannot use are skipped (unknown types or
// socket types, IP addresses and single-label names, ports out of range); a user name
// with control characters is dropped. At most maxDocServers servers per direction are
// kept; more yields the kept ones and an error wrapping ErrTooManyServers. A document
// with no usable server is an error.
func ParseClientConfig(data []byte, addr Address) ([]Candidate, error) {
	var cc clientConfig
	dec := xml.NewDecoder(strings.NewReader(string(data)))
	dec.Strict = true
	if err := dec.Decode(&cc); err != nil {
		return nil, fmt.Errorf("clientConfig: %w", err)
	}
	expand := strings.NewReplacer("%EMAILADDRESS%", addr.String(), "%EMAILLOCALPART%", addr.Local, "%EMAILDOMAIN%", addr.Domain)
	var out []Candidate
	kept := map[bool]int{}
	cut := 0
	add := func(s ccServer, outgoing bool) {
		var proto Protocol
		switch strings.ToLower(s.Type) {
		case "smtp":
			proto = SMTP
		case "imap":
			proto = IMAP
		case "pop3":
			proto = POP3
		default:
			return
		}
		if outgoing != (proto == SMTP) {
			return
		}
		var sec Security
		switch strings.ToUpper(strings.TrimSpace(s.SocketType)) {
		case "SSL", "TLS":
			sec = SecurityTLS
		case "STARTTLS":
			sec = SecurityStartTLS
		case "PLAIN":
			sec = SecurityNone
		default:
			return
		}
		host := trust.Normalize(expand.Replace(s.Hostname))
		if !trust.IsHostName(host) || s.Port < 1 || s.Port > 65535 {
			return
		}
		if kept[outgoing] >= maxDocServers {
			cut++
			return
		}
		kept[outgoing]++
		user := strings.TrimSpace(expand.Replace(s.Username))
		if !ValidUsername(user) {
			user = ""
		}
		out = append(out, Candidate{
			Protocol: proto, Host: host, Port: s.Port, Security: sec,
			Username: user, Auth: strings.Join(s.Authentication, " "),
		})
	}
	for _, s := range cc.EmailProvider.Incoming {
		add(s, false)
	}
	for _, s := range cc.EmailProvider.Outgoing {
		add(s, true)
	}
	if len(out) == 0 {
		return nil, errors.New("clientConfig: no usable server in the document")
	}
	if cut > 0 {
		return out, fmt.Errorf("clientConfig: %d more servers ignored: %w", cut, ErrTooManyServers)
	}
	return out, nil
}

// ValidUsername reports whether u can be sent as a login name: not empty, at most 256
// bytes, valid UTF-8 and free of control characters (a CR/LF in a name taken from a
// document would end the protocol line and start a command of the document's choosing).
func ValidUsername(u string) bool {
	if u == "" || len(u) > 256 || !utf8.ValidString(u) {
		return false
	}
	for _, r := range u {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 {
			return false
		}
	}
	return true
}

// validHostname accepts an ASCII host name or an IP literal.
func validHostname(h string) bool {
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

// httpClient returns the client for autoconfig: Options.HTTPClient, or one that dials
// through the engine's dialer (so --dns and test networks apply) and trusts --ca roots.
func (o *engine) httpClient() *http.Client {
	if o.HTTPClient != nil {
		return o.HTTPClient
	}
	tr := &http.Transport{
		DialContext:           o.dialer().DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: o.Roots(), MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 5 * time.Second,
		DisableKeepAlives:     true,
		Proxy:                 nil,
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: checkRedirect,
	}
}

// checkRedirect bounds redirects and refuses a step down from https to http, which would
// let a network that cannot forge the HTTPS answer supply the document anyway.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if req.URL.Scheme != "https" && via[0].URL.Scheme == "https" {
		return fmt.Errorf("%w (to %s)", ErrRedirectDowngrade, req.URL.Redacted())
	}
	return nil
}

// autoconfigURLs lists, in order, where a domain's ISP autoconfig may live. The address
// is sent only over HTTPS (as Thunderbird does); a plain-HTTP request carries none.
func autoconfigURLs(domain string, addr Address) []string {
	q := "?emailaddress=" + url.QueryEscape(addr.String())
	var out []string
	for _, scheme := range []string{"https", "http"} {
		query := q
		if scheme == "http" {
			query = ""
		}
		out = append(out,
			scheme+"://autoconfig."+domain+"/mail/config-v1.1.xml"+query,
			scheme+"://"+domain+"/.well-known/autoconfig/mail/config-v1.1.xml"+query)
	}
	return out
}

// fetched is one autoconfig document: its servers, where it really came from and how
// far that is trusted.
type fetched struct {
	cands  []Candidate
	oauth2 *OAuth2Hint
	final  string // the URL that answered, after redirects, without the query
	origin trust.Origin
	err    error
}

// fetchAutoconfig asks all autoconfig URLs of domain at once and returns the servers
// of the first URL in priority order that gave a usable document, with a note of every
// URL tried. Asking at once keeps a silent web server from costing four timeouts. own
// says domain is the address's own; each server is marked with the trust origin of
// the document that named it and the document's final URL.
func (o *engine) fetchAutoconfig(ctx context.Context, domain string, addr Address, own bool) ([]Candidate, []string, *OAuth2Hint, error) {
	client := o.httpClient()
	urls := autoconfigURLs(domain, addr)
	results := make([]fetched, len(urls))
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = o.fetchOne(ctx, client, u, addr, domain, own)
		}()
	}
	wg.Wait()
	var tried []string
	var firstErr error
	for i, r := range results {
		shown := stripQuery(urls[i])
		if r.final != "" && r.final != shown {
			shown += " → " + r.final
		}
		if len(r.cands) > 0 {
			note := shown + ": found"
			if r.origin != trust.OriginAutoconfigHTTPS {
				note += " (" + string(r.origin) + ")"
			}
			if r.err != nil {
				note += "; " + r.err.Error()
			}
			tried = append(tried, note)
			return withOrigin(r.cands, r.origin, r.final), tried, r.oauth2, nil
		}
		tried = append(tried, shown+": "+r.err.Error())
		if firstErr == nil {
			firstErr = r.err
		}
	}
	return nil, tried, nil, firstErr
}

// fetchOne fetches one autoconfig URL and classifies where the answer came from.
func (o *engine) fetchOne(ctx context.Context, client *http.Client, u string, addr Address, domain string, own bool) fetched {
	ctx, cancel := context.WithTimeout(ctx, min(o.timeout(), 8*time.Second))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fetched{err: err}
	}
	req.Header.Set("User-Agent", "MailSetupAssistant/"+Version)
	resp, err := client.Do(req)
	if err != nil {
		return fetched{err: shortHTTPError(err)}
	}
	defer resp.Body.Close()
	f := fetched{final: stripQuery(resp.Request.URL.String()), origin: documentOrigin(resp, domain, own)}
	if resp.StatusCode != http.StatusOK {
		f.err = fmt.Errorf("HTTP %d", resp.StatusCode)
		return f
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAutoconfigBody+1))
	if err != nil {
		f.err = fmt.Errorf("reading body: %w", err)
		return f
	}
	if len(body) > maxAutoconfigBody {
		f.err = fmt.Errorf("%w: document larger than %d bytes", ErrLimit, maxAutoconfigBody)
		return f
	}
	f.cands, f.err = ParseClientConfig(body, addr)
	f.oauth2 = oauth2Hint(body, f.origin)
	return f
}

// oauth2Hint reads a clientConfig's <oAuth2> element, or nil.
func oauth2Hint(doc []byte, origin trust.Origin) *OAuth2Hint {
	cc, err := clientconfig.Parse(doc)
	if err != nil || cc.OAuth2 == nil {
		return nil
	}
	o := cc.OAuth2
	return &OAuth2Hint{Issuer: o.Issuer, AuthURL: o.AuthURL, TokenURL: o.TokenURL, Scopes: o.Scope, origin: origin}
}

// documentOrigin classifies a fetched document for the trust decision from every hop
// of its redirect chain: plain HTTP anywhere makes it forgeable; an HTTPS document of
// the address's own domain that never left that domain is the domain's own word.
func documentOrigin(resp *http.Response, domain string, own bool) trust.Origin {
	var hops []*url.URL
	for r := resp.Request; r != nil; {
		hops = append(hops, r.URL)
		if r.Response == nil {
			break
		}
		r = r.Response.Request
	}
	redirected := false
	for _, h := range hops {
		if h.Scheme != "https" {
			return trust.OriginAutoconfigHTTP
		}
		if !trust.SameRegistrable(h.Hostname(), domain) {
			redirected = true
		}
	}
	switch {
	case redirected:
		return trust.OriginAutoconfigRedirect
	case own:
		return trust.OriginAutoconfigHTTPS
	default:
		return trust.OriginAutoconfigOther
	}
}

// stripQuery drops the query (which carries the address) from a URL for the report.
func stripQuery(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// shortHTTPError drops the repeated URL from a *url.Error for the report.
func shortHTTPError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
