package detect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mailsetup/mailsetup/detect/trust"
)

// Discovery source names, in merge priority order.
const (
	// SourceProviders is the embedded knowledge: providers.yaml and the ISPDB snapshot.
	SourceProviders = "providers"
	// SourceISPDB is Mozilla's ISPDB online (https://autoconfig.thunderbird.net).
	SourceISPDB = "ispdb"
	// SourceAutoconfig is the domain's own autoconfig document (https, then http).
	SourceAutoconfig = "autoconfig"
	// SourceAutodiscover is Microsoft Autodiscover (POX).
	SourceAutodiscover = "autodiscover"
	SourceSRV          = "srv"
	SourceMX           = "mx"
	SourceGuess        = "guess"
)

// maxDiscovery caps the whole discovery step.
const maxDiscovery = 10 * time.Second

// maxSRVTargets caps the targets taken from one SRV service; real domains publish one or two.
const maxSRVTargets = 4

// Discover asks every source concurrently and returns each source's outcome (in
// priority order), the merged candidates (deduplicated, first source wins) and the
// provider recognised by domain or by MX, or nil.
func (o *engine) Discover(ctx context.Context, addr Address) ([]SourceResult, []Candidate, *Provider) {
	ctx, cancel := context.WithTimeout(ctx, maxDiscovery)
	defer cancel()
	type job struct {
		name string
		run  func(context.Context) (SourceResult, *Provider)
	}
	jobs := []job{
		{SourceProviders, func(ctx context.Context) (SourceResult, *Provider) { return o.discoverProviders(addr) }},
		{SourceISPDB, func(ctx context.Context) (SourceResult, *Provider) { return o.discoverISPDB(ctx, addr), nil }},
		{SourceAutoconfig, func(ctx context.Context) (SourceResult, *Provider) { return o.discoverAutoconfig(ctx, addr), nil }},
		{SourceAutodiscover, func(ctx context.Context) (SourceResult, *Provider) { return o.discoverAutodiscover(ctx, addr), nil }},
		{SourceSRV, func(ctx context.Context) (SourceResult, *Provider) { return o.discoverSRV(ctx, addr), nil }},
		{SourceMX, func(ctx context.Context) (SourceResult, *Provider) { return o.discoverMX(ctx, addr) }},
		{SourceGuess, func(ctx context.Context) (SourceResult, *Provider) { return o.discoverGuess(ctx, addr), nil }},
	}
	results := make([]SourceResult, len(jobs))
	providers := make([]*Provider, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			r, p := j.run(ctx)
			r.Source = j.name
			r.ElapsedMS = time.Since(start).Milliseconds()
			r.Found = len(r.Servers) > 0
			if r.Servers == nil {
				r.Servers = []Candidate{}
			}
			for k := range r.Servers {
				r.Servers[k].Source = j.name
			}
			results[i], providers[i] = r, p
			o.progress(Event{Source: &results[i]})
		}()
	}
	wg.Wait()

	var provider *Provider
	for _, p := range providers {
		if p != nil {
			provider = p
			break
		}
	}
	return results, mergeCandidates(results), provider
}

// mergeCandidates concatenates the sources' servers in priority order, dropping repeats.
func mergeCandidates(results []SourceResult) []Candidate {
	seen := map[ProbeKey]bool{}
	var out []Candidate
	for _, r := range results {
		for _, c := range r.Servers {
			k := ProbeKey{c.Protocol, strings.ToLower(c.Host), c.Port, c.Security}
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, c)
		}
	}
	return out
}

func (o *engine) discoverProviders(addr Address) (SourceResult, *Provider) {
	if o.Providers == nil {
		return SourceResult{Detail: "no provider knowledge base loaded"}, nil
	}
	p := o.Providers.ByDomain(addr.Domain)
	if p == nil {
		return SourceResult{Detail: fmt.Sprintf("%s is not in the knowledge base (%d providers)", addr.Domain, len(o.Providers.Providers))}, nil
	}
	detail := p.Name + " (" + p.Provenance.String() + ")"
	return SourceResult{Detail: detail, Servers: withOrigin(p.Candidates(addr, SourceProviders), trust.OriginKnowledge, "knowledge: "+p.ID)}, p
}

// withOrigin marks candidates with the trust origin and the exact place they came from.
func withOrigin(cands []Candidate, o trust.Origin, via string) []Candidate {
	for i := range cands {
		cands[i].origin, cands[i].Via = o, via
	}
	return cands
}

