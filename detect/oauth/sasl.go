package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emersion/go-sasl"
	"golang.org/x/oauth2"
)

// Mechanism is a SASL mechanism that carries an OAuth2 bearer token.
type Mechanism string

// The two bearer-token mechanisms mail servers offer.
const (
	// XOAUTH2 is Google's and Microsoft's mechanism: "user=…^Aauth=Bearer …^A^A".
	XOAUTH2 Mechanism = "XOAUTH2"
	// OAUTHBEARER is RFC 7628's mechanism, with a GS2 header and the server's host and port.
	OAUTHBEARER Mechanism = "OAUTHBEARER"
)

// SASLClient is a go-sasl Client for XOAUTH2 or OAUTHBEARER. When the server answers
// with a failure challenge it records the decoded failure (see Failure), answers the
// way the mechanism requires, and lets the server finish with its final rejection.
type SASLClient struct {
	mech    Mechanism
	user    string
	token   string
	host    string
	port    int
	failure *Failure
	done    bool
}

var _ sasl.Client = (*SASLClient)(nil)

// NewSASLClient returns a SASL client that signs user in with tok's access token.
// host and port name the server being logged in to; OAUTHBEARER sends them (RFC 7628
// §3.1), XOAUTH2 ignores them. The token is sent as is even when its local expiry has
// passed: the server decides, and the probe reports what it said.
func NewSASLClient(mech Mechanism, user string, tok *oauth2.Token, host string, port int) (*SASLClient, error) {
	if mech != XOAUTH2 && mech != OAUTHBEARER {
		return nil, fmt.Errorf("oauth sasl: unknown mechanism %q", mech)
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, errors.New("oauth sasl: no access token")
	}
	if strings.ContainsAny(tok.AccessToken, "\x01 ") || strings.ContainsRune(user, '\x01') {
		return nil, errors.New("oauth sasl: token or user contains a separator byte")
	}
	return &SASLClient{mech: mech, user: user, token: tok.AccessToken, host: host, port: port}, nil
}

// Start implements sasl.Client: it returns the mechanism and its initial response.
func (c *SASLClient) Start() (string, []byte, error) {
	return string(c.mech), initialResponse(c.mech, c.user, c.token, c.host, c.port), nil
}

// Next implements sasl.Client. Both mechanisms complete in one message, so any
// challenge is the server's error report (RFC 7628 §3.2.2); it is decoded, and the
// client answers with the dummy response the mechanism prescribes — %x01 for
// OAUTHBEARER (RFC 7628 §3.2.3), an empty response for XOAUTH2 — so the server ends
// the exchange with its own rejection (IMAP NO, SMTP 535, POP3 -ERR).
func (c *SASLClient) Next(challenge []byte) ([]byte, error) {
	if c.done {
		return nil, errors.New("oauth sasl: unexpected second challenge")
	}
	c.done = true
	c.failure = ParseFailure(c.mech, challenge)
	if c.mech == OAUTHBEARER {
		return []byte{0x01}, nil
	}
	return []byte{}, nil
}

// Failure returns the server's decoded error report, or nil when it sent none
// (success, or a server that rejects without a challenge, as Microsoft's XOAUTH2 does).
func (c *SASLClient) Failure() *Failure { return c.failure }

// Mechanism returns the client's mechanism.
func (c *SASLClient) Mechanism() Mechanism { return c.mech }

// initialResponse builds the mechanism's first message; SecretForms builds the same
// bytes to scrub them.
func initialResponse(mech Mechanism, user, token, host string, port int) []byte {
	if mech == XOAUTH2 {
		return []byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01")
	}
	var b strings.Builder
	b.WriteString("n,")
	if user != "" {
		b.WriteString("a=" + gs2Escape(user))
	}
	b.WriteString(",")
	if host != "" {
		b.WriteString("\x01host=" + host)
	}
	if port > 0 {
		b.WriteString("\x01port=" + strconv.Itoa(port))
	}
	b.WriteString("\x01auth=Bearer " + token + "\x01\x01")
	return []byte(b.String())
}

