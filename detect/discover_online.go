package detect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mailsetup/mailsetup/detect/autodiscover"
	"github.com/mailsetup/mailsetup/detect/trust"
)

// This file holds the online discovery sources: Mozilla's ISPDB as Thunderbird asks it,
// and Microsoft Autodiscover (POX) for domains on Exchange, Microsoft 365 and hosters
// that publish it. Each marks its servers with the trust origin of its answer.

// DefaultOnlineISPDB is where Thunderbird asks Mozilla's ISP database (HTTPS only).
const DefaultOnlineISPDB = "https://autoconfig.thunderbird.net/v1.1/"

// onlineISPDB returns the ISPDB base URL, or "" when the source is off.
func (o *engine) onlineISPDB() string {
	switch o.OnlineISPDB {
	case "":
		return DefaultOnlineISPDB
	case "off":
		return ""
	}
	return o.OnlineISPDB
}

// fetchISPDB asks the online ISPDB for domain: one HTTPS GET, size- and time-bounded,
// no redirect off the database's host. The servers it names are trusted like the
// curated knowledge (origin online_database): nobody on the network can forge the answer.
func (o *engine) fetchISPDB(ctx context.Context, domain string, addr Address) ([]Candidate, string, *OAuth2Hint, error) {
	base := o.onlineISPDB()
	if base == "" {
		return nil, "", nil, errors.New("the online ISPDB is turned off")
	}
	u := base + url.PathEscape(domain)
	if !strings.HasPrefix(u, "https://") {
		return nil, u, nil, fmt.Errorf("%s: %w", u, autodiscover.ErrInsecureURL)
	}
	ctx, cancel := context.WithTimeout(ctx, min(o.timeout(), 8*time.Second))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, u, nil, err
	}
	req.Header.Set("User-Agent", "MailSetupAssistant/"+Version)
	client := *o.httpClient()
	dbHost := req.URL.Hostname()
	client.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if r.URL.Scheme != "https" || r.URL.Hostname() != dbHost || len(via) >= maxRedirects {
			return fmt.Errorf("refused a redirect to %s", r.URL.Redacted())
		}
		return nil
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, u, nil, shortHTTPError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, u, nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAutoconfigBody+1))
	if err != nil {
		return nil, u, nil, fmt.Errorf("reading body: %w", err)
	}
	if len(body) > maxAutoconfigBody {
		return nil, u, nil, fmt.Errorf("%w: document larger than %d bytes", ErrLimit, maxAutoconfigBody)
	}
	cands, err := ParseClientConfig(body, addr)
	return withOrigin(cands, trust.OriginOnlineDB, u), u, oauth2Hint(body, trust.OriginOnlineDB), err
}

// discoverISPDB is the online ISPDB source for the address's own domain.
func (o *engine) discoverISPDB(ctx context.Context, addr Address) SourceResult {
	cands, u, hint, err := o.fetchISPDB(ctx, addr.Domain, addr)
	r := SourceResult{Servers: cands, Detail: u, OAuth2: hint}
	switch {
	case err != nil && len(cands) == 0:
		r.Error = err.Error()
	case err != nil:
		r.Detail += ": found; " + err.Error()
	default:
		r.Detail += ": found"
	}
	return r
}

