package detecttest

import (
	"bufio"
	"crypto/hmac"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// POP3Config shapes a small scripted POP3 server (RFC 1939, CAPA, STLS, SASL CRAM-MD5).
type POP3Config struct {
	// Mode is "tls" (implicit TLS), "starttls" (STLS offered) or "none".
	Mode string
	Cert tls.Certificate
	// Users maps user names to passwords.
	Users map[string]string
	// CRAMMD5 offers SASL CRAM-MD5.
	CRAMMD5 bool
	// AllERR answers -ERR to every command after the greeting.
	AllERR bool
	// UserBeforeTLS offers USER on a clear connection in starttls mode (default: only after STLS).
	UserBeforeTLS bool
	// OnLogin is called after every successful login (POP-before-SMTP fixtures).
	OnLogin func(user string)
	// Tokens, when set, offers SASL XOAUTH2 and OAUTHBEARER (after TLS).
	Tokens *Tokens
}

// POP3Server is a running scripted POP3 server.
type POP3Server struct {
	Addr string
	cfg  POP3Config
	ln   net.Listener
	mu   sync.Mutex
	msgs map[string][][]byte
	wg   sync.WaitGroup
}

// StartPOP3 starts a POP3 server on 127.0.0.1:0, closed when the test ends.
func StartPOP3(t T, cfg POP3Config) *POP3Server {
	t.Helper()
	s, err := NewPOP3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// NewPOP3 starts a POP3 server on 127.0.0.1:0; the caller closes it.
func NewPOP3(cfg POP3Config) (*POP3Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("pop3 fixture: %w", err)
	}
	if cfg.Mode == "tls" {
		ln = tls.NewListener(ln, ServerTLS(cfg.Cert))
	}
	s := &POP3Server{Addr: ln.Addr().String(), cfg: cfg, ln: ln, msgs: map[string][][]byte{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(20 * time.Second))
				s.serve(c)
			}()
		}
	}()
	return s, nil
}

// Deliver adds a raw message to user's maildrop.
func (s *POP3Server) Deliver(user string, raw []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs[user] = append(s.msgs[user], raw)
}

// Close stops the server and waits for its connections.
func (s *POP3Server) Close() {
	s.ln.Close()
	s.wg.Wait()
}

func (s *POP3Server) serve(conn net.Conn) {
	r, w := bufio.NewReader(conn), bufio.NewWriter(conn)
	say := func(f string, a ...any) { fmt.Fprintf(w, f+"\r\n", a...); w.Flush() }
	challenge := fmt.Sprintf("<%d.%d@pop.example.test>", time.Now().UnixNano()%100000, 1)
	say("+OK POP3 fixture ready %s", challenge)
	secure := s.cfg.Mode == "tls"
	user, authed := "", false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		cmd, arg, _ := strings.Cut(line, " ")
		cmd = strings.ToUpper(cmd)
		if s.cfg.AllERR {
			if cmd == "QUIT" {
				say("-ERR no")
				return
			}
			say("-ERR not today")
			continue
		}
		userOK := secure || s.cfg.Mode == "none" || s.cfg.UserBeforeTLS
		switch {
		case cmd == "CAPA":
			say("+OK capabilities")
			if s.cfg.Mode == "starttls" && !secure {
				say("STLS")
			}
			if userOK {
				say("USER")
			}
			var sasls []string
			if s.cfg.CRAMMD5 {
				sasls = append(sasls, "CRAM-MD5")
			}
			if s.cfg.Tokens != nil && secure {
				sasls = append(sasls, "OAUTHBEARER", "XOAUTH2")
			}
			if len(sasls) > 0 {
				say("SASL %s", strings.Join(sasls, " "))
			}
			say("TOP\r\nUIDL\r\n.")
		case cmd == "STLS" && s.cfg.Mode == "starttls" && !secure:
			say("+OK begin TLS")
			tc := tls.Server(conn, ServerTLS(s.cfg.Cert))
			if tc.Handshake() != nil {
				return
			}
			conn, secure = tc, true
			r, w = bufio.NewReader(conn), bufio.NewWriter(conn)
		case cmd == "USER" && userOK && !authed:
			user = arg
			say("+OK send PASS")
		case cmd == "PASS" && userOK && !authed && user != "":
			if want, ok := s.cfg.Users[user]; ok && want == arg {
				authed = true
				if s.cfg.OnLogin != nil {
					s.cfg.OnLogin(user)
				}
				say("+OK logged in")
			} else {
				say("-ERR [AUTH] Authentication failed.")
			}
		case cmd == "APOP" && !authed:
			u, digest, _ := strings.Cut(arg, " ")
			sum := md5.Sum([]byte(challenge + s.cfg.Users[u]))
			if _, known := s.cfg.Users[u]; known && hex.EncodeToString(sum[:]) == digest {
				user, authed = u, true
				say("+OK logged in")
			} else {
				say("-ERR [AUTH] Authentication failed.")
			}
		case cmd == "AUTH" && strings.EqualFold(arg, "CRAM-MD5") && s.cfg.CRAMMD5 && !authed:
			say("+ %s", base64.StdEncoding.EncodeToString([]byte(challenge)))
			resp, err := r.ReadString('\n')
			if err != nil {
				return
			}
			dec, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(resp))
			u, digest, _ := strings.Cut(string(dec), " ")
			h := hmac.New(md5.New, []byte(s.cfg.Users[u]))
			h.Write([]byte(challenge))
			if _, known := s.cfg.Users[u]; known && hex.EncodeToString(h.Sum(nil)) == digest {
				user, authed = u, true
				say("+OK logged in")
			} else {
				say("-ERR [AUTH] Authentication failed.")
			}
		case cmd == "AUTH" && s.cfg.Tokens != nil && secure && !authed:
			_, ir, _ := strings.Cut(arg, " ")
			srv := s.cfg.Tokens.server(func(u string) { user, authed = u, true })
			resp, _ := base64.StdEncoding.DecodeString(ir)
			if ir == "" {
				resp = nil
			}
			for {
				chal, done, err := srv.Next(resp)
				if err != nil {
					say("-ERR [AUTH] Authentication failed.")
					break
				}
				if done {
					say("+OK logged in")
					break
				}
				say("+ %s", base64.StdEncoding.EncodeToString(chal))
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if resp, err = base64.StdEncoding.DecodeString(strings.TrimSpace(line)); err != nil {
					say("-ERR bad base64")
					break
				}
			}
		case cmd == "STAT" && authed:
			s.mu.Lock()
			n, size := len(s.msgs[user]), 0
			for _, m := range s.msgs[user] {
				size += len(m)
			}
			s.mu.Unlock()
			say("+OK %d %d", n, size)
		case cmd == "TOP" && authed:
			var i, lines int
			fmt.Sscanf(arg, "%d %d", &i, &lines)
			s.mu.Lock()
			msgs := s.msgs[user]
			s.mu.Unlock()
			if i < 1 || i > len(msgs) {
				say("-ERR no such message")
				continue
			}
			head, _, _ := strings.Cut(strings.ReplaceAll(string(msgs[i-1]), "\r\n", "\n"), "\n\n")
			say("+OK top follows")
			for _, l := range strings.Split(head, "\n") {
				if strings.HasPrefix(l, ".") {
					l = "." + l
				}
				say("%s", l)
			}
			say("")
			say(".")
		case cmd == "NOOP":
			say("+OK")
		case cmd == "QUIT":
			say("+OK bye")
			return
		default:
			say("-ERR unknown or not allowed now")
		}
	}
}
