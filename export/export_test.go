package export

import (
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"howett.net/plist"

	"github.com/mailsetup/mailsetup/detect"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const secret = "Sup3r-secret-pw"

func sampleReport() *detect.Report {
	return &detect.Report{
		Address: "jane.doe@example.com", Domain: "example.com",
		Network: detect.Network{Port25: detect.Port25Blocked},
		Recommended: detect.Recommendation{
			Outgoing: &detect.Setting{Protocol: detect.SMTP, Host: "smtp.example.com", Port: 465, Security: detect.SecurityTLS, Auth: "PLAIN", Username: "jane.doe@example.com", Verified: true},
			Incoming: &detect.Setting{Protocol: detect.IMAP, Host: "imap.example.com", Port: 993, Security: detect.SecurityTLS, Auth: "PLAIN", Username: "jane.doe@example.com", Verified: true},
		},
		Provider: &detect.ProviderSummary{ID: "example", Name: "Example Mail", Notes: detect.ProviderNotes{AppPassword: true, AppPasswordURL: "https://example.com/app-passwords", MaxMessageMB: 25}},
		Warnings: []string{"This network blocks outgoing port 25; we did not wait for it."},
	}
}

func sampleOptions() Options {
	return Options{DisplayName: "Jane Doe", Organization: "Doe Consulting", VerifiedAt: "2026-11-24 10:00 UTC"}
}

func render(t *testing.T, format string, r *detect.Report, opts Options) ([]byte, []string) {
	t.Helper()
	acc, err := FromReport(r, opts)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	warnings, err := Write(format, acc, opts, &b)
	if err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return b.Bytes(), warnings
}

// pop3Report is the second common path: POP3 with STLS and CRAM-MD5, submission on
// 587 with STARTTLS and a different user name, one password proven for both.
func pop3Report() *detect.Report {
	r := sampleReport()
	r.Recommended.Incoming = &detect.Setting{Protocol: detect.POP3, Host: "pop.example.com", Port: 110, Security: detect.SecurityStartTLS, Auth: "CRAM-MD5", Username: "jane.doe", Verified: true}
	r.Recommended.Outgoing = &detect.Setting{Protocol: detect.SMTP, Host: "smtp.example.com", Port: 587, Security: detect.SecurityStartTLS, Auth: "PLAIN", Username: "jane.doe@example.com", Verified: true}
	r.Probes = []detect.ProbeResult{
		{Protocol: detect.POP3, Host: "pop.example.com", Port: 110, Security: detect.SecurityStartTLS, Status: detect.StatusOK, AuthMechanisms: []string{"CRAM-MD5", "PLAIN", "USER"}},
		{Protocol: detect.SMTP, Host: "smtp.example.com", Port: 587, Security: detect.SecurityStartTLS, Status: detect.StatusOK, AuthMechanisms: []string{"PLAIN", "LOGIN"}},
	}
	return r
}

func TestGolden(t *testing.T) {
	for _, set := range []struct {
		dir    string
		report func() *detect.Report
	}{{"testdata", sampleReport}, {filepath.Join("testdata", "pop3-starttls"), pop3Report}} {
		for _, f := range Formats {
			got, _ := render(t, f, set.report(), sampleOptions())
			path := filepath.Join(set.dir, f+".golden")
			if *update {
				if err := os.MkdirAll(set.dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%s: %v (run go test ./export -update)", f, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run go test ./export -update if the change is intended):\n%s", f, path, got)
			}
			again, _ := render(t, f, set.report(), sampleOptions())
			if !bytes.Equal(got, again) {
				t.Errorf("%s: two exports differ", f)
			}
		}
	}
}

func TestAppleRoundTripAndSchema(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		mutate   func(r *detect.Report)
		wantType string
		wantAuth string
		wantSSL  bool
	}{
		{"imap tls", func(*detect.Report) {}, "EmailTypeIMAP", "EmailAuthPassword", true},
		{"pop3 cram-md5 plain", func(r *detect.Report) {
			r.Recommended.Incoming = &detect.Setting{Protocol: detect.POP3, Host: "pop.example.com", Port: 110, Security: detect.SecurityNone, Auth: "CRAM-MD5", Username: "jane", Verified: true}
		}, "EmailTypePOP", "EmailAuthCRAMMD5", false},
	} {
		r := sampleReport()
		tc.mutate(r)
		out, warnings := render(t, "apple", r, sampleOptions())
		if len(warnings) != 0 {
			t.Errorf("%s: warnings without a password: %q", tc.name, warnings)
		}
		var p appleProfile
		if _, err := plist.Unmarshal(out, &p); err != nil {
			t.Fatalf("%s: decode: %v", tc.name, err)
		}
		if p.PayloadType != "Configuration" || p.PayloadVersion != 1 || len(p.PayloadContent) != 1 || p.PayloadUUID == "" {
			t.Fatalf("%s: profile %+v", tc.name, p)
		}
		m := p.PayloadContent[0]
		in := r.Recommended.Incoming
		if m.PayloadType != "com.apple.mail.managed" || m.EmailAccountType != tc.wantType || m.IncomingMailServerAuthentication != tc.wantAuth ||
			m.IncomingMailServerHostName != in.Host || m.IncomingMailServerPortNumber != in.Port || m.IncomingMailServerUseSSL != tc.wantSSL ||
			m.IncomingMailServerUsername != in.Username || m.OutgoingMailServerHostName != "smtp.example.com" || m.OutgoingMailServerPortNumber != 465 {
			t.Errorf("%s: payload %+v", tc.name, m)
		}
		if m.PayloadIdentifier == p.PayloadIdentifier || m.PayloadUUID == p.PayloadUUID {
			t.Errorf("%s: identifiers are not unique within the profile", tc.name)
		}
	}
}

