package outlook

import (
	"os"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/detect"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFromRegUnicode(t *testing.T) {
	t.Parallel()
	accts, problems, err := FromReg(readFixture(t, "outlook-v5.reg"), "outlook-v5.reg")
	if err != nil || len(problems) != 0 {
		t.Fatalf("err %v problems %v", err, problems)
	}
	if len(accts) != 2 {
		t.Fatalf("got %d accounts, want 2 (the address book and the profile key are not mail accounts): %+v", len(accts), accts)
	}
	alice, bob := accts[0], accts[1]
	wantIn := detect.Setting{Protocol: detect.IMAP, Host: "imap.example.test", Port: 993, Security: detect.SecurityTLS, Auth: "password-cleartext", Username: "alice@example.test"}
	wantOut := detect.Setting{Protocol: detect.SMTP, Host: "smtp.example.test", Port: 25, Security: detect.SecurityStartTLS, Auth: "password-cleartext", Username: "alice@example.test"}
	if alice.Address != "alice@example.test" || alice.Name != "alice@example.test" || alice.Client != clients.Outlook {
		t.Errorf("alice = %q %q %q", alice.Client, alice.Name, alice.Address)
	}
	if *alice.Incoming != wantIn {
		t.Errorf("alice incoming = %+v, want %+v", *alice.Incoming, wantIn)
	}
	if *alice.Outgoing != wantOut {
		t.Errorf("alice outgoing = %+v, want %+v", *alice.Outgoing, wantOut)
	}
	if got := alice.OutOrigin.Keys[clients.FieldPort]; got != "SMTP Port" {
		t.Errorf("outgoing port key = %q", got)
	}
	if !strings.Contains(alice.OutOrigin.File, `outlook-v5.reg: HKEY_CURRENT_USER\Software\Microsoft\Office\16.0\Outlook\Profiles\Outlook\9375CFF0413111d3B88A00104B2A6676\00000002`) {
		t.Errorf("origin file = %q", alice.OutOrigin.File)
	}
	wantPOP := detect.Setting{Protocol: detect.POP3, Host: "pop.pop.test", Port: 110, Security: detect.SecurityNone, Auth: "password-cleartext", Username: "bob"}
	if *bob.Incoming != wantPOP {
		t.Errorf("bob incoming = %+v, want %+v", *bob.Incoming, wantPOP)
	}
	if bob.Outgoing.Auth != "none" || bob.Outgoing.Port != 25 || bob.Outgoing.Username != "" {
		t.Errorf("bob outgoing = %+v, want no login on 25", *bob.Outgoing)
	}
}

func TestFromRegANSI(t *testing.T) {
	t.Parallel()
	accts, problems, err := FromReg(readFixture(t, "outlook-regedit4.reg"), "x.reg")
	if err != nil || len(problems) != 0 || len(accts) != 1 {
		t.Fatalf("accts %+v err %v problems %v", accts, err, problems)
	}
	a := accts[0]
	if a.Name != `Büro "Main"` || a.Address != "carol@work.test" {
		t.Errorf("name %q address %q", a.Name, a.Address)
	}
	if a.Incoming.Port != 143 || a.Incoming.Security != detect.SecurityNone || a.Incoming.Username != "carol" {
		t.Errorf("incoming %+v", *a.Incoming)
	}
	// hex(2) in a REGEDIT4 file is ANSI text; "Auto" on 587 is taken as STARTTLS.
	if a.Outgoing.Host != "mail.work.test" || a.Outgoing.Port != 587 || a.Outgoing.Security != detect.SecurityStartTLS || a.Outgoing.Username != "carol@work.test" {
		t.Errorf("outgoing %+v", *a.Outgoing)
	}
	if !strings.Contains(strings.Join(a.Notes, " "), "Auto") {
		t.Errorf("notes %v lack the Auto assumption", a.Notes)
	}
}

