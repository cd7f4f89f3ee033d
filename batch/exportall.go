package batch

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/export"
	"github.com/mailsetup/mailsetup/i18n"
)

// Branding is who prepared the settings: a consultant's name, organisation, contact line
// and logo, printed on the settings sheets and the summary and written into the Apple
// profiles. It holds no secret.
type Branding struct {
	Name         string
	Organization string
	Contact      string
	// Logo is a PNG, JPEG or GIF image (export.LogoType checks it).
	Logo []byte
}

// ExportOptions says what ExportAll writes.
type ExportOptions struct {
	// Formats are the export formats written per client; empty means every one.
	Formats  []string
	Branding Branding
	// Signer, when set, signs every Apple profile with the consultant's certificate.
	Signer *export.Signer
	// Now dates the summary; nil means time.Now.
	Now func() time.Time
	// Language is the language of each client's settings sheet and text ("" = English).
	Language string
}

// Exported is what ExportAll wrote.
type Exported struct {
	// Files are the paths written, relative to the folder.
	Files []string
	// Clients is the number of clients that got their files.
	Clients int
}

// Summary file names, in the folder ExportAll writes.
const (
	SummaryCSV  = "summary.csv"
	SummaryHTML = "summary.html"
)

// ExportAll writes into dir, for every client whose check found settings, a folder named
// by its address with one file per format, and for all clients a summary sheet
// (summary.html, printable) and a summary CSV. Files are written atomically with mode
// 0600; no password is written anywhere. results[i] is clients[i]'s result.
func ExportAll(dir string, clients []Client, results []Result, opts ExportOptions) (Exported, error) {
	var out Exported
	if len(clients) != len(results) {
		return out, fmt.Errorf("batch: export: %d results for %d clients", len(results), len(clients))
	}
	formats := opts.Formats
	if len(formats) == 0 {
		formats = export.Formats
	}
	for _, f := range formats {
		if !slices.Contains(export.Formats, f) {
			return out, fmt.Errorf("batch: export: unknown format %q (want one of %s)", f, strings.Join(export.Formats, ", "))
		}
	}
	if len(opts.Branding.Logo) > 0 {
		if _, err := export.LogoType(opts.Branding.Logo); err != nil {
			return out, fmt.Errorf("batch: export: %w", err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return out, fmt.Errorf("batch: export: %w", err)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	tr := i18n.New(opts.Language)
	rows := make([]summaryRow, len(clients))
	for i, c := range clients {
		r := results[i]
		row := summaryRow{Address: c.Address, Name: c.Name, Status: statusWords(r.State), State: string(r.State), Note: r.Reason}
		row.Say.Status, row.Say.Note = stateWords(tr, r.State), ReasonWords(tr, c, r)
		switch r.State {
		case StateVerified:
			// the settings have columns of their own
			row.Note, row.Say.Note = r.Differs, ""
			if r.Differs != "" {
				row.Say.Note = DiffersWords(tr, r)
			}
		case StateUnverified:
			row.Note, row.Say.Note = "no password given, so the login was not tested", tr.T("batch.summary_no_password")
		}
		if r.Report != nil {
			row.fill(tr, r.Report, r.State == StateVerified)
			files, skipped, err := writeClient(dir, c, r.Report, formats, opts)
			if err != nil {
				return out, err
			}
			if len(files) > 0 {
				out.Clients++
			}
			out.Files = append(out.Files, files...)
			row.Files = files
			if len(skipped) > 0 {
				// the programs' own reasons, in English (README, "Languages")
				row.Note = strings.TrimSpace(row.Note + " " + strings.Join(skipped, " "))
				row.Say.Note = strings.TrimSpace(row.Say.Note + " " + strings.Join(skipped, " "))
			}
		}
		rows[i] = row
	}
	if err := writeSummaryCSV(filepath.Join(dir, SummaryCSV), rows); err != nil {
		return out, err
	}
	if err := writeSummaryHTML(filepath.Join(dir, SummaryHTML), tr, rows, opts.Branding, now()); err != nil {
		return out, err
	}
	out.Files = append(out.Files, SummaryCSV, SummaryHTML)
	return out, nil
}

// writeClient writes one client's files; a format the client's login cannot be given in
// is skipped with its reason. A client without settings to export gets no folder.
func writeClient(dir string, c Client, rep *detect.Report, formats []string, opts ExportOptions) (files, skipped []string, err error) {
	b := opts.Branding
	eopts := export.Options{DisplayName: c.Name, Organization: b.Organization, VerifiedAt: rep.Meta.StartedAt,
		Signer: opts.Signer, PreparedBy: b.Name, Contact: b.Contact, Logo: b.Logo, Language: opts.Language}
	acc, err := export.FromReport(rep, eopts)
	if err != nil {
		return nil, nil, nil // nothing that works: the summary says why
	}
	folder := FolderName(c.Address)
	if err := os.MkdirAll(filepath.Join(dir, folder), 0o700); err != nil {
		return nil, nil, fmt.Errorf("batch: export %s: %w", c.Address, err)
	}
	for _, f := range formats {
		var buf bytes.Buffer
		if _, err := export.Write(f, acc, eopts, &buf); err != nil {
			if errors.Is(err, export.ErrUnsupported) {
				skipped = append(skipped, err.Error())
				continue
			}
			return nil, nil, fmt.Errorf("batch: export %s %s: %w", c.Address, f, err)
		}
		name := f + export.Extensions[f]
		if err := writeFileAtomic(filepath.Join(dir, folder, name), buf.Bytes()); err != nil {
			return nil, nil, err
		}
		files = append(files, folder+"/"+name)
	}
	return files, skipped, nil
}

// FolderName makes an address usable as a folder name on every system.
func FolderName(address string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || strings.ContainsRune(`/\:*?"<>|`, r) {
			return '_'
		}
		return r
	}, address)
}

// summaryRow is one client in the summary files: in English for summary.csv (data for a
// spreadsheet, the same in every language), and Say in the export's language for
// summary.html.
type summaryRow struct {
	Address, Name, Status, State, Note string
	Incoming, Outgoing, Username       string
	VerifiedAt                         string
	Files                              []string
	Say                                struct{ Status, Note, Incoming, Outgoing string }
}

func (s *summaryRow) fill(tr *i18n.Lang, rep *detect.Report, verified bool) {
	if in := rep.Recommended.Incoming; in != nil {
		s.Incoming, s.Say.Incoming = settingWords(*in), SettingWords(tr, *in)
		s.Username = in.Username
	}
	if o := rep.Recommended.Outgoing; o != nil {
		s.Outgoing, s.Say.Outgoing = settingWords(*o), SettingWords(tr, *o)
		if s.Username == "" {
			s.Username = o.Username
		}
	}
	if verified {
		s.VerifiedAt = rep.Meta.StartedAt
	}
}

// stateWords names a row's state in tr's language (the window's words).
func stateWords(tr *i18n.Lang, s State) string {
	switch s {
	case StateVerified:
		return tr.T("batch.state_verified")
	case StateUnverified:
		return tr.T("batch.state_unverified")
	case StateAttention:
		return tr.T("batch.state_attention")
	case StateCancelled:
		return tr.T("batch.state_cancelled")
	}
	return tr.T("batch.reason_not_checked")
}

// statusWords names a final state for the CSV (English, stable).
func statusWords(s State) string {
	switch s {
	case StateVerified:
		return "verified"
	case StateUnverified:
		return "found, login not tested"
	case StateAttention:
		return "needs attention"
	case StateCancelled:
		return "cancelled"
	}
	return "not checked"
}

func writeSummaryCSV(path string, rows []summaryRow) error {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"address", "name", "status", "incoming", "outgoing", "username", "verified_at", "note", "files"})
	for _, r := range rows {
		rec := []string{r.Address, r.Name, r.State, r.Incoming, r.Outgoing, r.Username, r.VerifiedAt, r.Note, strings.Join(r.Files, " ")}
		for i, v := range rec {
			rec[i] = inert(v)
		}
		_ = w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("batch: summary: %w", err)
	}
	return writeFileAtomic(path, b.Bytes())
}

