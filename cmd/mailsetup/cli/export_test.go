package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/mailsetup/mailsetup/export"
)

func TestExportCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A real report from a probe of the loopback world, saved as probe --json would.
	env, out, _ := worldEnv(t, demoPass)
	if code := Main(context.Background(), []string{"probe", "--password-stdin", "--json", demoUser}, env); code != ExitOK {
		t.Fatal("probe failed")
	}
	report := filepath.Join(dir, "report.json")
	if err := os.WriteFile(report, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	p12 := writeTestP12(t, dir)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"colour": "blue"}`), 0o600)

	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		want     string
	}{
		{"apple from report", []string{"--format", "apple", "--in", report}, "", ExitOK, "com.apple.mail.managed"},
		{"thunderbird from report", []string{"--format", "thunderbird", "--in", report}, "", ExitOK, "<hostname>smtp.demo.test</hostname>"},
		{"text by probing", []string{"--format", "text", "--password-stdin", demoUser}, demoPass, ExitOK, "proven by a real login"},
		{"include-password is gone, with the reason", []string{"--format", "apple", "--in", report, "--include-password"}, demoPass + "\n", ExitBadInput, ""},
		{"password-stdin with a report", []string{"--format", "apple", "--in", report, "--password-stdin"}, demoPass + "\n", ExitBadInput, ""},
		{"every new format from a report", []string{"--format", "outlook-prf", "--in", report}, "", ExitOK, "IMAPServer=imap.demo.test"},
		{"prf installer", []string{"--format", "outlook-prf-cmd", "--in", report}, "", ExitOK, "/importprf"},
		{"new Outlook sheet", []string{"--format", "outlook-new", "--in", report}, "", ExitOK, "Secure connection type"},
		{"signed profile", []string{"--format", "apple", "--in", report, "--sign-cert", p12, "--sign-cert-password-stdin"}, p12Pass + "\n", ExitOK, "com.apple.mail.managed"},
		{"signed profile by probing: account then certificate password", []string{"--format", "apple", "--password-stdin", "--sign-cert", p12, "--sign-cert-password-stdin", demoUser}, demoPass + "\n" + p12Pass + "\n", ExitOK, "com.apple.mail.managed"},
		{"wrong certificate password", []string{"--format", "apple", "--in", report, "--sign-cert", p12, "--sign-cert-password-stdin"}, "nope\n", ExitBadInput, ""},
		{"certificate password missing on stdin", []string{"--format", "apple", "--in", report, "--sign-cert", p12, "--sign-cert-password-stdin"}, "", ExitBadInput, ""},
		{"no terminal for the certificate password", []string{"--format", "apple", "--in", report, "--sign-cert", p12}, "", ExitBadInput, ""},
		{"signing another format", []string{"--format", "thunderbird", "--in", report, "--sign-cert", p12, "--sign-cert-password-stdin"}, p12Pass + "\n", ExitBadInput, ""},
		{"certificate file missing", []string{"--format", "apple", "--in", report, "--sign-cert", filepath.Join(dir, "none.p12"), "--sign-cert-password-stdin"}, p12Pass + "\n", ExitBadInput, ""},
		{"unknown format", []string{"--format", "pdf", "--in", report}, "", ExitBadInput, ""},
		{"no format", []string{"--in", report}, "", ExitBadInput, ""},
		{"both in and address", []string{"--format", "text", "--in", report, demoUser}, "", ExitBadInput, ""},
		{"missing report", []string{"--format", "text", "--in", filepath.Join(dir, "nope.json")}, "", ExitBadInput, ""},
		{"not a report", []string{"--format", "text", "--in", bad}, "", ExitBadInput, ""},
		{"text in German", []string{"--format", "text", "--in", report, "--lang", "de"}, "", ExitOK, "durch eine echte Anmeldung bewiesen"},
		{"sheet in Russian", []string{"--format", "sheet", "--in", report, "--lang", "ru"}, "", ExitOK, `<html lang="ru">`},
		{"unknown language", []string{"--format", "text", "--in", report, "--lang", "xx"}, "", ExitBadInput, ""},
	}
	for _, tt := range tests {
		env, out, errb := worldEnv(t, tt.stdin)
		code := Main(context.Background(), append([]string{"export"}, tt.args...), env)
		if code != tt.wantCode || !strings.Contains(out.String(), tt.want) {
			t.Errorf("%s: exit %d\nstdout %.300s\nstderr %s", tt.name, code, out.String(), errb.String())
		}
		if strings.Contains(out.String(), demoPass) || strings.Contains(out.String(), p12Pass) {
			t.Errorf("%s: a password in the output", tt.name)
		}
		if strings.Contains(tt.name, "signed") && tt.wantCode == ExitOK && (out.Len() == 0 || out.Bytes()[0] != 0x30 || !strings.Contains(errb.String(), "signed by Demo Consultant")) {
			t.Errorf("%s: not a signed (DER) profile: %q", tt.name, errb.String())
		}
		if strings.Contains(tt.name, "include-password") && !strings.Contains(errb.String(), "Mail asks for the password") {
			t.Errorf("%s: stderr does not say why: %s", tt.name, errb.String())
		}
	}

	// The environment's language (main takes it from LANG) sets the sheet's and the
	// text's language; --lang overrides it; the other formats do not change.
	for _, tt := range []struct {
		lang string
		args []string
		want string
	}{
		{"fr", []string{"--format", "text"}, "prouvé par une vraie connexion"},
		{"pt-BR", []string{"--format", "sheet"}, "Comprovado"},
		{"es", []string{"--format", "text", "--lang", "en"}, "proven by a real login"},
		{"ru", []string{"--format", "thunderbird"}, "<hostname>smtp.demo.test</hostname>"},
	} {
		env, out, errb := worldEnv(t, "")
		env.Language = tt.lang
		if code := Main(context.Background(), append(append([]string{"export"}, tt.args...), "--in", report), env); code != ExitOK || !strings.Contains(out.String(), tt.want) {
			t.Errorf("language %s, %v: exit %d, want %q in\n%.400s%s", tt.lang, tt.args, code, tt.want, out.String(), errb.String())
		}
	}

	// -o writes the file atomically with mode 0600.
	env2, _, _ := worldEnv(t, "")
	target := filepath.Join(dir, "jane.mobileconfig")
	if code := Main(context.Background(), []string{"export", "--format", "apple", "--in", report, "-o", target}, env2); code != ExitOK {
		t.Fatal("export -o failed")
	}
	st, err := os.Stat(target)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("file %v mode %v", err, st.Mode())
	}
}

const p12Pass = "p12 pass phrase"

// writeTestP12 makes a self-signed signing certificate and key as a PKCS #12 file.
func writeTestP12(t *testing.T, dir string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Demo Consultant"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	data, err := pkcs12.Modern.Encode(key, cert, nil, p12Pass)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "signer.p12")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func FuzzReadReport(f *testing.F) {
	f.Add([]byte(`{"address":"me@example.test","domain":"example.test","recommended":{"outgoing":{"protocol":"smtp","host":"h","port":465,"security":"tls"},"incoming":null}}`))
	f.Add([]byte(`{"address":""}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "r.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		rep, err := readReport(path)
		if err != nil {
			return
		}
		// Whatever decodes must export or fail cleanly, never panic.
		if acc, err := export.FromReport(rep, export.Options{}); err == nil {
			for _, format := range export.Formats {
				var b bytes.Buffer
				if _, err := export.Write(format, acc, export.Options{}, &b); err != nil && !errors.Is(err, export.ErrUnsupported) {
					t.Fatalf("%s: %v", format, err)
				}
			}
		}
	})
}
