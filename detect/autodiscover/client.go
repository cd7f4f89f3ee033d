package autodiscover

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of a Client whose fields are zero.
const (
	DefaultMaxBody = 256 << 10
	DefaultTimeout = 10 * time.Second
	DefaultMaxHops = 5
)

// More errors of Fetch, Follow and RedirectLocation.
var (
	// ErrInsecureURL means a URL that would carry the address is not https.
	ErrInsecureURL = errors.New("autodiscover: refusing to send the address to a URL that is not https")
	// ErrStatus means an HTTP status other than 200 (or a redirect); see *StatusError.
	ErrStatus = errors.New("autodiscover: unexpected HTTP status")
	// ErrAuthRequired means the server wants a login before it answers (Exchange
	// on-premises does); the client never sends one.
	ErrAuthRequired = errors.New("autodiscover: the server asks for a login")
	// ErrContentType means the body is not declared as XML.
	ErrContentType = errors.New("autodiscover: the answer is not XML")
	// ErrTooLarge means the body exceeds the client's MaxBody.
	ErrTooLarge = errors.New("autodiscover: the answer is too large")
	// ErrBadRedirect means a redirect names no usable https target.
	ErrBadRedirect = errors.New("autodiscover: unusable redirect")
	// ErrLoop means a redirect leads back to a URL and address already asked.
	ErrLoop = errors.New("autodiscover: redirect loop")
	// ErrTooManyHops means the conversation needed more redirects than MaxHops.
	ErrTooManyHops = errors.New("autodiscover: too many redirects")
)

// StatusError is an HTTP status Fetch did not expect.
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return "autodiscover: HTTP " + strconv.Itoa(e.Code) }

// Is makes errors.Is(err, ErrStatus) true.
func (e *StatusError) Is(target error) bool { return target == ErrStatus }

// Method says how an Endpoint is asked.
type Method string

// Methods: POST the request over HTTPS, or GET over plain HTTP without the address
// and use only the redirect location it answers with (after the user confirms it).
const (
	MethodPOST         Method = "post"
	MethodRedirectOnly Method = "redirect-only"
)

// Endpoint is one place Autodiscover may answer for a domain.
type Endpoint struct {
	URL    string
	Method Method
}

// Endpoints lists, in Outlook's order, where a domain's Autodiscover may live:
// https://<domain>/…, https://autodiscover.<domain>/… and the HTTP-redirect method on
// http://autodiscover.<domain>/…. SRV (_autodiscover._tcp) needs DNS: see SRVEndpoint.
func Endpoints(domain string) []Endpoint {
	const path = "/autodiscover/autodiscover.xml"
	return []Endpoint{
		{"https://" + domain + path, MethodPOST},
		{"https://autodiscover." + domain + path, MethodPOST},
		{"http://autodiscover." + domain + path, MethodRedirectOnly},
	}
}

// Resolver is the part of *net.Resolver SRVEndpoint uses.
type Resolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
}

// SRVEndpoint looks up _autodiscover._tcp.<domain> and returns the https URL its first
// usable target names, and whether that target lies within domain. A target outside
// the domain is a redirect the user must confirm, as Outlook asks. It returns
// ("", false, nil) when the domain publishes no usable record.
func SRVEndpoint(ctx context.Context, r Resolver, domain string) (string, bool, error) {
	_, srvs, err := r.LookupSRV(ctx, "autodiscover", "tcp", domain)
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			return "", false, nil
		}
		return "", false, fmt.Errorf("autodiscover: SRV _autodiscover._tcp.%s: %w", domain, err)
	}
	for _, s := range srvs {
		host := strings.ToLower(strings.TrimSuffix(s.Target, "."))
		if host == "" || s.Port == 0 || checkHost(host) != nil {
			continue // "." means no service; others are unusable
		}
		hostport := host
		if s.Port != 443 {
			hostport = net.JoinHostPort(host, strconv.Itoa(int(s.Port)))
		}
		return "https://" + hostport + "/autodiscover/autodiscover.xml", within(host, domain), nil
	}
	return "", false, nil
}

// microsoft365MX are the MX suffixes of Exchange Online (commercial and US government).
var microsoft365MX = []string{".mail.protection.outlook.com", ".mail.protection.office365.us"}

