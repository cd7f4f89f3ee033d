package detect

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emersion/go-sasl"
	"github.com/xdg-go/scram"
)

// cramMD5 is the CRAM-MD5 mechanism (RFC 2195): the server sends a challenge and the
// client answers with user and HMAC-MD5(password, challenge), so the password never
// crosses the wire.
type cramMD5 struct {
	user, pass string
	done       bool
}

// CRAMMD5Client returns a go-sasl Client for CRAM-MD5 (RFC 2195).
func CRAMMD5Client(username, password string) sasl.Client {
	return &cramMD5{user: username, pass: password}
}

func (c *cramMD5) Start() (string, []byte, error) { return "CRAM-MD5", nil, nil }

func (c *cramMD5) Next(challenge []byte) ([]byte, error) {
	if c.done {
		return nil, errors.New("cram-md5: unexpected second challenge")
	}
	c.done = true
	h := hmac.New(md5.New, []byte(c.pass))
	h.Write(challenge)
	return []byte(c.user + " " + hex.EncodeToString(h.Sum(nil))), nil
}

// scramClient adapts xdg-go/scram's conversation to go-sasl's Client interface.
type scramClient struct {
	name string
	conv *scram.ClientConversation
	err  error
}

func newSCRAM(name string, hash scram.HashGeneratorFcn, user, pass string) sasl.Client {
	c, err := hash.NewClient(user, pass, "")
	if err != nil {
		return &scramClient{name: name, err: fmt.Errorf("scram: %w", err)}
	}
	return &scramClient{name: name, conv: c.NewConversation()}
}

func scramSHA256Client(user, pass string) sasl.Client {
	return newSCRAM("SCRAM-SHA-256", scram.SHA256, user, pass)
}

func scramSHA1Client(user, pass string) sasl.Client {
	return newSCRAM("SCRAM-SHA-1", scram.SHA1, user, pass)
}

func (s *scramClient) Start() (string, []byte, error) {
	if s.err != nil {
		return "", nil, s.err
	}
	first, err := s.conv.Step("")
	if err != nil {
		return "", nil, fmt.Errorf("scram: %w", err)
	}
	return s.name, []byte(first), nil
}

// maxSCRAMIterations caps the PBKDF2 iteration count a server may ask for. Servers use
// 4,096 (the RFC's minimum) to 10,000, and the computation cannot be interrupted: a
// hostile count of 30 million costs seconds of CPU past every timeout.
const maxSCRAMIterations = 100_000

// scramIterations returns the i= attribute of a SCRAM server-first message (RFC 5802
// §5.1), or 0 when there is none (the library then reports the malformed message).
func scramIterations(msg string) (int, bool) {
	for _, attr := range strings.Split(msg, ",") {
		if v, ok := strings.CutPrefix(attr, "i="); ok {
			n, err := strconv.Atoi(v)
			return n, err == nil
		}
	}
	return 0, false
}

func (s *scramClient) Next(challenge []byte) ([]byte, error) {
	if s.conv.Done() {
		// The server's final message with its signature was already verified.
		return []byte{}, nil
	}
	if n, ok := scramIterations(string(challenge)); ok && n > maxSCRAMIterations {
		return nil, fmt.Errorf("scram: i=%d: %w", n, ErrSCRAMIterations)
	}
	resp, err := s.conv.Step(string(challenge))
	if err != nil {
		return nil, fmt.Errorf("scram: %w", err)
	}
	return []byte(resp), nil
}
