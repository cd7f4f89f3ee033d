package detect

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"

	"github.com/emersion/go-sasl"
	pop3 "github.com/knadh/go-pop3"
)

// pop3Reply is a -ERR reply from a POP3 server.
type pop3Reply struct{ line string }

func (e *pop3Reply) Error() string { return "pop3: server replied " + clip(e.line) }

// classifyPOP3 types a -ERR reply by step and response code: RFC 2449 §8 ([IN-USE],
// [LOGIN-DELAY] are temporary), RFC 3206 ([SYS/TEMP] temporary, [AUTH] credentials);
// during a login any other -ERR is a rejection (RFC 1939 §7 says no more).
func classifyPOP3(step string, e *pop3Reply) Kind {
	up := strings.ToUpper(e.line)
	switch {
	case strings.Contains(up, "[SYS/TEMP]"), strings.Contains(up, "[IN-USE]"), strings.Contains(up, "[LOGIN-DELAY]"):
		return KindServerTemporary
	case step == "auth":
		return KindAuthRejected
	default:
		return KindServerPermanent
	}
}

// apopTimestamp finds the RFC 1939 APOP timestamp in a greeting.
var apopTimestamp = regexp.MustCompile(`<[^<>@\s]+@[^<>\s]+>`)

// pop3Conn is a POP3 connection after greeting, TLS and capabilities.
type pop3Conn struct {
	text      *textproto.Conn
	rec       net.Conn
	stop      func()
	secure    bool
	mechs     []string
	timestamp string
}

func (c *pop3Conn) close() {
	_ = c.text.PrintfLine("QUIT")
	_, _ = c.text.ReadLine()
	c.stop()
}

// ProbePOP3 probes one POP3 cell and always returns a complete result.
func (o *engine) ProbePOP3(ctx context.Context, key ProbeKey, login *Login) ProbeResult {
	return o.runProbe(ctx, key, login, o.probePOP3)
}

func (o *engine) probePOP3(ctx context.Context, p *probeRun, key ProbeKey, login *Login) *Failure {
	pc, f := o.dialPOP3(ctx, p, key)
	if f != nil {
		return f
	}
	defer pc.close()
	if !login.hasPassword() {
		return nil
	}
	return o.pop3Login(ctx, p, pc, key, login)
}

// pop3Line reads one status line: +OK returns its text, -ERR a *pop3Reply.
func pop3Line(text *textproto.Conn) (string, error) {
	line, err := text.ReadLine()
	if err != nil {
		return "", err
	}
	switch {
	case strings.HasPrefix(line, "+OK"):
		return strings.TrimSpace(line[3:]), nil
	case strings.HasPrefix(line, "-ERR"):
		return "", &pop3Reply{line: line}
	default:
		return "", fmt.Errorf("%w: %q", ErrProtocol, clip(line))
	}
}

// pop3Capa runs CAPA; a server without CAPA (RFC 1939 only) yields nil.
func pop3Capa(text *textproto.Conn) ([]string, error) {
	if err := text.PrintfLine("CAPA"); err != nil {
		return nil, err
	}
	if _, err := pop3Line(text); err != nil {
		var r *pop3Reply
		if errors.As(err, &r) {
			return nil, nil
		}
		return nil, err
	}
	lines, err := text.ReadDotLines()
	if err != nil {
		return nil, err
	}
	return lines, nil
}

