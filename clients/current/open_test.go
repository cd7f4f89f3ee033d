package current

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/export"
)

func exportOf(t *testing.T, format string) []byte {
	t.Helper()
	acc := export.Account{Address: "me@files.test", Local: "me", Domain: "files.test", DisplayName: "Me",
		Incoming: detect.Setting{Protocol: detect.IMAP, Host: "imap.files.test", Port: 993, Security: detect.SecurityTLS, Auth: "PLAIN", Username: "me@files.test"},
		Outgoing: detect.Setting{Protocol: detect.SMTP, Host: "smtp.files.test", Port: 587, Security: detect.SecurityStartTLS, Auth: "PLAIN", Username: "me@files.test"}}
	var b bytes.Buffer
	if _, err := export.Write(format, acc, export.Options{}, &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestOpenEveryKind(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	reg5, _ := os.ReadFile("../outlook/testdata/outlook-v5.reg")
	reg4, _ := os.ReadFile("../outlook/testdata/outlook-regedit4.reg")
	rep := detect.Report{Address: "me@files.test", Recommended: detect.Recommendation{
		Incoming: &detect.Setting{Protocol: detect.POP3, Host: "pop.files.test", Port: 995, Security: detect.SecurityTLS, Auth: "USER", Username: "me"},
		Outgoing: &detect.Setting{Protocol: detect.SMTP, Host: "smtp.files.test", Port: 465, Security: detect.SecurityTLS, Auth: "PLAIN", Username: "me"}}}
	repJSON, _ := json.Marshal(rep)
	prf := "[Internet Account List]\nAccount1=I_Mail\n\n[Account1]\nAccountName=x\nEmailAddress=me@files.test\nIMAPServer=imap.files.test\nIMAPUserName=me\nSMTPServer=smtp.files.test\n"
	tests := []struct {
		path    string
		address string
		kind    Kind
		client  clients.Client
		in      string
	}{
		{write("me.mobileconfig", exportOf(t, "apple")), "", KindMobileconfig, clients.Apple, "imap.files.test:993"},
		{write("config-v1.1.xml", exportOf(t, "thunderbird")), "me@files.test", KindClientConfig, clients.ClientConfig, "imap.files.test:993"},
		{write("lone-user.js", exportOf(t, "thunderbird-prefs")), "", KindPrefs, clients.Thunderbird, "imap.files.test:993"},
		{write("outlook.reg", reg5), "", KindReg, clients.Outlook, "imap.example.test:993"},
		{write("old.reg", reg4), "", KindReg, clients.Outlook, "imap.work.test:143"},
		{write("office.prf", []byte(prf)), "", KindPRF, clients.OutlookPRF, "imap.files.test:143"},
		{write("report.json", repJSON), "", KindReport, clients.Report, "pop.files.test:995"},
	}
	for _, tt := range tests {
		o, err := Open(tt.path, tt.address)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(tt.path), err)
			continue
		}
		a := o.Accounts[0]
		got := a.Incoming.Host + ":" + strconv.Itoa(a.Incoming.Port)
		if a.Outgoing == nil {
			t.Errorf("%s: no outgoing server", filepath.Base(tt.path))
		}
		if o.Kind != tt.kind || a.Client != tt.client || got != tt.in {
			t.Errorf("%s: kind %s client %s incoming %s; want %s %s %s", filepath.Base(tt.path), o.Kind, a.Client, got, tt.kind, tt.client, tt.in)
		}
	}
	// A clientConfig with placeholders needs the address.
	if _, err := Open(write("cc-noaddr.xml", exportOf(t, "thunderbird")), ""); !errors.Is(err, ErrNeedAddress) {
		t.Errorf("clientConfig without an address: %v", err)
	}
	if _, err := Open(write("notes.txt", []byte("hello")), ""); !errors.Is(err, ErrUnknownFile) {
		t.Errorf("unknown file: %v", err)
	}
}
