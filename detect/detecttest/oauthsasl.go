package detecttest

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/emersion/go-sasl"
)

// Tokens maps OAuth2 access tokens to the user they sign in, for fixtures that accept
// XOAUTH2 and OAUTHBEARER. A token not in the map is rejected with an RFC 7628 error
// report naming OpenIDConfiguration (when set) and scope "mail".
type Tokens struct {
	Users map[string]string
	// Valid, when set, decides tokens not in Users (e.g. by asking a test issuer's
	// introspection endpoint); it returns the user or "".
	Valid func(token string) string
	// OpenIDConfiguration is named in rejections (RFC 7628 §3.2.2).
	OpenIDConfiguration string
}

// errTokenRejected ends a rejected bearer-token exchange.
var errTokenRejected = errors.New("fixture: token rejected")

func (t *Tokens) report() []byte {
	b, _ := json.Marshal(map[string]string{"status": "invalid_token", "schemes": "bearer", "scope": "mail",
		"openid-configuration": t.OpenIDConfiguration})
	return b
}

// check returns the user a token signs in, or "".
func (t *Tokens) check(user, token string) string {
	if t == nil {
		return ""
	}
	u, ok := t.Users[token]
	if !ok && t.Valid != nil {
		u = t.Valid(token)
	}
	if u != "" && (user == "" || strings.EqualFold(user, u)) {
		return u
	}
	return ""
}

// server returns a SASL server for XOAUTH2 or OAUTHBEARER (one reader serves both) that
// calls ok with the user on success.
func (t *Tokens) server(ok func(user string)) sasl.Server {
	return &bearerServer{t: t, ok: ok}
}

// bearerServer is the server side of XOAUTH2 ("user=U^Aauth=Bearer T^A^A") and
// OAUTHBEARER ("n,a=U,^Ahost=…^Aport=…^Aauth=Bearer T^A^A", RFC 7628): a bad token gets
// the JSON error report as a challenge, and the client's dummy answer ends in a rejection.
type bearerServer struct {
	t      *Tokens
	ok     func(string)
	failed bool
}

func (s *bearerServer) Next(resp []byte) ([]byte, bool, error) {
	if s.failed {
		return nil, true, errTokenRejected
	}
	if resp == nil {
		return []byte{}, false, nil // ask for the initial response
	}
	var user, token string
	for _, f := range bytes.Split(resp, []byte{1}) {
		switch {
		case bytes.HasPrefix(f, []byte("user=")):
			user = string(f[5:])
		case bytes.HasPrefix(f, []byte("n,a=")):
			user, _, _ = strings.Cut(string(f[4:]), ",")
		case bytes.HasPrefix(bytes.ToLower(f), []byte("auth=bearer ")):
			token = string(f[12:])
		}
	}
	if u := s.t.check(user, token); u != "" {
		s.ok(u)
		return nil, true, nil
	}
	s.failed = true
	return s.t.report(), false, nil
}
