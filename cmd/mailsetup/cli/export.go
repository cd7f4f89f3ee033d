package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mailsetup/mailsetup/batch"
	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/trust"
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

const batchUsage = `usage: mailsetup batch [flags] clients.csv --out DIR
  flags: [--format F]... [--dns HOST:PORT] [--ca FILE] [--timeout DURATION]
         [--allow-plaintext] [--accept-cert HOST=SHA256]... [--trust-host HOST]... [--pop3]
         [--concurrency N] [--max-connections N]
         [--org ORG] [--prepared-by NAME] [--contact LINE] [--logo FILE]
         [--sign-cert cert.p12 [--sign-cert-password-stdin]]
  The list: address[,password][,name] per line (CSV, or a spreadsheet's export with
  semicolons or tabs; a header row is optional); "-" reads it from standard input.
  Addresses of one domain (or of one known provider) share one whole check; each further
  address costs only its own logins. Writes DIR/<address>/<format files>, summary.html
  and summary.csv; passwords are used for the logins only and written nowhere.
  --format (repeatable, or comma-separated; default every format): apple, thunderbird,
         thunderbird-prefs, outlook-prf, outlook-prf-cmd, outlook, outlook-reg, outlook-new,
         sheet, text
  --concurrency: whole checks (discovery and matrix) at once, default 8.
  --max-connections: connections at once to a provider that publishes no limit (default
  20); a provider's published limit (providers.yaml) always applies.`

