package detect

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// ispdbServer serves the online ISPDB's answers for the given domains over HTTPS as
// autoconfig.thunderbird.net, and counts requests.
func ispdbServer(t *testing.T, e *testEnv, docs map[string]string) *atomic.Int32 {
	t.Helper()
	var n atomic.Int32
	addr := autoconfigServer(t, e, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		d := strings.TrimPrefix(r.URL.Path, "/v1.1/")
		switch doc, ok := docs[d]; {
		case d == "redirects.test":
			http.Redirect(w, r, "https://elsewhere.test/v1.1/x", http.StatusFound)
		case d == "huge.test":
			w.Write([]byte(strings.Repeat("<a>", maxAutoconfigBody)))
		case ok:
			w.Write([]byte(doc))
		default:
			http.NotFound(w, r)
		}
	}), "autoconfig.thunderbird.net")
	e.net.Route("autoconfig.thunderbird.net", 443, addr)
	return &n
}

func sourceOf(res []SourceResult, name string) SourceResult {
	for _, r := range res {
		if r.Source == name {
			return r
		}
	}
	return SourceResult{}
}

// The online ISPDB names servers outside the address's domain, and they are trusted
// like the curated knowledge; it is asked for the MX's domain too; redirects off its
// host and oversized answers are refused; "off" turns it off.
func TestOnlineISPDBSource(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	calls := ispdbServer(t, e, map[string]string{
		"shop.test":    clientConfigFor("smtp.hoster.test", 465, "SSL", "imap.hoster.test", 993, "SSL"),
		"hoster2.test": clientConfigFor("smtp.hoster2.test", 465, "SSL", "imap.hoster2.test", 993, "SSL"),
	})
	e.net.MX("cafe.test", "mx1.hoster2.test")
	for _, tc := range []struct {
		address, source, wantHost, wantErr string
	}{
		{"me@shop.test", SourceISPDB, "smtp.hoster.test", ""},
		{"me@cafe.test", SourceMX, "smtp.hoster2.test", ""},
		{"me@redirects.test", SourceISPDB, "", "refused a redirect"},
		{"me@huge.test", SourceISPDB, "", "larger than"},
		{"me@unknown.test", SourceISPDB, "", "HTTP 404"},
	} {
		t.Run(tc.address, func(t *testing.T) {
			addr, _ := ParseAddress(tc.address)
			res, cands, prov := e.opts.Discover(context.Background(), addr)
			src := sourceOf(res, tc.source)
			if tc.wantErr != "" {
				if src.Found || !strings.Contains(src.Error+src.Detail, tc.wantErr) {
					t.Fatalf("%s: found %v, error %q detail %q", tc.source, src.Found, src.Error, src.Detail)
				}
				return
			}
			if !src.Found || !slices.ContainsFunc(src.Servers, func(c Candidate) bool { return c.Host == tc.wantHost }) {
				t.Fatalf("%s: %+v", tc.source, src)
			}
			rt, hosts := e.opts.engine().decideTrust(addr, cands, prov)
			if !rt.trusted(tc.wantHost) {
				t.Errorf("%s not trusted: %+v", tc.wantHost, hosts)
			}
			for _, h := range hosts {
				if h.Host == tc.wantHost && (h.Reason != "online_database" || !strings.HasPrefix(h.Via, "https://autoconfig.thunderbird.net/v1.1/")) {
					t.Errorf("decision %+v", h)
				}
			}
		})
	}
	off := e.opts
	off.OnlineISPDB = "off"
	before := calls.Load()
	addr, _ := ParseAddress("me@shop.test")
	res, _, _ := off.Discover(context.Background(), addr)
	if src := sourceOf(res, SourceISPDB); src.Found || calls.Load() != before {
		t.Errorf("turned off, yet asked: %+v", src)
	}
}

// poxAnswer is an Autodiscover POX response naming one IMAP and one SMTP server.
func poxAnswer(imapHost, smtpHost string) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
<Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
<Account><AccountType>email</AccountType><Action>settings</Action>
<Protocol><Type>IMAP</Type><Server>%s</Server><Port>993</Port><LoginName>me@corp.test</LoginName><SPA>off</SPA><SSL>on</SSL><AuthRequired>on</AuthRequired></Protocol>
<Protocol><Type>SMTP</Type><Server>%s</Server><Port>587</Port><LoginName>me@corp.test</LoginName><SPA>off</SPA><Encryption>TLS</Encryption><AuthRequired>on</AuthRequired></Protocol>
</Account></Response></Autodiscover>`, imapHost, smtpHost)
}

func poxRedirectURL(to string) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
<Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
<Account><AccountType>email</AccountType><Action>redirectUrl</Action><RedirectUrl>%s</RedirectUrl></Account></Response></Autodiscover>`, to)
}

func poxHandler(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Write([]byte(body))
	}
}