func TestNoExportContainsThePassword(t *testing.T) {
	t.Parallel()
	for _, f := range Formats {
		out, _ := render(t, f, sampleReport(), sampleOptions())
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("%s contains the password", f)
		}
		if f == "apple" && (bytes.Contains(out, []byte("<key>IncomingPassword</key>")) || bytes.Contains(out, []byte("<key>OutgoingPassword</key>"))) {
			t.Errorf("apple profile has a password key")
		}
	}
}

func TestXMLRoundTrips(t *testing.T) {
	t.Parallel()
	out, _ := render(t, "thunderbird", sampleReport(), sampleOptions())
	var cc clientConfig
	if err := xml.Unmarshal(out, &cc); err != nil {
		t.Fatal(err)
	}
	if cc.Version != "1.1" || len(cc.EmailProvider.Incoming) != 1 || len(cc.EmailProvider.Outgoing) != 1 {
		t.Fatalf("clientConfig %+v", cc)
	}
	in, o := cc.EmailProvider.Incoming[0], cc.EmailProvider.Outgoing[0]
	if in.Type != "imap" || in.Hostname != "imap.example.com" || in.Port != 993 || in.SocketType != "SSL" || len(in.Authentication) != 1 || in.Authentication[0] != "password-cleartext" || in.Username != "%EMAILADDRESS%" {
		t.Errorf("incoming %+v", in)
	}
	if o.Type != "smtp" || o.Port != 465 || o.SocketType != "SSL" {
		t.Errorf("outgoing %+v", o)
	}
	// The engine's own parser reads the file back to the same settings.
	a, _ := detect.ParseAddress("jane.doe@example.com")
	cands, err := detect.ParseClientConfig(out, a)
	if err != nil || len(cands) != 2 || cands[0].Host != "imap.example.com" || cands[0].Username != "jane.doe@example.com" {
		t.Errorf("ParseClientConfig = %+v, %v", cands, err)
	}

	out, _ = render(t, "outlook", sampleReport(), sampleOptions())
	var ad autodiscover
	if err := xml.Unmarshal(out, &ad); err != nil {
		t.Fatal(err)
	}
	ps := ad.Response.Account.Protocol
	if ad.Response.Account.AccountType != "email" || ad.Response.Account.Action != "settings" || len(ps) != 2 {
		t.Fatalf("autodiscover %+v", ad)
	}
	for _, p := range ps {
		if p.SPA != "off" || p.SSL != "on" || p.Encryption != "SSL" || p.AuthRequired != "on" || p.LoginName != "jane.doe@example.com" {
			t.Errorf("protocol %+v", p)
		}
	}
	if ps[0].Type != "IMAP" || ps[1].Type != "SMTP" || ps[1].Port != 465 {
		t.Errorf("protocols %+v", ps)
	}
	if !bytes.Contains(out, []byte("<SPA>off</SPA>")) {
		t.Error("SPA must be written explicitly: Outlook assumes on when it is missing")
	}
}

func TestRegAndPrefs(t *testing.T) {
	t.Parallel()
	reg, _ := render(t, "outlook-reg", sampleReport(), sampleOptions())
	s := string(reg)
	if !strings.HasPrefix(s, "Windows Registry Editor Version 5.00\r\n") || strings.Contains(strings.ReplaceAll(s, "\r\n", ""), "\n") {
		t.Error(".reg must start with the header and use CRLF only")
	}
	for _, want := range []string{`[HKEY_CURRENT_USER\Software\Microsoft\Office\16.0\Outlook\AutoDiscover]`, `"example.com"="C:\\MailSetup\\example.com.xml"`, `"PreferLocalXML"=dword:00000001`} {
		if !strings.Contains(s, want) {
			t.Errorf(".reg lacks %s", want)
		}
	}
	js, _ := render(t, "thunderbird-prefs", sampleReport(), sampleOptions())
	for _, want := range []string{`user_pref("mail.server.server90.socketType", 3);`, `user_pref("mail.smtpserver.smtp90.port", 465);`, `user_pref("mail.identity.id90.fullName", "Jane Doe");`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("user.js lacks %s", want)
		}
	}
}

