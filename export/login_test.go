package export

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/detect"
)

// TestLoginTable pins the values the issue names, per client, so a change to the table
// shows up as a failing row with its reason.
func TestLoginTable(t *testing.T) {
	t.Parallel()
	tls, none := detect.SecurityTLS, detect.SecurityNone
	tests := []struct {
		name    string
		proto   detect.Protocol
		host    string
		mech    string
		sec     detect.Security
		offered []string
		wantTB  string // clientConfig value, "" = refused
		wantTBN int
		wantAp  string
		wantOL  string // "spa", "password", "none", "" = refused
	}{
		{"SCRAM over TLS is cleartext-over-TLS, never password-encrypted", detect.IMAP, "imap.example.com", "SCRAM-SHA-256", tls, nil, "password-cleartext", 3, "EmailAuthPassword", "password"},
		{"SCRAM over TLS with PLAIN offered", detect.SMTP, "smtp.example.com", "SCRAM-SHA-1", tls, []string{"SCRAM-SHA-1", "PLAIN"}, "password-cleartext", 3, "EmailAuthPassword", "password"},
		{"SCRAM over TLS, only SCRAM and CRAM-MD5 offered", detect.SMTP, "smtp.example.com", "SCRAM-SHA-256", tls, []string{"SCRAM-SHA-256", "CRAM-MD5"}, "password-encrypted", 4, "EmailAuthCRAMMD5", ""},
		{"SCRAM in clear with CRAM-MD5 offered", detect.POP3, "pop.example.com", "SCRAM-SHA-256", none, []string{"SCRAM-SHA-256", "CRAM-MD5", "USER"}, "password-encrypted", 4, "EmailAuthCRAMMD5", ""},
		{"SCRAM in clear alone is refused, not downgraded", detect.SMTP, "smtp.example.com", "SCRAM-SHA-256", none, []string{"SCRAM-SHA-256", "PLAIN"}, "", 0, "", ""},
		{"CRAM-MD5", detect.IMAP, "imap.example.com", "CRAM-MD5", none, nil, "password-encrypted", 4, "EmailAuthCRAMMD5", ""},
		{"APOP in clear", detect.POP3, "pop.example.com", "APOP", none, []string{"APOP", "USER"}, "password-encrypted", 4, "", ""},
		{"PLAIN", detect.IMAP, "imap.example.com", "PLAIN", tls, nil, "password-cleartext", 3, "EmailAuthPassword", "password"},
		{"USER", detect.POP3, "pop.example.com", "USER", tls, nil, "password-cleartext", 3, "EmailAuthPassword", "password"},
		{"NTLM", detect.IMAP, "imap.example.com", "NTLM", tls, nil, "NTLM", 6, "EmailAuthNTLM", "spa"},
		{"GSSAPI", detect.IMAP, "imap.example.com", "GSSAPI", tls, nil, "GSSAPI", 5, "", ""},
		{"XOAUTH2 at a host Thunderbird knows", detect.IMAP, "imap.gmail.com", "XOAUTH2", tls, nil, "OAuth2", 10, "", ""},
		{"oauth2 (engine word) at a host Thunderbird knows", detect.SMTP, "smtp.office365.com", "oauth2", tls, nil, "OAuth2", 10, "", ""},
		{"XOAUTH2 elsewhere falls back to an offered password", detect.IMAP, "imap.example.com", "XOAUTH2", tls, []string{"XOAUTH2", "PLAIN"}, "password-cleartext", 3, "EmailAuthPassword", "password"},
		{"OAUTHBEARER without XOAUTH2: Thunderbird uses the offered password", detect.IMAP, "imap.gmail.com", "OAUTHBEARER", tls, []string{"OAUTHBEARER", "PLAIN"}, "password-cleartext", 3, "EmailAuthPassword", "password"},
		{"relay by address", detect.SMTP, "smtp.example.com", "none", none, nil, "client-IP-address", 1, "EmailAuthNone", "none"},
		{"POP before SMTP", detect.SMTP, "smtp.example.com", "pop-before-smtp", none, nil, "smtp-after-pop", 1, "EmailAuthNone", "none"},
	}
	for _, tt := range tests {
		s := detect.Setting{Protocol: tt.proto, Host: tt.host, Port: 1, Security: tt.sec, Auth: tt.mech}
		tb, err := chooseLogin(clientThunderbird, "t", s, tt.offered)
		switch {
		case tt.wantTB == "" && !errors.Is(err, ErrUnsupported):
			t.Errorf("%s: Thunderbird got %v, %v; want a refusal", tt.name, tb.Row, err)
		case tt.wantTB != "" && (err != nil || tb.Row.TB.Config != tt.wantTB || tb.Row.TB.Method != tt.wantTBN):
			t.Errorf("%s: Thunderbird got %+v, %v; want %s (%d)", tt.name, tb.Row, err, tt.wantTB, tt.wantTBN)
		}
		ap, err := chooseLogin(clientApple, "a", s, tt.offered)
		if got := ""; err == nil {
			got = ap.Row.Apple
			if got != tt.wantAp {
				t.Errorf("%s: Apple got %q, want %q", tt.name, got, tt.wantAp)
			}
		} else if tt.wantAp != "" || !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: Apple: %v, want %q", tt.name, err, tt.wantAp)
		}
		ol, err := chooseLogin(clientOutlook, "o", s, tt.offered)
		got := ""
		if err == nil {
			got = map[[2]bool]string{{true, true}: "spa", {true, false}: "password", {false, false}: "none"}[[2]bool{ol.Row.Outlook.AuthRequired, ol.Row.Outlook.SPA}]
		} else if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: Outlook: %v", tt.name, err)
		}
		if got != tt.wantOL {
			t.Errorf("%s: Outlook got %q, want %q", tt.name, got, tt.wantOL)
		}
	}
	for _, r := range loginTable {
		if r.Reason == "" || r.Source == "" || r.Words == "" {
			t.Errorf("row %v lacks its reason, source or words", r.Mechs)
		}
	}
}

