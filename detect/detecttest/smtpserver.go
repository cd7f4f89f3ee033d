package detecttest

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPConfig shapes an in-process SMTP server (github.com/emersion/go-smtp).
type SMTPConfig struct {
	// Mode is "tls" (implicit TLS), "starttls" (STARTTLS offered) or "none".
	Mode string
	// Cert is presented for tls and starttls.
	Cert tls.Certificate
	// Mechanisms offered, among PLAIN, LOGIN, CRAM-MD5; empty offers no AUTH.
	Mechanisms []string
	// AuthBeforeTLS offers AUTH on a clear-text connection too (starttls mode).
	AuthBeforeTLS bool
	// Users maps user names to passwords.
	Users map[string]string
	// AcceptAnyPassword accepts every login (a server that proves nothing about delivery).
	AcceptAnyPassword bool
	// RelayOpen accepts recipients without login (relay by network address).
	RelayOpen bool
	// RelayAllowed, when set, decides relaying without login at each RCPT (POP before SMTP).
	RelayAllowed func() bool
	// Domain is the name in the greeting.
	Domain string
	// MaxMessageBytes is announced as SIZE.
	MaxMessageBytes int64
	// Deliver receives every accepted message (for send tests); may be nil.
	Deliver func(from string, to []string, data []byte)
	// Tokens, when set, accepts XOAUTH2 and OAUTHBEARER (list them in Mechanisms).
	Tokens *Tokens
}

// SMTPServer is a running in-process SMTP server.
type SMTPServer struct {
	Addr string
	srv  *smtp.Server
	ln   net.Listener
	mu   sync.Mutex
	msgs []Message
	cfg  SMTPConfig
	done chan struct{}
}

// Message is one message an in-process server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
}

// StartSMTP starts an SMTP server on 127.0.0.1:0, closed when the test ends.
func StartSMTP(t T, cfg SMTPConfig) *SMTPServer {
	t.Helper()
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// NewSMTP starts an SMTP server on 127.0.0.1:0; the caller closes it.
func NewSMTP(cfg SMTPConfig) (*SMTPServer, error) {
	if cfg.Domain == "" {
		cfg.Domain = "mail.example.test"
	}
	s := &SMTPServer{cfg: cfg, done: make(chan struct{})}
	srv := smtp.NewServer(&smtpBackend{s: s})
	srv.Domain = cfg.Domain
	srv.ErrorLog = log.New(io.Discard, "", 0) // probes hang up abruptly on purpose
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = cfg.MaxMessageBytes
	if srv.MaxMessageBytes == 0 {
		srv.MaxMessageBytes = 10 << 20
	}
	srv.AllowInsecureAuth = cfg.Mode == "none" || cfg.AuthBeforeTLS
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtp fixture: %w", err)
	}
	switch cfg.Mode {
	case "tls":
		ln = tls.NewListener(ln, ServerTLS(cfg.Cert))
		srv.AllowInsecureAuth = true // the listener is already TLS
	case "starttls":
		srv.TLSConfig = ServerTLS(cfg.Cert)
	case "none", "":
	default:
		ln.Close()
		return nil, fmt.Errorf("smtp fixture: unknown mode %q", cfg.Mode)
	}
	s.srv, s.ln, s.Addr = srv, ln, ln.Addr().String()
	go func() {
		defer close(s.done)
		_ = srv.Serve(ln)
	}()
	return s, nil
}

// Close stops the server.
// Close stops the server. It shuts down gracefully: go-smtp's Close races with a
// connection that is in the middle of STARTTLS.
func (s *SMTPServer) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	// Shutdown misses a listener that Serve had not registered yet.
	_ = s.ln.Close()
	<-s.done
}

// Messages returns the messages accepted so far.
func (s *SMTPServer) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

type smtpBackend struct{ s *SMTPServer }

func (b *smtpBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &smtpSession{s: b.s}, nil
}

type smtpSession struct {
	s      *SMTPServer
	authed bool
	from   string
	to     []string
}