// gs2Escape encodes a GS2 saslname (RFC 5801 §4): "=" and "," are escaped.
func gs2Escape(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

// FailureKind is the typed reading of a server's failure status.
type FailureKind string

// Readings of a failure status: RFC 6750 §3.1 error codes, and the HTTP-like status
// numbers Google and Dovecot send instead.
const (
	// FailureInvalidToken: the token is unknown, expired or revoked ("invalid_token", "401").
	FailureInvalidToken FailureKind = "invalid_token"
	// FailureInsufficientScope: the token lacks a scope the server needs
	// ("insufficient_scope", "403").
	FailureInsufficientScope FailureKind = "insufficient_scope"
	// FailureInvalidRequest: the server could not read the request ("invalid_request", "400").
	FailureInvalidRequest FailureKind = "invalid_request"
	// FailureUnknown: any other status, or a challenge that was not JSON.
	FailureUnknown FailureKind = "unknown"
)

// Failure is a server's decoded error report for a bearer-token login: the JSON
// challenge of RFC 7628 §3.2.2, which XOAUTH2 servers send in the same form.
type Failure struct {
	Mechanism Mechanism `json:"mechanism"`
	// Status is the server's status as sent ("invalid_token", "401", …).
	Status string `json:"status"`
	// Kind is the typed reading of Status.
	Kind FailureKind `json:"kind"`
	// Scope is the scope the server says a token needs, if it said.
	Scope string `json:"scope,omitempty"`
	// Schemes lists the authentication schemes the server accepts ("bearer").
	Schemes string `json:"schemes,omitempty"`
	// OpenIDConfiguration is the discovery document URL of the issuer the server
	// trusts; DiscoverConfig reads it.
	OpenIDConfiguration string `json:"openid_configuration,omitempty"`
	// Raw is the challenge as received, clipped, for the transcript (it carries no token).
	Raw string `json:"raw,omitempty"`
}

func (f *Failure) Error() string {
	s := fmt.Sprintf("%s rejected by server: %s", f.Mechanism, f.Kind)
	if f.Status != "" && f.Status != string(f.Kind) {
		s += " (status " + f.Status + ")"
	}
	if f.Scope != "" {
		s += ", scope " + f.Scope
	}
	return s
}

// ParseFailure decodes a failure challenge (already base64-decoded). It never fails:
// a challenge that is not the expected JSON gives Kind FailureUnknown with Raw set.
func ParseFailure(mech Mechanism, challenge []byte) *Failure {
	f := &Failure{Mechanism: mech, Kind: FailureUnknown, Raw: cleanText(string(challenge), 300)}
	var j struct {
		Status              json.RawMessage `json:"status"`
		Scope               string          `json:"scope"`
		Schemes             string          `json:"schemes"`
		OpenIDConfiguration string          `json:"openid-configuration"`
	}
	if json.Unmarshal(challenge, &j) != nil {
		return f
	}
	// Status is a string in RFC 7628, but a number is taken too.
	var s string
	if json.Unmarshal(j.Status, &s) != nil {
		s = string(j.Status)
	}
	f.Status = cleanText(s, 64)
	f.Scope = cleanText(j.Scope, 300)
	f.Schemes = cleanText(j.Schemes, 64)
	f.OpenIDConfiguration = cleanText(j.OpenIDConfiguration, 500)
	f.Kind = failureKind(f.Status)
	return f
}

func failureKind(status string) FailureKind {
	switch strings.ToLower(status) {
	case "invalid_token", "401":
		return FailureInvalidToken
	case "insufficient_scope", "403":
		return FailureInsufficientScope
	case "invalid_request", "400":
		return FailureInvalidRequest
	default:
		return FailureUnknown
	}
}