// IsMicrosoft365MX reports whether an MX host name is Exchange Online's
// (<tenant>.mail.protection.outlook.com).
func IsMicrosoft365MX(mxHost string) bool {
	h := strings.ToLower(strings.TrimSuffix(mxHost, "."))
	for _, s := range microsoft365MX {
		if strings.HasSuffix(h, s) && len(h) > len(s) {
			return true
		}
	}
	return false
}

// Client asks Autodiscover endpoints. The zero value is not usable: set HTTP.
type Client struct {
	// HTTP sends the requests; its redirect policy is not used (the client handles
	// redirects itself), everything else (transport, TLS roots, timeouts) is.
	HTTP *http.Client
	// MaxBody caps a response body; 0 means DefaultMaxBody.
	MaxBody int64
	// Timeout caps one request; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxHops caps the redirects Follow takes; 0 means DefaultMaxHops.
	MaxHops int
	// UserAgent is sent when set.
	UserAgent string
}

func (c *Client) maxBody() int64 {
	if c.MaxBody > 0 {
		return c.MaxBody
	}
	return DefaultMaxBody
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Client) maxHops() int {
	if c.MaxHops > 0 {
		return c.MaxHops
	}
	return DefaultMaxHops
}

// httpClient is c.HTTP with redirects turned into answers.
func (c *Client) httpClient() *http.Client {
	hc := http.Client{}
	if c.HTTP != nil {
		hc = *c.HTTP
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// Fetch posts the request for email to u (which must be https) and parses the answer.
// An HTTP 3xx comes back as a Result whose Redirect has Kind RedirectHTTP; Within of
// every redirect is judged against the domain of email.
func (c *Client) Fetch(ctx context.Context, u, email string) (*Result, error) {
	return c.fetch(ctx, u, email, DomainOf(email))
}

func (c *Client) fetch(ctx context.Context, u, email, domain string) (*Result, error) {
	if !isHTTPS(u) {
		return nil, fmt.Errorf("%s: %w", u, ErrInsecureURL)
	}
	body, err := RequestBody(email)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("autodiscover %s: %w", u, err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("Accept", "text/xml, application/xml")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("autodiscover %s: %w", u, unwrapURL(err))
	}
	defer resp.Body.Close()
	if loc, ok, err := redirectTarget(resp); ok {
		if err != nil {
			return nil, fmt.Errorf("autodiscover %s: %w", u, err)
		}
		return &Result{URL: u, Redirect: &Redirect{Kind: RedirectHTTP, From: u, To: loc, Within: withinURL(loc, domain)}}, nil
	}
	data, err := c.readBody(resp)
	if err != nil {
		return nil, fmt.Errorf("autodiscover %s: %w", u, err)
	}
	res, err := Parse(data)
	if res != nil {
		res.URL = u
		if r := res.Redirect; r != nil {
			r.From = u
			if r.Kind == RedirectAddr {
				r.Within = DomainOf(r.To) == domain
			} else {
				r.Within = withinURL(r.To, domain)
			}
		}
	}
	if err != nil {
		return res, fmt.Errorf("autodiscover %s: %w", u, err)
	}
	return res, nil
}

// readBody checks status and content type, then reads at most MaxBody bytes.
func (c *Client) readBody(resp *http.Response) ([]byte, error) {
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden && resp.Header.Get("WWW-Authenticate") != "":
		return nil, ErrAuthRequired
	case resp.StatusCode != http.StatusOK:
		return nil, &StatusError{Code: resp.StatusCode}
	}
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || !(mt == "text/xml" || mt == "application/xml" || strings.HasSuffix(mt, "+xml")) {
		return nil, fmt.Errorf("%w: Content-Type %q", ErrContentType, clean(resp.Header.Get("Content-Type")))
	}
	if resp.ContentLength > c.maxBody() {
		return nil, fmt.Errorf("%w: %d bytes announced", ErrTooLarge, resp.ContentLength)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody()+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if int64(len(data)) > c.maxBody() {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, c.maxBody())
	}
	return data, nil
}

// redirectTarget returns the absolute https target of a 3xx answer; ok is false when
// the answer is not a redirect.
func redirectTarget(resp *http.Response) (string, bool, error) {
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return "", false, nil
	}
	loc, err := resp.Location()
	if err != nil {
		return "", true, fmt.Errorf("%w: HTTP %d without a usable Location", ErrBadRedirect, resp.StatusCode)
	}
	if !isHTTPS(loc.String()) {
		return "", true, fmt.Errorf("%w: HTTP %d to %q, not https", ErrBadRedirect, resp.StatusCode, clean(loc.String()))
	}
	return loc.String(), true, nil
}

