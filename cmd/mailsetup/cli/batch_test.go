package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/csv"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/batch/batchtest"
	"github.com/mailsetup/mailsetup/detect"
)

// officeEnv is an Env whose engine reaches an Office of in-process mail domains.
func officeEnv(t *testing.T, o *batchtest.Office, stdin string, withCA bool) (Env, *bytes.Buffer) {
	t.Helper()
	var out, errb bytes.Buffer
	base := detect.Options{Dialer: o.Net, Resolver: o.Net, SkipNetwork: true}
	if withCA {
		base.ExtraRoots = []*x509.Certificate{o.CA.Cert}
	}
	return Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Base: base}, &errb
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBatchCommand: a list of two domains, one wrong password, chosen formats, branding
// and a signing certificate: every verified client gets its files, the summary says who
// needs attention, and no file holds a password.
func TestBatchCommand(t *testing.T) {
	t.Parallel()
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: []string{"d01.test", "d02.test"}, Users: 3})
	dir := t.TempDir()
	list := strings.Replace(office.CSV(), batchtest.Password("user02@d02.test"), "wrong-one", 1)
	csvPath := writeFile(t, dir, "clients.csv", list)
	var logo bytes.Buffer
	if err := png.Encode(&logo, image.NewGray(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	logoPath := writeFile(t, dir, "logo.png", logo.String())
	p12 := writeTestP12(t, dir)
	env, errb := officeEnv(t, office, p12Pass+"\n", true)
	out := filepath.Join(dir, "out")
	code := Main(context.Background(), []string{"batch", csvPath, "--out", out, "--format", "apple,sheet", "--format", "outlook-reg",
		"--org", "Acme IT", "--prepared-by", "Ana Consultant", "--contact", "help@acme.test", "--logo", logoPath,
		"--sign-cert", p12, "--sign-cert-password-stdin"}, env)
	if code != ExitNotFound {
		t.Fatalf("exit %d (one password is wrong), stderr:\n%s", code, errb)
	}
	for _, f := range []string{"summary.csv", "summary.html", "user01@d01.test/apple.mobileconfig", "user01@d01.test/sheet.html",
		"user01@d01.test/outlook-reg.reg", "user03@d02.test/sheet.html"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	for _, f := range []string{"user01@d01.test/thunderbird.xml", "user02@d02.test"} {
		if _, err := os.Stat(filepath.Join(out, f)); err == nil {
			t.Errorf("%s written (format not chosen, or the client needs attention)", f)
		}
	}
	if prof, _ := os.ReadFile(filepath.Join(out, "user01@d01.test", "apple.mobileconfig")); len(prof) == 0 || prof[0] != 0x30 {
		t.Error("the Apple profile is not signed (DER CMS)")
	}
	sheet, _ := os.ReadFile(filepath.Join(out, "user01@d01.test", "sheet.html"))
	summary, _ := os.ReadFile(filepath.Join(out, "summary.html"))
	for _, b := range [][]byte{sheet, summary} {
		if !bytes.Contains(b, []byte("Prepared by Ana Consultant, Acme IT.")) || !bytes.Contains(b, []byte("data:image/png;base64,")) {
			t.Errorf("branding missing:\n%s", b)
		}
	}
	recs, err := csv.NewReader(bytes.NewReader(mustReadFile(t, filepath.Join(out, "summary.csv")))).ReadAll()
	if err != nil || len(recs) != 7 {
		t.Fatalf("summary.csv: %v %v", recs, err)
	}
	for _, r := range recs[1:] {
		want := "verified"
		if r[0] == "user02@d02.test" {
			want = "attention"
		}
		if r[2] != want {
			t.Errorf("summary %s: %s %q, want %s", r[0], r[2], r[7], want)
		}
	}
	for _, want := range []string{"[6/6]", "5 verified", "1 need attention", "signed by"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb)
		}
	}
	filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		for _, m := range office.Mailboxes {
			if bytes.Contains(b, []byte(m.Password)) {
				t.Errorf("%s holds %s's password", p, m.Address)
			}
		}
		if bytes.Contains(b, []byte(p12Pass)) || bytes.Contains(b, []byte("wrong-one")) {
			t.Errorf("%s holds a password", p)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", p, info.Mode().Perm())
		}
		return nil
	})

	// The same list from standard input, all passwords right: exit 0.
	env, errb = officeEnv(t, office, office.CSV(), true)
	if code := Main(context.Background(), []string{"batch", "-", "--out", filepath.Join(dir, "again")}, env); code != ExitOK {
		t.Errorf("all verified: exit %d\n%s", code, errb)
	}
}

func mustReadFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBatchFlags: batch takes the probe's network and trust flags with the probe's
// validation, and refuses a list it cannot check as a whole.
func TestBatchFlags(t *testing.T) {
	t.Parallel()
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: []string{"d01.test"}, Users: 1})
	dir := t.TempDir()
	good := writeFile(t, dir, "good.csv", office.CSV())
	bad := writeFile(t, dir, "bad.csv", "user01@d01.test,pw\nnot-an-address,pw\nuser01@d01.test,pw\n")
	text := writeFile(t, dir, "logo.txt", "not an image")
	out := filepath.Join(dir, "out")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no list", []string{"--out", out}, "one client list"},
		{"no folder", []string{good}, "--out DIR"},
		{"timeout", []string{good, "--out", out, "--timeout", "0s"}, "--timeout must be positive"},
		{"dns", []string{good, "--out", out, "--dns", "nowhere"}, "want HOST:PORT"},
		{"ca", []string{good, "--out", out, "--ca", filepath.Join(dir, "none.pem")}, "none.pem"},
		{"accept-cert", []string{good, "--out", out, "--accept-cert", "smtp.d01.test=abc"}, "want HOST=SHA256"},
		{"trust-host IP", []string{good, "--out", out, "--trust-host", "192.0.2.1"}, "not a server name"},
		{"trust-host word", []string{good, "--out", out, "--trust-host", "mail"}, "not a server name"},
		{"format", []string{good, "--out", out, "--format", "apple,pdf"}, `unknown format "pdf"`},
		{"concurrency", []string{good, "--out", out, "--concurrency", "0"}, "must be positive"},
		{"max-connections", []string{good, "--out", out, "--max-connections", "0"}, "must be positive"},
		{"logo", []string{good, "--out", out, "--logo", text}, "not a PNG, JPEG or GIF"},
		{"stdin twice", []string{"-", "--out", out, "--sign-cert", "x.p12", "--sign-cert-password-stdin"}, "both the client list and"},
		{"bad rows", []string{bad, "--out", out}, "line 2: not-an-address: not an email address; line 3: user01@d01.test: listed twice"},
	}
	for _, tt := range tests {
		env, errb := officeEnv(t, office, "", true)
		if code := Main(context.Background(), append([]string{"batch"}, tt.args...), env); code != ExitBadInput || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 with %q", tt.name, code, errb, tt.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("bad input created the output folder")
	}
}

// TestBatchTrustAndCA: --trust-host lets the servers another domain's DNS names receive
// the logins (and only then), and --ca makes their certificates valid.
func TestBatchTrustAndCA(t *testing.T) {
	t.Parallel()
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: []string{"d01.test"}, Users: 2,
		LocalLogin: []string{"user01@d01.test", "user02@d01.test"}})
	for _, s := range []struct {
		svc, host string
		port      int
	}{{"submissions", "smtp.d01.test", 465}, {"imaps", "imap.d01.test", 993}} {
		office.Net.SRV(s.svc, "shop.test", s.host, s.port)
	}
	dir := t.TempDir()
	list := writeFile(t, dir, "shop.csv", "user01@shop.test,"+batchtest.Password("user01@d01.test")+"\nuser02@shop.test,"+batchtest.Password("user02@d01.test")+"\n")
	ca := writeFile(t, dir, "ca.pem", string(office.CA.PEM()))
	trustFlags := []string{"--trust-host", "smtp.d01.test", "--trust-host", "imap.d01.test"}
	tests := []struct {
		name     string
		args     []string
		withCA   bool
		wantCode int
		want     string // in the summary's notes
	}{
		{"not confirmed", nil, true, ExitNotFound, "no trusted source names"},
		{"confirmed", trustFlags, true, ExitOK, ""},
		{"confirmed, CA unknown", trustFlags, false, ExitNotFound, "certificate"},
		{"confirmed, --ca", append([]string{"--ca", ca}, trustFlags...), false, ExitOK, ""},
	}
	for i, tt := range tests {
		env, errb := officeEnv(t, office, "", tt.withCA)
		out := filepath.Join(dir, "out", string(rune('a'+i)))
		code := Main(context.Background(), append([]string{"batch", list, "--out", out, "--timeout", "3s"}, tt.args...), env)
		sum := string(mustReadFile(t, filepath.Join(out, "summary.csv")))
		if code != tt.wantCode || !strings.Contains(strings.ToLower(sum), tt.want) {
			t.Errorf("%s: exit %d, want %d; summary:\n%s\nstderr:\n%s", tt.name, code, tt.wantCode, sum, errb)
		}
	}
}

// TestBatchCancel: an interrupt ends the batch at once and still writes the summary.
func TestBatchCancel(t *testing.T) {
	t.Parallel()
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: []string{"d01.test"}, Users: 4})
	office.Net.Drop("*", 993)
	dir := t.TempDir()
	env, errb := officeEnv(t, office, office.CSV(), true)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	code := Main(ctx, []string{"batch", "-", "--out", dir}, env)
	if took := time.Since(start); code != ExitNotFound || took > 3*time.Second {
		t.Errorf("exit %d after %s\n%s", code, took, errb)
	}
	if sum := string(mustReadFile(t, filepath.Join(dir, "summary.csv"))); strings.Count(sum, ",cancelled,") != 4 {
		t.Errorf("summary after cancel:\n%s", sum)
	}
}
