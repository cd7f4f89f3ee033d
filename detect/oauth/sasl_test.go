package oauth

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestSASLInitialResponse(t *testing.T) {
	t.Parallel()
	tok := &oauth2.Token{AccessToken: "ya29.token-value"}
	tests := []struct {
		name string
		mech Mechanism
		user string
		host string
		port int
		want string
	}{
		{"xoauth2", XOAUTH2, "alice@example.com", "imap.example.com", 993,
			"user=alice@example.com\x01auth=Bearer ya29.token-value\x01\x01"},
		{"oauthbearer", OAUTHBEARER, "alice@example.com", "imap.example.com", 993,
			"n,a=alice@example.com,\x01host=imap.example.com\x01port=993\x01auth=Bearer ya29.token-value\x01\x01"},
		// RFC 5801 §4: "," and "=" in the authzid are escaped.
		{"oauthbearer escapes authzid", OAUTHBEARER, "a,b=c@example.com", "", 0,
			"n,a=a=2Cb=3Dc@example.com,\x01auth=Bearer ya29.token-value\x01\x01"},
		{"oauthbearer without user", OAUTHBEARER, "", "smtp.example.com", 587,
			"n,,\x01host=smtp.example.com\x01port=587\x01auth=Bearer ya29.token-value\x01\x01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewSASLClient(tt.mech, tt.user, tok, tt.host, tt.port)
			if err != nil {
				t.Fatal(err)
			}
			mech, ir, err := c.Start()
			if err != nil {
				t.Fatal(err)
			}
			if mech != string(tt.mech) {
				t.Errorf("mech = %q, want %q", mech, tt.mech)
			}
			if string(ir) != tt.want {
				t.Errorf("initial response = %q, want %q", ir, tt.want)
			}
			if c.Failure() != nil {
				t.Errorf("Failure() = %v before any challenge, want nil", c.Failure())
			}
		})
	}
}

func TestNewSASLClientRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mech Mechanism
		user string
		tok  *oauth2.Token
	}{
		{"unknown mechanism", "PLAIN", "a", &oauth2.Token{AccessToken: "t"}},
		{"nil token", XOAUTH2, "a", nil},
		{"empty token", XOAUTH2, "a", &oauth2.Token{}},
		{"separator in token", XOAUTH2, "a", &oauth2.Token{AccessToken: "a\x01b"}},
		{"separator in user", OAUTHBEARER, "a\x01", &oauth2.Token{AccessToken: "t"}},
	}
	for _, tt := range tests {
		if _, err := NewSASLClient(tt.mech, tt.user, tt.tok, "h", 1); err == nil {
			t.Errorf("%s: NewSASLClient succeeded, want an error", tt.name)
		}
	}
}

func TestSASLFailureChallenge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mech      Mechanism
		challenge string
		wantResp  []byte
		want      Failure
	}{
		{"dovecot xoauth2", XOAUTH2, `{"status":"401","schemes":"bearer","scope":"mail"}`, []byte{},
			Failure{Mechanism: XOAUTH2, Status: "401", Kind: FailureInvalidToken, Schemes: "bearer", Scope: "mail"}},
		{"rfc 7628 example", OAUTHBEARER,
			`{"status":"invalid_token","scope":"example_scope","openid-configuration":"https://example.com/.well-known/openid-configuration"}`,
			[]byte{0x01},
			Failure{Mechanism: OAUTHBEARER, Status: "invalid_token", Kind: FailureInvalidToken, Scope: "example_scope",
				OpenIDConfiguration: "https://example.com/.well-known/openid-configuration"}},
		{"google", XOAUTH2, `{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}`, []byte{},
			Failure{Mechanism: XOAUTH2, Status: "400", Kind: FailureInvalidRequest, Schemes: "Bearer", Scope: "https://mail.google.com/"}},
		{"insufficient scope", OAUTHBEARER, `{"status":"insufficient_scope","scope":"mail"}`, []byte{0x01},
			Failure{Mechanism: OAUTHBEARER, Status: "insufficient_scope", Kind: FailureInsufficientScope, Scope: "mail"}},
		{"numeric status", OAUTHBEARER, `{"status":403}`, []byte{0x01},
			Failure{Mechanism: OAUTHBEARER, Status: "403", Kind: FailureInsufficientScope}},
		{"not json", XOAUTH2, "go away", []byte{},
			Failure{Mechanism: XOAUTH2, Kind: FailureUnknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewSASLClient(tt.mech, "u@example.com", &oauth2.Token{AccessToken: "tok"}, "h", 1)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Next([]byte(tt.challenge))
			if err != nil {
				t.Fatalf("Next: %v, want the dummy response", err)
			}
			if !bytes.Equal(resp, tt.wantResp) || resp == nil {
				t.Errorf("response = %q, want %q (non-nil)", resp, tt.wantResp)
			}
			got := c.Failure()
			if got == nil {
				t.Fatal("Failure() = nil after a failure challenge")
			}
			want := tt.want
			want.Raw = tt.challenge
			if *got != want {
				t.Errorf("failure = %+v, want %+v", *got, want)
			}
			if _, err := c.Next([]byte("again")); err == nil {
				t.Error("second Next succeeded, want an error")
			}
			if !strings.Contains(got.Error(), string(want.Kind)) {
				t.Errorf("Error() = %q, want it to name %q", got.Error(), want.Kind)
			}
		})
	}
}