// RedirectLocation asks the HTTP-redirect endpoint of domain
// (http://autodiscover.<domain>/autodiscover/autodiscover.xml) with a GET that carries
// no address, and returns the https location it redirects to. The location is not
// trusted: the caller must have the user confirm it before posting the address there.
func (c *Client) RedirectLocation(ctx context.Context, domain string) (string, error) {
	u := "http://autodiscover." + domain + "/autodiscover/autodiscover.xml"
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("autodiscover %s: %w", u, err)
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return "", fmt.Errorf("autodiscover %s: %w", u, unwrapURL(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	loc, ok, err := redirectTarget(resp)
	switch {
	case !ok && resp.StatusCode == http.StatusOK:
		return "", fmt.Errorf("autodiscover %s: %w: HTTP 200 is no redirect (the address is never posted over http)", u, ErrBadRedirect)
	case !ok:
		return "", fmt.Errorf("autodiscover %s: %w", u, &StatusError{Code: resp.StatusCode})
	case err != nil:
		return "", fmt.Errorf("autodiscover %s: %w", u, err)
	}
	return loc, nil
}

// Step is one request of a conversation and its outcome.
type Step struct {
	URL, Email string
	Result     *Result
	Err        error
}

// Approver decides whether to follow a redirect that leaves the address's domain.
type Approver func(ctx context.Context, r Redirect) bool

// Follow posts the request for email to u and follows the redirects of the answers, at
// most MaxHops of them, and returns the last answer with every step taken.
//
// A redirect within the address's domain (Redirect.Within) is followed; one that
// leaves it is followed only when approve says so (approve may be nil: then never).
// A redirectAddr to another domain is never followed: the caller starts over for
// that address, with its own trust rules. When Follow stops at a redirect, the last
// Result has Redirect set and the error is nil. Every URL that would carry the address
// must be https; a loop or too many hops is an error.
func (c *Client) Follow(ctx context.Context, u, email string, approve Approver) (*Result, []Step, error) {
	domain := DomainOf(email)
	seen := map[string]bool{}
	var steps []Step
	for hop := 0; ; hop++ {
		key := u + "\x00" + strings.ToLower(email)
		if seen[key] {
			return nil, steps, fmt.Errorf("%w: %s for %s again", ErrLoop, u, email)
		}
		seen[key] = true
		res, err := c.fetch(ctx, u, email, domain)
		steps = append(steps, Step{URL: u, Email: email, Result: res, Err: err})
		if err != nil {
			return res, steps, err
		}
		r := res.Redirect
		if r == nil {
			return res, steps, nil
		}
		if hop+1 > c.maxHops() {
			return res, steps, fmt.Errorf("%w: more than %d", ErrTooManyHops, c.maxHops())
		}
		switch {
		case r.Kind == RedirectAddr && !r.Within:
			return res, steps, nil
		case r.Kind == RedirectAddr:
			email = r.To
		case !r.Within && (approve == nil || !approve(ctx, *r)):
			return res, steps, nil
		default:
			u = r.To
		}
	}
}

// within reports whether host is domain or a subdomain of it.
func within(host, domain string) bool {
	host, domain = strings.ToLower(strings.TrimSuffix(host, ".")), strings.ToLower(strings.TrimSuffix(domain, "."))
	return domain != "" && (host == domain || strings.HasSuffix(host, "."+domain))
}

// withinURL reports whether an https URL's host lies within domain.
func withinURL(u, domain string) bool {
	pu, err := url.Parse(u)
	return err == nil && pu.Scheme == "https" && within(pu.Hostname(), domain)
}

// isHTTPS accepts an absolute https URL with a host and no user information.
func isHTTPS(u string) bool {
	pu, err := url.Parse(u)
	return err == nil && pu.Scheme == "https" && pu.Host != "" && pu.User == nil
}

// unwrapURL drops the *url.Error wrapper, whose text repeats the URL.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
