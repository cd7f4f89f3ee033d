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
