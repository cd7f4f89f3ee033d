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
)

// maxAutoconfigBody caps an autoconfig document; real ones are a few KiB.
const maxAutoconfigBody = 256 << 10

// maxRedirects bounds how many redirects an autoconfig fetch follows.
const maxRedirects = 3

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
// %EMAILLOCALPART% and %EMAILDOMAIN%. Servers it cannot use are skipped; a document
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
		host := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(expand.Replace(s.Hostname)), "."))
		if !validHostname(host) || s.Port < 1 || s.Port > 65535 {
			return
		}
		out = append(out, Candidate{
			Protocol: proto, Host: host, Port: s.Port, Security: sec,
			Username: strings.TrimSpace(expand.Replace(s.Username)),
			Auth:     strings.Join(s.Authentication, " "),
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
	return out, nil
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
func (o *Options) httpClient() *http.Client {
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
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			return nil
		},
	}
}

// autoconfigURLs lists, in order, where a domain's ISP autoconfig may live.
func autoconfigURLs(domain string, addr Address) []string {
	q := "?emailaddress=" + url.QueryEscape(addr.String())
	var out []string
	for _, scheme := range []string{"https", "http"} {
		out = append(out,
			scheme+"://autoconfig."+domain+"/mail/config-v1.1.xml"+q,
			scheme+"://"+domain+"/.well-known/autoconfig/mail/config-v1.1.xml"+q)
	}
	return out
}

// fetchAutoconfig asks all autoconfig URLs of domain at once and returns the servers
// of the first URL in priority order that gave a usable document, with a note of every
// URL tried. Asking at once keeps a silent web server from costing four timeouts.
func (o *Options) fetchAutoconfig(ctx context.Context, domain string, addr Address) ([]Candidate, []string, error) {
	client := o.httpClient()
	urls := autoconfigURLs(domain, addr)
	type result struct {
		cands []Candidate
		err   error
	}
	results := make([]result, len(urls))
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := o.fetchOne(ctx, client, u, addr)
			results[i] = result{c, err}
		}()
	}
	wg.Wait()
	var tried []string
	var firstErr error
	for i, r := range results {
		if r.err == nil {
			tried = append(tried, urls[i]+": found")
			return r.cands, tried, nil
		}
		tried = append(tried, urls[i]+": "+r.err.Error())
		if firstErr == nil {
			firstErr = r.err
		}
	}
	return nil, tried, firstErr
}

func (o *Options) fetchOne(ctx context.Context, client *http.Client, u string, addr Address) ([]Candidate, error) {
	ctx, cancel := context.WithTimeout(ctx, min(o.timeout(), 8*time.Second))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "MailSetupAssistant/"+Version)
	resp, err := client.Do(req)
	if err != nil {
		return nil, shortHTTPError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAutoconfigBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if len(body) > maxAutoconfigBody {
		return nil, fmt.Errorf("document larger than %d bytes", maxAutoconfigBody)
	}
	return ParseClientConfig(body, addr)
}

// shortHTTPError drops the repeated URL from a *url.Error for the report.
func shortHTTPError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
