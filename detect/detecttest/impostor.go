package detecttest

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"strings"
	"sync"
)

// Recorder forwards loopback connections to a target server and keeps every byte the
// clients sent. Hostile-network tests put one in front of an impostor (a server with a
// valid certificate for its own name that accepts any password) to prove that neither
// the password nor any verifier of it ever reached it. StartTLSRecorder terminates
// implicit TLS itself, so it records the clear text and forwards it to a plain server.
type Recorder struct {
	ln   net.Listener
	mu   sync.Mutex
	got  bytes.Buffer
	wg   sync.WaitGroup
	open map[net.Conn]bool
	done bool
	// conns counts the connections accepted.
	conns int
}

// StartRecorder forwards to target (host:port) and records; it closes with the test.
func StartRecorder(t T, target string) *Recorder {
	t.Helper()
	r, err := newRecorder(func(c net.Conn, rec io.Writer) { pipe(c, target, rec) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// StartTLSRecorder accepts implicit-TLS connections with cert, records what clients
// send inside TLS and forwards it in clear to target (a plain-mode server).
func StartTLSRecorder(t T, cert tls.Certificate, target string) *Recorder {
	t.Helper()
	cfg := ServerTLS(cert)
	r, err := newRecorder(func(c net.Conn, rec io.Writer) {
		tc := tls.Server(c, cfg)
		if err := tc.Handshake(); err != nil {
			c.Close()
			return
		}
		pipe(tc, target, rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// pipe forwards c to target in both directions, copying what the client sends into rec,
// until both directions end.
func pipe(c net.Conn, target string, rec io.Writer) {
	up, err := net.Dial("tcp", target)
	if err != nil {
		c.Close()
		return
	}
	done := make(chan struct{}, 2)
	go func() { io.Copy(io.MultiWriter(up, rec), c); up.Close(); done <- struct{}{} }()
	go func() { io.Copy(c, up); c.Close(); done <- struct{}{} }()
	<-done
	<-done
}

func newRecorder(handle func(c net.Conn, rec io.Writer)) (*Recorder, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Recorder{ln: ln, open: map[net.Conn]bool{}}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			if r.done {
				r.mu.Unlock()
				c.Close()
				return
			}
			r.open[c] = true
			r.conns++
			r.mu.Unlock()
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				handle(c, writerFunc(r.write))
				r.mu.Lock()
				delete(r.open, c)
				r.mu.Unlock()
			}()
		}
	}()
	return r, nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (r *Recorder) write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got.Write(p)
	return len(p), nil
}

// Addr is where clients connect.
func (r *Recorder) Addr() string { return r.ln.Addr().String() }

// Received returns everything clients sent so far.
func (r *Recorder) Received() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got.String()
}

// Conns returns how many connections were accepted.
func (r *Recorder) Conns() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conns
}

// Close stops accepting and closes every forwarded connection.
func (r *Recorder) Close() {
	r.mu.Lock()
	r.done = true
	for c := range r.open {
		c.Close()
	}
	r.mu.Unlock()
	r.ln.Close()
	r.wg.Wait()
}

// CredentialLeak returns a description of the first credential-bearing thing in what
// a client sent — a login command of any mail protocol, the password, or its base64
// forms — or "" when there is none. A CRAM-MD5, SCRAM or APOP answer cannot be
// recognised by value, so the commands that carry them count.
func CredentialLeak(sent, password string) string {
	up := strings.ToUpper(sent)
	for _, cmd := range []string{"AUTH ", "AUTHENTICATE ", " LOGIN ", "\nUSER ", "\nPASS ", "\nAPOP ", "PASS "} {
		if strings.Contains(up, cmd) || strings.HasPrefix(up, strings.TrimPrefix(cmd, "\n")) {
			return "login command " + strings.TrimSpace(cmd)
		}
	}
	if password != "" {
		for _, f := range []string{password, base64.StdEncoding.EncodeToString([]byte(password))} {
			if strings.Contains(sent, f) {
				return "the password in the form " + f
			}
		}
	}
	return ""
}
