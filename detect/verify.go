package detect

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mailsetup/mailsetup/detect/trust"
)

// This file checks one more address of a domain whose servers a run already probed:
// the matrix is reused, and the address costs only its own logins (batch checks).

// ErrNotShared says a run's matrix may not stand for another address: another domain
// (not one known provider's), its trust decision differs (other confirmed servers), or
// the report was not made by a run of this process (read from a file, built by hand). The caller runs the whole check for that address instead.
var ErrNotShared = errors.New("detect: the shared check does not apply to this address")

// maxVerifyTries caps the settings one direction's login is tried on for one address:
// the chosen one and, when that fails, alternatives of another service or server.
const maxVerifyTries = 3

// sharedMatrixNote opens the transcript of every cell an address inherits from the shared matrix.
const sharedMatrixNote = "-- checked once for every address of this domain, with another address: what it sent and was told here is not yours"

// VerifyLogin checks address on the servers that base, a report of Run in this process
// for another address of the same domain (or of a domain of the same known provider),
// probed. The trust decision is made again for address and must equal base's, else the
// error wraps ErrNotShared; a login goes only where that decision allows, with the
// same encryption rules as Run. Each direction costs one login on the setting the
// shared matrix ranks first, and, only when that fails, on up to two alternatives of
// another service or server, which tells a rejected password (every login refused) from
// a difference of this address (one works). The result is a complete report for
// address; the cells it did not log in to say so in their transcript. It returns an
// error only for bad input (ErrBadAddress, ErrBadOption) and ErrNotShared.
func (opts Options) VerifyLogin(ctx context.Context, address string, base *Report) (*Report, error) {
	return opts.engine().verifyLogin(ctx, address, base)
}

func (o *engine) verifyLogin(ctx context.Context, address string, base *Report) (*Report, error) {
	addr, err := ParseAddress(address)
	if err != nil {
		return nil, err
	}
	if base == nil {
		return nil, fmt.Errorf("%w: no report to share", ErrBadOption)
	}
	if !base.ran {
		return nil, fmt.Errorf("%w: the report was not made by a run of this process", ErrNotShared)
	}
	from, err := ParseAddress(base.Address)
	if err != nil {
		return nil, fmt.Errorf("%w: the shared report's address: %v", ErrNotShared, err)
	}
	// Only the same domain, or two domains the knowledge base gives to one provider:
	// another domain's own documents vouch for nothing here.
	if addr.Domain != from.Domain {
		p, q := o.Providers.ByDomain(addr.Domain), o.Providers.ByDomain(from.Domain)
		if p == nil || q == nil || p.ID != q.ID {
			return nil, fmt.Errorf("%w: %s and %s are not one domain or one known provider's", ErrNotShared, addr.Domain, from.Domain)
		}
	}
	if err := o.checkOptions(); err != nil {
		return nil, err
	}
	start := time.Now()
	o.acceptDomain = addr.Domain
	o.sessions = tls.NewLRUClientSessionCache(8)
	var provider *Provider
	if base.Provider != nil {
		if provider = o.Providers.byID(base.Provider.ID); provider == nil {
			return nil, fmt.Errorf("%w: provider %q is not in this knowledge base", ErrNotShared, base.Provider.ID)
		}
	}
	cands := make([]Candidate, 0, 16)
	for _, c := range mergeCandidates(base.Discovery) {
		cands = append(cands, candidateFor(c, from, addr, provider))
	}
	rt, hosts := o.decideTrust(addr, cands, provider)
	if err := sameTrust(hosts, base.Hosts); err != nil {
		return nil, err
	}
	cands = trustedFirst(cands, rt)
	login := o.login(addr, cands, provider, rt)

	rep := &Report{
		ran:       true,
		Address:   addr.String(),
		Domain:    addr.Domain,
		Discovery: discoveryFor(base.Discovery, from, addr, provider),
		Probes:    sharedProbes(base.Probes, rt),
		Network:   base.Network,
		Warnings:  []string{},
		Provider:  base.Provider,
		Hosts:     hosts,
		Meta: ReportMeta{
			Version: Version, StartedAt: o.now().UTC().Format(time.RFC3339),
			PasswordUsed: o.Password != "", Plaintext: o.AllowPlaintext,
		},
	}
	if login.hasPassword() {
		o.progress(Event{Stage: StageProbing})
		encrypted := encryptedServers(rep.Probes, rt)
		order := recommend(rep.Probes, o.PreferPOP3, login.withoutPassword(false), false, encrypted)
		var outgoing, incoming []Setting
		for _, s := range append([]Setting{deref(order.Outgoing), deref(order.Incoming)}, order.Alternatives...) {
			switch {
			case s.Host == "":
			case s.Protocol == SMTP:
				outgoing = append(outgoing, s)
			default:
				incoming = append(incoming, s)
			}
		}
		var wg sync.WaitGroup
		results := make([][]ProbeResult, 2)
		for i, list := range [][]Setting{outgoing, incoming} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = o.verifyDirection(ctx, list, rep.Probes, base.Probes, login, from, addr, rt, encrypted)
			}()
		}
		wg.Wait()
		for _, rs := range results {
			for _, r := range rs {
				if i := probeIndex(rep.Probes, r); i >= 0 {
					rep.Probes[i] = r
				}
			}
		}
	}
	rep.FailedLogins = login.Gate.Failed()
	if len(rep.FailedLogins) == 0 {
		rep.FailedLogins = nil
	}
	rep.Recommended = recommend(rep.Probes, o.PreferPOP3, login, login.hasPassword(), encryptedServers(rep.Probes, rt))
	w := warnings(rep, provider, &o.Options)
	rep.Warnings, rep.Notices = w.text, w.notices
	rep.Meta.ElapsedMS = time.Since(start).Milliseconds()
	o.progress(Event{Stage: StageDone})
	return rep, nil
}

