package detect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/mailsetup/mailsetup/detect/oauth"
)

// ehloName is the name the engine introduces itself with; .invalid never resolves.
const ehloName = "mailsetup.invalid"

// relayCheckRcpt is the outside recipient used to ask whether a server relays for
// this network; the transaction is reset before DATA, so nothing is ever sent.
const relayCheckRcpt = "mailsetup-relay-check@example.com"

// smtpExtensions are the extensions the report lists when the server offers them.
var smtpExtensions = []string{"STARTTLS", "AUTH", "SIZE", "PIPELINING", "8BITMIME", "SMTPUTF8",
	"ENHANCEDSTATUSCODES", "DSN", "CHUNKING", "BINARYMIME", "REQUIRETLS", "DELIVERBY", "ETRN"}

// smtpConn is an SMTP connection after banner and TLS, ready for go-smtp's client.
type smtpConn struct {
	client *smtp.Client
	stop   func()
	secure bool // TLS with a valid or accepted certificate
}

func (c *smtpConn) close() {
	if c.client != nil {
		_ = c.client.Quit()
	}
	c.stop()
}

// ProbeSMTP probes one cell (host, port, security) and always returns a complete result.
func (o *engine) ProbeSMTP(ctx context.Context, key ProbeKey, login *Login) ProbeResult {
	return o.runProbe(ctx, key, login, o.probeSMTP)
}

func (o *engine) probeSMTP(ctx context.Context, p *probeRun, key ProbeKey, login *Login) *Failure {
	sc, f := o.dialSMTP(ctx, p, key)
	if f != nil {
		return f
	}
	defer sc.close()
	c := sc.client

	mechs := smtpCapabilities(p, c)
	if len(mechs) == 0 {
		if login != nil && login.Untrusted {
			return nil // not even the relay question: it would name the address to this server
		}
		return relayCheck(p, c, login)
	}
	if !login.hasPassword() {
		return nil // reachable, mechanisms recorded; login not tested
	}
	return o.smtpLogin(ctx, p, c, key, login, mechs, sc.secure)
}

// dialSMTP connects, negotiates TLS as the cell asks, reads the banner and hands the
// connection to go-smtp. The banner is read here because go-smtp hides it.
func (o *engine) dialSMTP(ctx context.Context, p *probeRun, key ProbeKey) (*smtpConn, *Failure) {
	cc, wrap, f := o.openCell(ctx, p, key)
	if f != nil {
		return nil, f
	}
	ok := false
	defer func() {
		if !ok {
			cc.stop()
		}
	}()
	raw, rec, text, secure, stop := cc.raw, cc.rec, cc.text, cc.secure, cc.stop
	addr := net.JoinHostPort(key.Host, strconv.Itoa(key.Port))
	banner, f := readGreeting(text)
	p.res.Banner = banner
	if f != nil {
		return nil, wrapFailure(f, "banner", addr)
	}

	if key.Security == SecurityStartTLS {
		if err := text.PrintfLine("EHLO %s", ehloName); err != nil {
			return nil, wrap("ehlo", err)
		}
		_, msg, err := text.ReadResponse(250)
		if err != nil {
			return nil, wrap("ehlo", smtpError(err))
		}
		pre := parseEHLO(msg)
		p.res.Capabilities = capNames(pre)
		p.res.AuthMechanisms = authMechs(pre)
		if _, ok := pre["STARTTLS"]; !ok {
			return nil, wrap("starttls", ErrNoStartTLS)
		}
		if err := text.PrintfLine("STARTTLS"); err != nil {
			return nil, wrap("starttls", err)
		}
		if _, _, err := text.ReadResponse(220); err != nil {
			return nil, wrap("starttls", smtpError(err))
		}
		tc, f := o.tlsStep(ctx, p, raw, key.Host, "starttls")
		if f != nil {
			return nil, f
		}
		secure, rec = true, p.tr.Wrap(tc)
	}

	// go-smtp expects to read a greeting itself: give it a synthetic one that the
	// recorder (below the prefix) never sees.
	c := smtp.NewClient(&prefixConn{Conn: limitLines(rec), prefix: []byte("220 " + ehloName + " ready\r\n")})
	// The probe's budget closes the connection; these only replace go-smtp's 5-minute defaults.
	c.CommandTimeout, c.SubmissionTimeout = o.timeout(), o.timeout()
	if err := c.Hello(ehloName); err != nil {
		return nil, wrap("ehlo", err)
	}
	ok = true
	return &smtpConn{client: c, stop: stop, secure: secure}, nil
}

