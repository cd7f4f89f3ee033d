package autodiscover

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// web is a fake internet on loopback: one TLS and one plain HTTP server answer for every
// host name (the client's dialer sends all names there), routed by scheme, host and path.
type web struct {
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	seen   []seenRequest
	client *http.Client
}

type seenRequest struct {
	Method, URL, ContentType, Body string
	Header                         http.Header
}

func newWeb(t *testing.T) *web {
	t.Helper()
	w := &web{routes: map[string]http.HandlerFunc{}}
	handler := func(scheme string) http.HandlerFunc {
		return func(rw http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			key := scheme + "://" + r.Host + r.URL.Path
			w.mu.Lock()
			w.seen = append(w.seen, seenRequest{r.Method, scheme + "://" + r.Host + r.URL.RequestURI(), r.Header.Get("Content-Type"), string(body), r.Header.Clone()})
			h := w.routes[key]
			w.mu.Unlock()
			if h == nil {
				http.NotFound(rw, r)
				return
			}
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			h(rw, r)
		}
	}
	cert := testCert(t)
	tlsSrv := httptest.NewUnstartedServer(handler("https"))
	tlsSrv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	plain := httptest.NewServer(handler("http"))
	t.Cleanup(plain.Close)
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	var d net.Dialer
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, _ := net.SplitHostPort(addr)
			target := plain.Listener.Addr().String()
			if port == "443" {
				target = tlsSrv.Listener.Addr().String()
			}
			return d.DialContext(ctx, network, target)
		},
		DisableKeepAlives: true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	// The client follows redirects by default: Fetch must turn that off itself.
	w.client = &http.Client{Transport: tr}
	return w
}

func (w *web) handle(url string, h http.HandlerFunc) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.routes[url] = h
}

func (w *web) requests() []seenRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]seenRequest(nil), w.seen...)
}

// xmlReply answers with body as text/xml.
func xmlReply(body string) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/xml; charset=utf-8")
		io.WriteString(rw, body)
	}
}

func redirectURLDoc(to string) string {
	return doc("<Action>redirectUrl</Action><RedirectUrl>" + to + "</RedirectUrl>")
}

func redirectAddrDoc(to string) string {
	return doc("<Action>redirectAddr</Action><RedirectAddr>" + to + "</RedirectAddr>")
}

// testCert is a self-signed certificate for the fake internet's names.
func testCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake web"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames:    []string{"example.test", "*.example.test", "*.eu.example.test", "other.test", "*.other.test"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

const adURL = "https://autodiscover.example.test/autodiscover/autodiscover.xml"

func TestFetchSettings(t *testing.T) {
	t.Parallel()
	w := newWeb(t)
	w.handle(adURL, xmlReply(hosterDoc))
	c := &Client{HTTP: w.client, UserAgent: "MailSetupAssistant/test"}
	res, err := c.Fetch(context.Background(), adURL, "jane@example.test")
	if err != nil {
		t.Fatal(err)
	}
	if res.URL != adURL || len(res.Protocols) != 3 || res.Protocols[2].Server != "smtp.hoster.test" {
		t.Errorf("Result = %+v", res)
	}
	reqs := w.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.ContentType != "text/xml; charset=utf-8" || !strings.Contains(r.Body, "<EMailAddress>jane@example.test</EMailAddress>") ||
		r.Header.Get("User-Agent") != "MailSetupAssistant/test" {
		t.Errorf("request = %+v", r)
	}
}

