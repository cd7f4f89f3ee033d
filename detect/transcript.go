package detect

import (
	"bytes"
	"encoding/base64"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// maxTranscriptLines caps a transcript so a flooding server cannot exhaust memory.
const maxTranscriptLines = 400

// maxTranscriptLine caps one recorded line.
const maxTranscriptLine = 512

// Transcript records one probe's conversation with credentials redacted.
// Every probe connection is wrapped by Transcript.Wrap; nothing else records traffic.
type Transcript struct {
	mu      sync.Mutex
	lines   []string
	secret  bool
	secrets []string
	pending map[byte]*bytes.Buffer
	dropped int
	limited bool
}

// NewTranscript returns a transcript that scrubs password and every encoding of it
// (SecretForms) from every line.
func NewTranscript(password string, usernames ...string) *Transcript {
	return &Transcript{pending: map[byte]*bytes.Buffer{}, secrets: SecretForms(password, usernames...)}
}

// SecretForms lists the byte strings that would reveal password, longest first: the
// password itself, its IMAP quoted-string form, its base64 form, the PLAIN blobs for
// each user name, and — for any other encoding that embeds it (LOGIN, PLAIN with another
// authorisation identity, XOAUTH2 …) — the part of its base64 encoding that depends only
// on the password, at each of the three byte alignments base64 can put it in.
func SecretForms(password string, usernames ...string) []string {
	if password == "" {
		return nil
	}
	b64 := base64.StdEncoding.EncodeToString
	forms := []string{password, b64([]byte(password)), imapQuote(password)}
	for k := 0; k < 3; k++ {
		if core := base64Core([]byte(password), k); len(core) >= 4 {
			forms = append(forms, core)
		}
	}
	for _, u := range usernames {
		forms = append(forms, b64([]byte("\x00"+u+"\x00"+password)), b64([]byte(u+"\x00"+u+"\x00"+password)))
	}
	seen := map[string]bool{}
	out := forms[:0]
	for _, f := range forms {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// base64Core returns the characters of base64(k bytes + secret) that depend only on
// secret: every 4-character group whose 3 input bytes all belong to secret. Any base64
// text that encodes secret at an offset ≡ k (mod 3) contains it.
func base64Core(secret []byte, k int) string {
	enc := base64.StdEncoding.EncodeToString(append(make([]byte, k), secret...))
	first := (k + 2) / 3          // the first group made only of secret bytes
	last := (k + len(secret)) / 3 // groups before this one are complete
	if last <= first {
		return ""
	}
	return enc[4*first : 4*last]
}

// imapQuote is the IMAP quoted-string form of s (RFC 3501: backslash before " and \).
func imapQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// SetSecret marks the following client lines as carrying credentials (true) or not.
func (t *Transcript) SetSecret(on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.flushLocked('C')
	t.flushLocked('S')
	t.secret = on
}

// Note adds an engine remark (e.g. "TLS 1.3 handshake done") to the transcript.
func (t *Transcript) Note(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.addLocked("--", s)
}

// replay appends lines recorded by another transcript of this run (already redacted).
func (t *Transcript) replay(lines []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, l := range lines {
		t.pushLocked(l)
	}
}

// Lines returns the recorded lines so far, including partial lines.
func (t *Transcript) Lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.flushLocked('C')
	t.flushLocked('S')
	out := append(make([]string, 0, len(t.lines)+1), t.lines...)
	if t.dropped > 0 {
		out = append(out, "-- "+strconv.Itoa(t.dropped)+" more lines not recorded")
	}
	return out
}

// record appends raw bytes seen in direction dir ('C' client→server, 'S' server→client).
func (t *Transcript) record(dir byte, p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	buf := t.pending[dir]
	if buf == nil {
		buf = &bytes.Buffer{}
		t.pending[dir] = buf
	}
	// A line is kept up to a bound, plus the longest secret, so that a secret starting
	// before the bound is whole when it is scrubbed (the line is shortened afterwards).
	limit := maxTranscriptLine * 4
	if len(t.secrets) > 0 {
		limit += len(t.secrets[0])
	}
	keep := func(b []byte) {
		if room := limit - buf.Len(); room > 0 {
			buf.Write(b[:min(len(b), room)])
		}
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			keep(p)
			return
		}
		keep(p[:i])
		p = p[i+1:]
		t.emitLocked(dir, buf.String())
		buf.Reset()
	}
}

func (t *Transcript) flushLocked(dir byte) {
	if buf := t.pending[dir]; buf != nil && buf.Len() > 0 {
		t.emitLocked(dir, buf.String())
		buf.Reset()
	}
}

func (t *Transcript) emitLocked(dir byte, line string) {
	line = strings.TrimRight(line, "\r")
	if t.secret {
		if dir == 'C' {
			line = redactClientLine(line)
		} else if prefix, ok := challengePrefix(line); ok {
			line = prefix + "[challenge]"
		}
	}
	prefix := "S:"
	if dir == 'C' {
		prefix = "C:"
	}
	t.addLocked(prefix, line)
}

func (t *Transcript) addLocked(prefix, line string) {
	for _, s := range t.secrets {
		if s != "" && strings.Contains(line, s) {
			line = strings.ReplaceAll(line, s, "[redacted]")
		}
	}
	t.pushLocked(prefix + " " + sanitizeLine(line))
}

// pushLocked appends a finished line, or counts it once the transcript is full.
func (t *Transcript) pushLocked(line string) {
	if len(t.lines) >= maxTranscriptLines {
		t.dropped++
		return
	}
	t.lines = append(t.lines, line)
}

// sanitizeLine makes a recorded line printable and bounded.
func sanitizeLine(s string) string {
	if len(s) > maxTranscriptLine {
		s = s[:maxTranscriptLine] + "…[" + strconv.Itoa(len(s)-maxTranscriptLine) + " more bytes]"
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return '.'
		}
		return r
	}, s)
}

