package detect

import (
	"bytes"
	"encoding/base64"
	"net"
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
}

// NewTranscript returns a transcript that scrubs password and its encoded forms from every line.
func NewTranscript(password string) *Transcript {
	t := &Transcript{pending: map[byte]*bytes.Buffer{}}
	if password != "" {
		t.secrets = SecretForms(password)
	}
	return t
}

// SecretForms lists the byte strings that would reveal password: itself and its base64
// forms as PLAIN and LOGIN send them (as long as the user name is unknown, the password
// alone is scrubbed, which also covers any longer string containing it).
func SecretForms(password string) []string {
	forms := []string{password, base64.StdEncoding.EncodeToString([]byte(password))}
	return forms
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
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if buf.Len() < maxTranscriptLine*4 {
				buf.Write(p)
			}
			return
		}
		if buf.Len() < maxTranscriptLine*4 {
			buf.Write(p[:i])
		}
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
		} else if strings.HasPrefix(line, "334 ") || strings.HasPrefix(line, "+ ") {
			line = line[:4] + "[challenge]"
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

// Wrap returns conn recording into t. Reads are server lines, writes client lines.
func (t *Transcript) Wrap(conn net.Conn) net.Conn {
	return &recordedConn{Conn: conn, t: t}
}

type recordedConn struct {
	net.Conn
	t *Transcript
}

func (c *recordedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.t.record('S', p[:n])
	}
	return n, err
}

func (c *recordedConn) Write(p []byte) (int, error) {
	c.t.record('C', p)
	return c.Conn.Write(p)
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