// Microsoft Autodiscover: the domain's own HTTPS answer is trusted; a redirect to
// another domain, an SRV record pointing outside and the plain-HTTP redirect method are
// followed only for servers the user confirmed, and what they lead to is not trusted
// otherwise.
func TestAutodiscoverSource(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		setup     func(t *testing.T, e *testEnv)
		trust     []string
		wantHost  string // first IMAP host found, "" for none
		trusted   bool
		reason    string
		wantWords string
	}{
		{name: "own HTTPS endpoint", setup: func(t *testing.T, e *testEnv) {
			e.net.Route("autodiscover.corp.test", 443, autoconfigServer(t, e, poxHandler(poxAnswer("outlook.hoster.test", "smtp.hoster.test")), "autodiscover.corp.test"))
		}, wantHost: "outlook.hoster.test", trusted: true, reason: "own_https_autoconfig"},
		{name: "redirectUrl to another domain, not confirmed", setup: func(t *testing.T, e *testEnv) {
			e.net.Route("autodiscover.corp.test", 443, autoconfigServer(t, e, poxHandler(poxRedirectURL("https://ad.evil.test/autodiscover/autodiscover.xml")), "autodiscover.corp.test"))
			e.net.Route("ad.evil.test", 443, autoconfigServer(t, e, poxHandler(poxAnswer("imap.evil.test", "smtp.evil.test")), "ad.evil.test"))
		}, wantWords: "not followed without your confirmation"},
		{name: "redirectUrl to another domain, confirmed", setup: func(t *testing.T, e *testEnv) {
			e.net.Route("autodiscover.corp.test", 443, autoconfigServer(t, e, poxHandler(poxRedirectURL("https://ad.partner.test/autodiscover/autodiscover.xml")), "autodiscover.corp.test"))
			e.net.Route("ad.partner.test", 443, autoconfigServer(t, e, poxHandler(poxAnswer("imap.partner.test", "smtp.partner.test")), "ad.partner.test"))
			// Confirming the Autodiscover host is confirming what it answers (Outlook asks
			// "allow this website to configure server settings?" the same way).
		}, trust: []string{"ad.partner.test"}, wantHost: "imap.partner.test", trusted: true, reason: "user_confirmed"},
		{name: "SRV outside the domain", setup: func(t *testing.T, e *testEnv) {
			e.net.SRV("autodiscover", "corp.test", "ad.evil.test", 443)
			e.net.Route("ad.evil.test", 443, autoconfigServer(t, e, poxHandler(poxAnswer("imap.evil.test", "smtp.evil.test")), "ad.evil.test"))
		}, wantWords: "not asked without your confirmation (--trust-host ad.evil.test)"},
		{name: "HTTP redirect method", setup: func(t *testing.T, e *testEnv) {
			e.net.Route("autodiscover.corp.test", 80, autoconfigServer(t, e, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "https://ad.evil.test/autodiscover/autodiscover.xml", http.StatusFound)
			})))
			e.net.Route("ad.evil.test", 443, autoconfigServer(t, e, poxHandler(poxAnswer("imap.evil.test", "smtp.evil.test")), "ad.evil.test"))
		}, wantWords: "redirects to https://ad.evil.test/autodiscover/autodiscover.xml: not followed without your confirmation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			e.opts.OnlineISPDB = "off"
			e.opts.TrustHosts = tc.trust
			tc.setup(t, e)
			addr, _ := ParseAddress("me@corp.test")
			res, cands, prov := e.opts.Discover(context.Background(), addr)
			src := sourceOf(res, SourceAutodiscover)
			if tc.wantHost == "" {
				if src.Found || !strings.Contains(src.Detail, tc.wantWords) {
					t.Fatalf("found %v, detail %q", src.Found, src.Detail)
				}
				return
			}
			if !src.Found || src.Servers[0].Host != tc.wantHost || src.Servers[0].Username != "me@corp.test" {
				t.Fatalf("%+v", src)
			}
			if src.Servers[1].Protocol != SMTP || src.Servers[1].Security != SecurityStartTLS {
				t.Errorf("SMTP block read as %+v", src.Servers[1])
			}
			_, hosts := e.opts.engine().decideTrust(addr, cands, prov)
			for _, h := range hosts {
				if h.Host == tc.wantHost && (h.Trusted != tc.trusted || tc.trusted && h.Reason != tc.reason) {
					t.Errorf("decision %+v", h)
				}
			}
		})
	}
}

// Discovery stays within its budget when every web source is silent (a network that
// drops HTTPS and HTTP): all documents are asked at once, so it costs one request
// timeout, min(probe timeout, 8 s), not one per URL.
func TestDiscoveryBudgetWithSilentWeb(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.opts.Timeout = time.Second
	e.net.Drop("*", 443)
	e.net.Drop("*", 80)
	for _, h := range []string{"corp.test", "autoconfig.corp.test", "autodiscover.corp.test", "autoconfig.thunderbird.net", "mail.corp.test"} {
		e.net.Host(h)
	}
	addr, _ := ParseAddress("me@corp.test")
	start := time.Now()
	res, _, _ := e.opts.Discover(context.Background(), addr)
	d := time.Since(start)
	if d > e.opts.Timeout+500*time.Millisecond {
		t.Errorf("discovery took %v with a %v request timeout", d, e.opts.Timeout)
	}
	if !sourceOf(res, SourceGuess).Found {
		t.Error("the guess source lost its answer")
	}
	t.Logf("discovery with every web source silent: %v (request timeout %v)", d.Round(time.Millisecond), e.opts.Timeout)
}
