// Package batch checks a list of mail accounts at once (a consultant onboarding a
// client's staff) and exports their settings into one folder. The addresses of one
// domain, or of domains of one known provider, share one discovery and one matrix; every
// further address then costs only its own logins (detect.Options.VerifyLogin), which
// also decide for each address, by its own trust decision, where a login may go. No
// provider sees more connections from a batch at once than it allows.
package batch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/mailsetup/mailsetup/detect"
)

// State is where a client's check stands.
type State string

// States of a row, in the order a row passes them.
const (
	StateWaiting     State = "waiting"
	StateDiscovering State = "discovering"
	StateChecking    State = "checking"
	// StateVerified: outgoing and incoming settings proven by this address's own logins.
	StateVerified State = "verified"
	// StateUnverified: settings found, no password given, so no login was tested.
	StateUnverified State = "unverified"
	// StateAttention: something needs the consultant (Result.Reason says what).
	StateAttention State = "attention"
	StateCancelled State = "cancelled"
)

// Done reports whether the state is final.
func (s State) Done() bool {
	return s == StateVerified || s == StateUnverified || s == StateAttention || s == StateCancelled
}

// Result is one client's outcome, or its progress while it runs.
type Result struct {
	// Index is the client's position in the list given to Check.
	Index   int
	Address string
	State   State
	// Reason is the one line a table shows: the settings found, or what needs attention.
	Reason string
	// Differs says how this mailbox differs from the others of its domain ("" when it
	// does not): another user name form, a service refused to this mailbox alone.
	Differs string
	// Note is Reason in structured form, and DiffersNotes are the parts of Differs, so a
	// window in another language says them in its own words.
	Note         Note
	DiffersNotes []Note
	// Shared is true when the address was checked on another address's matrix.
	Shared bool
	// Report is the complete report, as a single check gives it (nil until done).
	Report  *detect.Report
	Elapsed time.Duration
}

// Options configures a batch.
type Options struct {
	// Engine holds the knowledge, network and trust options of every check (--dns, --ca,
	// --timeout, --allow-plaintext, --accept-cert, --trust-host). Its Password, Username,
	// Progress and SendTest are ignored: each client brings its own password.
	Engine detect.Options
	// DefaultLimit bounds the connections open at once to a provider that publishes no
	// limit; 0 means DefaultLimit.
	DefaultLimit int
	// Leaders bounds the whole checks (discovery and matrix) running at once; 0 means 8.
	Leaders int
	// Progress receives every change of a row, from several goroutines at once: it must
	// be safe for concurrent use and return quickly.
	Progress func(Result)
}

// Batch checks client lists. It keeps each group's shared report in memory (never a
// password), so re-checking rows after a password was corrected costs their logins only.
type Batch struct {
	opts      Options
	engine    detect.Options
	limiter   *limiter
	leaders   chan struct{}
	network   *sharedNetwork
	mu        sync.Mutex
	bases     map[string]*detect.Report
	admission map[string]chan struct{}
	// matrices bounds the whole checks at once on one known provider's servers.
	matrices map[string]chan struct{}
}

// New prepares a batch: one DNS cache and one connection limit per provider for every
// check it runs.
func New(opts Options) *Batch {
	eng := opts.Engine
	eng.Password, eng.Username, eng.Progress, eng.SendTest = "", "", nil, false
	var res detect.Resolver = net.DefaultResolver
	if eng.Resolver != nil {
		res = eng.Resolver
	}
	// One DNS answer per name for the whole batch (each run adds its own cache on top).
	eng.Resolver = detect.NewHostCache(context.Background(), res, lookupTimeout, hostCacheTTL)
	inner := eng.Dialer
	if inner == nil {
		inner = eng.DefaultDialer()
	}
	lim := newLimiter(eng.Providers, opts.DefaultLimit)
	eng.Dialer = &limitDialer{inner: inner, l: lim}
	leaders := opts.Leaders
	if leaders <= 0 {
		leaders = 8
	}
	b := &Batch{opts: opts, engine: eng, limiter: lim, leaders: make(chan struct{}, leaders),
		bases: map[string]*detect.Report{}, admission: map[string]chan struct{}{}, matrices: map[string]chan struct{}{}}
	if eng.Network == nil && !eng.SkipNetwork {
		b.network = &sharedNetwork{done: make(chan struct{})}
	}
	return b
}

