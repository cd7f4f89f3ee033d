package current

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/detect"
)

// ErrNoAddress says the account has no address to check (and no user name that is one).
var ErrNoAddress = errors.New("current: the account names no email address; give it (--account ADDRESS)")

// errPort25Blocked is the cancel cause of a port-25 probe on a network that blocks it.
var errPort25Blocked = errors.New("current: port 25 is blocked on this network")

// Request is one check of an account's current settings.
type Request struct {
	Account clients.Account
	// Options are the engine options (password, DNS, CA, timeouts, test networks).
	Options detect.Options
	// Progress, when set, receives events from several goroutines; it must return quickly.
	Progress func(Event)
}

// Stage names a step of the check of the settings in use.
type Stage string

// The stages, in order.
const (
	// StageCurrent: the settings in use are being tried as they are.
	StageCurrent Stage = "current"
	// StageMatrix: a setting failed; the matrix looks for the smallest change.
	StageMatrix Stage = "matrix"
	// StageDone: the check has ended.
	StageDone Stage = "done"
)

// Event is a progress notification: a stage, a verdict, or an engine event.
type Event struct {
	Stage  Stage
	Part   *Part
	Engine *detect.Event
}

// Part is one current setting with its verdict and, when it fails, the smallest change.
type Part struct {
	Role    Role               `json:"role"`
	Current detect.Setting     `json:"current"`
	Origin  clients.Origin     `json:"origin"`
	Probe   detect.ProbeResult `json:"probe"`
	Verdict Verdict            `json:"verdict"`
	// Change is the smallest change proven in this run; nil when the setting works or
	// when nothing proven can replace it.
	Change *Change `json:"change"`
}

// Result is everything one check found.
type Result struct {
	Account clients.Account `json:"account"`
	Address string          `json:"address"`
	Parts   []Part          `json:"parts"`
	Network detect.Network  `json:"network"`
	// Report is the usual engine run for the same account.
	Report *detect.Report `json:"report"`
	// Extra are probes of the current servers' other ports that the engine's run did
	// not cover (its discovery did not propose those servers).
	Extra []detect.ProbeResult `json:"extra_probes,omitempty"`
	// VerdictMS is how long it took until the verdicts on the current settings were known.
	VerdictMS int64 `json:"verdict_ms"`
	ElapsedMS int64 `json:"elapsed_ms"`
}

// Part returns the part of role, or nil.
func (r *Result) Part(role Role) *Part {
	for i := range r.Parts {
		if r.Parts[i].Role == role {
			return &r.Parts[i]
		}
	}
	return nil
}

// OK reports whether every current setting works or has a proven change.
func (r *Result) OK() bool {
	for _, p := range r.Parts {
		if !p.Verdict.Works && p.Change == nil {
			return false
		}
	}
	return len(r.Parts) > 0
}

func (req Request) progress(e Event) {
	if req.Progress != nil {
		req.Progress(e)
	}
}

