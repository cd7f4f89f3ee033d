package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/export"
)

const exportUsage = `usage: mailsetup export --format apple|thunderbird|thunderbird-prefs|outlook|outlook-reg|sheet|text
                        [--in report.json | [--password-stdin] ADDRESS] [-o FILE]
                        [--name NAME] [--org ORG] [--include-password]`

// maxReport caps a report file read by --in.
const maxReport = 32 << 20

// Export runs `mailsetup export`: from a saved `probe --json` report, or by probing.
func Export(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "", "output format")
	in := fs.String("in", "", "a report saved by `mailsetup probe --json`")
	out := fs.String("o", "", "write to this file (mode 0600) instead of standard output")
	name := fs.String("name", "", "the account holder's name")
	org := fs.String("org", "", "who prepared the settings")
	includePW := fs.Bool("include-password", false, "put the password into the Apple profile (needs --password-stdin)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return badInput(env, err, exportUsage)
	}
	if *format == "" {
		return badInput(env, errors.New("--format is required"), exportUsage)
	}
	if (*in == "") == (len(pos) == 0) || len(pos) > 1 {
		return badInput(env, errors.New("give either --in report.json or one ADDRESS"), exportUsage)
	}
	valid := false
	for _, f := range export.Formats {
		valid = valid || f == *format
	}
	if !valid {
		return badInput(env, fmt.Errorf("unknown format %q (want one of %s)", *format, strings.Join(export.Formats, ", ")), "")
	}
	var rep *detect.Report
	var password string
	if *in != "" {
		if rep, err = readReport(*in); err != nil {
			return badInput(env, err, "")
		}
		if *pwStdin {
			if password, err = readPassword(env, true, rep.Address); err != nil {
				return badInput(env, err, "")
			}
		}
	} else {
		addr, err := detect.ParseAddress(pos[0])
		if err != nil {
			return badInput(env, err, "")
		}
		if password, err = readPassword(env, *pwStdin, addr.String()); err != nil {
			return badInput(env, err, "")
		}
		opts := env.Base
		opts.Password = password
		if rep, err = detect.Run(ctx, addr.String(), opts); err != nil {
			return badInput(env, err, "")
		}
	}
	if *includePW && password == "" {
		return badInput(env, errors.New("--include-password needs the password (--password-stdin)"), "")
	}
	opts := export.Options{DisplayName: *name, Organization: *org, VerifiedAt: rep.Meta.StartedAt,
		IncludePassword: *includePW, Password: password}
	acc, err := export.FromReport(rep, opts)
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailsetup: %v\n", err)
		return ExitNotFound
	}
	var buf bytes.Buffer
	warnings, err := export.Write(*format, acc, opts, &buf)
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailsetup: %v\n", err)
		return ExitNotFound
	}
	for _, w := range warnings {
		fmt.Fprintf(env.Stderr, "warning: %s\n", w)
	}
	if *out == "" {
		_, err = env.Stdout.Write(buf.Bytes())
	} else {
		err = writeFileAtomic(*out, buf.Bytes())
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailsetup: %v\n", err)
		return ExitNotFound
	}
	return ExitOK
}

// readReport reads a saved `probe --json` report; unknown fields are errors, so a file
// of another kind is refused rather than half-read.
func readReport(path string) (*detect.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--in: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(io.LimitReader(f, maxReport))
	dec.DisallowUnknownFields()
	var rep detect.Report
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("--in %s: not a mailsetup probe report: %w", path, err)
	}
	if rep.Address == "" {
		return nil, fmt.Errorf("--in %s: the report has no address", path)
	}
	return &rep, nil
}

// writeFileAtomic writes data to path with mode 0600 through a temporary file in the
// same folder, so a crash never leaves half a file.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

const batchUsage = `usage: mailsetup batch clients.csv --out DIR [--concurrency N]
  CSV columns: address[,password][,name]; a header row is optional`

// batchRow is one client of a batch.
type batchRow struct {
	Address, Password, Name string
	Line                    int
}

// batchResult is one client's outcome for the summary.
type batchResult struct {
	Address, Name, Outgoing, Incoming, Status, Error string
	Files                                            []string
}

// Batch runs `mailsetup batch`: probes every client with bounded concurrency and writes
// each client's exports into its own folder plus summary.csv and summary.html.
// Passwords from the CSV are used for the probes only and are written nowhere.
func Batch(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("batch", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	outDir := fs.String("out", "", "folder for the exports and the summary")
	conc := fs.Int("concurrency", 4, "clients probed at once")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return badInput(env, err, batchUsage)
	}
	if len(pos) != 1 || *outDir == "" || *conc < 1 {
		return badInput(env, errors.New("batch needs one CSV file, --out DIR and a positive --concurrency"), batchUsage)
	}
	rows, err := readBatchCSV(pos[0])
	if err != nil {
		return badInput(env, err, "")
	}
	if err := os.MkdirAll(*outDir, 0o700); err != nil {
		return badInput(env, err, "")
	}
	results := make([]batchResult, len(rows))
	sem := make(chan struct{}, *conc)
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	for i, r := range rows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results[i] = batchResult{Address: r.Address, Name: r.Name, Status: "cancelled"}
				return
			}
			res := batchOne(ctx, env, r, *outDir)
			<-sem
			results[i] = res
			mu.Lock()
			done++
			fmt.Fprintf(env.Stderr, "[%d/%d] %s: %s\n", done, len(rows), r.Address, res.Status)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := writeSummary(*outDir, results); err != nil {
		fmt.Fprintf(env.Stderr, "mailsetup: %v\n", err)
		return ExitNotFound
	}
	for _, r := range results {
		if r.Status != "ok" {
			return ExitNotFound
		}
	}
	return ExitOK
}

