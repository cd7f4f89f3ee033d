package detect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Dialer opens network connections; *net.Dialer satisfies it.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Resolver answers the DNS questions the engine asks; *net.Resolver satisfies it.
type Resolver interface {
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// Options configures the engine; its zero value works with the system's network. It
// holds only what a caller sets, grouped by role; a run's own state lives in the
// engine (see Run). DNS has one way in: Resolver.
type Options struct {
	// --- The account and what the user allows ---

	// Password is used for logins only; it is never stored, logged or put in a report.
	Password string
	// Username overrides the login name variants the engine would try.
	Username string
	// OAuth, when set, signs in with OAuth2 (browser or device flow) and logs in with
	// the token; nil uses the password only.
	OAuth *OAuthSettings
	// AllowPlaintext permits a login without encryption, only on a server that offers
	// no encryption at all (docs/SECURITY.md).
	AllowPlaintext bool
	// TrustHosts are servers the user confirmed may receive a login although no trusted
	// source vouches for them (--trust-host, the window's dialog, the user's own settings).
	TrustHosts []string
	// AcceptFingerprints lists certificates the user accepted although they fail
	// verification, as HOST=SHA256 (hex; that server only) or a bare SHA256 (the servers
	// of the address's own registrable domain only); nothing else is ever accepted.
	AcceptFingerprints []string
	// LoginGate, when set, counts and caps rejected logins across several runs and the
	// caller's own probes (one traveler's check, one batch row); nil gives each run its own.
	LoginGate *LoginGate
	// ExtraRoots are trusted in addition to the system roots (--ca), for TLS and HTTPS.
	ExtraRoots []*x509.Certificate

	// --- What to check ---

	// Timeout caps each single probe (connect through login); default 10s.
	Timeout time.Duration
	// Concurrency bounds how many probes run at once; default 24.
	Concurrency int
	// Only limits probing to these protocols when non-empty (e.g. just SMTP).
	Only []Protocol
	// PreferPOP3 ranks POP3 above IMAP for the incoming recommendation.
	PreferPOP3 bool
	// SendTest sends a real test message to the address itself and looks for it.
	SendTest bool
	// SkipNetwork turns the network check off (tests that only probe servers).
	SkipNetwork bool

	// --- Knowledge and sources ---

	// Providers is the provider knowledge base; nil means no provider matching.
	Providers *ProviderDB
	// OnlineISPDB is the base URL of Mozilla's ISP database online; empty means
	// DefaultOnlineISPDB, "off" skips the source (the embedded snapshot still answers).
	OnlineISPDB string
	// CaptivePortalURL is fetched to detect a captive portal (expects 204, empty);
	// empty means DefaultCaptivePortalURL, "off" skips the check.
	CaptivePortalURL string
	// PublicIPURL answers this network's public address as plain text; empty skips it.
	PublicIPURL string

	// --- The network (tests and the demo replace these) ---

	// Resolver answers every DNS question the engine asks — discovery's, the dialer's,
	// the HTTP sources' — once per name per run; nil means the system's. --dns sets it.
	Resolver Resolver
	// Dialer, when set, replaces the engine's own dialing entirely (it then resolves
	// names itself). Nil means every address of a name, tried happy-eyeballs style
	// through IPDialer, from the Resolver's answers.
	Dialer Dialer
	// IPDialer dials one IP:port for the default dialing; nil means a net.Dialer.
	// Tests put a fake network here to run the real resolving and dialing path.
	IPDialer Dialer
	// HTTPClient fetches autoconfig documents; nil means one that dials like the probes.
	HTTPClient *http.Client
	// Network overrides the network check (tests, GUI demo); nil means the real one.
	Network func(ctx context.Context) Network

	// --- Observing ---

	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives debug logs; nil discards them. It never receives a password.
	Logger *slog.Logger
	// Progress, when set, is called as results arrive, from several engine goroutines
	// at once: it must be safe for concurrent use and return quickly.
	Progress func(Event)

	// noHostCache turns off the run's cache of host lookups (the benchmark's comparison).
	noHostCache bool
	// noPlainShare makes every clear-text cell open its own connection (the comparison).
	noPlainShare bool
}

// engine is one run of the engine: the caller's Options and the run's own state. Every
// step of the pipeline is a method of it; Options' exported probe methods make one.
type engine struct {
	Options
	// sessions caches TLS sessions for this run only.
	sessions tls.ClientSessionCache
	// acceptDomain is the address's domain a bare accepted fingerprint is bound to.
	acceptDomain string
}

// engine returns a fresh engine for o (no run state: a single probe, a test).
func (o Options) engine() *engine { return &engine{Options: o} }

// ProbeSMTP probes one SMTP cell (host, port, security) and always returns a complete
// result. It logs in to key.Host as given: the caller vouches for that server (Run
// decides trust first).
func (o Options) ProbeSMTP(ctx context.Context, key ProbeKey, login *Login) ProbeResult {
	return o.engine().ProbeSMTP(ctx, key, login)
}

// ProbeIMAP probes one IMAP cell; see ProbeSMTP.
func (o Options) ProbeIMAP(ctx context.Context, key ProbeKey, login *Login) ProbeResult {
	return o.engine().ProbeIMAP(ctx, key, login)
}

// ProbePOP3 probes one POP3 cell; see ProbeSMTP.
func (o Options) ProbePOP3(ctx context.Context, key ProbeKey, login *Login) ProbeResult {
	return o.engine().ProbePOP3(ctx, key, login)
}

// FindMessage logs in through the cell and reports whether a message with this
// Message-ID is in the mailbox (INBOX for IMAP, the maildrop for POP3).
func (o Options) FindMessage(ctx context.Context, key ProbeKey, login *Login, username, messageID string) (bool, error) {
	return o.engine().FindMessage(ctx, key, login, username, messageID)
}

// SendMessage sends msg from login.From to rcpt through the cell, logging in as username.
func (o Options) SendMessage(ctx context.Context, key ProbeKey, login *Login, username, rcpt string, msg []byte) error {
	return o.engine().SendMessage(ctx, key, login, username, rcpt, msg)
}

// Discover asks every discovery source for addr (see engine.Discover).
func (o Options) Discover(ctx context.Context, addr Address) ([]SourceResult, []Candidate, *Provider) {
	return o.engine().Discover(ctx, addr)
}

// CheckNetwork describes the network in front of the engine (see engine.CheckNetwork).
func (o Options) CheckNetwork(ctx context.Context, targets []string) Network {
	return o.engine().CheckNetwork(ctx, targets)
}

// Roots returns the system roots plus ExtraRoots.
func (o Options) Roots() *x509.CertPool { return o.engine().Roots() }

// Event is a progress notification: either one of its pointer fields is set, or Stage
// announces the next step of the run.
type Event struct {
	Source  *SourceResult
	Start   *ProbeKey
	Probe   *ProbeResult
	Network *Network
	Stage   Stage
}

// Stage is a step of a run, in order.
type Stage string

// The stages a run announces.
const (
	StageDiscovery Stage = "discovery"
	StageSignIn    Stage = "sign-in"
	StageProbing   Stage = "probing"
	StageSendTest  Stage = "send-test"
	StageDone      Stage = "done"
)

// ProbeKey identifies one cell of the matrix.
type ProbeKey struct {
	Protocol Protocol
	Host     string
	Port     int
	Security Security
}

func (o *engine) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return 10 * time.Second
}