// discoverAutodiscover asks the domain's Microsoft Autodiscover (POX): the two HTTPS
// endpoints of the domain itself, then the SRV record, then the HTTP redirect method,
// taking the first that names servers. What the domain's own HTTPS endpoints answer
// (redirects kept within the domain) is trusted like its own autoconfig; an endpoint
// or redirect outside the domain is followed only for a server the user confirmed
// (--trust-host), as Outlook asks before it follows one.
func (o *engine) discoverAutodiscover(ctx context.Context, addr Address) SourceResult {
	client := &autodiscover.Client{HTTP: o.httpClient(), Timeout: min(o.timeout(), 8*time.Second), UserAgent: "MailSetupAssistant/" + Version}
	approve := func(_ context.Context, r autodiscover.Redirect) bool { return o.userTrusts(r.To) }
	type try struct {
		url    string
		origin trust.Origin
		note   string
	}
	var tries []try
	var notes []string
	for _, e := range autodiscover.Endpoints(addr.Domain) {
		if e.Method == autodiscover.MethodPOST {
			tries = append(tries, try{url: e.URL, origin: trust.OriginAutoconfigHTTPS})
		}
	}
	if u, within, err := autodiscover.SRVEndpoint(ctx, o.resolver(), addr.Domain); err != nil {
		notes = append(notes, err.Error())
	} else if u != "" {
		switch {
		case within:
			tries = append(tries, try{url: u, origin: trust.OriginAutoconfigHTTPS, note: "SRV _autodiscover._tcp"})
		case o.userTrusts(u):
			tries = append(tries, try{url: u, origin: trust.OriginUser, note: "SRV _autodiscover._tcp, confirmed"})
		default:
			notes = append(notes, "SRV _autodiscover._tcp points to "+u+": not asked without your confirmation (--trust-host "+hostOf(u)+")")
		}
	}
	// Every endpoint is asked at once (a silent web server costs one timeout, not one
	// each); the answers are taken in priority order.
	type answer struct {
		res   *autodiscover.Result
		steps []autodiscover.Step
		err   error
	}
	answers := make([]answer, len(tries))
	var redirect struct {
		loc string
		err error
	}
	var wg sync.WaitGroup
	for i, t := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := &answers[i]
			a.res, a.steps, a.err = client.Follow(ctx, t.url, addr.String(), approve)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		redirect.loc, redirect.err = client.RedirectLocation(ctx, addr.Domain)
	}()
	wg.Wait()
	for i, t := range tries {
		res, err := answers[i].res, answers[i].err
		shown := t.url
		if t.note != "" {
			shown += " (" + t.note + ")"
		}
		if err != nil {
			notes = append(notes, shown+": "+err.Error())
			continue
		}
		if res.Redirect != nil {
			notes = append(notes, shown+": redirects to "+res.Redirect.To+", not followed without your confirmation")
			continue
		}
		cands := autodiscoverCandidates(res)
		if len(cands) == 0 {
			notes = append(notes, shown+": no IMAP, POP3 or SMTP settings")
			continue
		}
		origin := t.origin
		if len(answers[i].steps) > 1 && origin == trust.OriginAutoconfigHTTPS && !withinDomain(res.URL, addr.Domain) {
			origin = trust.OriginUser // a cross-domain hop the user confirmed
		}
		notes = append(notes, shown+": found")
		return SourceResult{Servers: withOrigin(cands, origin, res.URL), Detail: strings.Join(notes, "; ")}
	}
	// The HTTP redirect method: a plain-HTTP answer that only points elsewhere, so only
	// the user's word makes what it leads to trusted.
	if loc := redirect.loc; redirect.err == nil {
		switch {
		case withinDomain(loc, addr.Domain) || o.userTrusts(loc):
			res, _, ferr := client.Follow(ctx, loc, addr.String(), approve)
			if ferr == nil && res.Redirect == nil {
				if cands := autodiscoverCandidates(res); len(cands) > 0 {
					origin := trust.OriginAutoconfigRedirect
					if o.userTrusts(loc) {
						origin = trust.OriginUser
					}
					notes = append(notes, "http://autodiscover."+addr.Domain+" → "+res.URL+": found")
					return SourceResult{Servers: withOrigin(cands, origin, res.URL), Detail: strings.Join(notes, "; ")}
				}
			}
			notes = append(notes, "the HTTP redirect to "+loc+" gave no settings")
		default:
			notes = append(notes, "http://autodiscover."+addr.Domain+" redirects to "+loc+": not followed without your confirmation (--trust-host "+hostOf(loc)+")")
		}
	}
	return SourceResult{Detail: strings.Join(notes, "; "), Error: "no Autodiscover answer with mail settings"}
}

// autodiscoverCandidates turns an Autodiscover answer's IMAP, POP3 and SMTP blocks into
// candidates (a block without a port gets the standard one for its security).
func autodiscoverCandidates(res *autodiscover.Result) []Candidate {
	var out []Candidate
	for _, p := range res.Protocols {
		var proto Protocol
		switch p.Type {
		case "IMAP":
			proto = IMAP
		case "POP3":
			proto = POP3
		case "SMTP":
			proto = SMTP
		default:
			continue
		}
		sec := Security(p.Security)
		port := p.Port
		if port == 0 {
			port = defaultPort(proto, sec)
		}
		user := p.LoginName
		if !ValidUsername(user) {
			user = ""
		}
		auth := ""
		if p.SPA {
			auth = "NTLM"
		}
		out = append(out, Candidate{Protocol: proto, Host: p.Server, Port: port, Security: sec, Username: user, Auth: auth})
	}
	return out
}

// defaultPort is the standard port of a protocol in a security mode.
func defaultPort(p Protocol, s Security) int {
	switch {
	case p == SMTP && s == SecurityTLS:
		return 465
	case p == SMTP:
		return 587
	case p == IMAP && s == SecurityTLS:
		return 993
	case p == IMAP:
		return 143
	case s == SecurityTLS:
		return 995
	default:
		return 110
	}
}

// userTrusts reports whether the user confirmed the host of an https URL.
func (o *engine) userTrusts(u string) bool {
	h := hostOf(u)
	for _, t := range o.TrustHosts {
		if h != "" && trust.Normalize(t) == h {
			return true
		}
	}
	return false
}

// withinDomain reports whether an https URL's host lies in domain's registrable domain.
func withinDomain(u, domain string) bool {
	pu, err := url.Parse(u)
	return err == nil && pu.Scheme == "https" && trust.SameRegistrable(pu.Hostname(), domain)
}

func hostOf(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return trust.Normalize(pu.Hostname())
}
