package cli

import (
	"bufio"
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
	"github.com/mailsetup/mailsetup/i18n"
)

const exportUsage = `usage: mailsetup export --format FORMAT
                        [--in report.json | [--password-stdin] ADDRESS] [-o FILE]
                        [--name NAME] [--org ORG] [--lang LANG]
                        [--sign-cert cert.p12 [--sign-cert-password-stdin]]
  FORMAT: apple, thunderbird, thunderbird-prefs, outlook-prf, outlook-prf-cmd, outlook,
          outlook-reg, outlook-new, sheet, text
  --sign-cert signs the Apple profile (CMS) with the certificate and key in a PKCS #12
  file; its password comes from the next line of standard input with
  --sign-cert-password-stdin (after the account password when --password-stdin is
  given too), else from a hidden prompt. No password is ever written to a file.
  --lang writes the sheet and the text in en, ru, de, fr, es or pt-BR (default: the
  language LANGUAGE, LC_ALL, LC_MESSAGES or LANG names, else English); the files for
  mail programs are the same in every language.`

// maxReport caps a report file read by --in.
const maxReport = 32 << 20

// maxP12 caps the PKCS #12 file read by --sign-cert.
const maxP12 = 1 << 20

// errIncludePassword explains the removed flag.
var errIncludePassword = errors.New("--include-password was removed: Apple's schema allows a password only in encrypted profiles, " +
	"so the profile never carries one; Mail asks for the password when the profile is installed")

// stdinLines reads the first n lines of standard input with one reader, so two secrets
// (account password, then certificate password) can come through one pipe.
func stdinLines(env Env, n int) ([]string, error) {
	r := bufio.NewReader(env.Stdin)
	var out []string
	for i := 0; i < n; i++ {
		line, err := r.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return nil, fmt.Errorf("standard input held %d of the %d secret lines expected", i, n)
		}
		out = append(out, line)
	}
	return out, nil
}

// loadSigner reads the PKCS #12 file and its password (from the given stdin line, or a
// hidden prompt) and returns the signer; the password is not kept.
func loadSigner(env Env, path, password string, fromStdin bool) (*export.Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--sign-cert: %w", err)
	}
	defer f.Close()
	p12, err := io.ReadAll(io.LimitReader(f, maxP12))
	if err != nil {
		return nil, fmt.Errorf("--sign-cert: %w", err)
	}
	if !fromStdin {
		if !env.StdinIsTerminal || env.ReadPassword == nil {
			return nil, errors.New("--sign-cert needs the certificate's password: give --sign-cert-password-stdin or run on a terminal")
		}
		fmt.Fprintf(env.Stderr, "Password for %s: ", filepath.Base(path))
		password, err = env.ReadPassword()
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return nil, fmt.Errorf("reading the certificate password: %w", err)
		}
	}
	return export.LoadSigner(p12, password)
}

func validFormat(f string) bool {
	for _, x := range export.Formats {
		if x == f {
			return true
		}
	}
	return false
}

