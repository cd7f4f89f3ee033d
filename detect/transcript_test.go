package detect

import (
	"encoding/base64"
	"net"
	"strings"
	"testing"
)

func TestTranscriptRedaction(t *testing.T) {
	t.Parallel()
	const pw = "s3cret-Pa55"
	tests := []struct {
		name   string
		secret bool
		client string
		want   string
	}{
		{"auth plain", true, "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00me\x00"+pw)), "C: AUTH PLAIN [redacted]"},
		{"auth login payload", true, base64.StdEncoding.EncodeToString([]byte(pw)), "C: [redacted]"},
		{"imap login", true, "A2 LOGIN me " + pw, "C: A2 LOGIN [redacted]"},
		{"imap authenticate", true, "A3 AUTHENTICATE PLAIN xyz", "C: A3 AUTHENTICATE PLAIN [redacted]"},
		{"pop3 pass", true, "PASS " + pw, "C: PASS [redacted]"},
		{"password outside secret mode is still scrubbed", false, "NOOP " + pw, "C: NOOP [redacted]"},
		{"ordinary line", false, "EHLO mailsetup.invalid", "C: EHLO mailsetup.invalid"},
	}
	for _, tt := range tests {
		tr := NewTranscript(pw)
		tr.SetSecret(tt.secret)
		tr.record('C', []byte(tt.client+"\r\n"))
		got := tr.Lines()
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
		if strings.Contains(strings.Join(got, "\n"), pw) {
			t.Errorf("%s: password leaked: %q", tt.name, got)
		}
	}
}

func TestTranscriptServerChallengeRedactedAndLinesBounded(t *testing.T) {
	t.Parallel()
	tr := NewTranscript("pw")
	tr.SetSecret(true)
	tr.record('S', []byte("334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+\r\n"))
	tr.SetSecret(false)
	tr.record('S', []byte(strings.Repeat("x", 5000)+"\r\n"))
	tr.record('S', []byte("\x00\x01binary\xff\r\n"))
	got := tr.Lines()
	if got[0] != "S: 334 [challenge]" {
		t.Errorf("challenge line = %q", got[0])
	}
	if len(got[1]) > maxTranscriptLine+40 {
		t.Errorf("long line kept %d bytes", len(got[1]))
	}
	if strings.ContainsAny(got[2], "\x00\x01") {
		t.Errorf("control bytes kept: %q", got[2])
	}
}

func TestTranscriptCapsLineCount(t *testing.T) {
	t.Parallel()
	tr := NewTranscript("")
	for i := 0; i < maxTranscriptLines+50; i++ {
		tr.record('S', []byte("250 ok\r\n"))
	}
	got := tr.Lines()
	if len(got) != maxTranscriptLines+1 || !strings.Contains(got[len(got)-1], "50 more lines") {
		t.Fatalf("got %d lines, last %q", len(got), got[len(got)-1])
	}
}

func TestRecordedConnDirections(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	tr := NewTranscript("")
	rc := tr.Wrap(a)
	go func() {
		buf := make([]byte, 64)
		n, _ := b.Read(buf)
		_ = n
		b.Write([]byte("220 hello\r\n"))
	}()
	rc.Write([]byte("EHLO x\r\n"))
	buf := make([]byte, 64)
	rc.Read(buf)
	got := strings.Join(tr.Lines(), "|")
	if got != "C: EHLO x|S: 220 hello" {
		t.Fatalf("transcript = %q", got)
	}
}

// An empty SASL continuation ("+ ", "+", "334") in secret mode used to panic (line[:4]
// on a 2-byte line), killing the CLI or the window.
func TestTranscriptEmptyContinuation(t *testing.T) {
	t.Parallel()
	for _, line := range []string{"+ ", "+", "334", "334 ", "+ \r", "+OK done"} {
		tr := NewTranscript("pw")
		tr.SetSecret(true)
		tr.record('S', []byte(line+"\r\n"))
		got := tr.Lines()
		want := "S: + [challenge]"
		switch {
		case strings.HasPrefix(line, "334"):
			want = "S: 334 [challenge]"
		case line == "+OK done":
			want = "S: +OK done"
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("%q: got %q, want %q", line, got, want)
		}
	}
}

// Every encoding that embeds the password is scrubbed, for every user name and at every
// base64 alignment: PLAIN blobs (with and without an authorisation identity), LOGIN,
// an XOAUTH2-like blob, a server echoing the client's blob, IMAP's quoted form.
func TestSecretFormsCoverEveryEncoding(t *testing.T) {
	t.Parallel()
	const pw = `pa"ss\word-1234`
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	users := []string{"me@example.test", "me"}
	for _, leak := range []string{
		pw,
		b64(pw),
		b64("\x00me@example.test\x00" + pw),
		b64("me\x00me\x00" + pw),
		b64("admin\x00me\x00" + pw),       // another authorisation identity
		b64("x\x00someone-else\x00" + pw), // a user name we never tried
		b64("user=me\x01auth=Basic " + pw + "\x01\x01"),       // the password inside another blob
		"535 5.7.8 echo " + b64("\x00me\x00"+pw) + " bad",     // a server echoing the blob
		`A1 LOGIN me "pa\"ss\\word-1234"`,                     // IMAP quoted string
		b64("ab" + pw + "tail"), b64("a" + pw), b64(pw + "z"), // every alignment
	} {
		tr := NewTranscript(pw, users...)
		tr.record('S', []byte(leak+"\r\n"))
		got := strings.Join(tr.Lines(), "\n")
		for _, f := range []string{pw, b64(pw), `pa\"ss\\word-1234`} {
			if strings.Contains(got, f) {
				t.Errorf("%q: %q survived: %s", leak, f, got)
			}
		}
		if !strings.Contains(got, "[redacted]") {
			t.Errorf("%q: nothing redacted: %s", leak, got)
		}
	}
}

// FuzzTranscriptSecretMode feeds arbitrary server and client bytes through a transcript
// in secret mode: it must never panic, never keep the password, and keep lines bounded.
func FuzzTranscriptSecretMode(f *testing.F) {
	f.Add([]byte("+ \r\n"), []byte("AUTH PLAIN AHBhc3M=\r\n"), "pass1234")
	f.Add([]byte("334\r\n+\r\n"), []byte("\r\n"), "x")
	f.Add([]byte("+OK\r\n+ PDE+\r\n"), []byte("A1 AUTHENTICATE CRAM-MD5\r\n"), "sekrit")
	f.Fuzz(func(t *testing.T, server, client []byte, pw string) {
		if len(pw) < 4 || strings.ContainsAny(pw, "\r\n") {
			return
		}
		tr := NewTranscript(pw, "me")
		tr.SetSecret(true)
		tr.record('S', server)
		tr.record('C', client)
		tr.record('C', []byte("PASS "+pw+"\r\n"))
		tr.SetSecret(false)
		tr.record('S', server)
		for _, l := range tr.Lines() {
			if strings.Contains(l, pw) {
				t.Fatalf("password kept in %q", l)
			}
			if len(l) > maxTranscriptLine*3+64 {
				t.Fatalf("line of %d bytes", len(l))
			}
		}
	})
}