func TestFetchRefuses(t *testing.T) {
	t.Parallel()
	big := hosterDoc + strings.Repeat("<!-- padding -->", 1<<12)
	tests := []struct {
		name    string
		h       http.HandlerFunc
		maxBody int64
		want    error
	}{
		{"HTML page", func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", "text/html")
			io.WriteString(rw, hosterDoc)
		}, 0, ErrContentType},
		{"JSON", func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", "application/json")
			io.WriteString(rw, `{}`)
		}, 0, ErrContentType},
		{"no content type", func(rw http.ResponseWriter, r *http.Request) {
			rw.Header()["Content-Type"] = nil
			rw.Write([]byte{0x1f, 0x8b, 0, 0})
		}, 0, ErrContentType},
		{"announced too large", xmlReply(big), 1024, ErrTooLarge},
		{"streamed too large", func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", "application/xml")
			for range 64 {
				io.WriteString(rw, strings.Repeat(" ", 1024))
				rw.(http.Flusher).Flush()
			}
		}, 16 << 10, ErrTooLarge},
		{"login wanted", func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("WWW-Authenticate", `Basic realm="autodiscover"`)
			rw.WriteHeader(http.StatusUnauthorized)
		}, 0, ErrAuthRequired},
		{"server error", func(rw http.ResponseWriter, r *http.Request) { http.Error(rw, "boom", 500) }, 0, ErrStatus},
		{"not found", nil, 0, ErrStatus},
		{"error document", xmlReply(`<Autodiscover><Response><Error><ErrorCode>600</ErrorCode><Message>Invalid Request</Message></Error></Response></Autodiscover>`), 0, ErrServer},
		{"garbage XML", xmlReply("<Autodiscover><Response>"), 0, ErrFormat},
		{"redirect to http", func(rw http.ResponseWriter, r *http.Request) {
			http.Redirect(rw, r, "http://autodiscover.example.test/autodiscover/autodiscover.xml", http.StatusFound)
		}, 0, ErrBadRedirect},
		{"redirect without location", func(rw http.ResponseWriter, r *http.Request) { rw.WriteHeader(http.StatusFound) }, 0, ErrBadRedirect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWeb(t)
			if tt.h != nil {
				w.handle(adURL, tt.h)
			}
			c := &Client{HTTP: w.client, MaxBody: tt.maxBody}
			_, err := c.Fetch(context.Background(), adURL, "jane@example.test")
			if !errors.Is(err, tt.want) {
				t.Errorf("Fetch error %v, want %v", err, tt.want)
			}
		})
	}
}

// TestNoAddressOverPlainHTTP checks that no request that carries the address goes out
// over plain HTTP: Fetch refuses http URLs before dialling, and the HTTP-redirect method
// sends a GET without body, query or address.
func TestNoAddressOverPlainHTTP(t *testing.T) {
	t.Parallel()
	w := newWeb(t)
	w.handle("http://autodiscover.example.test/autodiscover/autodiscover.xml", func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, "https://autodiscover.hoster.test/autodiscover/autodiscover.xml", http.StatusFound)
	})
	c := &Client{HTTP: w.client}
	if _, err := c.Fetch(context.Background(), "http://autodiscover.example.test/autodiscover/autodiscover.xml", "jane@example.test"); !errors.Is(err, ErrInsecureURL) {
		t.Errorf("Fetch over http: error %v, want ErrInsecureURL", err)
	}
	loc, err := c.RedirectLocation(context.Background(), "example.test")
	if err != nil {
		t.Fatal(err)
	}
	if loc != "https://autodiscover.hoster.test/autodiscover/autodiscover.xml" {
		t.Errorf("RedirectLocation = %q", loc)
	}
	reqs := w.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests reached the servers, want only the GET", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodGet || r.Body != "" || strings.Contains(r.URL, "@") || strings.Contains(r.URL, "?") {
		t.Errorf("plain-HTTP request = %+v", r)
	}
	for k, v := range r.Header {
		if strings.Contains(strings.Join(v, " "), "jane") {
			t.Errorf("header %s carries the address", k)
		}
	}
}

func TestRedirectLocationRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		h    http.HandlerFunc
		want error
	}{
		{"answers 200", xmlReply(hosterDoc), ErrBadRedirect},
		{"redirects to http", func(rw http.ResponseWriter, r *http.Request) {
			http.Redirect(rw, r, "http://evil.test/x", http.StatusMovedPermanently)
		}, ErrBadRedirect},
		{"not found", nil, ErrStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWeb(t)
			if tt.h != nil {
				w.handle("http://autodiscover.example.test/autodiscover/autodiscover.xml", tt.h)
			}
			c := &Client{HTTP: w.client}
			if _, err := c.RedirectLocation(context.Background(), "example.test"); !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestFollow(t *testing.T) {
	t.Parallel()
	const (
		eu    = "https://autodiscover.eu.example.test/autodiscover/autodiscover.xml"
		other = "https://autodiscover.other.test/autodiscover/autodiscover.xml"
	)
	type hop struct{ url, email string }
	tests := []struct {
		name    string
		routes  map[string]http.HandlerFunc
		approve bool
		// wantHops are the requests made; wantRedirect the redirect Follow stopped at.
		wantHops     []hop
		wantSettings bool
		wantRedirect *Redirect
		wantErr      error
		wantAsked    []Redirect
	}{
		{"settings at once", map[string]http.HandlerFunc{adURL: xmlReply(hosterDoc)}, false,
			[]hop{{adURL, "jane@example.test"}}, true, nil, nil, nil},
		{"redirectUrl within the domain is followed", map[string]http.HandlerFunc{adURL: xmlReply(redirectURLDoc(eu)), eu: xmlReply(hosterDoc)}, false,
			[]hop{{adURL, "jane@example.test"}, {eu, "jane@example.test"}}, true, nil, nil, nil},
		{"redirectUrl out of the domain stops unapproved", map[string]http.HandlerFunc{adURL: xmlReply(redirectURLDoc(other)), other: xmlReply(hosterDoc)}, false,
			[]hop{{adURL, "jane@example.test"}}, false, &Redirect{Kind: RedirectURL, From: adURL, To: other}, nil,
			[]Redirect{{Kind: RedirectURL, From: adURL, To: other}}},
		{"redirectUrl out of the domain followed when approved", map[string]http.HandlerFunc{adURL: xmlReply(redirectURLDoc(other)), other: xmlReply(hosterDoc)}, true,
			[]hop{{adURL, "jane@example.test"}, {other, "jane@example.test"}}, true, nil, nil,
			[]Redirect{{Kind: RedirectURL, From: adURL, To: other}}},
		{"HTTP 307 within the domain is followed with POST", map[string]http.HandlerFunc{
			adURL: func(rw http.ResponseWriter, r *http.Request) { http.Redirect(rw, r, eu, http.StatusTemporaryRedirect) }, eu: xmlReply(hosterDoc)}, false,
			[]hop{{adURL, "jane@example.test"}, {eu, "jane@example.test"}}, true, nil, nil, nil},
		{"HTTP 302 out of the domain stops unapproved", map[string]http.HandlerFunc{
			adURL: func(rw http.ResponseWriter, r *http.Request) { http.Redirect(rw, r, other, http.StatusFound) }}, false,
			[]hop{{adURL, "jane@example.test"}}, false, &Redirect{Kind: RedirectHTTP, From: adURL, To: other}, nil,
			[]Redirect{{Kind: RedirectHTTP, From: adURL, To: other}}},
		{"redirectAddr in the domain asks again", map[string]http.HandlerFunc{adURL: func(rw http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if strings.Contains(string(b), "jane.doe@example.test") {
				xmlReply(hosterDoc)(rw, r)
				return
			}
			xmlReply(redirectAddrDoc("jane.doe@example.test"))(rw, r)
		}}, false,
			[]hop{{adURL, "jane@example.test"}, {adURL, "jane.doe@example.test"}}, true, nil, nil, nil},
		{"redirectAddr to another domain is handed back", map[string]http.HandlerFunc{adURL: xmlReply(redirectAddrDoc("jane@tenant.other.test"))}, true,
			[]hop{{adURL, "jane@example.test"}}, false, &Redirect{Kind: RedirectAddr, From: adURL, To: "jane@tenant.other.test"}, nil, nil},
		{"loop", map[string]http.HandlerFunc{adURL: xmlReply(redirectURLDoc(eu)), eu: xmlReply(redirectURLDoc(adURL))}, false,
			[]hop{{adURL, "jane@example.test"}, {eu, "jane@example.test"}}, false, nil, ErrLoop, nil},
		{"endless chain", chain(8), false, []hop{
			{chainURL(0), "jane@example.test"}, {chainURL(1), "jane@example.test"}, {chainURL(2), "jane@example.test"},
			{chainURL(3), "jane@example.test"}, {chainURL(4), "jane@example.test"}, {chainURL(5), "jane@example.test"}},
			false, nil, ErrTooManyHops, nil},
		{"failure mid-chain", map[string]http.HandlerFunc{adURL: xmlReply(redirectURLDoc(eu))}, false,
			[]hop{{adURL, "jane@example.test"}, {eu, "jane@example.test"}}, false, nil, ErrStatus, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWeb(t)
			for u, h := range tt.routes {
				w.handle(u, h)
			}
			start := adURL
			if tt.name == "endless chain" {
				start = chainURL(0)
			}
			var asked []Redirect
			approve := func(_ context.Context, r Redirect) bool {
				asked = append(asked, r)
				return tt.approve
			}
			c := &Client{HTTP: w.client}
			res, steps, err := c.Follow(context.Background(), start, "jane@example.test", approve)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Follow error %v, want %v", err, tt.wantErr)
			}
			var hops []hop
			for _, s := range steps {
				hops = append(hops, hop{s.URL, s.Email})
			}
			if !reflect.DeepEqual(hops, tt.wantHops) {
				t.Errorf("steps %v, want %v", hops, tt.wantHops)
			}
			if len(w.requests()) != len(tt.wantHops) {
				t.Errorf("%d requests reached the servers, want %d", len(w.requests()), len(tt.wantHops))
			}
			for _, r := range w.requests() {
				if r.Method != http.MethodPost {
					t.Errorf("%s %s: every hop must POST", r.Method, r.URL)
				}
			}
			if tt.wantErr != nil {
				return
			}
			if got := res.Redirect == nil && len(res.Protocols) > 0; got != tt.wantSettings {
				t.Errorf("settings = %v, want %v (Result %+v)", got, tt.wantSettings, res)
			}
			if !reflect.DeepEqual(res.Redirect, tt.wantRedirect) {
				t.Errorf("stopped at %+v, want %+v", res.Redirect, tt.wantRedirect)
			}
			if !reflect.DeepEqual(asked, tt.wantAsked) {
				t.Errorf("approver asked %+v, want %+v", asked, tt.wantAsked)
			}
		})
	}
}