// Export runs `mailsetup export`: from a saved `probe --json` report, or by probing.
func Export(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "", "output format")
	in := fs.String("in", "", "a report saved by `mailsetup probe --json`")
	out := fs.String("o", "", "write to this file (mode 0600) instead of standard output")
	name := fs.String("name", "", "the account holder's name")
	org := fs.String("org", "", "who prepared the settings")
	includePW := fs.Bool("include-password", false, "removed; kept to explain why")
	pwStdin := fs.Bool("password-stdin", false, "read the account password from the first line of standard input (probing only)")
	signCert := fs.String("sign-cert", "", "sign the Apple profile with this PKCS #12 file")
	signStdin := fs.Bool("sign-cert-password-stdin", false, "read the PKCS #12 password from standard input")
	lang := fs.String("lang", env.Language, "language of the sheet and the text")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return badInput(env, err, exportUsage)
	}
	if *lang != "" && !i18n.Known(*lang) {
		return badInput(env, fmt.Errorf("--lang %q: want one of en, ru, de, fr, es, pt-BR", *lang), "")
	}
	if *includePW {
		return badInput(env, errIncludePassword, "")
	}
	if *format == "" {
		return badInput(env, errors.New("--format is required"), exportUsage)
	}
	if (*in == "") == (len(pos) == 0) || len(pos) > 1 {
		return badInput(env, errors.New("give either --in report.json or one ADDRESS"), exportUsage)
	}
	if !validFormat(*format) {
		return badInput(env, fmt.Errorf("unknown format %q (want one of %s)", *format, strings.Join(export.Formats, ", ")), "")
	}
	if *in != "" && *pwStdin {
		return badInput(env, errors.New("--password-stdin is for probing an ADDRESS; a report read with --in needs no password"), "")
	}
	if *signCert == "" && *signStdin {
		return badInput(env, errors.New("--sign-cert-password-stdin needs --sign-cert"), "")
	}
	if *signCert != "" && *format != "apple" {
		return badInput(env, errors.New("--sign-cert signs Apple profiles only (--format apple)"), "")
	}
	var secrets []string
	if n := btoi(*pwStdin) + btoi(*signStdin); n > 0 {
		if secrets, err = stdinLines(env, n); err != nil {
			return badInput(env, err, "")
		}
	}
	var signer *export.Signer
	if *signCert != "" {
		p12pw := ""
		if *signStdin {
			p12pw = secrets[len(secrets)-1]
		}
		if signer, err = loadSigner(env, *signCert, p12pw, *signStdin); err != nil {
			return badInput(env, err, "")
		}
	}
	var rep *detect.Report
	if *in != "" {
		if rep, err = readReport(*in); err != nil {
			return badInput(env, err, "")
		}
	} else {
		addr, err := detect.ParseAddress(pos[0])
		if err != nil {
			return badInput(env, err, "")
		}
		password := ""
		if *pwStdin {
			password = secrets[0]
		} else if password, err = readPassword(env, false, addr.String()); err != nil {
			return badInput(env, err, "")
		}
		opts := env.Base
		opts.Password = password
		if rep, err = detect.Run(ctx, addr.String(), opts); err != nil {
			return badInput(env, err, "")
		}
	}
	opts := export.Options{DisplayName: *name, Organization: *org, VerifiedAt: rep.Meta.StartedAt, Signer: signer, Language: *lang}
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
	if signer != nil {
		fmt.Fprintf(env.Stderr, "signed by %s\n", signer.Name())
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

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
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
                       [--sign-cert cert.p12 [--sign-cert-password-stdin]]
  CSV columns: address[,password][,name]; a header row is optional.
  --sign-cert signs every Apple profile; its password comes from standard input with
  --sign-cert-password-stdin, else from a hidden prompt.`

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
	signCert := fs.String("sign-cert", "", "sign the Apple profiles with this PKCS #12 file")
	signStdin := fs.Bool("sign-cert-password-stdin", false, "read the PKCS #12 password from standard input")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return badInput(env, err, batchUsage)
	}
	if len(pos) != 1 || *outDir == "" || *conc < 1 {
		return badInput(env, errors.New("batch needs one CSV file, --out DIR and a positive --concurrency"), batchUsage)
	}
	if *signCert == "" && *signStdin {
		return badInput(env, errors.New("--sign-cert-password-stdin needs --sign-cert"), "")
	}
	var signer *export.Signer
	if *signCert != "" {
		pw := ""
		if *signStdin {
			lines, err := stdinLines(env, 1)
			if err != nil {
				return badInput(env, err, "")
			}
			pw = lines[0]
		}
		if signer, err = loadSigner(env, *signCert, pw, *signStdin); err != nil {
			return badInput(env, err, "")
		}
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
			res := batchOne(ctx, env, r, *outDir, signer)
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

func batchOne(ctx context.Context, env Env, r batchRow, outDir string, signer *export.Signer) batchResult {
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
	eopts := export.Options{DisplayName: r.Name, VerifiedAt: rep.Meta.StartedAt, Signer: signer, Language: env.Language}
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
	var skipped []string
	for _, f := range export.Formats {
		var buf bytes.Buffer
		if _, err := export.Write(f, acc, eopts, &buf); err != nil {
			if errors.Is(err, export.ErrUnsupported) {
				skipped = append(skipped, err.Error()) // the client cannot log in this way: no file, a reason
				continue
			}
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
	res.Error = strings.Join(skipped, " ")
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