func (o *engine) concurrency() int {
	if o.Concurrency > 0 {
		return o.Concurrency
	}
	return 24
}

func (o *engine) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *engine) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (o *engine) resolver() Resolver {
	if o.Resolver != nil {
		return o.Resolver
	}
	return net.DefaultResolver
}

func (o *engine) dialer() Dialer {
	if o.Dialer != nil {
		return o.Dialer
	}
	return o.Options.DefaultDialer()
}

// DefaultDialer is the dialer a run uses when Options.Dialer is unset: happy eyeballs
// through o's resolver over IPDialer (or a plain dialer bounded by the probe timeout).
// Callers that wrap the engine's dialing (a batch's connection limits) start from it.
func (o Options) DefaultDialer() Dialer {
	// Every address of a name is tried, staggered (RFC 8305), through the same resolver
	// as discovery; each single attempt is bounded by the probe timeout.
	e := engine{Options: o}
	ip := o.IPDialer
	if ip == nil {
		ip = &net.Dialer{Timeout: e.timeout(), KeepAlive: -1}
	}
	return &HappyDialer{Resolver: e.resolver(), Dialer: ip}
}

func (o *engine) progress(e Event) {
	if o.Progress != nil {
		o.Progress(e)
	}
}

// DNSResolver returns a resolver that sends every query to server (HOST:PORT) over
// UDP, falling back to TCP as the Go resolver does.
func DNSResolver(server string) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		},
	}
}
