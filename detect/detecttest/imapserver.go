package detecttest

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
)

// IMAPConfig shapes an in-process IMAP server (go-imap v2 imapserver + imapmemserver).
type IMAPConfig struct {
	// Mode is "tls" (implicit TLS), "starttls" or "none".
	Mode string
	Cert tls.Certificate
	// Users maps user names to passwords; each gets an empty INBOX.
	Users map[string]string
	// InsecureAuth allows LOGIN without TLS; otherwise the server announces LOGINDISABLED.
	InsecureAuth bool
	// Tokens, when set, offers AUTH=XOAUTH2 and AUTH=OAUTHBEARER.
	Tokens *Tokens
}

// IMAPServer is a running in-process IMAP server.
type IMAPServer struct {
	Addr  string
	srv   *imapserver.Server
	ln    net.Listener
	mem   *imapmemserver.Server
	users map[string]*imapmemserver.User
	done  chan struct{}
}

// StartIMAP starts an IMAP server on 127.0.0.1:0, closed when the test ends.
func StartIMAP(t T, cfg IMAPConfig) *IMAPServer {
	t.Helper()
	s, err := NewIMAP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// NewIMAP starts an IMAP server on 127.0.0.1:0; the caller closes it.
func NewIMAP(cfg IMAPConfig) (*IMAPServer, error) {
	mem := imapmemserver.New()
	s := &IMAPServer{mem: mem, users: map[string]*imapmemserver.User{}, done: make(chan struct{})}
	for name, pass := range cfg.Users {
		u := imapmemserver.NewUser(name, pass)
		if err := u.Create("INBOX", nil); err != nil {
			return nil, fmt.Errorf("imap fixture: %w", err)
		}
		mem.AddUser(u)
		s.users[name] = u
	}
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			if cfg.Tokens != nil {
				return &tokenSession{Session: mem.NewSession(), tokens: cfg.Tokens, users: cfg.Users}, nil, nil
			}
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: cfg.InsecureAuth,
		Logger:       log.New(io.Discard, "", 0),
	}
	if cfg.Tokens != nil {
		// The token session wraps the memory server's and hides its IMAP4rev2 methods.
		delete(opts.Caps, imap.CapIMAP4rev2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("imap fixture: %w", err)
	}
	switch cfg.Mode {
	case "tls":
		ln = tls.NewListener(ln, ServerTLS(cfg.Cert))
	case "starttls":
		opts.TLSConfig = ServerTLS(cfg.Cert)
	case "none", "":
	default:
		ln.Close()
		return nil, fmt.Errorf("imap fixture: unknown mode %q", cfg.Mode)
	}
	s.srv, s.ln, s.Addr = imapserver.New(opts), ln, ln.Addr().String()
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// tokenSession adds the bearer-token mechanisms to a memory server's session: a valid
// token logs its user in as if with the password.
type tokenSession struct {
	imapserver.Session
	tokens *Tokens
	users  map[string]string
}

func (s *tokenSession) AuthenticateMechanisms() []string {
	return []string{"PLAIN", "OAUTHBEARER", "XOAUTH2"}
}

func (s *tokenSession) Authenticate(mech string) (sasl.Server, error) {
	switch mech {
	case "OAUTHBEARER", "XOAUTH2":
		var loginErr error
		return &afterServer{Server: s.tokens.server(func(u string) { loginErr = s.Session.Login(u, s.users[u]) }), err: &loginErr}, nil
	case "PLAIN":
		return sasl.NewPlainServer(func(_, user, pass string) error { return s.Session.Login(user, pass) }), nil
	}
	return nil, fmt.Errorf("imap fixture: mechanism %s not offered", mech)
}

// afterServer reports an error that happened while a successful exchange logged in.
type afterServer struct {
	sasl.Server
	err *error
}

func (a *afterServer) Next(resp []byte) ([]byte, bool, error) {
	chal, done, err := a.Server.Next(resp)
	if err == nil && done && *a.err != nil {
		err = *a.err
	}
	return chal, done, err
}

// Append stores a raw message in user's INBOX.
func (s *IMAPServer) Append(user string, raw []byte) error {
	u := s.users[user]
	if u == nil {
		return fmt.Errorf("imap fixture: no user %q", user)
	}
	_, err := u.Append("INBOX", literal{bytes.NewReader(raw), int64(len(raw))}, &imap.AppendOptions{})
	return err
}

// Close stops the server.
func (s *IMAPServer) Close() {
	_ = s.srv.Close()
	_ = s.ln.Close() // Close misses a listener that Serve had not registered yet
	<-s.done
}

type literal struct {
	*bytes.Reader
	n int64
}

func (l literal) Size() int64 { return l.n }