// GroupKey names the clients that share one check: the known provider of the
// address's domain (gmail.com and googlemail.com share one), else the domain. Only
// such addresses have the same trust decision; VerifyLogin checks it again anyway.
func GroupKey(db *detect.ProviderDB, address string) string {
	addr, err := detect.ParseAddress(address)
	if err != nil {
		return "invalid:" + address
	}
	if p := db.ByDomain(addr.Domain); p != nil {
		return "provider:" + p.ID
	}
	return "domain:" + addr.Domain
}

// Check checks clients and returns one result per client, in order. Rows with a
// Problem are not checked. It returns when every row is done or ctx ends (then the
// rows not finished are cancelled).
func (b *Batch) Check(ctx context.Context, clients []Client) []Result {
	b.mu.Lock()
	if b.network != nil && b.network.failed() {
		b.network = &sharedNetwork{done: make(chan struct{})} // a cancelled check runs it again
	}
	b.mu.Unlock()
	results := make([]Result, len(clients))
	var mu sync.Mutex
	set := func(r Result) {
		mu.Lock()
		results[r.Index] = r
		mu.Unlock()
		if b.opts.Progress != nil {
			b.opts.Progress(r)
		}
	}
	groups := map[string][]int{}
	var order []string
	for i, c := range clients {
		if c.Problem != "" {
			set(Result{Index: i, Address: c.Address, State: StateAttention, Reason: c.Problem, Note: c.ProblemNote})
			continue
		}
		k := GroupKey(b.engine.Providers, c.Address)
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
		set(Result{Index: i, Address: c.Address, State: StateWaiting, Reason: "waiting for its turn", Note: note(NoteWaiting)})
	}
	var wg sync.WaitGroup
	for _, k := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.checkGroup(ctx, k, clients, groups[k], set)
		}()
	}
	wg.Wait()
	return results
}

// checkGroup runs one group: the whole check for its first address with a password
// (unless an earlier check of the group can be shared), then its other addresses on
// that check's matrix, as many at once as the provider's connection limit allows.
func (b *Batch) checkGroup(ctx context.Context, key string, clients []Client, idx []int, set func(Result)) {
	base := b.base(key)
	rest := idx
	if base == nil {
		lead := idx[0]
		for _, i := range idx {
			if clients[i].Password != "" {
				lead = i
				break
			}
		}
		for _, i := range idx {
			if i != lead {
				set(Result{Index: i, Address: clients[i].Address, State: StateWaiting, Reason: "waiting for the check of " + domainOf(clients[lead].Address),
					Note: note(NoteWaitingFor, "domain", domainOf(clients[lead].Address))})
			}
		}
		r := b.runWhole(ctx, lead, clients[lead], set)
		set(r)
		if r.State == StateCancelled || r.Report == nil {
			// Cancelled, or the engine refused its input: the others share the outcome.
			for _, i := range idx {
				if i == lead {
					continue
				}
				o := cancelled(i, clients[i])
				if r.State != StateCancelled {
					o.State, o.Reason, o.Note = r.State, r.Reason, r.Note
				}
				set(o)
			}
			return
		}
		base = r.Report
		b.setBase(key, base)
		rest = make([]int, 0, len(idx)-1)
		for _, i := range idx {
			if i != lead {
				rest = append(rest, i)
			}
		}
	}
	adm := b.admissionFor(base)
	var wg sync.WaitGroup
	for _, i := range rest {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case adm <- struct{}{}:
			case <-ctx.Done():
				set(cancelled(i, clients[i]))
				return
			}
			r, err := b.verify(ctx, i, clients[i], base, set)
			<-adm
			if errors.Is(err, detect.ErrNotShared) {
				// Its trust decision differs: it gets a whole check of its own, which the
				// group shares from now on.
				r = b.runWhole(ctx, i, clients[i], set)
				if r.Report != nil && r.State != StateCancelled {
					b.setBase(key, r.Report)
				}
			}
			set(r)
		}()
	}
	wg.Wait()
}

