package batch

import (
	"bytes"
	"encoding/csv"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/detect"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// verifiedReport is a report whose settings a real login proved.
func verifiedReport(address, user string, verified bool) *detect.Report {
	in := &detect.Setting{Protocol: detect.IMAP, Host: "imap.example.test", Port: 993, Security: detect.SecurityTLS, Auth: "PLAIN", Username: user, Verified: verified}
	out := &detect.Setting{Protocol: detect.SMTP, Host: "smtp.example.test", Port: 465, Security: detect.SecurityTLS, Auth: "PLAIN", Username: user, Verified: verified}
	return &detect.Report{
		Address: address, Domain: "example.test",
		Probes: []detect.ProbeResult{
			{Protocol: detect.IMAP, Host: "imap.example.test", Port: 993, Security: detect.SecurityTLS, Status: detect.StatusOK, AuthMechanisms: []string{"PLAIN"}, Verified: verified},
			{Protocol: detect.SMTP, Host: "smtp.example.test", Port: 465, Security: detect.SecurityTLS, Status: detect.StatusOK, AuthMechanisms: []string{"PLAIN", "LOGIN"}, Verified: verified},
		},
		Recommended: detect.Recommendation{Incoming: in, Outgoing: out},
		Network:     detect.Network{Port25: "unknown"},
		Meta:        detect.ReportMeta{StartedAt: "2026-11-26T10:00:00Z", PasswordUsed: verified},
	}
}

func exportFixture() ([]Client, []Result) {
	clients := []Client{
		{Line: 2, Address: "ana@example.test", Password: "ana-secret", Name: "Ana Example"},
		{Line: 3, Address: "bo@example.test", Password: "bo-secret", Name: "Bo <Boss>"},
		{Line: 4, Address: "cy@example.test", Name: "Cy"},
		{Line: 5, Address: "not-an-address", Password: "nope-secret", Problem: "not an email address", ProblemNote: Note{Key: NoteNotAddress}},
		{Line: 6, Address: "di@example.test", Password: "di-secret"},
	}
	wrong := verifiedReport("bo@example.test", "", false)
	wrong.Recommended = detect.Recommendation{}
	for i := range wrong.Probes {
		wrong.Probes[i].Status, wrong.Probes[i].LoginAttempts = detect.StatusAuthFailed, 2
	}
	results := []Result{
		classify(0, verifiedReport("ana@example.test", "ana@example.test", true), nil),
		classify(1, wrong, nil),
		classify(2, verifiedReport("cy@example.test", "cy@example.test", false), nil),
		{Index: 3, Address: "not-an-address", State: StateAttention, Reason: "not an email address"},
		{Index: 4, Address: "di@example.test", State: StateCancelled, Reason: "cancelled before it finished", Note: Note{Key: NoteCancelled}},
	}
	results[1].Report.Meta.PasswordUsed = true
	results[1] = classify(1, results[1].Report, nil)
	return clients, results
}

// The printable summary speaks the export's language: its headings, states, reasons,
// settings and branding; summary.csv stays the same in every language (data).
func TestExportAllSummaryInEveryLanguage(t *testing.T) {
	t.Parallel()
	english := []string{"Mail accounts", "Verified by a real login", "Need attention", "Each mail program", "needs attention",
		"found, not tested", "no password given", "password refused", "not an email address", "cancelled before",
		"Prepared by", "Contact:", "<th>Address</th>", "<th>Incoming</th>", "<th>User name</th>"}
	var csvEN []byte
	for _, tc := range []struct{ lang, says string }{
		{"en", "Verified by a real login: 1 of 5."},
		{"ru", "Подтверждено настоящим входом: 1 из 5."},
		{"de", "Durch eine echte Anmeldung bestätigt: 1 von 5."},
		{"fr", "Confirmés par une vraie connexion : 1 sur 5."},
		{"es", "Verificados con un inicio de sesión real: 1 de 5."},
		{"pt-BR", "Confirmados por um login real: 1 de 5."},
	} {
		clients, results := exportFixture()
		dir := t.TempDir()
		_, err := ExportAll(dir, clients, results, ExportOptions{Formats: []string{"sheet"}, Language: tc.lang,
			Branding: Branding{Name: "Ana Consultant", Organization: "Acme IT", Contact: "help@acme.test"},
			Now:      func() time.Time { return time.Date(2026, 11, 26, 11, 30, 0, 0, time.UTC) }})
		if err != nil {
			t.Fatal(err)
		}
		html, _ := os.ReadFile(filepath.Join(dir, SummaryHTML))
		if !bytes.Contains(html, []byte(`<html lang="`+tc.lang+`">`)) || !bytes.Contains(html, []byte(tc.says)) {
			t.Errorf("%s: the summary does not say %q:\n%s", tc.lang, tc.says, html)
		}
		for _, w := range english {
			if tc.lang != "en" && bytes.Contains(html, []byte(w)) {
				t.Errorf("%s: the summary says %q in English", tc.lang, w)
			}
			if tc.lang == "en" && !bytes.Contains(html, []byte(w)) {
				t.Errorf("en: the summary lacks %q", w)
			}
		}
		csv, _ := os.ReadFile(filepath.Join(dir, SummaryCSV))
		if csvEN == nil {
			csvEN = csv
		} else if !bytes.Equal(csv, csvEN) {
			t.Errorf("%s: summary.csv differs from the English one:\n%s", tc.lang, csv)
		}
	}
}

func TestExportAll(t *testing.T) {
	t.Parallel()
	clients, results := exportFixture()
	dir := t.TempDir()
	logo := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	opts := ExportOptions{
		Formats:  []string{"apple", "thunderbird", "sheet"},
		Branding: Branding{Name: "Ana Consultant", Organization: "Acme IT", Contact: "help@acme.test", Logo: logo},
		Now:      func() time.Time { return time.Date(2026, 11, 26, 11, 30, 0, 0, time.UTC) },
	}
	got, err := ExportAll(dir, clients, results, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ana@example.test/apple.mobileconfig", "ana@example.test/thunderbird.xml", "ana@example.test/sheet.html",
		"cy@example.test/apple.mobileconfig", "cy@example.test/thunderbird.xml", "cy@example.test/sheet.html", SummaryCSV, SummaryHTML}
	if strings.Join(got.Files, " ") != strings.Join(want, " ") || got.Clients != 2 {
		t.Errorf("files %v (%d clients), want %v", got.Files, got.Clients, want)
	}
	// Nothing written holds a password; every file is the owner's only.
	err = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		for _, c := range clients {
			if c.Password != "" && bytes.Contains(b, []byte(c.Password)) {
				t.Errorf("%s holds %s's password", p, c.Address)
			}
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", p, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sheet, _ := os.ReadFile(filepath.Join(dir, "ana@example.test", "sheet.html"))
	if !strings.Contains(string(sheet), "Prepared by Ana Consultant, Acme IT.") {
		t.Error("the client's sheet lacks the branding")
	}
	for _, name := range []string{SummaryCSV, SummaryHTML} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.WriteFile(golden, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, want) {
			t.Errorf("%s differs from %s (go test ./batch -update):\n%s", name, golden, b)
		}
	}
	// The CSV reads back: one row per client, in order.
	recs, err := csv.NewReader(bytes.NewReader(mustRead(t, filepath.Join(dir, SummaryCSV)))).ReadAll()
	if err != nil || len(recs) != len(clients)+1 || recs[1][2] != "verified" || recs[2][2] != "attention" || recs[3][2] != "unverified" {
		t.Errorf("summary.csv: %v %v", recs, err)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExportAllRefuses(t *testing.T) {
	t.Parallel()
	clients, results := exportFixture()
	for _, tt := range []struct {
		name string
		opts ExportOptions
		res  []Result
	}{
		{"unknown format", ExportOptions{Formats: []string{"pdf"}}, results},
		{"logo not an image", ExportOptions{Branding: Branding{Logo: []byte("<svg/>")}}, results},
		{"results and clients differ", ExportOptions{}, results[:2]},
	} {
		if _, err := ExportAll(t.TempDir(), clients, tt.res, tt.opts); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestFolderName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"me@example.test": "me@example.test", `a/b\c:d*e?"<>|@x.test`: "a_b_c_d_e_____@x.test", "tab\t@x.test": "tab_@x.test"} {
		if got := FolderName(in); got != want {
			t.Errorf("FolderName(%q) = %q, want %q", in, got, want)
		}
	}
}