func chainURL(i int) string {
	return "https://ad" + string(rune('0'+i)) + ".example.test/autodiscover/autodiscover.xml"
}

// chain is n redirects within the domain, each to the next.
func chain(n int) map[string]http.HandlerFunc {
	m := map[string]http.HandlerFunc{}
	for i := range n {
		m[chainURL(i)] = xmlReply(redirectURLDoc(chainURL(i + 1)))
	}
	return m
}

func TestFollowRespectsContext(t *testing.T) {
	t.Parallel()
	w := newWeb(t)
	w.handle(adURL, func(rw http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c := &Client{HTTP: w.client, Timeout: 200 * time.Millisecond}
	start := time.Now()
	_, _, err := c.Follow(context.Background(), adURL, "jane@example.test", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want a deadline", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

type fakeSRV struct {
	srvs []*net.SRV
	err  error
}

func (f fakeSRV) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	if service != "autodiscover" || proto != "tcp" {
		return "", nil, errors.New("wrong query")
	}
	return "_autodiscover._tcp." + name, f.srvs, f.err
}

func TestSRVEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		r          fakeSRV
		url        string
		within, ok bool
	}{
		{"in the domain", fakeSRV{srvs: []*net.SRV{{Target: "mail.example.test.", Port: 443}}}, "https://mail.example.test/autodiscover/autodiscover.xml", true, true},
		{"hoster, other port", fakeSRV{srvs: []*net.SRV{{Target: "ad.hoster.test.", Port: 8443}}}, "https://ad.hoster.test:8443/autodiscover/autodiscover.xml", false, true},
		{"no service", fakeSRV{srvs: []*net.SRV{{Target: ".", Port: 0}}}, "", false, true},
		{"IP literal skipped", fakeSRV{srvs: []*net.SRV{{Target: "10.0.0.1.", Port: 443}, {Target: "ad.example.test.", Port: 443}}}, "https://ad.example.test/autodiscover/autodiscover.xml", true, true},
		{"not found", fakeSRV{err: &net.DNSError{Err: "no such host", IsNotFound: true}}, "", false, true},
		{"DNS failure", fakeSRV{err: &net.DNSError{Err: "server misbehaving", IsTemporary: true}}, "", false, false},
	}
	for _, tt := range tests {
		u, within, err := SRVEndpoint(context.Background(), tt.r, "example.test")
		if u != tt.url || within != tt.within || (err == nil) != tt.ok {
			t.Errorf("%s: SRVEndpoint = %q, %v, %v; want %q, %v, ok %v", tt.name, u, within, err, tt.url, tt.within, tt.ok)
		}
	}
}

func TestEndpointsAndMicrosoft365(t *testing.T) {
	t.Parallel()
	want := []Endpoint{
		{"https://example.test/autodiscover/autodiscover.xml", MethodPOST},
		{"https://autodiscover.example.test/autodiscover/autodiscover.xml", MethodPOST},
		{"http://autodiscover.example.test/autodiscover/autodiscover.xml", MethodRedirectOnly},
	}
	if got := Endpoints("example.test"); !reflect.DeepEqual(got, want) {
		t.Errorf("Endpoints = %v, want %v", got, want)
	}
	for _, e := range Endpoints("example.test") {
		if e.Method == MethodPOST && !strings.HasPrefix(e.URL, "https://") {
			t.Errorf("%s: the address would go over plain HTTP", e.URL)
		}
	}
	for mx, want := range map[string]bool{
		"contoso-com.mail.protection.outlook.com.": true, "CONTOSO-COM.MAIL.PROTECTION.OUTLOOK.COM": true,
		"agency-gov.mail.protection.office365.us": true, "mail.protection.outlook.com": false,
		"eur.olc.protection.outlook.com": false, "mx.example.test": false, "mail.protection.outlook.com.evil.test": false,
	} {
		if got := IsMicrosoft365MX(mx); got != want {
			t.Errorf("IsMicrosoft365MX(%q) = %v, want %v", mx, got, want)
		}
	}
}