// Check probes exactly the account's current incoming and outgoing settings on this
// network (the network check beside them: a port-25 probe is stopped as soon as the
// network is known to block port 25), judges them, then runs the engine for the same
// account and picks for each failing setting the smallest change that worked. Logins
// use the password under the engine's usual rules; the current servers count as
// trusted by the user (Options.TrustHosts). It fails only for bad input.
func Check(ctx context.Context, req Request) (*Result, error) {
	start := time.Now()
	acct := req.Account
	if err := clients.ValidateAccount(&acct); err != nil {
		return nil, err
	}
	address := acct.Address
	if address == "" && acct.Incoming != nil && strings.Contains(acct.Incoming.Username, "@") {
		address = acct.Incoming.Username
	}
	addr, err := detect.ParseAddress(address)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrNoAddress, err)
	}
	opts := req.Options
	opts.TrustHosts = append(append([]string(nil), opts.TrustHosts...), hostsOf(acct)...)
	withPassword := opts.Password != ""

	// The network check, once, shared by the current probes and the engine's run.
	net := newOnce(func(ctx context.Context) detect.Network {
		switch {
		case req.Options.Network != nil:
			return req.Options.Network(ctx)
		case req.Options.SkipNetwork:
			return detect.Network{Port25: detect.Port25Unknown, Port25Evidence: []string{"network check turned off"},
				Outbound: map[string]detect.PortState{}, LocalAddresses: []string{}, DNSServers: []string{}}
		}
		var targets []string
		if acct.Outgoing != nil {
			targets = []string{acct.Outgoing.Host}
		}
		return opts.CheckNetwork(ctx, targets)
	})
	go net.run(ctx)

	req.progress(Event{Stage: StageCurrent})
	res := &Result{Account: acct, Address: addr.String()}
	type role struct {
		r      Role
		s      *detect.Setting
		origin clients.Origin
	}
	var roles []role
	if acct.Incoming != nil {
		roles = append(roles, role{Incoming, acct.Incoming, acct.InOrigin})
	}
	if acct.Outgoing != nil {
		roles = append(roles, role{Outgoing, acct.Outgoing, acct.OutOrigin})
	}
	probes := make([]detect.ProbeResult, len(roles))
	var wg sync.WaitGroup
	for i, r := range roles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			probes[i] = probeCurrent(ctx, &opts, *r.s, addr.String(), net)
		}()
	}
	wg.Wait()
	n := net.wait(ctx)
	res.Network = n
	for i, r := range roles {
		res.Parts = append(res.Parts, Part{Role: r.r, Current: *r.s, Origin: r.origin, Probe: probes[i],
			Verdict: Judge(*r.s, probes[i], n, probes, withPassword)})
	}
	res.VerdictMS = time.Since(start).Milliseconds()
	for i := range res.Parts {
		req.progress(Event{Part: &res.Parts[i]})
	}

	// The usual run for the same account, with the network already known.
	req.progress(Event{Stage: StageMatrix})
	ropts := opts
	ropts.Network = net.wait
	ropts.SkipNetwork = false
	if u := runUsername(res.Parts); u != "" && ropts.Username == "" {
		ropts.Username = u
	}
	if req.Progress != nil {
		ropts.Progress = func(e detect.Event) { req.progress(Event{Engine: &e}) }
	}
	rep, err := detect.Run(ctx, addr.String(), ropts)
	if err != nil {
		return nil, err
	}
	res.Report = rep

	for i := range res.Parts {
		p := &res.Parts[i]
		if p.Verdict.Works {
			continue
		}
		if !covers(rep.Probes, p.Current) {
			res.Extra = append(res.Extra, sameHostProbes(ctx, &opts, p.Current, addr.String(), n)...)
		}
		all := append(append(append([]detect.ProbeResult(nil), rep.Probes...), res.Extra...), probes...)
		p.Verdict = Judge(p.Current, p.Probe, n, all, withPassword)
		p.Change = SmallestChange(p.Role, p.Current, all, withPassword)
	}
	res.ElapsedMS = time.Since(start).Milliseconds()
	req.progress(Event{Stage: StageDone})
	return res, nil
}

func hostsOf(a clients.Account) []string {
	var out []string
	for _, s := range []*detect.Setting{a.Incoming, a.Outgoing} {
		if s != nil {
			out = append(out, s.Host)
		}
	}
	return out
}

// runUsername is the user name the engine's run should log in with: the current one
// of a failing setting, unless that login was rejected (then the engine tries its
// usual variants).
func runUsername(parts []Part) string {
	for _, p := range parts {
		if !p.Verdict.Works && p.Current.Username != "" && p.Verdict.Kind != detect.KindAuthRejected && p.Verdict.Kind != detect.KindLoginCap {
			return p.Current.Username
		}
	}
	for _, p := range parts {
		if p.Verdict.Works && p.Current.Username != "" {
			return p.Current.Username
		}
	}
	return ""
}

// covers reports whether the engine's run probed the current server for this protocol.
func covers(probes []detect.ProbeResult, s detect.Setting) bool {
	for _, p := range probes {
		if p.Protocol == s.Protocol && strings.EqualFold(p.Host, s.Host) {
			return true
		}
	}
	return false
}

func login(s detect.Setting, address, password string) *detect.Login {
	l := &detect.Login{From: address, Gate: detect.NewLoginGate()}
	if s.Auth == detect.AuthNone {
		return l // the setting sends without login: ask whether the server relays from here
	}
	l.Password = password
	if s.Username != "" {
		l.Usernames = []string{s.Username}
	} else {
		l.Usernames = []string{address}
	}
	return l
}

