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

// Options configures a run of the engine; its zero value works with the system's network.
type Options struct {
	// Password is used for logins only; it is never stored, logged or put in a report.
	Password string
	// Username overrides the login name variants the engine would try.
	Username string
	// AllowPlaintext permits sending a password over an unencrypted or untrusted connection.
	AllowPlaintext bool
	// AcceptFingerprints lists certificates the user accepted although they fail
	// verification, as HOST=SHA256 (hex; that server only) or a bare SHA256 (the servers
	// of the address's own registrable domain only); nothing else is ever accepted.
	AcceptFingerprints []string
	// TrustHosts are servers the user confirmed may receive a login although no trusted
	// source vouches for them (--trust-host, the window's dialog, the user's own settings).
	TrustHosts []string
	// ExtraRoots are trusted in addition to the system roots (--ca), for TLS and HTTPS.
	ExtraRoots []*x509.Certificate
	// Timeout caps each single probe (connect through login); default 10s.
	Timeout time.Duration
	// Concurrency bounds how many probes run at once; default 24.
	Concurrency int
	// SendTest sends a real test message to the address itself and looks for it.
	SendTest bool
	// PreferPOP3 ranks POP3 above IMAP for the incoming recommendation.
	PreferPOP3 bool
	// Providers is the provider knowledge base; nil means no provider matching.
	Providers *ProviderDB
	// SkipNetwork turns the network check off (tests that only probe servers).
	SkipNetwork bool
	// Only limits probing to these protocols when non-empty (e.g. just SMTP).
	Only []Protocol
	// OAuth, when set, signs in with OAuth2 (browser or device flow) and logs in with
	// the token; nil uses the password only.
	OAuth *OAuthSettings

	// sessions caches TLS sessions for one run (set by Run).
	sessions tls.ClientSessionCache
	// noHostCache turns off Run's per-run cache of host lookups (for the benchmark's comparison).
	noHostCache bool
	// noPlainShare makes every clear-text cell open its own connection (for the comparison).
	noPlainShare bool
	// acceptDomain is the address's domain a bare accepted fingerprint is bound to (set by Run).
	acceptDomain string

	// Dialer opens every connection; nil means a HappyDialer: names resolved through
	// Resolver (once per run), every address tried through IPDialer. An injected Dialer
	// resolves names itself.
	Dialer Dialer
	// IPDialer dials one IP:port for the default Dialer; nil means a net.Dialer.
	// Tests put a fake network here to run the real resolving and dialing path.
	IPDialer Dialer
	// Resolver answers discovery's DNS questions and the default dialer's; nil means the system's.
	Resolver   Resolver
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives debug logs; nil discards them. It never receives a password.
	Logger *slog.Logger
	// Progress, when set, is called as results arrive, from several engine goroutines
	// at once: it must be safe for concurrent use and return quickly.
	Progress func(Event)
	// CaptivePortalURL is fetched to detect a captive portal (expects 204, empty);
	// empty means DefaultCaptivePortalURL, "off" skips the check.
	CaptivePortalURL string
	// PublicIPURL answers this network's public address as plain text; empty skips it.
	PublicIPURL string
	// OnlineISPDB is the base URL of Mozilla's ISP database online; empty means
	// DefaultOnlineISPDB, "off" skips the source (the embedded snapshot still answers).
	OnlineISPDB string
	// Network overrides the network check (tests, GUI demo); nil means the real one.
	Network func(ctx context.Context) Network
}

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

func (o *Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return 10 * time.Second
}

func (o *Options) concurrency() int {
	if o.Concurrency > 0 {
		return o.Concurrency
	}
	return 24
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (o *Options) resolver() Resolver {
	if o.Resolver != nil {
		return o.Resolver
	}
	return net.DefaultResolver
}

func (o *Options) dialer() Dialer {
	if o.Dialer != nil {
		return o.Dialer
	}
	// Every address of a name is tried, staggered (RFC 8305), through the same resolver
	// as discovery; each single attempt is bounded by the probe timeout.
	ip := o.IPDialer
	if ip == nil {
		ip = &net.Dialer{Timeout: o.timeout(), KeepAlive: -1}
	}
	return &HappyDialer{Resolver: o.resolver(), Dialer: ip}
}

func (o *Options) progress(e Event) {
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
