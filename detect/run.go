package detect

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// maxHostsPerProtocol caps how many candidate hosts of one protocol get the full matrix.
const maxHostsPerProtocol = 3

// maxConnsPerHost bounds simultaneous connections to one server, so the probe stays
// below providers' per-address connection limits (Gmail allows 15 IMAP connections).
const maxConnsPerHost = 8

// Version is the engine version written into reports; cmd/mailsetup sets it at build time.
var Version = "dev"

// Run discovers, probes, checks the network and recommends settings for address.
// It returns an error only for bad input (wrapping ErrBadAddress or ErrBadOption);
// everything the engine observed, including failures, is in the report.
func Run(ctx context.Context, address string, opts Options) (*Report, error) {
	addr, err := ParseAddress(address)
	if err != nil {
		return nil, err
	}
	o := opts.engine()
	o.acceptDomain = addr.Domain
	if err := o.checkOptions(); err != nil {
		return nil, err
	}
	o.sessions = tls.NewLRUClientSessionCache(64)
	if !o.noHostCache {
		o.Resolver = newHostCache(ctx, o.resolver(), o.timeout()) // the default dialer resolves through it too
	}
	start := time.Now()
	rep := &Report{
		ran:       true,
		Address:   addr.String(),
		Domain:    addr.Domain,
		Discovery: []SourceResult{},
		Probes:    []ProbeResult{},
		Warnings:  []string{},
		Network:   unknownNetwork("the network check did not run"),
		Meta: ReportMeta{
			Version:      Version,
			StartedAt:    o.now().UTC().Format(time.RFC3339),
			PasswordUsed: o.Password != "",
			Plaintext:    o.AllowPlaintext,
		},
	}

	o.progress(Event{Stage: StageDiscovery})
	sources, cands, provider := o.Discover(ctx, addr)
	for _, src := range sources {
		o.logger().Debug("discovery", "source", src.Source, "found", src.Found, "elapsed_ms", src.ElapsedMS)
	}
	rep.Discovery = sources
	if provider != nil {
		rep.Provider = provider.Summary()
	}
	rt, hosts := o.decideTrust(addr, cands, provider)
	rep.Hosts = hosts
	cands = trustedFirst(cands, rt)

	cells := o.matrix(cands)
	login := o.login(addr, cands, provider, rt)
	if o.OAuth.wanted() {
		rep.OAuth = o.signIn(ctx, addr, provider, sources, cands, rt, login)
	}

	// The network check runs beside the probes; its port-25 verdict cancels port-25 probes.
	netCh := make(chan Network, 1)
	port25 := newCancelGroup()
	go func() {
		n := o.network(ctx, outgoingHosts(cands))
		if n.Port25 == Port25Blocked {
			port25.cancel(ErrSkippedPort25)
		}
		o.progress(Event{Network: &n})
		netCh <- n
	}()

	o.progress(Event{Stage: StageProbing})
	rep.Probes = o.probeAll(ctx, cells, login, port25, rt)
	for _, i := range explainPlainPorts(rep.Probes) {
		o.progress(Event{Probe: &rep.Probes[i]}) // the window shows the better words too
	}
	o.clearTextLogins(ctx, rep.Probes, login, rt)
	o.popBeforeSMTP(ctx, rep.Probes, login)
	rep.Network = <-netCh
	rep.FailedLogins = login.Gate.Failed()
	if len(rep.FailedLogins) == 0 {
		rep.FailedLogins = nil
	}

	// With a password or a sign-in asked for, only what a login proved is recommended.
	proof := login.hasPassword() || o.OAuth.wanted()
	rep.Recommended = recommend(rep.Probes, o.PreferPOP3, login, proof, encryptedServers(rep.Probes, rt))
	if rep.OAuth == nil {
		rep.OAuth = oauthOffer(provider, rep.Probes)
	} else if provider != nil {
		rep.OAuth.Needed = oauthNeeded(provider, rep.Probes) && !rep.OAuth.SignedIn
	}
	w := warnings(rep, provider, &o.Options)
	rep.Warnings, rep.Notices = w.text, w.notices

	if o.SendTest {
		o.progress(Event{Stage: StageSendTest})
		rep.SendTest = o.sendTest(ctx, addr, rep.Recommended, login)
	}
	rep.Meta.ElapsedMS = time.Since(start).Milliseconds()
	o.progress(Event{Stage: StageDone})
	return rep, nil
}