func TestClientConfigOAuthListsAPasswordFallback(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	r.Recommended.Incoming = &detect.Setting{Protocol: detect.IMAP, Host: "imap.gmail.com", Port: 993, Security: detect.SecurityTLS, Auth: "XOAUTH2", Username: "jane.doe@example.com", Verified: true}
	r.Probes = []detect.ProbeResult{{Protocol: detect.IMAP, Host: "imap.gmail.com", Port: 993, Security: detect.SecurityTLS, Status: detect.StatusOK, AuthMechanisms: []string{"XOAUTH2", "OAUTHBEARER", "PLAIN"}}}
	out, _ := render(t, "thunderbird", r, sampleOptions())
	if !bytes.Contains(out, []byte("<authentication>OAuth2</authentication>\n      <authentication>password-cleartext</authentication>")) {
		t.Errorf("want OAuth2 then password-cleartext:\n%s", out)
	}
}

func TestUserNamesAndPasswords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		in, out        string
		verified       bool
		wantSame       bool
		wantInCC       string
		wantOutCC      string
		wantDomainWide bool
	}{
		{"both the address", "jane.doe@example.com", "jane.doe@example.com", true, true, "%EMAILADDRESS%", "%EMAILADDRESS%", true},
		{"local part in, address out, one password proven", "jane.doe", "jane.doe@example.com", true, true, "%EMAILLOCALPART%", "%EMAILADDRESS%", true},
		{"different names, not verified", "jane.doe", "jane.doe@example.com", false, false, "%EMAILLOCALPART%", "%EMAILADDRESS%", true},
		{"domain in other case", "jane.doe@EXAMPLE.COM", "jane.doe@example.com", true, true, "%EMAILADDRESS%", "%EMAILADDRESS%", true},
		{"a literal name", "u12345", "u12345", false, true, "u12345", "u12345", false},
	}
	for _, tt := range tests {
		r := sampleReport()
		r.Recommended.Incoming.Username, r.Recommended.Outgoing.Username = tt.in, tt.out
		r.Recommended.Incoming.Verified, r.Recommended.Outgoing.Verified = tt.verified, tt.verified
		acc, err := FromReport(r, sampleOptions())
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := Write("apple", acc, Options{}, &b); err != nil {
			t.Fatal(err)
		}
		m, err := checkAppleProfile(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if got := m["OutgoingPasswordSameAsIncomingPassword"]; got != tt.wantSame {
			t.Errorf("%s: OutgoingPasswordSameAsIncomingPassword = %v, want %v", tt.name, got, tt.wantSame)
		}
		b.Reset()
		warnings, err := Write("thunderbird", acc, Options{}, &b)
		if err != nil {
			t.Fatal(err)
		}
		in, out, err := readClientConfig(b.Bytes())
		if err != nil || in.Username != tt.wantInCC || out.Username != tt.wantOutCC {
			t.Errorf("%s: clientConfig users %q %q (%v), want %q %q", tt.name, in.Username, out.Username, err, tt.wantInCC, tt.wantOutCC)
		}
		if domainWide := !strings.Contains(strings.Join(warnings, " "), "sets up"); domainWide != tt.wantDomainWide {
			t.Errorf("%s: domain-wide = %v, want %v (%q)", tt.name, domainWide, tt.wantDomainWide, warnings)
		}
	}
}

func TestPrefStringEscapes(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`plain`, `"plain"`},
		{`a"b\c'd`, `"a\"b\\c'd"`},
		{"tab\there", `"tab\x09here"`},
		{"bell\a", `"bell\x07"`},
		{"line\nbreak\r", `"line\nbreak\r"`},
		{"Jürgen", `"J\u00FCrgen"`},
		{"smile 😀", `"smile \uD83D\uDE00"`},
		{"del\x7f", `"del\x7F"`},
	}
	for _, tt := range tests {
		got, err := prefString(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("prefString(%q) = %s, %v; want %s", tt.in, got, err, tt.want)
			continue
		}
		prefs, err := parsePrefs([]byte(`user_pref("x", ` + got + `);`))
		if err != nil || prefs["x"] != tt.in {
			t.Errorf("%s read back as %q, %v", got, prefs["x"], err)
		}
	}
	if _, err := prefString("nul\x00"); err == nil {
		t.Error("a NUL must be refused: the prefs parser rejects \\x00 and \\u0000")
	}
	// Go's %q escapes, which the old writer used, are refused by the prefs grammar.
	for _, bad := range []string{`"\t"`, `"\a"`, `"\U0001F600"`, `"\x00"`} {
		if _, err := parsePrefs([]byte(`user_pref("x", ` + bad + `);`)); err == nil {
			t.Errorf("%s should be a prefs parse error", bad)
		}
	}
}