// runWhole runs the whole check (discovery, matrix, network) for one client.
func (b *Batch) runWhole(ctx context.Context, i int, c Client, set func(Result)) Result {
	// Whole checks of domains hosted by one known provider take turns: a matrix opens a
	// dozen connections to the provider at once, and several at once would wait for
	// connection slots inside their probes' time budgets.
	if m := b.matrixSlot(ctx, c.Address); m != nil {
		select {
		case m <- struct{}{}:
		case <-ctx.Done():
			return cancelled(i, c)
		}
		defer func() { <-m }()
	}
	select {
	case b.leaders <- struct{}{}:
	case <-ctx.Done():
		return cancelled(i, c)
	}
	defer func() { <-b.leaders }()
	start := time.Now()
	set(Result{Index: i, Address: c.Address, State: StateDiscovering, Reason: "looking for the servers of " + domainOf(c.Address),
		Note: note(NoteDiscovering, "domain", domainOf(c.Address))})
	opts := b.engine
	opts.Password = c.Password
	var once sync.Once
	opts.Progress = func(e detect.Event) {
		if e.Stage == detect.StageProbing {
			once.Do(func() {
				set(Result{Index: i, Address: c.Address, State: StateChecking, Reason: "trying every port, encryption and login", Note: note(NoteProbing)})
			})
		}
	}
	b.mu.Lock()
	network := b.network
	b.mu.Unlock()
	ended := network.attach(&opts)
	rep, err := detect.Run(ctx, c.Address, opts)
	ended()
	if ctx.Err() != nil {
		return cancelled(i, c)
	}
	if err != nil {
		return Result{Index: i, Address: c.Address, State: StateAttention, Reason: err.Error(), Note: errorNote(err), Elapsed: time.Since(start)}
	}
	r := classify(i, rep, nil)
	r.Elapsed = time.Since(start)
	return r
}

// matrixConns is about how many connections one matrix opens to a provider at once.
const matrixConns = 8

// matrixSlot returns the semaphore for whole checks on the servers of the known
// provider that hosts address's domain (by the domain, or by its MX records, one DNS
// question), or nil when no known provider does.
func (b *Batch) matrixSlot(ctx context.Context, address string) chan struct{} {
	key, n := b.knownProvider(ctx, address)
	if key == "" {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.matrices[key]
	if m == nil {
		m = make(chan struct{}, max(1, n/matrixConns))
		b.matrices[key] = m
	}
	return m
}

// knownProvider names the connection-limit key and limit of the known provider that
// hosts address's domain, or "".
func (b *Batch) knownProvider(ctx context.Context, address string) (string, int) {
	db := b.engine.Providers
	addr, err := detect.ParseAddress(address)
	if err != nil || db == nil {
		return "", 0
	}
	p := db.ByDomain(addr.Domain)
	if p == nil {
		mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		mxs, err := b.engine.Resolver.LookupMX(mctx, addr.Domain)
		cancel()
		for _, mx := range mxs {
			if p = db.ByMX(mx.Host); err == nil && p != nil {
				break
			}
		}
	}
	if p == nil || len(p.Servers) == 0 {
		return "", 0
	}
	return ProviderKey(db, p.Servers[0].Host, b.limiter.def)
}

// verify checks one client on its group's matrix; the error wraps detect.ErrNotShared
// when that matrix may not stand for this address.
func (b *Batch) verify(ctx context.Context, i int, c Client, base *detect.Report, set func(Result)) (Result, error) {
	start := time.Now()
	what, why := "checking the login on the settings found for "+domainOf(c.Address), note(NoteVerifying, "domain", domainOf(c.Address))
	if c.Password == "" {
		what, why = "no password: taking the settings found for "+domainOf(c.Address), note(NoteTaking, "domain", domainOf(c.Address))
	}
	set(Result{Index: i, Address: c.Address, State: StateChecking, Reason: what, Note: why, Shared: true})
	opts := b.engine
	opts.Password = c.Password
	rep, err := opts.VerifyLogin(ctx, c.Address, base)
	if ctx.Err() != nil {
		return cancelled(i, c), nil
	}
	if err != nil {
		return Result{Index: i, Address: c.Address, State: StateAttention, Reason: err.Error(), Note: errorNote(err), Elapsed: time.Since(start)}, err
	}
	r := classify(i, rep, base)
	r.Shared = true
	r.Elapsed = time.Since(start)
	return r, nil
}

func cancelled(i int, c Client) Result {
	return Result{Index: i, Address: c.Address, State: StateCancelled, Reason: "cancelled before it finished", Note: note(NoteCancelled)}
}

// base returns the group's shared report when it still serves: it found servers to
// reach in both directions. A group whose servers were all unreachable is checked anew.
func (b *Batch) base(key string) *detect.Report {
	b.mu.Lock()
	defer b.mu.Unlock()
	rep := b.bases[key]
	if rep == nil {
		return nil
	}
	reachable := map[bool]bool{}
	for _, p := range rep.Probes {
		if p.Status == detect.StatusOK || p.Status == detect.StatusAuthFailed {
			reachable[p.Protocol == detect.SMTP] = true
		}
	}
	if !reachable[true] || !reachable[false] {
		return nil
	}
	return rep
}

func (b *Batch) setBase(key string, rep *detect.Report) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.bases[key] = rep
}