func readBatchCSV(path string) ([]batchRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(io.LimitReader(f, maxReport))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var rows []batchRow
	for i, rec := range recs {
		if len(rec) == 0 || strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if i == 0 && strings.EqualFold(strings.TrimSpace(rec[0]), "address") {
			continue // header
		}
		if len(rec) > 3 {
			return nil, fmt.Errorf("%s line %d: want address[,password][,name], got %d columns", path, i+1, len(rec))
		}
		r := batchRow{Address: strings.TrimSpace(rec[0]), Line: i + 1}
		if len(rec) > 1 {
			r.Password = rec[1]
		}
		if len(rec) > 2 {
			r.Name = strings.TrimSpace(rec[2])
		}
		if _, err := detect.ParseAddress(r.Address); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no clients", path)
	}
	return rows, nil
}

func batchOne(ctx context.Context, env Env, r batchRow, outDir string) batchResult {
	res := batchResult{Address: r.Address, Name: r.Name}
	opts := env.Base
	opts.Password = r.Password
	rep, err := detect.Run(ctx, r.Address, opts)
	if err != nil {
		res.Status, res.Error = "bad input", err.Error()
		return res
	}
	if o := rep.Recommended.Outgoing; o != nil {
		res.Outgoing = fmt.Sprintf("%s:%d %s", o.Host, o.Port, detect.SecurityWords(o.Security))
	}
	if in := rep.Recommended.Incoming; in != nil {
		res.Incoming = fmt.Sprintf("%s %s:%d %s", strings.ToUpper(string(in.Protocol)), in.Host, in.Port, detect.SecurityWords(in.Security))
	}
	eopts := export.Options{DisplayName: r.Name, VerifiedAt: rep.Meta.StartedAt}
	acc, err := export.FromReport(rep, eopts)
	if err != nil {
		res.Status = "not found"
		res.Error = strings.Join(rep.Warnings, " ")
		return res
	}
	dir := filepath.Join(outDir, safeName(r.Address))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		res.Status, res.Error = "error", err.Error()
		return res
	}
	for _, f := range export.Formats {
		var buf bytes.Buffer
		if _, err := export.Write(f, acc, eopts, &buf); err != nil {
			res.Status, res.Error = "error", err.Error()
			return res
		}
		name := f + export.Extensions[f]
		if err := writeFileAtomic(filepath.Join(dir, name), buf.Bytes()); err != nil {
			res.Status, res.Error = "error", err.Error()
			return res
		}
		res.Files = append(res.Files, safeName(r.Address)+"/"+name)
	}
	res.Status = "ok"
	if !rep.Recommended.Outgoing.Verified || !rep.Recommended.Incoming.Verified {
		res.Status = "ok (unverified: no password)"
	}
	return res
}

// safeName makes an address usable as a folder name on every OS.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r == '*' || r == '?' || r == '"' || r == '<' || r == '>' || r == '|' {
			return '_'
		}
		return r
	}, s)
}

var summaryHTML = template.Must(template.New("summary").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Mail Setup Assistant — batch summary</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}th,td{border:1px solid #bbb;padding:.3em .6em;text-align:left}.ok{color:#186a3b}.bad{color:#a4161a}</style>
</head><body><h1>Batch summary</h1><p>{{.When}}</p><table>
<tr><th>Address</th><th>Name</th><th>Status</th><th>Outgoing</th><th>Incoming</th><th>Files</th><th>Problem</th></tr>
{{range .Rows}}<tr><td>{{.Address}}</td><td>{{.Name}}</td><td class="{{if eq .Status "ok"}}ok{{else}}bad{{end}}">{{.Status}}</td><td>{{.Outgoing}}</td><td>{{.Incoming}}</td><td>{{range .Files}}<a href="{{.}}">{{.}}</a> {{end}}</td><td>{{.Error}}</td></tr>
{{end}}</table></body></html>
`))

func writeSummary(dir string, rows []batchResult) error {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"address", "name", "status", "outgoing", "incoming", "problem"})
	for _, r := range rows {
		_ = w.Write([]string{r.Address, r.Name, r.Status, r.Outgoing, r.Incoming, r.Error})
	}
	w.Flush()
	if err := writeFileAtomic(filepath.Join(dir, "summary.csv"), b.Bytes()); err != nil {
		return err
	}
	var h bytes.Buffer
	data := struct {
		When string
		Rows []batchResult
	}{When: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Rows: rows}
	if err := summaryHTML.Execute(&h, data); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "summary.html"), h.Bytes())
}