// tlsStep runs the TLS handshake and records version and certificate.
func (o *engine) tlsStep(ctx context.Context, p *probeRun, raw net.Conn, host, step string) (net.Conn, *Failure) {
	tc, ver, cert, f := o.handshake(ctx, raw, host, step)
	p.res.TLSVersion, p.res.Cert = ver, cert
	if ver != "" {
		note := ver + " established"
		if tc != nil && tc.ConnectionState().DidResume {
			note += " (session resumed)"
		}
		p.tr.Note(note)
	}
	if f != nil {
		return nil, f
	}
	return tc, nil
}

// wrapFailure adds the protocol and address to a failure's error.
func wrapFailure(f *Failure, step, addr string) *Failure {
	f.Step = step
	f.Err = fmt.Errorf("smtp %s: %s: %w", addr, step, f.Err)
	return f
}

// readGreeting reads a multi-line 220 greeting; a 421/554 greeting becomes a typed failure.
func readGreeting(text *textproto.Conn) (string, *Failure) {
	code, msg, err := text.ReadResponse(220)
	banner := firstLine(msg)
	if err != nil {
		var te *textproto.Error
		if errors.As(err, &te) {
			return banner, Classify("banner", smtpError(err))
		}
		var pe textproto.ProtocolError
		if errors.As(err, &pe) {
			return banner, fail(KindProtocol, "banner", fmt.Errorf("%w: %v", ErrProtocol, err))
		}
		return banner, Classify("banner", err)
	}
	_ = code
	return banner, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// smtpError converts a textproto reply error into go-smtp's typed error.
func smtpError(err error) error {
	var te *textproto.Error
	if !errors.As(err, &te) {
		return err
	}
	e := &smtp.SMTPError{Code: te.Code, Message: te.Msg, EnhancedCode: smtp.NoEnhancedCode}
	parts := strings.SplitN(te.Msg, " ", 2)
	if ec, ok := parseEnhanced(parts[0]); ok {
		e.EnhancedCode = ec
		if len(parts) == 2 {
			e.Message = parts[1]
		}
	}
	return e
}

func parseEnhanced(s string) (smtp.EnhancedCode, bool) {
	f := strings.Split(s, ".")
	if len(f) != 3 {
		return smtp.EnhancedCode{}, false
	}
	var ec smtp.EnhancedCode
	for i, x := range f {
		n, err := strconv.Atoi(x)
		if err != nil || n < 0 || n > 999 {
			return smtp.EnhancedCode{}, false
		}
		ec[i] = n
	}
	if ec[0] < 2 || ec[0] > 5 {
		return smtp.EnhancedCode{}, false
	}
	return ec, true
}

// parseEHLO turns an EHLO reply (first line greeting, then one extension per line) into a map.
func parseEHLO(msg string) map[string]string {
	ext := map[string]string{}
	lines := strings.Split(msg, "\n")
	for _, l := range lines[1:] {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		k, v, _ := strings.Cut(l, " ")
		k = strings.ToUpper(k)
		if strings.HasPrefix(k, "AUTH=") { // pre-RFC 4954 servers
			v = strings.TrimSpace(k[5:] + " " + v)
			k = "AUTH"
			if prev, ok := ext[k]; ok {
				v = prev + " " + v
			}
		}
		ext[k] = v
	}
	return ext
}

func capNames(ext map[string]string) []string {
	var out []string
	for _, k := range smtpExtensions {
		if v, ok := ext[k]; ok {
			if v != "" {
				out = append(out, k+" "+v)
			} else {
				out = append(out, k)
			}
		}
	}
	return out
}

func authMechs(ext map[string]string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, m := range strings.Fields(ext["AUTH"]) {
		m = strings.ToUpper(m)
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}

// smtpCapabilities records the capabilities go-smtp read with its EHLO (after TLS when
// TLS is on) and returns the offered mechanisms.
func smtpCapabilities(p *probeRun, c *smtp.Client) []string {
	ext := map[string]string{}
	for _, k := range smtpExtensions {
		if ok, v := c.Extension(k); ok {
			ext[k] = v
		}
	}
	p.res.Capabilities = capNames(ext)
	p.res.AuthMechanisms = authMechs(ext)
	if size, ok := c.MaxMessageSize(); ok {
		p.res.MaxSize = int64(size)
	}
	return p.res.AuthMechanisms
}

// relayCheck asks a server that offers no login whether it relays for this network:
// MAIL FROM and RCPT TO an outside address, then RSET — no message is sent.
func relayCheck(p *probeRun, c *smtp.Client, login *Login) *Failure {
	from := "postmaster@" + ehloName
	if login != nil && login.From != "" {
		from = login.From
	}
	if err := c.Mail(from, nil); err != nil {
		p.res.Relay = RelayRejected
		return fail(KindNoAuth, "relay", err)
	}
	err := c.Rcpt(relayCheckRcpt, nil)
	_ = c.Reset()
	if err != nil {
		p.res.Relay = RelayRejected
		return fail(KindNoAuth, "relay", err)
	}
	p.res.Relay = RelayAccepted
	p.tr.Note("the server accepted an outside recipient without login (relay by network address); transaction reset, nothing sent")
	return nil
}

// mechanism is a SASL mechanism (or POP3 login command) the engine can use.
type mechanism struct {
	name   string
	client func(user, pass string) sasl.Client
}

// mechanisms in order of preference: challenge-response first.
var mechanisms = []mechanism{
	{"SCRAM-SHA-256", scramSHA256Client},
	{"SCRAM-SHA-1", scramSHA1Client},
	{"CRAM-MD5", CRAMMD5Client},
	{"PLAIN", plainClient},
	{"LOGIN", sasl.NewLoginClient},
}

func plainClient(user, pass string) sasl.Client { return sasl.NewPlainClient("", user, pass) }

// chooseMechs returns the usable offered SASL mechanisms in preference order, or a
// failure saying why none is usable.
func chooseMechs(offered []string, secure, allowPlaintext bool) ([]mechanism, *Failure) {
	return chooseFrom(mechanisms, offered, secure, allowPlaintext)
}

// chooseFrom is chooseMechs over a protocol's own table of methods. Without a trusted
// encrypted connection every method needs the user's consent: a clear-text one shows the
// password, and a challenge-response one (CRAM-MD5, SCRAM, APOP) shows an answer from
// which it can be guessed offline — to anyone listening, or to an impostor that accepts
// any answer.
func chooseFrom(table []mechanism, offered []string, secure, allowPlaintext bool) ([]mechanism, *Failure) {
	has := map[string]bool{}
	for _, m := range offered {
		has[strings.ToUpper(m)] = true
	}
	var out []mechanism
	refusedClear := false
	for _, m := range table {
		if !has[m.name] {
			continue
		}
		if !secure && !allowPlaintext {
			refusedClear = true
			continue
		}
		out = append(out, m)
	}
	switch {
	case len(out) > 0:
		return out, nil
	case refusedClear:
		return nil, fail(KindPlaintextRefused, "auth", ErrPlaintextRefused)
	default:
		return nil, fail(KindMechanismUnsupported, "auth", fmt.Errorf("%w: server offers %s", ErrNoMechanism, strings.Join(offered, " ")))
	}
}

// smtpLogin tries the user name variants with the best mechanisms, within the gate's cap.
func (o *engine) smtpLogin(ctx context.Context, p *probeRun, c *smtp.Client, key ProbeKey, login *Login, offered []string, secure bool) *Failure {
	mechs, f := o.loginMechs(login, mechanisms, offered, secure, key)
	if f != nil {
		return f
	}
	return o.loginLoop(ctx, p, key, login.forOAuth(), func(user string) (string, *Failure) {
		return p.tryMechanisms(key, mechs, login, user, func(_ mechanism, sc sasl.Client) error { return c.Auth(sc) })
	})
}

// tryMechanisms logs in as user with each mechanism in turn, moving on only while the
// server says a mechanism is not supported; attempt runs one login (with the SASL
// client, nil for the POP3 and IMAP commands that are not SASL). It returns the
// mechanism used and nil, or a failure.
func (p *probeRun) tryMechanisms(key ProbeKey, mechs []mechanism, login *Login, user string, attempt func(m mechanism, c sasl.Client) error) (string, *Failure) {
	var last *Failure
	for _, m := range mechs {
		var c sasl.Client
		if m.client != nil {
			c = m.client(user, login.Password)
		}
		p.tr.SetSecret(true)
		err := attempt(m, c)
		p.tr.SetSecret(false)
		if err == nil {
			return m.name, nil
		}
		last = Classify("auth", fmt.Errorf("%s %s:%d: %s: %w", key.Protocol, key.Host, key.Port, m.name, err))
		if oc, ok := c.(*oauth.SASLClient); ok {
			last = p.tokenRejected(last, oc)
		}
		if last.Kind != KindMechanismUnsupported {
			return m.name, last
		}
	}
	return "", last
}

// loginLoop runs attempt for each user name variant under the login gate: it stops at
// the first success, counts rejected credentials, and never exceeds the per-server cap.
// attempt returns the mechanism it used and nil, or a failure.
func (o *engine) loginLoop(ctx context.Context, p *probeRun, key ProbeKey, login *Login, attempt func(user string) (string, *Failure)) *Failure {
	gate := login.Gate
	if gate == nil {
		gate = NewLoginGate()
	}
	p.clock.pause() // waiting for another cell's login is not this probe's time
	server := p.server
	if server == "" {
		server = key.Host
	}
	h, err := gate.Acquire(ctx, server, key.Host)
	p.clock.resume()
	if err != nil {
		return Classify("auth", err)
	}
	defer h.Done()
	users := login.Usernames
	if len(users) == 0 {
		users = []string{login.From}
	}
	order := h.Order(users)
	if len(order) == 0 && h.CanTry() {
		p.tr.Note("not logging in again: this server already rejected every user name in this run")
		return fail(KindAuthRejected, "auth", errors.New("every user name was already rejected by this server in this run"))
	}
	var last *Failure
	for _, u := range order {
		if !h.CanTry() {
			if last == nil {
				last = fail(KindLoginCap, "auth", ErrLoginCap)
			}
			p.tr.Note("not trying more user names: this server already rejected " + strconv.Itoa(MaxFailedLogins) + " logins in this run")
			return last
		}
		mech, f := attempt(u)
		p.res.LoginAttempts++
		if f == nil {
			h.Record(u, true)
			p.res.Verified, p.res.AuthUsed, p.res.UsernameUsed = true, mech, u
			return nil
		}
		if f.Kind != KindAuthRejected {
			return f
		}
		h.Record(u, false)
		p.res.AuthUsed, p.res.UsernameUsed = mech, u
		last = f
	}
	if last == nil {
		last = fail(KindLoginCap, "auth", ErrLoginCap)
	}
	return last
}

// SendMessage sends msg from login.From to rcpt through the cell, logging in as username.
func (o *engine) SendMessage(ctx context.Context, key ProbeKey, login *Login, username, rcpt string, msg []byte) error {
	p := o.startProbe(key, login)
	ctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	sc, f := o.dialSMTP(ctx, p, key)
	if f != nil {
		return f
	}
	defer sc.close()
	c := sc.client
	mechs := smtpCapabilities(p, c)
	if len(mechs) > 0 {
		one := login.only(username)
		if f := o.smtpLogin(ctx, p, c, key, one, mechs, sc.secure); f != nil {
			return f
		}
	}
	if err := c.Mail(login.From, nil); err != nil {
		return Classify("mail", fmt.Errorf("smtp %s:%d: mail from: %w", key.Host, key.Port, err))
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return Classify("rcpt", fmt.Errorf("smtp %s:%d: rcpt to: %w", key.Host, key.Port, err))
	}
	w, err := c.Data()
	if err != nil {
		return Classify("data", fmt.Errorf("smtp %s:%d: data: %w", key.Host, key.Port, err))
	}
	if _, err := w.Write(msg); err != nil {
		return Classify("data", fmt.Errorf("smtp %s:%d: data: %w", key.Host, key.Port, err))
	}
	if err := w.Close(); err != nil {
		return Classify("data", fmt.Errorf("smtp %s:%d: end of data: %w", key.Host, key.Port, err))
	}
	return nil
}