func (o *engine) discoverAutoconfig(ctx context.Context, addr Address) SourceResult {
	cands, tried, hint, err := o.fetchAutoconfig(ctx, addr.Domain, addr, true)
	r := SourceResult{Detail: strings.Join(tried, "; "), Servers: cands, OAuth2: hint}
	if err != nil && len(cands) == 0 {
		r.Error = "no autoconfig document: " + err.Error()
	}
	return r
}

// srvServices are the RFC 6186 / RFC 8314 services, with the protocol and security each implies.
var srvServices = []struct {
	service string
	proto   Protocol
	sec     Security
}{
	{"submissions", SMTP, SecurityTLS},
	{"submission", SMTP, SecurityStartTLS},
	{"imaps", IMAP, SecurityTLS},
	{"imap", IMAP, SecurityStartTLS},
	{"pop3s", POP3, SecurityTLS},
	{"pop3", POP3, SecurityStartTLS},
}

func (o *engine) discoverSRV(ctx context.Context, addr Address) SourceResult {
	type answer struct {
		notes []string
		cands []Candidate
		err   error
	}
	answers := make([]answer, len(srvServices))
	var wg sync.WaitGroup
	for i, s := range srvServices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, recs, err := o.resolver().LookupSRV(ctx, s.service, "tcp", addr.Domain)
			if err != nil {
				answers[i].err = err
				return
			}
			sort.SliceStable(recs, func(a, b int) bool {
				if recs[a].Priority != recs[b].Priority {
					return recs[a].Priority < recs[b].Priority
				}
				return recs[a].Weight > recs[b].Weight
			})
			record := "_" + s.service + "._tcp." + addr.Domain
			for _, rec := range recs {
				target := trust.Normalize(rec.Target)
				switch {
				case target == "":
					answers[i].notes = append(answers[i].notes, "_"+s.service+": not offered")
				case !trust.IsHostName(target) || rec.Port == 0:
					answers[i].notes = append(answers[i].notes, fmt.Sprintf("_%s: %q ignored (not a server name)", s.service, clip(target)))
				case len(answers[i].cands) >= maxSRVTargets:
					answers[i].notes = append(answers[i].notes, fmt.Sprintf("_%s: %s ignored (at most %d targets)", s.service, target, maxSRVTargets))
				default:
					answers[i].notes = append(answers[i].notes, fmt.Sprintf("_%s: %s:%d", s.service, target, rec.Port))
					answers[i].cands = append(answers[i].cands, Candidate{Protocol: s.proto, Host: target, Port: int(rec.Port), Security: s.sec,
						Username: addr.String(), origin: trust.OriginSRV, Via: record})
				}
			}
		}()
	}
	wg.Wait()
	var r SourceResult
	var notes, errs []string
	for i, a := range answers {
		notes = append(notes, a.notes...)
		r.Servers = append(r.Servers, a.cands...)
		if a.err != nil && !isNotFound(a.err) {
			errs = append(errs, "_"+srvServices[i].service+": "+a.err.Error())
		}
	}
	r.Detail = strings.Join(notes, "; ")
	if len(notes) == 0 {
		r.Detail = "no SRV records"
	}
	if len(errs) > 0 {
		r.Error = strings.Join(errs, "; ")
	}
	return r
}

func (o *engine) discoverMX(ctx context.Context, addr Address) (SourceResult, *Provider) {
	mxs, err := o.resolver().LookupMX(ctx, addr.Domain)
	if err != nil {
		r := SourceResult{Detail: "no MX records"}
		if !isNotFound(err) {
			r.Error = err.Error()
		}
		return r, nil
	}
	sort.SliceStable(mxs, func(a, b int) bool { return mxs[a].Pref < mxs[b].Pref })
	var hosts []string
	for _, mx := range mxs {
		if h := strings.ToLower(strings.TrimSuffix(mx.Host, ".")); h != "" {
			hosts = append(hosts, h)
		}
	}
	r := SourceResult{Detail: "MX " + strings.Join(hosts, ", ")}
	for _, h := range hosts {
		p := o.Providers.ByMX(h)
		if p == nil {
			p, _ = o.Providers.ByMXDomain(h) // the ISPDB lists MX domains for this
		}
		if p != nil {
			r.Detail += "; hosted by " + p.Name
			r.Servers = withOrigin(p.Candidates(addr, SourceMX), trust.OriginKnowledgeMX, "MX "+h+" → knowledge: "+p.ID)
			return r, p
		}
	}
	// Not known offline: ask the online ISPDB for the MX host's registrable domain (as
	// Thunderbird does), then that domain's own autoconfig. What another domain's
	// document names is never trusted with a login by itself; the ISPDB's answer is.
	for _, d := range mxDomains(hosts, addr.Domain) {
		if cands, _, hint, err := o.fetchISPDB(ctx, d, addr); len(cands) > 0 {
			r.OAuth2 = hint
			r.Detail += "; online ISPDB for " + d
			if err != nil {
				r.Detail += " (" + err.Error() + ")"
			}
			r.Servers = cands
			return r, nil
		}
	}
	for _, d := range mxDomains(hosts, addr.Domain) {
		cands, _, _, err := o.fetchAutoconfig(ctx, d, addr, false)
		if err == nil && len(cands) > 0 {
			r.Detail += "; autoconfig of " + d
			r.Servers = cands
			return r, nil
		}
	}
	return r, nil
}