// The failure challenge as Dovecot sent it in the shared notes, base64 and all.
func TestParseFailureDovecotWire(t *testing.T) {
	t.Parallel()
	raw, err := base64.StdEncoding.DecodeString("eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJtYWlsIn0=")
	if err != nil {
		t.Fatal(err)
	}
	f := ParseFailure(OAUTHBEARER, raw)
	if f.Kind != FailureInvalidToken || f.Status != "401" || f.Scope != "mail" {
		t.Errorf("got %+v, want status 401, invalid_token, scope mail", f)
	}
}

func TestSecretForms(t *testing.T) {
	t.Parallel()
	tok := (&oauth2.Token{AccessToken: "AT-0123456789abcdef.ghij", RefreshToken: "RT-zyxwvutsrq9876543210"}).
		WithExtra(map[string]any{"id_token": "eyJhbGciOi.IDTOKENPAYLOAD.sig"})
	forms := SecretForms("alice@example.com", tok, "imap.example.com", 993)
	has := func(s string) bool {
		for _, f := range forms {
			if string(f) == s {
				return true
			}
		}
		return false
	}
	xo := initialResponse(XOAUTH2, "alice@example.com", tok.AccessToken, "", 0)
	ob := initialResponse(OAUTHBEARER, "alice@example.com", tok.AccessToken, "imap.example.com", 993)
	for _, want := range []string{
		tok.AccessToken, tok.RefreshToken, "eyJhbGciOi.IDTOKENPAYLOAD.sig",
		string(xo), base64.StdEncoding.EncodeToString(xo),
		string(ob), base64.StdEncoding.EncodeToString(ob),
	} {
		if !has(want) {
			t.Errorf("SecretForms lacks %q", want)
		}
	}
	for i := 1; i < len(forms); i++ {
		if len(forms[i]) > len(forms[i-1]) {
			t.Errorf("forms not longest first at %d: %d > %d", i, len(forms[i]), len(forms[i-1]))
		}
	}
	// Any base64 text that contains a token, at any offset and in either alphabet,
	// contains one of the forms.
	for _, secret := range []string{tok.AccessToken, tok.RefreshToken} {
		for prefix := 0; prefix < 6; prefix++ {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding} {
				blob := enc.EncodeToString([]byte(strings.Repeat("x", prefix) + secret + "\x01\x01tail"))
				found := false
				for _, f := range forms {
					if strings.Contains(blob, string(f)) {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("no form found in base64 of the token at offset %d: %s", prefix, blob)
				}
			}
		}
	}
	if got := SecretForms("u", nil, "", 0); got != nil {
		t.Errorf("SecretForms(nil token) = %q, want nil", got)
	}
}

// A server's failure challenge is hostile input: decoding never fails or panics, and
// nothing it yields can forge a line in a report.
func FuzzParseFailure(f *testing.F) {
	for _, seed := range []string{
		`{"status":"401","schemes":"bearer","scope":"mail"}`,
		`{"status":"invalid_token","openid-configuration":"https://example.com/.well-known/openid-configuration"}`,
		`{"status":403}`, `{"status":null}`, `{"status":["x"]}`, "not json", "", "{\"status\":\"a\\nb\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, challenge []byte) {
		for _, mech := range []Mechanism{XOAUTH2, OAUTHBEARER} {
			got := ParseFailure(mech, challenge)
			switch got.Kind {
			case FailureInvalidToken, FailureInsufficientScope, FailureInvalidRequest, FailureUnknown:
			default:
				t.Fatalf("kind %q", got.Kind)
			}
			for _, s := range []string{got.Status, got.Scope, got.Schemes, got.OpenIDConfiguration, got.Raw, got.Error()} {
				if strings.ContainsAny(s, "\r\n\x00") {
					t.Fatalf("control character in %q", s)
				}
			}
			if n := len([]rune(got.Raw)); n > 301 {
				t.Fatalf("Raw is %d runes", n)
			}
		}
	})
}