// challengePrefix recognises a SASL continuation from the server — SMTP "334 …", IMAP and
// POP3 "+ …" — including the empty forms "334", "+ " and "+" (RFC 3501's empty challenge),
// and returns the prefix to keep.
func challengePrefix(line string) (string, bool) {
	switch {
	case line == "334" || strings.HasPrefix(line, "334 "):
		return "334 ", true
	case line == "+" || strings.HasPrefix(line, "+ "):
		return "+ ", true
	}
	return "", false
}

// redactClientLine keeps the command words of a credential-bearing line and hides the rest.
func redactClientLine(line string) string {
	f := strings.Fields(line)
	if len(f) == 0 {
		return line
	}
	keep := 0
	switch strings.ToUpper(f[0]) {
	case "AUTH":
		keep = 2
	case "USER", "PASS", "APOP":
		keep = 1
	}
	if keep == 0 && len(f) > 1 {
		switch strings.ToUpper(f[1]) {
		case "LOGIN":
			keep = 2
		case "AUTHENTICATE":
			keep = 3
		}
	}
	if keep > len(f) {
		keep = len(f)
	}
	kept := strings.Join(f[:keep], " ")
	if keep == len(f) {
		return kept
	}
	if kept == "" {
		return "[redacted]"
	}
	return kept + " [redacted]"
}

// Reply limits: what one server answer (everything read between two client writes) may
// hold. Real greetings and capability lists are a few dozen lines; a server that sends
// more is flooding, and its lines would otherwise pile up in memory.
const (
	maxReplyLines = 1000
	maxReplyBytes = 256 << 10
)

// Wrap returns conn recording into t. Reads are server lines, writes client lines. A
// server answer that breaks the reply limits fails the read with ErrReplyTooLarge.
func (t *Transcript) Wrap(conn net.Conn) net.Conn {
	return &recordedConn{Conn: conn, t: t}
}

type recordedConn struct {
	net.Conn
	t *Transcript
	// mu guards the counters: libraries read on one goroutine and write on another.
	mu sync.Mutex
	// lines and bytes count what the server sent since the client last wrote.
	lines, bytes int
}

func (c *recordedConn) Read(p []byte) (int, error) {
	if c.overLimit(0, 0) {
		return 0, ErrReplyTooLarge
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.t.record('S', p[:n])
		if c.overLimit(n, bytes.Count(p[:n], []byte{'\n'})) {
			c.t.limit()
			return 0, ErrReplyTooLarge
		}
	}
	return n, err
}

// overLimit adds what was just read and reports whether the reply limits are broken.
func (c *recordedConn) overLimit(n, lines int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bytes += n
	c.lines += lines
	return c.lines > maxReplyLines || c.bytes > maxReplyBytes
}

func (c *recordedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.lines, c.bytes = 0, 0
	c.mu.Unlock()
	c.t.record('C', p)
	return c.Conn.Write(p)
}

// limit notes that the server broke a safety limit on this probe's connection.
func (t *Transcript) limit() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.limited {
		t.limited = true
		t.addLocked("--", "stopped reading: the server's answer broke a safety limit")
	}
}

// Limited reports whether the server broke a safety limit (the libraries that read
// the connection may report that only as a closed connection).
func (t *Transcript) Limited() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.limited
}

// prefixConn serves prefix before the connection's own bytes; it lets a library that
// expects a greeting start on a connection whose greeting the engine already read.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
