package detect

import (
	"context"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

// imapConn is an IMAP connection after greeting and TLS, driven by go-imap's client.
type imapConn struct {
	client *imapclient.Client
	stop   func()
	secure bool
	caps   []string
}

func (c *imapConn) close() {
	if c.client != nil {
		_ = c.client.Logout().Wait()
		_ = c.client.Close()
	}
	c.stop()
}

// ProbeIMAP probes one IMAP cell and always returns a complete result.
func (o *engine) ProbeIMAP(ctx context.Context, key ProbeKey, login *Login) ProbeResult {
	return o.runProbe(ctx, key, login, o.probeIMAP)
}

func (o *engine) probeIMAP(ctx context.Context, p *probeRun, key ProbeKey, login *Login) *Failure {
	ic, f := o.dialIMAP(ctx, p, key)
	if f != nil {
		return f
	}
	defer ic.close()
	if !login.hasPassword() {
		return nil
	}
	return o.imapLogin(ctx, p, ic, key, login)
}

// dialIMAP connects, reads the greeting, negotiates TLS as the cell asks and reads the
// capabilities (after TLS when TLS is used), then hands the connection to go-imap.
func (o *engine) dialIMAP(ctx context.Context, p *probeRun, key ProbeKey) (*imapConn, *Failure) {
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
	greeting, err := text.ReadLine()
	if err != nil {
		return nil, wrap("banner", err)
	}
	p.res.Banner = strings.TrimSpace(strings.TrimPrefix(greeting, "*"))
	switch {
	case strings.HasPrefix(greeting, "* OK"):
	case strings.HasPrefix(greeting, "* PREAUTH"):
	case strings.HasPrefix(greeting, "* BYE"):
		return nil, fail(KindServerTemporary, "banner", fmt.Errorf("imap %s: server said goodbye: %s", addr, greeting))
	default:
		return nil, fail(KindProtocol, "banner", fmt.Errorf("imap %s: %w: greeting %q", addr, ErrProtocol, clip(greeting)))
	}

	if key.Security == SecurityStartTLS {
		caps, err := imapCapability(text, "A1")
		if err != nil {
			return nil, wrap("capability", err)
		}
		p.res.Capabilities = caps
		p.res.AuthMechanisms = imapMechs(caps)
		p.sharePre(p.res.AuthMechanisms)
		if !hasCap(caps, "STARTTLS") {
			return nil, wrap("starttls", ErrNoStartTLS)
		}
		if err := text.PrintfLine("A2 STARTTLS"); err != nil {
			return nil, wrap("starttls", err)
		}
		if _, err := imapTagged(text, "A2"); err != nil {
			return nil, wrap("starttls", fmt.Errorf("%w: %v", ErrNoStartTLS, err))
		}
		tc, f := o.tlsStep(ctx, p, raw, key.Host, "starttls")
		if f != nil {
			return nil, f
		}
		secure, rec = true, p.tr.Wrap(tc)
		text = newText(rec)
	}
	caps, err := imapCapability(text, "A3")
	if err != nil {
		return nil, wrap("capability", err)
	}
	p.res.Capabilities = caps
	p.res.AuthMechanisms = imapMechs(caps)

	// go-imap expects to read a greeting itself: give it a synthetic one below which the
	// recorder sits, so the transcript shows only real traffic.
	c := imapclient.New(&prefixConn{Conn: limitLines(rec), prefix: []byte("* OK mailsetup ready\r\n")}, &imapclient.Options{})
	ok = true
	return &imapConn{client: c, stop: stop, secure: secure, caps: caps}, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// imapCapability sends CAPABILITY with tag and returns the listed capabilities.
func imapCapability(text *textproto.Conn, tag string) ([]string, error) {
	if err := text.PrintfLine("%s CAPABILITY", tag); err != nil {
		return nil, err
	}
	var caps []string
	for {
		line, err := text.ReadLine()
		if err != nil {
			return nil, err
		}
		if rest, ok := strings.CutPrefix(line, "* CAPABILITY "); ok {
			caps = append(caps, strings.Fields(rest)...)
			continue
		}
		if strings.HasPrefix(line, "* ") {
			continue
		}
		if strings.HasPrefix(line, tag+" ") {
			if !strings.HasPrefix(line, tag+" OK") {
				return caps, fmt.Errorf("%w: %s", ErrProtocol, clip(line))
			}
			return caps, nil
		}
		return caps, fmt.Errorf("%w: unexpected line %q", ErrProtocol, clip(line))
	}
}

// imapTagged reads until the tagged reply of tag and fails unless it is OK.
func imapTagged(text *textproto.Conn, tag string) (string, error) {
	for {
		line, err := text.ReadLine()
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(line, tag+" ") {
			if strings.HasPrefix(line, tag+" OK") {
				return line, nil
			}
			return line, fmt.Errorf("%s", clip(line))
		}
	}
}

func hasCap(caps []string, c string) bool {
	for _, x := range caps {
		if strings.EqualFold(x, c) {
			return true
		}
	}
	return false
}

// imapMechs lists AUTH= mechanisms, and LOGIN for the LOGIN command unless disabled.
func imapMechs(caps []string) []string {
	out := []string{}
	for _, c := range caps {
		if m, ok := strings.CutPrefix(strings.ToUpper(c), "AUTH="); ok {
			out = append(out, m)
		}
	}
	if !hasCap(caps, "LOGINDISABLED") && !hasCap(out, "LOGIN") {
		out = append(out, "LOGIN")
	}
	return out
}

// imapMechanisms leaves SCRAM out: go-imap v2 (beta.8) answers an empty SASL
// continuation with "=", which servers reject (Dovecot: "invalid base64"), and SCRAM's
// last client message is empty. CRAM-MD5 still keeps the password off the wire.
var imapMechanisms = []mechanism{mechanisms[2], mechanisms[3], mechanisms[4]}

// imapChoose picks the login methods for an IMAP connection with capabilities caps.
func imapChoose(caps []string, secure, allowPlaintext bool, key ProbeKey) ([]mechanism, *Failure) {
	offered := imapMechs(caps)
	if hasCap(caps, "LOGINDISABLED") {
		// Only challenge-response SASL may still work; LOGIN and PLAIN are refused by the server.
		var challenge []string
		for _, m := range offered {
			if challengeMechs[m] {
				challenge = append(challenge, m)
			}
		}
		if len(challenge) == 0 {
			return nil, fail(KindLoginDisabled, "auth", fmt.Errorf("imap %s:%d: %w", key.Host, key.Port, ErrLoginDisabled))
		}
		offered = challenge
	}
	return chooseFrom(imapMechanisms, offered, secure, allowPlaintext)
}

// imapLogin tries the user name variants with the best usable method.
func (o *engine) imapLogin(ctx context.Context, p *probeRun, ic *imapConn, key ProbeKey, login *Login) *Failure {
	var mechs []mechanism
	var f *Failure
	if login.Token != nil {
		mechs, f = o.loginMechs(login, nil, imapMechs(ic.caps), ic.secure, key)
	} else {
		mechs, f = imapChoose(ic.caps, ic.secure, o.AllowPlaintext, key)
	}
	if f != nil {
		return f
	}
	return o.loginLoop(ctx, p, key, login.forOAuth(), func(user string) (string, *Failure) {
		return p.tryMechanisms(key, mechs, login, user, func(m mechanism, c sasl.Client) error {
			if m.name == "LOGIN" {
				// IMAP LOGIN is a command, not the SASL LOGIN mechanism.
				return ic.client.Login(user, login.Password).Wait()
			}
			return ic.client.Authenticate(c)
		})
	})
}

// classifyIMAP types a status response from an IMAP server: RFC 9051 §7.1 (NO refuses,
// BAD is a protocol error) and RFC 5530 response codes (UNAVAILABLE and INUSE are
// temporary; CANNOT during AUTHENTICATE means the mechanism cannot be used).
func classifyIMAP(step string, e *imap.Error) Kind {
	switch {
	case e.Code == imap.ResponseCodeUnavailable || e.Code == imap.ResponseCodeInUse:
		return KindServerTemporary
	case step == "auth" && e.Code == imap.ResponseCodeCannot:
		return KindMechanismUnsupported
	case step == "auth" && e.Type == imap.StatusResponseTypeNo:
		return KindAuthRejected
	case e.Type == imap.StatusResponseTypeBad:
		return KindProtocol
	default:
		return KindServerPermanent
	}
}

// FindMessage logs in through the cell and reports whether a message with this
// Message-ID is in the mailbox (INBOX for IMAP, the maildrop for POP3).
func (o *engine) FindMessage(ctx context.Context, key ProbeKey, login *Login, username, messageID string) (bool, error) {
	if key.Protocol == POP3 {
		return o.findPOP3(ctx, key, login, username, messageID)
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	s, err := o.openIMAPInbox(ctx, key, login, username)
	if err != nil {
		return false, err
	}
	defer s.close()
	return s.find(messageID)
}

// imapInbox is one logged-in IMAP session with INBOX selected, which the send test
// polls instead of logging in again for every look.
type imapInbox struct {
	ic  *imapConn
	key ProbeKey
}

// openIMAPInbox connects, logs in as username and selects INBOX read-only.
func (o *engine) openIMAPInbox(ctx context.Context, key ProbeKey, login *Login, username string) (*imapInbox, error) {
	p := o.startProbe(key, login)
	ic, f := o.dialIMAP(ctx, p, key)
	if f != nil {
		return nil, f
	}
	one := login.only(username)
	if f := o.imapLogin(ctx, p, ic, key, one); f != nil {
		ic.close()
		return nil, f
	}
	if _, err := ic.client.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		ic.close()
		return nil, Classify("select", fmt.Errorf("imap %s:%d: select INBOX: %w", key.Host, key.Port, err))
	}
	return &imapInbox{ic: ic, key: key}, nil
}

// find asks the server for news (NOOP) and searches INBOX for the Message-ID.
func (s *imapInbox) find(messageID string) (bool, error) {
	if err := s.ic.client.Noop().Wait(); err != nil {
		return false, Classify("noop", fmt.Errorf("imap %s:%d: noop: %w", s.key.Host, s.key.Port, err))
	}
	crit := &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: messageID}}}
	data, err := s.ic.client.Search(crit, nil).Wait()
	if err != nil {
		return false, Classify("search", fmt.Errorf("imap %s:%d: search: %w", s.key.Host, s.key.Port, err))
	}
	return len(data.AllSeqNums()) > 0, nil
}

func (s *imapInbox) close() { s.ic.close() }