func (ss *smtpSession) AuthMechanisms() []string { return ss.s.cfg.Mechanisms }

func (ss *smtpSession) check(user, pass string) error {
	if ss.s.cfg.AcceptAnyPassword {
		ss.authed = true
		return nil
	}
	if want, ok := ss.s.cfg.Users[user]; ok && want == pass {
		ss.authed = true
		return nil
	}
	return smtp.ErrAuthFailed
}

func (ss *smtpSession) Auth(mech string) (sasl.Server, error) {
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(_, user, pass string) error { return ss.check(user, pass) }), nil
	case "LOGIN":
		return &loginServer{check: ss.check}, nil
	case "CRAM-MD5":
		return newCRAMServer(ss.s.cfg, func() { ss.authed = true }), nil
	case "XOAUTH2", "OAUTHBEARER":
		if ss.s.cfg.Tokens != nil {
			return smtpRejects{ss.s.cfg.Tokens.server(func(string) { ss.authed = true })}, nil
		}
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	relay := ss.s.cfg.RelayOpen || ss.s.cfg.RelayAllowed != nil && ss.s.cfg.RelayAllowed()
	if !ss.authed && !relay {
		if len(ss.s.cfg.Mechanisms) == 0 {
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relay access denied"}
		}
		return smtp.ErrAuthRequired
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Message{From: ss.from, To: append([]string(nil), ss.to...), Data: data}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, m)
	ss.s.mu.Unlock()
	if ss.s.cfg.Deliver != nil {
		ss.s.cfg.Deliver(m.From, m.To, m.Data)
	}
	return nil
}

func (ss *smtpSession) Reset() { ss.from, ss.to = "", nil }

func (ss *smtpSession) Logout() error { return nil }

// loginServer is the server side of the LOGIN mechanism (go-sasl has only the client).
type loginServer struct {
	check func(user, pass string) error
	user  string
	step  int
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if resp == nil {
			return []byte("Username:"), false, nil
		}
		l.user = string(resp)
		l.step = 2
		return []byte("Password:"), false, nil
	case 1:
		l.user = string(resp)
		l.step = 2
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(resp))
	}
}

// cramServer is the server side of CRAM-MD5 (RFC 2195).
type cramServer struct {
	cfg       SMTPConfig
	challenge string
	sent      bool
	ok        func()
}

func newCRAMServer(cfg SMTPConfig, ok func()) *cramServer {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &cramServer{cfg: cfg, challenge: fmt.Sprintf("<%s.%d@%s>", hex.EncodeToString(b[:]), time.Now().Unix(), cfg.Domain), ok: ok}
}

func (c *cramServer) Next(resp []byte) ([]byte, bool, error) {
	if !c.sent {
		c.sent = true
		return []byte(c.challenge), false, nil
	}
	user, digest, found := strings.Cut(string(resp), " ")
	if !found {
		return nil, true, smtp.ErrAuthFailed
	}
	if c.cfg.AcceptAnyPassword {
		c.ok()
		return nil, true, nil
	}
	pass, known := c.cfg.Users[user]
	if !known {
		return nil, true, smtp.ErrAuthFailed
	}
	h := hmac.New(md5.New, []byte(pass))
	h.Write([]byte(c.challenge))
	if !hmac.Equal([]byte(hex.EncodeToString(h.Sum(nil))), []byte(digest)) {
		return nil, true, smtp.ErrAuthFailed
	}
	c.ok()
	return nil, true, nil
}

// smtpRejects ends a failed SASL exchange with 535 5.7.8, as mail servers do (go-smtp
// would answer 454 to a plain error).
type smtpRejects struct{ sasl.Server }

func (s smtpRejects) Next(resp []byte) ([]byte, bool, error) {
	chal, done, err := s.Server.Next(resp)
	if err != nil {
		err = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}
	}
	return chal, done, err
}

// T is the part of testing.TB the fixtures use; the demo mode provides its own.
type T interface {
	Helper()
	Fatal(args ...any)
	Cleanup(func())
}
