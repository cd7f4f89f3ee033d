package apple

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
	"howett.net/plist"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/export"
)

// exported makes a profile with the project's own Apple export, plus the password keys
// an encrypted profile from elsewhere may carry (the reader must never take them).
func exported(t *testing.T, in, out detect.Setting) []byte {
	t.Helper()
	acc := export.Account{Address: "me@mac.test", Local: "me", Domain: "mac.test", DisplayName: "Me", Incoming: in, Outgoing: out}
	var b bytes.Buffer
	if _, err := export.Write("apple", acc, export.Options{}, &b); err != nil {
		t.Fatal(err)
	}
	withPw := strings.Replace(b.String(), "<key>EmailAddress</key>",
		"<key>IncomingPassword</key>\n\t\t\t<string>never-read</string>\n\t\t\t<key>OutgoingPassword</key>\n\t\t\t<string>never-read</string>\n\t\t\t<key>EmailAddress</key>", 1)
	if withPw == b.String() {
		t.Fatal("could not add the password keys to the profile")
	}
	return []byte(withPw)
}

func TestParseExportedProfile(t *testing.T) {
	t.Parallel()
	in := detect.Setting{Protocol: detect.IMAP, Host: "imap.mac.test", Port: 993, Security: detect.SecurityTLS, Auth: "PLAIN", Username: "me@mac.test"}
	out := detect.Setting{Protocol: detect.SMTP, Host: "smtp.mac.test", Port: 587, Security: detect.SecurityStartTLS, Auth: "CRAM-MD5", Username: "me@mac.test"}
	accts, notes, err := Parse(exported(t, in, out), "me.mobileconfig")
	if err != nil || len(notes) != 0 || len(accts) != 1 {
		t.Fatalf("accts %+v notes %v err %v", accts, notes, err)
	}
	a := accts[0]
	wantIn := detect.Setting{Protocol: detect.IMAP, Host: "imap.mac.test", Port: 993, Security: detect.SecurityTLS, Auth: "password-cleartext", Username: "me@mac.test"}
	wantOut := detect.Setting{Protocol: detect.SMTP, Host: "smtp.mac.test", Port: 587, Security: detect.SecurityStartTLS, Auth: "password-encrypted", Username: "me@mac.test"}
	if *a.Incoming != wantIn || *a.Outgoing != wantOut || a.Address != "me@mac.test" || a.Client != clients.Apple {
		t.Errorf("got %+v / %+v %q, want %+v / %+v", *a.Incoming, *a.Outgoing, a.Address, wantIn, wantOut)
	}
	if a.OutOrigin.Keys[clients.FieldPort] != "OutgoingMailServerPortNumber" || !strings.HasPrefix(a.OutOrigin.File, "me.mobileconfig") {
		t.Errorf("origin %+v", a.OutOrigin)
	}
	if strings.Contains(strings.Join(append(a.Notes, a.Name), " "), "never-read") {
		t.Error("the password leaked into the account")
	}
}

func TestParseBinaryPlistAndDefaults(t *testing.T) {
	t.Parallel()
	p := map[string]any{"PayloadType": "Configuration", "PayloadContent": []map[string]any{
		{"PayloadType": "com.apple.wifi.managed"},
		{"PayloadType": MailPayloadType, "EmailAccountType": "EmailTypePOP", "EmailAddress": "pop@mac.test",
			"IncomingMailServerHostName": "pop.mac.test", "IncomingMailServerUseSSL": true, "IncomingMailServerAuthentication": "EmailAuthPassword",
			"IncomingMailServerUsername": "pop", "OutgoingMailServerHostName": "smtp.mac.test", "OutgoingMailServerAuthentication": "EmailAuthNone"},
	}}
	data, err := plist.Marshal(p, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	accts, _, err := Parse(data, "bin.mobileconfig")
	if err != nil || len(accts) != 1 {
		t.Fatalf("%+v %v", accts, err)
	}
	a := accts[0]
	if a.Incoming.Protocol != detect.POP3 || a.Incoming.Port != 995 || a.Incoming.Security != detect.SecurityTLS {
		t.Errorf("incoming %+v", *a.Incoming)
	}
	if a.Outgoing.Port != 587 || a.Outgoing.Security != detect.SecurityNone || a.Outgoing.Auth != "none" || a.Outgoing.Username != "" {
		t.Errorf("outgoing %+v", *a.Outgoing)
	}
	if !strings.Contains(strings.Join(a.Notes, " "), "no outgoing port") {
		t.Errorf("notes %v", a.Notes)
	}
}

func sign(t *testing.T, content []byte) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Example IT"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		t.Fatal(err)
	}
	if err := sd.AddSigner(cert, key, pkcs7.SignerInfoConfig{}); err != nil {
		t.Fatal(err)
	}
	out, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParseSignedProfile(t *testing.T) {
	t.Parallel()
	in := detect.Setting{Protocol: detect.IMAP, Host: "imap.mac.test", Port: 143, Security: detect.SecurityStartTLS, Auth: "PLAIN", Username: "me"}
	out := detect.Setting{Protocol: detect.SMTP, Host: "smtp.mac.test", Port: 465, Security: detect.SecurityTLS, Auth: "PLAIN", Username: "me"}
	plain := exported(t, in, out)
	signed := sign(t, plain)
	accts, _, err := Parse(signed, "signed.mobileconfig")
	if err != nil || len(accts) != 1 {
		t.Fatalf("%+v %v", accts, err)
	}
	if accts[0].Incoming.Security != detect.SecurityStartTLS || accts[0].Outgoing.Port != 465 {
		t.Errorf("settings %+v / %+v", *accts[0].Incoming, *accts[0].Outgoing)
	}
	notes := strings.Join(accts[0].Notes, " ")
	if !strings.Contains(notes, `signed by "Example IT"`) || !strings.Contains(notes, "matches") {
		t.Errorf("notes %q", notes)
	}
	// Change one byte of the signed content: the accounts still read, with a warning.
	i := bytes.Index(signed, []byte("imap.mac.test"))
	tampered := append([]byte(nil), signed...)
	tampered[i] = 'j'
	accts, _, err = Parse(tampered, "tampered.mobileconfig")
	if err != nil || len(accts) != 1 {
		t.Fatalf("tampered: %+v %v", accts, err)
	}
	if !strings.Contains(strings.Join(accts[0].Notes, " "), "does not match") {
		t.Errorf("tampered notes %v", accts[0].Notes)
	}
	if _, _, err := Parse([]byte{0x30, 0x03, 0x02, 0x01, 0x01}, "junk"); err == nil {
		t.Error("junk DER accepted")
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	enc, _ := plist.Marshal(map[string]any{"PayloadType": "Configuration", "EncryptedPayloadContent": []byte{1, 2, 3}}, plist.XMLFormat)
	if _, _, err := Parse(enc, "enc"); err != ErrEncrypted {
		t.Errorf("encrypted: %v", err)
	}
	bad, _ := plist.Marshal(map[string]any{"PayloadContent": []map[string]any{{"PayloadType": MailPayloadType,
		"IncomingMailServerHostName": "imap.mac.test\r\nX", "OutgoingMailServerHostName": "smtp.mac.test"}}}, plist.XMLFormat)
	accts, problems, _ := Parse(bad, "bad")
	if len(accts) != 0 || len(problems) != 1 {
		t.Errorf("control character: %+v %v", accts, problems)
	}
	if _, _, err := Parse([]byte("hello"), "x"); err == nil {
		t.Error("text accepted")
	}
}