func unknownNetwork(why string) Network {
	return Network{
		Port25: Port25Unknown, Port25Evidence: []string{why}, Outbound: map[string]PortState{},
		IPv6: "unknown", LocalAddresses: []string{}, DNSServers: []string{},
	}
}

// network runs the network check the options ask for.
func (o *engine) network(ctx context.Context, targets []string) Network {
	switch {
	case o.Network != nil:
		return o.Network(ctx)
	case o.SkipNetwork:
		return unknownNetwork("network check turned off")
	default:
		return o.CheckNetwork(ctx, targets)
	}
}

// cell is one probe of the matrix with the source that proposed its host.
type cell struct {
	key    ProbeKey
	source string
}

// Caps on the matrix, so that no source can turn a run into a port scan.
const (
	// maxExtraPorts caps the non-standard ports probed per host and protocol.
	maxExtraPorts = 2
	// maxCells caps the cells of one run (the standard matrix has at most 54).
	maxCells = 80
)

// MatrixRow is one protocol and standard port of the matrix, with the security modes
// the engine probes there on every host.
type MatrixRow struct {
	Protocol Protocol
	Port     int
	Modes    []Security
}

// Matrix is the one list of the standard cells, in the order the engine starts them
// and the window shows them; a new port or mode is a change here only.
var Matrix = []MatrixRow{
	{SMTP, 465, MatrixModes}, {SMTP, 587, MatrixModes}, {SMTP, 25, MatrixModes}, {SMTP, 2525, MatrixModes},
	{IMAP, 993, []Security{SecurityTLS}}, {IMAP, 143, []Security{SecurityStartTLS, SecurityNone}},
	{POP3, 995, []Security{SecurityTLS}}, {POP3, 110, []Security{SecurityStartTLS, SecurityNone}},
}

// MatrixModes are the security modes, as the matrix's columns.
var MatrixModes = []Security{SecurityTLS, SecurityStartTLS, SecurityNone}

// matrix expands the candidates into the probe cells: for each of the first hosts per
// protocol (trusted hosts first, see trustedFirst), every standard port and mode, then at
// most maxExtraPorts non-standard ports per host that a source named, and at most
// maxCells in all (so extra ports can never push a standard cell out).
func (o *engine) matrix(cands []Candidate) []cell {
	seen := map[ProbeKey]bool{}
	var out []cell
	add := func(k ProbeKey, src string) {
		if seen[k] || len(out) >= maxCells {
			return
		}
		seen[k] = true
		out = append(out, cell{key: k, source: src})
	}
	hosts := map[Protocol][]string{}
	hostSource := map[string]string{}
	extra := map[string]map[int]bool{}
	var extras []cell // non-standard ports, added after every standard cell
	for _, c := range cands {
		if !o.wants(c.Protocol) {
			continue
		}
		h := strings.ToLower(c.Host)
		hk := string(c.Protocol) + "|" + h
		if _, ok := hostSource[hk]; !ok {
			if len(hosts[c.Protocol]) >= maxHostsPerProtocol {
				continue
			}
			hosts[c.Protocol] = append(hosts[c.Protocol], h)
			hostSource[hk] = c.Source
		}
		if !isStandardPort(c.Protocol, c.Port) {
			if extra[hk] == nil {
				extra[hk] = map[int]bool{}
			}
			if !extra[hk][c.Port] && len(extra[hk]) >= maxExtraPorts {
				continue
			}
			extra[hk][c.Port] = true
			for _, m := range modesFor(c.Security) {
				extras = append(extras, cell{key: ProbeKey{c.Protocol, h, c.Port, m}, source: c.Source})
			}
		}
	}
	for _, row := range Matrix {
		for _, h := range hosts[row.Protocol] {
			for _, m := range row.Modes {
				add(ProbeKey{row.Protocol, h, row.Port, m}, hostSource[string(row.Protocol)+"|"+h])
			}
		}
	}
	for _, c := range extras {
		add(c.key, c.source)
	}
	return out
}

