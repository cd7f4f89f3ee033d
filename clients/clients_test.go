package clients

import (
	"errors"
	"testing"

	"github.com/mailsetup/mailsetup/detect"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	good := detect.Setting{Protocol: detect.IMAP, Host: "IMAP.Example.TEST.", Port: 993, Security: detect.SecurityTLS, Username: "me@example.test"}
	tests := []struct {
		name string
		edit func(*detect.Setting)
		ok   bool
	}{
		{"good", func(*detect.Setting) {}, true},
		{"newline in host", func(s *detect.Setting) { s.Host = "imap.example.test\nX-Evil: 1" }, false},
		{"NUL in host", func(s *detect.Setting) { s.Host = "imap\x00.example.test" }, false},
		{"space in host", func(s *detect.Setting) { s.Host = "imap example.test" }, false},
		{"slash in host", func(s *detect.Setting) { s.Host = "imap.example.test/x" }, false},
		{"empty host", func(s *detect.Setting) { s.Host = " " }, false},
		{"control in user", func(s *detect.Setting) { s.Username = "me\r\n" }, false},
		{"tab in user", func(s *detect.Setting) { s.Username = "me\tyou" }, false},
		{"port 0", func(s *detect.Setting) { s.Port = 0 }, false},
		{"port too big", func(s *detect.Setting) { s.Port = 70000 }, false},
		{"unknown security", func(s *detect.Setting) { s.Security = "ssl" }, false},
		{"unknown protocol", func(s *detect.Setting) { s.Protocol = "nntp" }, false},
	}
	for _, tt := range tests {
		s := good
		tt.edit(&s)
		err := Validate(&s)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrBadSetting) {
			t.Errorf("%s: %v, want ok=%v", tt.name, err, tt.ok)
		}
		if tt.ok && s.Host != "imap.example.test" {
			t.Errorf("%s: host %q not normalised", tt.name, s.Host)
		}
	}
}

func TestValidateAccountAndLabels(t *testing.T) {
	t.Parallel()
	in := &detect.Setting{Protocol: detect.IMAP, Host: "imap.x.test", Port: 993, Security: detect.SecurityTLS}
	out := &detect.Setting{Protocol: detect.SMTP, Host: "smtp.x.test", Port: 587, Security: detect.SecurityStartTLS}
	tests := []struct {
		a     Account
		ok    bool
		label string
	}{
		{Account{Name: "Work", Address: "Me@X.test", Incoming: in, Outgoing: out}, true, "Work <Me@x.test>"},
		{Account{Name: "me@x.test on imap.x.test", Address: "me@x.test", Incoming: in}, true, "me@x.test on imap.x.test"},
		{Account{Incoming: in}, true, "imap.x.test"},
		{Account{}, false, ""},
		{Account{Address: "not an address", Incoming: in}, false, ""},
		{Account{Incoming: out}, false, ""},
		{Account{Outgoing: in}, false, ""},
		{Account{Name: "bad\x07name", Incoming: in}, false, ""},
	}
	for i, tt := range tests {
		err := ValidateAccount(&tt.a)
		if (err == nil) != tt.ok {
			t.Errorf("%d: %v, want ok=%v", i, err, tt.ok)
		}
		if tt.ok && tt.a.Label() != tt.label {
			t.Errorf("%d: label %q, want %q", i, tt.a.Label(), tt.label)
		}
	}
	accts := []Account{{Address: "a@x.test"}, {Incoming: &detect.Setting{Username: "b@x.test"}}, {Address: "c@x.test"}}
	if got := ByAddress(accts, "B@x.test"); len(got) != 1 || got[0].Incoming.Username != "b@x.test" {
		t.Errorf("ByAddress by user name: %+v", got)
	}
}

func TestParseINI(t *testing.T) {
	t.Parallel()
	utf16 := []byte{0xff, 0xfe, '[', 0, 'A', 0, ']', 0, '\n', 0, 'k', 0, '=', 0, 'v', 0}
	for _, data := range [][]byte{[]byte("\xef\xbb\xbf; c\n[A]\n k = v \n# c\n"), utf16} {
		s := ParseINI(data)
		if len(s) != 1 || s[0].Name != "A" || s[0].Values["k"] != "v" {
			t.Errorf("ParseINI(%q) = %+v", data, s)
		}
	}
}