// Check refuses options no run can use, as Run and VerifyLogin do (an error wrapping
// ErrBadOption): for front ends that check their flags before they start.
func (o Options) Check() error { return (&engine{Options: o}).checkOptions() }

// checkOptions refuses options no run can use (Run and VerifyLogin).
func (o *engine) checkOptions() error {
	if o.Username != "" && !ValidUsername(o.Username) {
		return fmt.Errorf("%w: the user name %q is empty, too long or contains control characters", ErrBadOption, o.Username)
	}
	for _, h := range o.TrustHosts {
		if !trust.IsHostName(h) {
			return fmt.Errorf("%w: %q is not a server name (an IP address or a single word cannot be trusted)", ErrBadOption, h)
		}
	}
	return nil
}

// verifyDirection logs in on the settings of one direction in the shared matrix's
// order until one works: the first, then alternatives of a service or server that has
// not refused these credentials yet (another port of a server that refused them judges
// the same password the same way). probes is the shared matrix, base the same cells as
// the other address saw them. It returns the results of the logins it made.
func (o *engine) verifyDirection(ctx context.Context, list []Setting, probes, base []ProbeResult, login *Login,
	from, addr Address, rt *runTrust, encrypted map[string]bool) []ProbeResult {
	var out []ProbeResult
	refused := map[string]bool{}
	for _, s := range list {
		if len(out) >= maxVerifyTries || ctx.Err() != nil {
			break
		}
		if s.Auth == "none" || s.Auth == "pop-before-smtp" {
			break // the server sends without a login: nothing of this address to prove
		}
		service := string(s.Protocol) + "|" + trust.Normalize(s.Host)
		key := ProbeKey{s.Protocol, s.Host, s.Port, s.Security}
		i := slices.IndexFunc(probes, func(p ProbeResult) bool { return keyOf(p) == key })
		if refused[service] || i < 0 || !rt.trusted(s.Host) {
			continue
		}
		cell := probes[i]
		if s.Security == SecurityNone && (encrypted[trust.Normalize(s.Host)] || clearChoice(cell, o.AllowPlaintext) != nil) {
			continue // the rules of clearTextLogins: no clear-text login where TLS exists or without consent
		}
		o.progress(Event{Start: &key})
		res := o.probeOne(ctx, key, login.forCell(from, addr, base[i]))
		res.Source = cell.Source
		res.Transcript = append([]string{"-- your login, on a setting the check of your domain found"}, res.Transcript...)
		o.progress(Event{Probe: &res})
		out = append(out, res)
		if res.Verified {
			break
		}
		if res.Status == StatusAuthFailed {
			refused[service] = true
		}
	}
	return out
}

// forCell is the login for one cell: the user name form another address of the domain
// was verified with there comes first (Apple's iCloud, for one, wants the local part
// for IMAP and the address for SMTP), then the usual variants.
func (l *Login) forCell(from, to Address, cell ProbeResult) *Login {
	c := *l
	c.SMTPDone = nil
	if u := formFor(cell.UsernameUsed, from, to); cell.Verified && u != "" {
		c.Usernames = append([]string{u}, slices.DeleteFunc(slices.Clone(l.Usernames), func(v string) bool { return v == u })...)
	}
	return &c
}