func TestParseRegForms(t *testing.T) {
	t.Parallel()
	in := "Windows Registry Editor Version 5.00\n\n; comment\n[HKEY_CURRENT_USER\\K]\n@=\"default\"\n\"s\"=\"a\\\\b\\\"c\"\n" +
		"\"d\"=dword:0000002a\n\"q\"=hex(b):01,00,00,00,00,00,00,00\n\"b\"=hex:01,02,\\\n  03\n\"gone\"=-\n\"x\"=hex(2):41,00,00,00\n"
	keys, err := ParseReg([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	v := keys[0].Values
	if s, _ := v[""].String(); s != "default" {
		t.Errorf("default value %q", s)
	}
	if s, _ := v["s"].String(); s != `a\b"c` {
		t.Errorf("escaped string %q", s)
	}
	if n, _ := v["d"].Uint(); n != 42 {
		t.Errorf("dword %d", n)
	}
	if n, _ := v["q"].Uint(); n != 1 {
		t.Errorf("qword %d", n)
	}
	if string(v["b"].Data) != "\x01\x02\x03" {
		t.Errorf("continued hex %x", v["b"].Data)
	}
	if _, ok := v["gone"]; ok {
		t.Error("deleted value kept")
	}
	if s, _ := v["x"].String(); s != "A" {
		t.Errorf("hex(2) %q", s)
	}
	for _, bad := range []string{"not a reg file", "REGEDIT4\n[K]\n\"a\"=dword:zz\n", "REGEDIT4\n[K]\n\"a\"=hex:1,2,zz\n", "REGEDIT4\n[K]\n\"a\"=wat\n", "REGEDIT4\n[K]\n\"a\n"} {
		if _, err := ParseReg([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestRegRejectsControlCharacters(t *testing.T) {
	t.Parallel()
	base := `[HKEY_CURRENT_USER\Software\Microsoft\Office\16.0\Outlook\Profiles\P\9375CFF0413111d3B88A00104B2A6676\00000002]`
	in := "REGEDIT4\n" + base + "\n\"Email\"=\"a@b.test\"\n\"IMAP Server\"=hex:69,00,0a,00,65,00,00,00\n\"IMAP User\"=\"a\"\n"
	accts, problems, _ := FromReg([]byte(in), "x.reg")
	if len(accts) != 0 || len(problems) != 1 {
		t.Errorf("a host with a newline: accounts %+v problems %v", accts, problems)
	}
}

func TestParsePRF(t *testing.T) {
	t.Parallel()
	prf := "[General]\nCustom=1\n\n[Service List]\nService1=Microsoft Outlook Client\n\n[Internet Account List]\nAccount1=I_Mail\nAccount2=I_Mail\n\n" +
		"[Account1]\nUniqueService=No\nAccountName=dave@prf.test\nPOP3Server=mail.prf.test\nSMTPServer=mail.prf.test\nPOP3UserName=dave\n" +
		"EmailAddress=dave@prf.test\nPOP3UseSPA=0\nSMTPUseAuth=1\nPOP3UseSSL=1\nPOP3Port=995\nSMTPPort=465\nSMTPSecureConnection=1\n\n" +
		"[Account2]\nAccountName=IMAP one\nIMAPServer=imap.prf.test\nIMAPUserName=erin@prf.test\nEmailAddress=erin@prf.test\nIMAPPort=0x8f\nSMTPServer=smtp.prf.test\nSMTPSecureConnection=2\nSMTPPort=587\n\n" +
		"[I_Mail]\nAccountType=POP3\nAccountName=PT_UNICODE,0x0002\n"
	accts, notes, err := ParsePRF([]byte(prf), "office.prf")
	if err != nil || len(notes) != 0 || len(accts) != 2 {
		t.Fatalf("accts %+v notes %v err %v", accts, notes, err)
	}
	d, e := accts[0], accts[1]
	if d.Client != clients.OutlookPRF || d.Incoming.Protocol != detect.POP3 || d.Incoming.Port != 995 || d.Incoming.Security != detect.SecurityTLS ||
		d.Outgoing.Port != 465 || d.Outgoing.Security != detect.SecurityTLS || d.Outgoing.Username != "dave" {
		t.Errorf("dave = %+v / %+v", d.Incoming, d.Outgoing)
	}
	if d.OutOrigin.Keys[clients.FieldPort] != "SMTPPort" || d.OutOrigin.File != "office.prf [Account1]" {
		t.Errorf("dave origin %+v", d.OutOrigin)
	}
	if e.Incoming.Protocol != detect.IMAP || e.Incoming.Port != 143 || e.Outgoing.Security != detect.SecurityStartTLS || e.Outgoing.Port != 587 {
		t.Errorf("erin = %+v / %+v", e.Incoming, e.Outgoing)
	}
	if _, _, err := ParsePRF([]byte("[General]\nCustom=1\n"), "empty.prf"); err == nil {
		t.Error("a PRF without accounts gave no error")
	}
}