// dialPOP3 connects, reads the greeting, negotiates TLS (STLS for starttls) and reads
// the capabilities, after TLS when TLS is used.
func (o *engine) dialPOP3(ctx context.Context, p *probeRun, key ProbeKey) (*pop3Conn, *Failure) {
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
	greeting, err := pop3Line(text)
	if err != nil {
		var r *pop3Reply
		if errors.As(err, &r) {
			return nil, fail(KindServerTemporary, "banner", fmt.Errorf("pop3 %s: greeting: %w", addr, err))
		}
		return nil, wrap("banner", err)
	}
	p.res.Banner = greeting
	timestamp := apopTimestamp.FindString(greeting)

	caps, err := pop3Capa(text)
	if err != nil {
		return nil, wrap("capa", err)
	}
	if key.Security == SecurityStartTLS {
		p.res.Capabilities = caps
		p.sharePre(pop3Mechs(caps, timestamp))
		if !hasCap(caps, "STLS") {
			return nil, wrap("starttls", ErrNoStartTLS)
		}
		if err := text.PrintfLine("STLS"); err != nil {
			return nil, wrap("starttls", err)
		}
		if _, err := pop3Line(text); err != nil {
			return nil, wrap("starttls", fmt.Errorf("%w: %v", ErrNoStartTLS, err))
		}
		tc, f := o.tlsStep(ctx, p, raw, key.Host, "starttls")
		if f != nil {
			return nil, f
		}
		secure, rec = true, p.tr.Wrap(tc)
		text = newText(rec)
		if caps, err = pop3Capa(text); err != nil {
			return nil, wrap("capa", err)
		}
	}
	p.res.Capabilities = caps
	mechs := pop3Mechs(caps, timestamp)
	p.res.AuthMechanisms = mechs
	ok = true
	return &pop3Conn{text: text, rec: rec, stop: stop, secure: secure, mechs: mechs, timestamp: timestamp}, nil
}

// pop3Mechs lists the login methods: SASL mechanisms, APOP when the greeting has a
// timestamp, and USER (assumed when the server has no CAPA).
func pop3Mechs(caps []string, timestamp string) []string {
	out := []string{}
	user := caps == nil
	for _, c := range caps {
		f := strings.Fields(strings.ToUpper(c))
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "SASL":
			out = append(out, f[1:]...)
		case "USER":
			user = true
		}
	}
	if timestamp != "" {
		out = append(out, "APOP")
	}
	if user {
		out = append(out, "USER")
	}
	return out
}

// pop3Clear is the order of preference on a clear connection: methods that hide the
// password first. APOP and USER are POP3 commands, not SASL mechanisms.
var pop3Clear = []mechanism{
	{"SCRAM-SHA-256", scramSHA256Client},
	{"SCRAM-SHA-1", scramSHA1Client},
	{"CRAM-MD5", CRAMMD5Client},
	{"APOP", nil},
	{"USER", nil},
	{"PLAIN", plainClient},
}

// pop3Secure is the order on a trusted TLS connection, where USER/PASS is safe and is
// what every server supports (a greeting timestamp does not promise working APOP).
var pop3Secure = []mechanism{pop3Clear[0], pop3Clear[1], pop3Clear[4], pop3Clear[5], pop3Clear[2], pop3Clear[3]}

func (o *engine) pop3Login(ctx context.Context, p *probeRun, pc *pop3Conn, key ProbeKey, login *Login) *Failure {
	table := pop3Clear
	if pc.secure {
		table = pop3Secure
	}
	mechs, f := o.loginMechs(login, table, pc.mechs, pc.secure, key)
	if f != nil {
		return f
	}
	if login.SMTPDone != nil {
		select {
		case <-login.SMTPDone:
		case <-ctx.Done():
			return Classify("auth", ctx.Err())
		}
	}
	return o.loginLoop(ctx, p, key, login.forOAuth(), func(user string) (string, *Failure) {
		return p.tryMechanisms(key, mechs, login, user, func(m mechanism, c sasl.Client) error {
			return pop3Auth(pc, m, c, user, login.Password)
		})
	})
}