// formFor maps a user name of address from to the same form for address to: the full
// address, the local part, or "" when the form is not known.
func formFor(user string, from, to Address) string {
	switch user {
	case "":
		return ""
	case from.String():
		return to.String()
	case from.Local:
		return to.Local
	}
	return ""
}

// candidateFor is a candidate of the run for from, as discovery would have given it for
// to: the provider's user name format expanded for to, a document's user name mapped by
// its form (or dropped when its form is unknown).
func candidateFor(c Candidate, from, to Address, p *Provider) Candidate {
	if c.Username == "" {
		return c
	}
	if p != nil && (c.origin == trust.OriginKnowledge || c.origin == trust.OriginKnowledgeMX) {
		for _, s := range p.Servers {
			if s.Protocol == c.Protocol && strings.EqualFold(s.Host, c.Host) && s.Port == c.Port && s.Security == c.Security {
				c.Username = p.LoginNameFor(s, to)
				return c
			}
		}
	}
	c.Username = formFor(c.Username, from, to)
	return c
}

// discoveryFor copies the sources' outcome for to: the servers' user names, and the
// address in the notes (autoconfig's HTTPS URLs carry it), are to's.
func discoveryFor(src []SourceResult, from, to Address, p *Provider) []SourceResult {
	swap := strings.NewReplacer(from.String(), to.String(), url.QueryEscape(from.String()), url.QueryEscape(to.String()))
	out := make([]SourceResult, len(src))
	for i, s := range src {
		out[i] = s
		out[i].Detail, out[i].Error = swap.Replace(s.Detail), swap.Replace(s.Error)
		out[i].Servers = make([]Candidate, len(s.Servers))
		for j, c := range s.Servers {
			out[i].Servers[j] = candidateFor(c, from, to, p)
		}
	}
	return out
}

// sameTrust returns ErrNotShared unless both decisions name the same servers with the
// same verdict.
func sameTrust(got, base []HostTrust) error {
	want := map[string]bool{}
	for _, h := range base {
		want[h.Host] = h.Trusted
	}
	if len(got) != len(want) {
		return fmt.Errorf("%w: %d servers named instead of %d", ErrNotShared, len(got), len(want))
	}
	for _, h := range got {
		if t, ok := want[h.Host]; !ok || t != h.Trusted {
			return fmt.Errorf("%w: the trust decision on %s differs", ErrNotShared, h.Host)
		}
	}
	return nil
}

// sharedProbes turns the matrix of another address into this address's starting point:
// what the servers showed stays (reachability, TLS, certificates, mechanisms), that
// address's logins go (a rejected login becomes "reachable, login not tested").
func sharedProbes(base []ProbeResult, rt *runTrust) []ProbeResult {
	out := make([]ProbeResult, len(base))
	for i, p := range base {
		q := p
		q.Transcript = append([]string{sharedMatrixNote}, p.Transcript...)
		if q.LoginAttempts > 0 || q.Verified {
			q.Verified, q.AuthUsed, q.UsernameUsed, q.LoginAttempts = false, "", "", 0
			if q.Status == StatusOK || q.Status == StatusAuthFailed {
				q.Status, q.Diagnosis, q.Error = StatusOK, DiagnosisFor(&Failure{Kind: KindUnverified}), ""
			}
		}
		if !rt.trusted(q.Host) {
			q = untrustedResult(q, rt.decisions[trust.Normalize(q.Host)])
		}
		out[i] = q
	}
	return out
}

func keyOf(p ProbeResult) ProbeKey {
	return ProbeKey{p.Protocol, strings.ToLower(p.Host), p.Port, p.Security}
}

func probeIndex(probes []ProbeResult, r ProbeResult) int {
	k := keyOf(r)
	return slices.IndexFunc(probes, func(p ProbeResult) bool { return keyOf(p) == k })
}

func deref(s *Setting) Setting {
	if s == nil {
		return Setting{}
	}
	return *s
}

// byID returns the provider with this ID, or nil.
func (db *ProviderDB) byID(id string) *Provider {
	if db == nil {
		return nil
	}
	for i := range db.Providers {
		if db.Providers[i].ID == id {
			return &db.Providers[i]
		}
	}
	return nil
}