// Batch runs `mailsetup batch`: every client of a list checked with one matrix per
// domain or provider, the probe's network and trust options, and every client's exports
// plus a summary written into one folder.
func Batch(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("batch", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		outDir         = fs.String("out", "", "folder for the exports and the summary")
		conc           = fs.Int("concurrency", 8, "whole checks at once")
		maxConns       = fs.Int("max-connections", batch.DefaultLimit, "connections at once to a provider that publishes no limit")
		dns            = fs.String("dns", "", "send every DNS query to this server (HOST:PORT)")
		caFile         = fs.String("ca", "", "PEM file of extra trusted root certificates")
		timeout        = fs.Duration("timeout", 10*time.Second, "cap for each single probe")
		allowPlaintext = fs.Bool("allow-plaintext", false, "allow logins without encryption on servers that offer none")
		preferPOP3     = fs.Bool("pop3", false, "prefer POP3 over IMAP for incoming mail")
		org            = fs.String("org", "", "your organisation (profiles, sheets, summary)")
		preparedBy     = fs.String("prepared-by", "", "your name (sheets, profiles, summary)")
		contact        = fs.String("contact", "", "how clients reach you, one line")
		logoFile       = fs.String("logo", "", "PNG, JPEG or GIF logo for the sheets and the summary")
		signCert       = fs.String("sign-cert", "", "sign the Apple profiles with this PKCS #12 file")
		signStdin      = fs.Bool("sign-cert-password-stdin", false, "read the PKCS #12 password from standard input")
		formats        multiFlag
		acceptCert     multiFlag
		trustHosts     multiFlag
	)
	fs.Var(&formats, "format", "export format (repeatable or comma-separated)")
	fs.Var(&acceptCert, "accept-cert", "accept this exact certificate for this server: HOST=SHA256")
	fs.Var(&trustHosts, "trust-host", "let this server receive logins although no trusted source names it (repeatable)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return badInput(env, err, batchUsage)
	}
	switch {
	case len(pos) != 1 || *outDir == "":
		return badInput(env, errors.New("batch needs one client list and --out DIR"), batchUsage)
	case *conc < 1 || *maxConns < 1:
		return badInput(env, errors.New("--concurrency and --max-connections must be positive"), batchUsage)
	case *timeout <= 0:
		return badInput(env, fmt.Errorf("--timeout must be positive, got %s", *timeout), batchUsage)
	case *signCert == "" && *signStdin:
		return badInput(env, errors.New("--sign-cert-password-stdin needs --sign-cert"), "")
	case pos[0] == "-" && *signStdin:
		return badInput(env, errors.New("standard input cannot hold both the client list and the certificate password"), "")
	}
	var wanted []string
	for _, f := range formats {
		for _, x := range strings.Split(f, ",") {
			if x = strings.TrimSpace(x); !validFormat(x) {
				return badInput(env, fmt.Errorf("unknown format %q (want one of %s)", x, strings.Join(export.Formats, ", ")), "")
			}
			wanted = append(wanted, strings.TrimSpace(x))
		}
	}
	opts := env.Base
	opts.Timeout = *timeout
	opts.AllowPlaintext = *allowPlaintext
	opts.PreferPOP3 = *preferPOP3
	if err := validateAcceptCerts(acceptCert); err != nil {
		return badInput(env, err, batchUsage)
	}
	for _, h := range trustHosts {
		if !trust.IsHostName(h) {
			return badInput(env, fmt.Errorf("--trust-host %q is not a server name (an IP address or a single word cannot be trusted)", h), "")
		}
	}
	opts.AcceptFingerprints = acceptCert
	opts.TrustHosts = trustHosts
	if err := applyNetworkFlags(&opts, *dns, *caFile); err != nil {
		return badInput(env, err, "")
	}
	brand := batch.Branding{Name: *preparedBy, Organization: *org, Contact: *contact}
	if *logoFile != "" {
		if brand.Logo, err = readLogo(*logoFile); err != nil {
			return badInput(env, err, "")
		}
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
	clients, err := readClients(env, pos[0])
	if err != nil {
		return badInput(env, err, "")
	}
	var problems []string
	for _, c := range clients {
		if c.Problem != "" {
			problems = append(problems, fmt.Sprintf("line %d: %s: %s", c.Line, c.Address, c.Problem))
		}
	}
	if len(problems) > 0 {
		return badInput(env, fmt.Errorf("%s: %s", pos[0], strings.Join(problems, "; ")), "")
	}
	if err := os.MkdirAll(*outDir, 0o700); err != nil {
		return badInput(env, err, "")
	}

	var mu sync.Mutex
	done := 0
	b := batch.New(batch.Options{Engine: opts, DefaultLimit: *maxConns, Leaders: *conc, Progress: func(r batch.Result) {
		if !r.State.Done() {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		done++
		fmt.Fprintf(env.Stderr, "[%d/%d] %s\n", done, len(clients), r)
	}})
	start := time.Now()
	results := b.Check(ctx, clients)
	took := time.Since(start)
	written, err := batch.ExportAll(*outDir, clients, results, batch.ExportOptions{Formats: wanted, Branding: brand, Signer: signer, Language: env.Language})
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailsetup: %v\n", err)
		return ExitNotFound
	}
	counts := map[batch.State]int{}
	for _, r := range results {
		counts[r.State]++
	}
	fmt.Fprintf(env.Stderr, "%d clients in %.1f s: %d verified, %d found without a login test, %d need attention, %d cancelled; %d files in %s\n",
		len(clients), took.Seconds(), counts[batch.StateVerified], counts[batch.StateUnverified], counts[batch.StateAttention],
		counts[batch.StateCancelled], len(written.Files), *outDir)
	if signer != nil {
		fmt.Fprintf(env.Stderr, "Apple profiles signed by %s\n", signer.Name())
	}
	if counts[batch.StateVerified] != len(clients) {
		return ExitNotFound
	}
	return ExitOK
}

// readClients reads the client list from a file, or from standard input for "-".
func readClients(env Env, path string) ([]batch.Client, error) {
	if path == "-" {
		cs, err := batch.ParseList(env.Stdin)
		if err != nil {
			return nil, fmt.Errorf("standard input: %w", err)
		}
		return cs, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cs, err := batch.ParseList(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cs, nil
}

// readLogo reads a branding logo and checks it is an image of a usable size.
func readLogo(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--logo: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, export.MaxLogoBytes+1))
	if err != nil {
		return nil, fmt.Errorf("--logo: %w", err)
	}
	if _, err := export.LogoType(b); err != nil {
		return nil, fmt.Errorf("--logo %s: %w", path, err)
	}
	return b, nil
}