// inert keeps a spreadsheet from reading a cell as a formula (a name typed as
// "=HYPERLINK(…)" in the client list): such a cell starts with an apostrophe.
func inert(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

var summaryTmpl = template.Must(template.New("summary").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<title>{{.Title}}{{with .Branding.Organization}} — {{.}}{{end}}</title>
<style>
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 2em; color: #1b1b1b; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
table { border-collapse: collapse; margin: 1em 0; width: 100%; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.35em 0.6em; text-align: left; vertical-align: top; }
th { background: #eef3fb; }
.verified { color: #186a3b; font-weight: bold; }
.attention { color: #a4161a; font-weight: bold; }
.unverified, .cancelled { color: #8a4b00; }
.small { color: #555; font-size: 0.9em; }
@media print { body { margin: 1cm; } a { color: inherit; text-decoration: none; } }
</style>
</head>
<body>
{{if .Logo}}<p><img src="{{.Logo}}" alt="{{.Branding.Organization}}" style="max-height: 4em; max-width: 16em"></p>
{{end}}<h1>{{.Title}}</h1>
<p class="small">{{.Intro}}</p>
<table>
<tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><td>{{.Address}}</td><td>{{.Name}}</td><td class="{{.State}}">{{.Say.Status}}{{if .Say.Note}}<br><span class="small">{{.Say.Note}}</span>{{end}}</td><td>{{.Say.Incoming}}</td><td>{{.Say.Outgoing}}</td><td>{{.Username}}</td><td>{{range .Files}}<a href="{{.}}">{{.}}</a><br>{{end}}</td></tr>
{{end}}</table>
{{if .Footer}}<p class="small">{{.Footer}}</p>
{{end}}</body>
</html>
`))

func writeSummaryHTML(path string, tr *i18n.Lang, rows []summaryRow, b Branding, when time.Time) error {
	data := struct {
		Rows          []summaryRow
		Branding      Branding
		Logo          template.URL
		Lang, Title   string
		Intro, Footer string
		Columns       []string
	}{Rows: rows, Branding: b, Lang: tr.Code(), Title: tr.T("batch.summary_title"),
		Columns: []string{tr.T("batch.column_address"), tr.T("batch.name"), tr.T("text.status"), tr.T("batch.summary_incoming"),
			tr.T("batch.summary_outgoing"), tr.T("field.username"), tr.T("batch.summary_files")}}
	verified, attention := 0, 0
	for _, r := range rows {
		switch r.State {
		case string(StateVerified):
			verified++
		case string(StateAttention):
			attention++
		}
	}
	intro := []string{tr.T("batch.summary_checked", "when", when.Format("2006-01-02 15:04"), "verified", tr.Int(verified), "count", tr.Int(len(rows)))}
	if attention > 0 {
		intro = append(intro, tr.T("batch.summary_attention", "count", tr.Int(attention)))
	}
	data.Intro = strings.Join(append(intro, tr.T("batch.summary_passwords")), " ")
	if t, err := export.LogoType(b.Logo); len(b.Logo) > 0 && err == nil {
		data.Logo = template.URL("data:" + t + ";base64," + base64.StdEncoding.EncodeToString(b.Logo))
	}
	var who, footer []string
	for _, s := range []string{b.Name, b.Organization} {
		if s != "" {
			who = append(who, s)
		}
	}
	if len(who) > 0 {
		footer = append(footer, tr.T("sheet.prepared_by", "who", strings.Join(who, ", ")))
	}
	if b.Contact != "" {
		footer = append(footer, tr.T("sheet.contact", "contact", strings.TrimSuffix(b.Contact, ".")))
	}
	data.Footer = strings.Join(footer, " ")
	var buf bytes.Buffer
	if err := summaryTmpl.Execute(&buf, data); err != nil {
		return fmt.Errorf("batch: summary: %w", err)
	}
	return writeFileAtomic(path, buf.Bytes())
}

// writeFileAtomic writes data to path with mode 0600 through a temporary file in the
// same folder, so a crash never leaves half a file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("batch: write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("batch: write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("batch: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("batch: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("batch: write %s: %w", path, err)
	}
	return nil
}