func probeOne(ctx context.Context, o *detect.Options, key detect.ProbeKey, l *detect.Login) detect.ProbeResult {
	switch key.Protocol {
	case detect.SMTP:
		return o.ProbeSMTP(ctx, key, l)
	case detect.IMAP:
		return o.ProbeIMAP(ctx, key, l)
	default:
		return o.ProbePOP3(ctx, key, l)
	}
}

// probeCurrent probes exactly s; a port-25 probe ends as soon as the network check
// says port 25 is blocked here.
func probeCurrent(ctx context.Context, o *detect.Options, s detect.Setting, address string, net *once) detect.ProbeResult {
	key := detect.ProbeKey{Protocol: s.Protocol, Host: s.Host, Port: s.Port, Security: s.Security}
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if s.Protocol == detect.SMTP && s.Port == 25 {
		go func() {
			select {
			case <-net.done:
				if net.val.Port25 == detect.Port25Blocked {
					cancel(errPort25Blocked)
				}
			case <-pctx.Done():
			}
		}()
	}
	res := probeOne(pctx, o, key, login(s, address, o.Password))
	if errors.Is(context.Cause(pctx), errPort25Blocked) && res.Status != detect.StatusOK {
		res.Status = detect.StatusFor(detect.KindPort25Blocked)
		res.Diagnosis = detect.DiagnosisFor(&detect.Failure{Kind: detect.KindPort25Blocked})
		res.Error = errPort25Blocked.Error()
	}
	return res
}

// sameHostProbes probes the current server's other standard ports (encrypted ones,
// and clear-text ones only when the current setting is clear text).
func sameHostProbes(ctx context.Context, o *detect.Options, cur detect.Setting, address string, n detect.Network) []detect.ProbeResult {
	type cell struct {
		port int
		sec  detect.Security
	}
	var cells []cell
	switch cur.Protocol {
	case detect.SMTP:
		cells = []cell{{465, detect.SecurityTLS}, {587, detect.SecurityStartTLS}, {2525, detect.SecurityStartTLS}, {25, detect.SecurityStartTLS}}
		if cur.Security == detect.SecurityNone {
			cells = append(cells, cell{587, detect.SecurityNone}, cell{25, detect.SecurityNone})
		}
	case detect.IMAP:
		cells = []cell{{993, detect.SecurityTLS}, {143, detect.SecurityStartTLS}}
		if cur.Security == detect.SecurityNone {
			cells = append(cells, cell{143, detect.SecurityNone})
		}
	default:
		cells = []cell{{995, detect.SecurityTLS}, {110, detect.SecurityStartTLS}}
		if cur.Security == detect.SecurityNone {
			cells = append(cells, cell{110, detect.SecurityNone})
		}
	}
	l := login(cur, address, o.Password)
	out := make([]detect.ProbeResult, 0, len(cells))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range cells {
		if c.port == cur.Port && c.sec == cur.Security || c.port == 25 && n.Port25 == detect.Port25Blocked {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := probeOne(ctx, o, detect.ProbeKey{Protocol: cur.Protocol, Host: cur.Host, Port: c.port, Security: c.sec}, l)
			mu.Lock()
			out = append(out, r)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// once runs the network check one time and lets several callers wait for it.
type once struct {
	f    func(context.Context) detect.Network
	done chan struct{}
	val  detect.Network
}

func newOnce(f func(context.Context) detect.Network) *once {
	return &once{f: f, done: make(chan struct{})}
}

func (o *once) run(ctx context.Context) {
	o.val = o.f(ctx)
	close(o.done)
}

// wait returns the network check's result (or an unknown network if ctx ends first).
func (o *once) wait(ctx context.Context) detect.Network {
	select {
	case <-o.done:
		return o.val
	case <-ctx.Done():
		return detect.Network{Port25: detect.Port25Unknown, Port25Evidence: []string{"cancelled"}, Outbound: map[string]detect.PortState{},
			LocalAddresses: []string{}, DNSServers: []string{}}
	}
}