func TestUnknownFormatAndMissingSettings(t *testing.T) {
	t.Parallel()
	acc, _ := FromReport(sampleReport(), Options{})
	if _, err := Write("pdf", acc, Options{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "apple, thunderbird") {
		t.Errorf("unknown format: %v", err)
	}
	r := sampleReport()
	r.Recommended.Incoming = nil
	if _, err := FromReport(r, Options{}); err != ErrNoSettings {
		t.Errorf("missing incoming: %v", err)
	}
}

// TestIndependentParsers reads every output with python3's plistlib and xml.etree, so
// the files are checked by something other than our own decoders.
func TestIndependentParsers(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed: the independent parser check needs it")
	}
	dir := t.TempDir()
	for _, f := range []string{"apple", "thunderbird", "outlook", "sheet"} {
		out, _ := render(t, f, sampleReport(), sampleOptions())
		if err := os.WriteFile(filepath.Join(dir, f), out, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	script := `
import plistlib, sys, xml.etree.ElementTree as ET, html.parser, os
d = sys.argv[1]
p = plistlib.load(open(os.path.join(d, "apple"), "rb"))
m = p["PayloadContent"][0]
assert p["PayloadType"] == "Configuration", p
assert m["PayloadType"] == "com.apple.mail.managed"
assert m["IncomingMailServerHostName"] == "imap.example.com" and m["IncomingMailServerPortNumber"] == 993
assert m["OutgoingMailServerUseSSL"] is True
t = ET.parse(os.path.join(d, "thunderbird")).getroot()
assert t.tag == "clientConfig" and t.find("emailProvider/incomingServer/hostname").text == "imap.example.com"
ns = {"a": "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"}
o = ET.parse(os.path.join(d, "outlook")).getroot()
protos = o.findall(".//a:Protocol", ns)
assert [x.find("a:Type", ns).text for x in protos] == ["IMAP", "SMTP"], protos
assert all(x.find("a:SPA", ns).text == "off" for x in protos)
class P(html.parser.HTMLParser):
    pass
P().feed(open(os.path.join(d, "sheet")).read())
print("ok")
`
	out, err := exec.Command("python3", "-c", script, dir).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("python3 rejected an export: %v\n%s", err, out)
	}
}

func BenchmarkWriteEveryFormat(b *testing.B) {
	acc, err := FromReport(sampleReport(), sampleOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range Formats {
			var buf bytes.Buffer
			if _, err := Write(f, acc, sampleOptions(), &buf); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// FuzzAutodiscoverRoundTrip writes the Outlook Autodiscover XML for arbitrary settings
// and reads it back: what was written must decode to the same values.
func FuzzAutodiscoverRoundTrip(f *testing.F) {
	f.Add("imap.example.com", 993, "tls", "jane@example.com", "smtp.example.com", 465, "starttls", "PLAIN")
	f.Add("a<b>&\"c", 0, "none", "\x00\xff", "", -1, "x", "none")
	f.Fuzz(func(t *testing.T, inHost string, inPort int, inSec, user, outHost string, outPort int, outSec, auth string) {
		acc := Account{Address: "jane@example.com", Local: "jane", Domain: "example.com",
			Incoming: detect.Setting{Protocol: detect.IMAP, Host: inHost, Port: inPort, Security: detect.Security(inSec), Username: user, Auth: auth},
			Outgoing: detect.Setting{Protocol: detect.SMTP, Host: outHost, Port: outPort, Security: detect.Security(outSec), Username: user, Auth: auth}}
		var b bytes.Buffer
		if _, err := Write("outlook", acc, Options{}, &b); err != nil {
			return // encoding/xml refuses text it cannot represent; that is a clean error
		}
		var ad autodiscover
		if err := xml.Unmarshal(b.Bytes(), &ad); err != nil {
			t.Fatalf("written XML does not parse: %v\n%s", err, b.String())
		}
		ps := ad.Response.Account.Protocol
		if len(ps) != 2 || ps[0].Port != inPort || ps[1].Port != outPort || ps[0].SPA != "off" {
			t.Fatalf("round trip changed the settings: %+v", ps)
		}
		printable := utf8.ValidString(inHost) && strings.IndexFunc(inHost, func(r rune) bool { return r < 0x20 || r == 0xFFFD }) < 0
		if printable && ps[0].Server != inHost {
			t.Fatalf("server %q came back as %q", inHost, ps[0].Server)
		}
	})
}