// mxDomains derives the domains worth asking for autoconfig from MX host names: each
// host's registrable domain by the public suffix list (an MX under example.co.uk gives
// example.co.uk, never co.uk), excluding the address's own registrable domain, at most two.
func mxDomains(hosts []string, own string) []string {
	seen := map[string]bool{trust.Registrable(own): true}
	var out []string
	for _, h := range hosts {
		d := trust.Registrable(h)
		if !trust.IsHostName(d) || trust.IsPublicSuffix(d) || seen[d] {
			continue
		}
		seen[d] = true
		out = append(out, d)
		if len(out) >= 2 {
			break
		}
	}
	return out
}

// guesses are the host names tried when no source knows the domain.
var guesses = []struct {
	prefix string
	protos []Protocol
}{
	{"smtp.", []Protocol{SMTP}},
	{"mail.", []Protocol{SMTP, IMAP, POP3}},
	{"", []Protocol{SMTP, IMAP, POP3}},
	{"imap.", []Protocol{IMAP}},
	{"pop.", []Protocol{POP3}},
	{"pop3.", []Protocol{POP3}},
}

func (o *engine) discoverGuess(ctx context.Context, addr Address) SourceResult {
	found := make([]bool, len(guesses))
	var wg sync.WaitGroup
	for i, g := range guesses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ips, err := o.resolver().LookupHost(ctx, g.prefix+addr.Domain)
			found[i] = err == nil && len(ips) > 0
		}()
	}
	wg.Wait()
	var r SourceResult
	var names []string
	for i, g := range guesses {
		if !found[i] {
			continue
		}
		host := g.prefix + addr.Domain
		names = append(names, host)
		first := len(r.Servers)
		for _, p := range g.protos {
			switch p {
			case SMTP:
				r.Servers = append(r.Servers,
					Candidate{Protocol: SMTP, Host: host, Port: 465, Security: SecurityTLS},
					Candidate{Protocol: SMTP, Host: host, Port: 587, Security: SecurityStartTLS})
			case IMAP:
				r.Servers = append(r.Servers,
					Candidate{Protocol: IMAP, Host: host, Port: 993, Security: SecurityTLS},
					Candidate{Protocol: IMAP, Host: host, Port: 143, Security: SecurityStartTLS})
			case POP3:
				r.Servers = append(r.Servers,
					Candidate{Protocol: POP3, Host: host, Port: 995, Security: SecurityTLS},
					Candidate{Protocol: POP3, Host: host, Port: 110, Security: SecurityStartTLS})
			}
		}
		withOrigin(r.Servers[first:], trust.OriginGuess, host)
	}
	if len(names) == 0 {
		r.Detail = "none of smtp., mail., imap., pop., pop3. or the bare domain resolves"
	} else {
		r.Detail = "resolves: " + strings.Join(names, ", ")
	}
	// Guesses are ordered so the most specific name of each protocol comes first.
	sort.SliceStable(r.Servers, func(a, b int) bool {
		return guessRank(r.Servers[a].Host, addr.Domain) < guessRank(r.Servers[b].Host, addr.Domain)
	})
	return r
}

func guessRank(host, domain string) int {
	switch host {
	case domain:
		return 2
	case "mail." + domain:
		return 1
	default:
		return 0
	}
}

// isNotFound reports a DNS "no such name/record" answer, which is an outcome, not an error.
func isNotFound(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}