func (o *engine) wants(p Protocol) bool {
	if len(o.Only) == 0 {
		return true
	}
	for _, q := range o.Only {
		if q == p {
			return true
		}
	}
	return false
}

func isStandardPort(p Protocol, port int) bool {
	for _, row := range Matrix {
		if row.Protocol == p && row.Port == port {
			return true
		}
	}
	return false
}

// modesFor lists the modes worth probing on a non-standard port a source named.
func modesFor(sec Security) []Security {
	if sec == SecurityTLS {
		return []Security{SecurityTLS}
	}
	return []Security{SecurityStartTLS, SecurityNone}
}

func outgoingHosts(cands []Candidate) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range cands {
		if c.Protocol == SMTP && !seen[c.Host] && len(out) < maxHostsPerProtocol {
			seen[c.Host] = true
			out = append(out, c.Host)
		}
	}
	return out
}

// login builds the login variants: the override alone, else the provider's format, the
// user names that trusted sources proposed, the full address and the local part.
func (o *engine) login(addr Address, cands []Candidate, p *Provider, rt *runTrust) *Login {
	gate := o.LoginGate
	if gate == nil {
		gate = NewLoginGate()
	}
	l := &Login{Password: o.Password, From: addr.String(), Gate: gate}
	if o.Username != "" {
		l.Usernames = []string{o.Username}
		return l
	}
	seen := map[string]bool{}
	add := func(u string) {
		if u != "" && !seen[u] {
			seen[u] = true
			l.Usernames = append(l.Usernames, u)
		}
	}
	if p != nil {
		add(p.LoginName(addr))
	}
	// A user name counts only from a source that vouches for it: a forged plain-HTTP
	// document naming the real server must not choose the names it is asked with (and
	// spend its few rejected logins).
	for _, c := range cands {
		if vouches(c.origin) && rt.trusted(c.Host) && ValidUsername(c.Username) {
			add(c.Username)
		}
	}
	add(addr.String())
	add(addr.Local)
	return l
}

// explainPlainPorts gives a TLS cell that failed its handshake the plain reason when
// the same port greeted in clear text in another cell: the port expects STARTTLS.
// It returns the indices it changed.
func explainPlainPorts(probes []ProbeResult) []int {
	var changed []int
	greeted := map[string]bool{}
	for _, p := range probes {
		if p.Security != SecurityTLS && p.Banner != "" {
			greeted[portKey(ProbeKey{p.Protocol, p.Host, p.Port, p.Security})] = true
		}
	}
	for i, p := range probes {
		if p.Security == SecurityTLS && p.Diagnosis != nil && p.Diagnosis.Kind == KindTLSHandshake &&
			greeted[portKey(ProbeKey{p.Protocol, p.Host, p.Port, p.Security})] {
			probes[i].Diagnosis = DiagnosisFor(&Failure{Kind: KindPlainPort})
			changed = append(changed, i)
		}
	}
	return changed
}