// pop3Auth runs one login with mechanism m: the USER and APOP commands, or SASL with c.
func pop3Auth(pc *pop3Conn, m mechanism, c sasl.Client, user, pass string) error {
	t := pc.text
	switch m.name {
	case "USER":
		if err := t.PrintfLine("USER %s", user); err != nil {
			return err
		}
		if _, err := pop3Line(t); err != nil {
			return err
		}
		if err := t.PrintfLine("PASS %s", pass); err != nil {
			return err
		}
		_, err := pop3Line(t)
		return err
	case "APOP":
		sum := md5.Sum([]byte(pc.timestamp + pass))
		if err := t.PrintfLine("APOP %s %s", user, hex.EncodeToString(sum[:])); err != nil {
			return err
		}
		_, err := pop3Line(t)
		return err
	}
	// SASL (RFC 5034): AUTH MECH [initial response], then "+ challenge" lines.
	mech, ir, err := c.Start()
	if err != nil {
		return err
	}
	cmd := "AUTH " + mech
	if ir != nil {
		cmd += " " + encodeSASL(ir)
	}
	if err := t.PrintfLine("%s", cmd); err != nil {
		return err
	}
	for {
		line, err := t.ReadLine()
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(line, "+OK"):
			return nil
		case strings.HasPrefix(line, "-ERR"):
			return &pop3Reply{line: line}
		case strings.HasPrefix(line, "+"):
			chal, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line[1:]))
			if err != nil {
				_ = t.PrintfLine("*")
				return fmt.Errorf("%w: bad challenge: %v", ErrProtocol, err)
			}
			resp, err := c.Next(chal)
			if err != nil {
				_ = t.PrintfLine("*")
				return err
			}
			// An empty continuation is an empty line (RFC 5034); "=" is only for the initial response.
			if err := t.PrintfLine("%s", base64.StdEncoding.EncodeToString(resp)); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: %q", ErrProtocol, clip(line))
		}
	}
}

func encodeSASL(b []byte) string {
	if len(b) == 0 {
		return "="
	}
	return base64.StdEncoding.EncodeToString(b)
}

// connDialer hands an already-open connection to go-pop3, which only knows how to dial.
type connDialer struct{ conn net.Conn }

func (d connDialer) Dial(_, _ string) (net.Conn, error) {
	if d.conn == nil {
		return nil, io.ErrClosedPipe
	}
	return d.conn, nil
}

// loginPOP3 connects and logs in as username; the caller stops the connection.
func (o *engine) loginPOP3(ctx context.Context, p *probeRun, key ProbeKey, login *Login, username string) (*pop3Conn, error) {
	pc, f := o.dialPOP3(ctx, p, key)
	if f != nil {
		return nil, f
	}
	one := login.only(username)
	if f := o.pop3Login(ctx, p, pc, key, one); f != nil {
		pc.stop()
		return nil, f
	}
	return pc, nil
}

// maxPOP3Scan caps how many of the newest messages FindMessage inspects.
const maxPOP3Scan = 50

// findPOP3 logs in and looks at the headers of the newest messages for messageID.
func (o *engine) findPOP3(ctx context.Context, key ProbeKey, login *Login, username, messageID string) (bool, error) {
	p := o.startProbe(key, login)
	ctx, cancel := context.WithTimeout(ctx, o.timeout())
	defer cancel()
	pc, err := o.loginPOP3(ctx, p, key, login, username)
	if err != nil {
		return false, err
	}
	defer pc.stop()
	// The mailbox work is go-pop3's; it starts after a greeting, so give it one.
	c, err := pop3.New(pop3.Opt{Host: key.Host, Port: key.Port,
		Dialer: connDialer{&prefixConn{Conn: limitLines(pc.rec), prefix: []byte("+OK mailsetup ready\r\n")}}}).NewConn()
	if err != nil {
		return false, Classify("stat", fmt.Errorf("pop3 %s:%d: %w", key.Host, key.Port, err))
	}
	defer c.Quit()
	count, _, err := c.Stat()
	if err != nil {
		return false, Classify("stat", fmt.Errorf("pop3 %s:%d: stat: %w", key.Host, key.Port, err))
	}
	for i := count; i >= 1 && i > count-maxPOP3Scan; i-- {
		m, err := c.Top(i, 0)
		if err != nil {
			return false, Classify("top", fmt.Errorf("pop3 %s:%d: top %d: %w", key.Host, key.Port, i, err))
		}
		if strings.TrimSpace(m.Header.Get("Message-Id")) == messageID {
			return true, nil
		}
	}
	return false, nil
}