// admissionFor returns the semaphore that bounds the addresses checked at once on
// base's servers: half their provider's connection limit, as each address logs in to
// its incoming and outgoing server at the same time.
func (b *Batch) admissionFor(base *detect.Report) chan struct{} {
	host := ""
	for _, s := range []*detect.Setting{base.Recommended.Incoming, base.Recommended.Outgoing} {
		if s != nil {
			host = s.Host
			break
		}
	}
	for _, h := range base.Hosts {
		if host == "" && h.Trusted {
			host = h.Host
		}
	}
	key, n := ProviderKey(b.engine.Providers, host, b.limiter.def)
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.admission[key]
	if a == nil {
		a = make(chan struct{}, max(1, n/2))
		b.admission[key] = a
	}
	return a
}

// sharedNetwork runs the network check once per batch: the network in front of the
// computer is the same for every client. The first whole check runs it; the others wait
// for its answer.
type sharedNetwork struct {
	once   sync.Once
	done   chan struct{}
	mu     sync.Mutex
	result *detect.Network
	// real is false when the first check ended without a network check (cancelled).
	real bool
}

// attach makes opts use the shared network check and returns what to call when the
// check with opts has ended. The first check runs the real one (for its own servers'
// ports) and publishes what it saw; the later ones wait for that.
func (s *sharedNetwork) attach(opts *detect.Options) (ended func()) {
	if s == nil {
		return func() {}
	}
	first := false
	s.once.Do(func() { first = true })
	if first {
		progress := opts.Progress
		opts.Progress = func(e detect.Event) {
			if e.Network != nil {
				s.publish(*e.Network, true)
			}
			if progress != nil {
				progress(e)
			}
		}
		// A run that ended without a network check (cancelled) must not leave the others waiting.
		return func() { s.publish(unknownNetwork("the network check did not finish"), false) }
	}
	opts.Network = func(ctx context.Context) detect.Network {
		select {
		case <-s.done:
			s.mu.Lock()
			defer s.mu.Unlock()
			return *s.result
		case <-ctx.Done():
			return unknownNetwork("the network check did not finish")
		}
	}
	return func() {}
}

func (s *sharedNetwork) publish(n detect.Network, real bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.result == nil {
		s.result, s.real = &n, real
		close(s.done)
	}
}

// failed reports whether the shared check ended without a real answer.
func (s *sharedNetwork) failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.result != nil && !s.real
}

// unknownNetwork stands for a shared network check that never finished; only checks
// that were cancelled with it see it, and their reports are not kept.
func unknownNetwork(why string) detect.Network {
	return detect.Network{Port25: detect.Port25Unknown, Port25Evidence: []string{why},
		IPv6: "unknown", LocalAddresses: []string{}, DNSServers: []string{}}
}

func domainOf(address string) string {
	if i := strings.LastIndexByte(address, '@'); i >= 0 {
		return address[i+1:]
	}
	return address
}

// String describes a result for logs and the CLI's progress lines.
func (r Result) String() string {
	s := fmt.Sprintf("%s: %s", r.Address, r.State)
	if r.Reason != "" {
		s += " — " + r.Reason
	}
	if r.Differs != "" {
		s += " (" + r.Differs + ")"
	}
	return s
}