// popBeforeSMTP asks again, after a POP3 login, the servers that offered no login and
// refused to relay: a server that accepts now relays only after POP3 ("POP before SMTP").
// It runs only when no outgoing setting works otherwise.
func (o *engine) popBeforeSMTP(ctx context.Context, probes []ProbeResult, login *Login) {
	var pop *ProbeResult
	var rejected []int
	for i := range probes {
		p := &probes[i]
		switch {
		case p.Protocol == SMTP && (p.Verified || p.Relay == RelayAccepted):
			return
		case p.Protocol == SMTP && p.Relay == RelayRejected:
			rejected = append(rejected, i)
		case p.Protocol == POP3 && p.Verified && pop == nil:
			pop = p
		}
	}
	if pop == nil || len(rejected) == 0 {
		return
	}
	key := ProbeKey{POP3, pop.Host, pop.Port, pop.Security}
	pr := o.startProbe(key, login)
	lctx, cancel := context.WithTimeout(ctx, o.timeout())
	pc, err := o.loginPOP3(lctx, pr, key, login, pop.UsernameUsed)
	cancel()
	if err != nil {
		return
	}
	pc.close()
	for _, i := range rejected {
		p := probes[i]
		again := o.ProbeSMTP(ctx, ProbeKey{SMTP, p.Host, p.Port, p.Security}, &Login{From: login.From, Gate: login.Gate})
		if again.Relay == RelayAccepted {
			again.Relay = RelayAfterPOP3
			again.Diagnosis = DiagnosisFor(&Failure{Kind: KindPOPBeforeSMTP})
			again.Source = p.Source
			again.Transcript = append([]string{"-- asked again right after a POP3 login to " + pop.Host}, again.Transcript...)
			probes[i] = again
		}
	}
}

// cancelGroup cancels every context registered with it, now or later, with one cause.
type cancelGroup struct {
	mu      sync.Mutex
	cause   error
	cancels []context.CancelCauseFunc
}

func newCancelGroup() *cancelGroup { return &cancelGroup{} }

func (g *cancelGroup) add(cancel context.CancelCauseFunc) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cause != nil {
		cancel(g.cause)
		return
	}
	g.cancels = append(g.cancels, cancel)
}

func (g *cancelGroup) cancel(cause error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cause != nil {
		return
	}
	g.cause = cause
	for _, c := range g.cancels {
		c(cause)
	}
	g.cancels = nil
}

// probeAll runs every cell with bounded concurrency (overall and per host) and returns
// the results in matrix order.
func (o *engine) probeAll(ctx context.Context, cells []cell, login *Login, port25 *cancelGroup, rt *runTrust) []ProbeResult {
	results := make([]ProbeResult, len(cells))
	sem := make(chan struct{}, o.concurrency())
	hostSem := map[string]chan struct{}{}
	// plainSiblings cancels the clear-text cells of a port once its TLS cell handshook.
	plainSiblings := map[string]*cancelGroup{}
	// shares[i] links cell i, a STARTTLS cell or a clear-text cell, to the port's other one.
	shares := o.plainShares(cells)
	for _, c := range cells {
		if hostSem[c.key.Host] == nil {
			hostSem[c.key.Host] = make(chan struct{}, maxConnsPerHost)
		}
		pk := portKey(c.key)
		if plainSiblings[pk] == nil {
			plainSiblings[pk] = newCancelGroup()
		}
	}
	var wg, smtpWG sync.WaitGroup
	smtpDone := make(chan struct{})
	for _, c := range cells {
		if c.key.Protocol == SMTP {
			smtpWG.Add(1)
		}
	}
	go func() { smtpWG.Wait(); close(smtpDone) }()
	login.SMTPDone = smtpDone
	for i, c := range cells {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c.key.Protocol == SMTP {
				defer smtpWG.Done()
			}
			cctx, cancel := context.WithCancelCause(ctx)
			defer cancel(nil)
			if c.key.Port == 25 {
				port25.add(cancel)
			}
			if c.key.Security != SecurityTLS {
				plainSiblings[portKey(c.key)].add(cancel)
			}
			trusted := rt.trusted(c.key.Host)
			l := cellLogin(login, trusted, c.key.Security)
			res, derived := o.fromSibling(cctx, shares[i], c.key, l)
			if derived {
				o.progress(Event{Start: &c.key})
			} else {
				res = o.runCell(cctx, c.key, l, shares[i], sem, hostSem[c.key.Host])
			}
			res = explainCancel(cctx, ctx, c.key, res)
			if !trusted {
				res = untrustedResult(res, rt.decisions[c.key.Host])
			}
			res.Source = c.source
			if c.key.Security == SecurityTLS && res.TLSVersion != "" {
				plainSiblings[portKey(c.key)].cancel(ErrImplicitTLSPort)
			}
			results[i] = res
			o.logger().Debug("probe", "protocol", res.Protocol, "host", res.Host, "port", res.Port,
				"security", res.Security, "status", res.Status, "elapsed_ms", res.ElapsedMS)
			o.progress(Event{Probe: &results[i]})
		}()
	}
	wg.Wait()
	return results
}

