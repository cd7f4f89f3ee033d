package detect

import (
	"context"
	"sort"
	"sync"

	"golang.org/x/oauth2"

	"github.com/mailsetup/mailsetup/detect/oauth"
)

// MaxFailedLogins is the cap of rejected logins per server in one run, so a probe
// never trips an account lockout.
const MaxFailedLogins = 3

// Login carries what a probe needs to log in; a nil *Login or an empty Password means
// "do not log in" (the probe reports mechanisms and marks the result unverified).
type Login struct {
	// Usernames are the variants to try, best first (override, provider format, full address, local part).
	Usernames []string
	Password  string
	// From is the account's address, used for MAIL FROM in relay checks and send tests.
	From string
	// Gate enforces the per-server cap of failed logins; shared by all probes of a run.
	Gate *LoginGate
	// SMTPDone, when set, is closed once every SMTP probe of the run has finished; POP3
	// logins wait for it, so a POP-before-SMTP server's relay answer is not changed by
	// a POP3 login of the same run.
	SMTPDone <-chan struct{}
	// Untrusted marks a login for a server the user's trust does not reach: it carries no
	// credential, and the probe does not even ask the server to relay for the address.
	Untrusted bool
	// Token, when set, signs in with OAuth2 (XOAUTH2, OAUTHBEARER) instead of the
	// password; it is used only on trusted encrypted connections and never recorded.
	Token *oauth2.Token
	// OAuthUser is the name the token signs in as (the address).
	OAuthUser string
}

// hasPassword reports whether a login should be attempted: with a password or a token.
func (l *Login) hasPassword() bool { return l != nil && (l.Password != "" || l.Token != nil) }

// withoutPassword is the login for a cell that must not receive credentials: the same
// account and gate, no password and no token; untrusted also skips the relay question.
func (l *Login) withoutPassword(untrusted bool) *Login {
	if l == nil {
		return &Login{Untrusted: untrusted}
	}
	return &Login{Usernames: l.Usernames, From: l.From, Gate: l.Gate, SMTPDone: l.SMTPDone, Untrusted: untrusted}
}

// only returns the login narrowed to one user name (send test, mailbox checks).
func (l *Login) only(username string) *Login {
	return &Login{Usernames: []string{username}, Password: l.Password, From: l.From, Gate: l.Gate,
		Token: l.Token, OAuthUser: l.OAuthUser}
}

// secretsFor lists what the transcript of a probe of key with this login must scrub:
// every encoding of the password, and of the token (raw, and as the XOAUTH2 and
// OAUTHBEARER messages for this server), longest first.
func (l *Login) secretsFor(key ProbeKey) []string {
	if l == nil {
		return nil
	}
	out := SecretForms(l.Password, l.Usernames...)
	if l.Token != nil {
		out = append(out, SecretForms(l.Token.AccessToken)...)
		for _, f := range oauth.SecretForms(l.OAuthUser, l.Token, key.Host, key.Port) {
			out = append(out, string(f))
		}
		sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	}
	return out
}

// LoginGate serialises logins per server until one user name is known to work, and
// stops all logins to a server after MaxFailedLogins rejections.
type LoginGate struct {
	mu    sync.Mutex
	hosts map[string]*hostLogins
}

type hostLogins struct {
	sem    chan struct{}
	failed int
	good   string
	bad    map[string]bool
	// name is the first server name seen for this server (the report's key).
	name string
}

// NewLoginGate returns an empty gate.
func NewLoginGate() *LoginGate { return &LoginGate{hosts: map[string]*hostLogins{}} }

func (g *LoginGate) host(h string) *hostLogins {
	g.mu.Lock()
	defer g.mu.Unlock()
	hl := g.hosts[h]
	if hl == nil {
		hl = &hostLogins{sem: make(chan struct{}, 1), bad: map[string]bool{}}
		g.hosts[h] = hl
	}
	return hl
}

// HostLogin is a probe's turn to log in to one server; call Done when finished.
type HostLogin struct {
	g      *LoginGate
	hl     *hostLogins
	locked bool
}

// Acquire waits for this probe's turn to log in to server (its address, so that one
// server under several names shares one budget; name is for the report). Once a user
// name is known to work there, turns are not serialised any more.
func (g *LoginGate) Acquire(ctx context.Context, server, name string) (*HostLogin, error) {
	hl := g.host(server)
	g.mu.Lock()
	// The report names the server by the alphabetically first of its names, whichever
	// probe came first, so the same run always gives the same report.
	if hl.name == "" || name < hl.name {
		hl.name = name
	}
	known := hl.good != ""
	g.mu.Unlock()
	if known {
		return &HostLogin{g: g, hl: hl}, nil
	}
	select {
	case hl.sem <- struct{}{}:
		return &HostLogin{g: g, hl: hl, locked: true}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Order returns the user names worth trying, the known-good one first and known-bad ones removed.
func (h *HostLogin) Order(variants []string) []string {
	h.g.mu.Lock()
	defer h.g.mu.Unlock()
	var out []string
	if h.hl.good != "" {
		out = append(out, h.hl.good)
	}
	for _, v := range variants {
		if v != h.hl.good && !h.hl.bad[v] {
			out = append(out, v)
		}
	}
	return out
}

// CanTry reports whether another login may be attempted on this server.
func (h *HostLogin) CanTry() bool {
	h.g.mu.Lock()
	defer h.g.mu.Unlock()
	return h.hl.failed < MaxFailedLogins
}

// Record notes the outcome of one login with user: ok, or rejected credentials.
// Only rejections of credentials count towards the cap (not network errors).
func (h *HostLogin) Record(user string, ok bool) {
	h.g.mu.Lock()
	defer h.g.mu.Unlock()
	if ok {
		h.hl.good = user
		delete(h.hl.bad, user)
		return
	}
	h.hl.failed++
	h.hl.bad[user] = true
}

// Done ends this probe's turn.
func (h *HostLogin) Done() {
	if h.locked {
		h.locked = false
		<-h.hl.sem
	}
}

// Failed returns the number of rejected logins per server, keyed by the alphabetically
// first name the server was reached under.
func (g *LoginGate) Failed() map[string]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string]int{}
	for k, hl := range g.hosts {
		if hl.failed == 0 {
			continue
		}
		name := hl.name
		if name == "" {
			name = k
		}
		out[name] += hl.failed
	}
	return out
}