// runCell probes one cell on a connection of its own once a slot is free. A STARTTLS
// cell with a clear-text sibling shares what it saw before TLS, or how it failed first.
func (o *engine) runCell(ctx context.Context, key ProbeKey, login *Login, share *plainShare, sem, host chan struct{}) ProbeResult {
	if key.Security != SecurityStartTLS {
		share = nil
	}
	if share != nil {
		ctx = withShare(ctx, share)
	}
	var res ProbeResult // stays empty when the run ends first: explainCancel says so
	if acquire(ctx, sem, host) {
		o.progress(Event{Start: &key})
		res = o.probeOne(ctx, key, login)
		<-host
		<-sem
	}
	share.ended(res)
	return res
}

// plainShares pairs each IMAP and POP3 port's STARTTLS cell with its clear-text cell,
// unless sharing is off. Both cells of a pair get the same share.
func (o *engine) plainShares(cells []cell) []*plainShare {
	out := make([]*plainShare, len(cells))
	if o.noPlainShare {
		return out
	}
	starttls := map[string]int{}
	for i, c := range cells {
		if c.key.Security == SecurityStartTLS && c.key.Protocol != SMTP {
			starttls[portKey(c.key)] = i
		}
	}
	for i, c := range cells {
		if j, ok := starttls[portKey(c.key)]; ok && c.key.Security == SecurityNone {
			s := newPlainShare()
			out[i], out[j] = s, s
		}
	}
	return out
}

func portKey(k ProbeKey) string { return fmt.Sprintf("%s|%s|%d", k.Protocol, k.Host, k.Port) }

// acquire waits for a global and a per-host slot; false when the context ended first.
func acquire(ctx context.Context, sem, host chan struct{}) bool {
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	select {
	case host <- struct{}{}:
		return true
	case <-ctx.Done():
		<-sem
		return false
	}
}

func (o *engine) probeOne(ctx context.Context, key ProbeKey, login *Login) ProbeResult {
	switch key.Protocol {
	case SMTP:
		return o.ProbeSMTP(ctx, key, login)
	case IMAP:
		return o.ProbeIMAP(ctx, key, login)
	default:
		return o.ProbePOP3(ctx, key, login)
	}
}

// explainCancel rewrites the result of a cell that the engine itself stopped: a port-25
// cell on a blocking network, or a clear-text cell on a port that speaks implicit TLS.
func explainCancel(cctx, parent context.Context, key ProbeKey, res ProbeResult) ProbeResult {
	cause := context.Cause(cctx)
	if parent.Err() == nil && (errors.Is(cause, ErrSkippedPort25) || errors.Is(cause, ErrImplicitTLSPort)) {
		if res.Status == StatusOK {
			return res // finished before the cancel arrived
		}
		k := KindPort25Blocked
		if errors.Is(cause, ErrImplicitTLSPort) {
			k = KindImplicitTLSPort
		}
		res.Protocol, res.Host, res.Port, res.Security = key.Protocol, key.Host, key.Port, key.Security
		res.Status = StatusFor(k)
		res.Diagnosis = DiagnosisFor(&Failure{Kind: k})
		res.Error = cause.Error()
		if res.AuthMechanisms == nil {
			res.AuthMechanisms = []string{}
		}
		if res.Transcript == nil {
			res.Transcript = []string{}
		}
		return res
	}
	if res.Status == "" { // never started: the run was cancelled
		res = ProbeResult{Protocol: key.Protocol, Host: key.Host, Port: key.Port, Security: key.Security,
			AuthMechanisms: []string{}, Transcript: []string{}}
		res.Status = StatusFor(KindCanceled)
		res.Diagnosis = DiagnosisFor(&Failure{Kind: KindCanceled})
	}
	return res
}
