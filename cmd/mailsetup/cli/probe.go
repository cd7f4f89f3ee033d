package cli

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/oauth"
	"github.com/mailsetup/mailsetup/detect/trust"
)

// probeUsage is the synopsis of the probe subcommand; its flag names are a contract.
const probeUsage = `usage: mailsetup probe [--password-stdin] [--username NAME] [--json] [--dns HOST:PORT]
                       [--ca FILE] [--timeout DURATION] [--allow-plaintext] [--send-test]
                       [--pop3] [--accept-cert HOST=SHA256] [--trust-host HOST]
                       [--oauth browser|device] [--oauth-client-id ID] [--oauth-client-secret SECRET]
                       [--oauth-issuer URL] ADDRESS`

// Probe runs `mailsetup probe`: discovery, the matrix, diagnosis and the recommendation.
func Probe(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		passwordStdin  = fs.Bool("password-stdin", false, "read the password from the first line of standard input")
		username       = fs.String("username", "", "log in with this user name only")
		asJSON         = fs.Bool("json", false, "print the report as one JSON object")
		dns            = fs.String("dns", "", "send every DNS query to this server (HOST:PORT)")
		caFile         = fs.String("ca", "", "PEM file of extra trusted root certificates")
		timeout        = fs.Duration("timeout", 10*time.Second, "cap for each single probe")
		allowPlaintext = fs.Bool("allow-plaintext", false, "allow sending the password over unencrypted connections")
		sendTest       = fs.Bool("send-test", false, "send a real test message to the address itself and look for it")
		preferPOP3     = fs.Bool("pop3", false, "prefer POP3 over IMAP for incoming mail")
		acceptCert     multiFlag
		trustHosts     multiFlag
		oauthMode      = fs.String("oauth", "", "sign in with OAuth2: browser (the provider's page in your browser) or device (a code to type on another device)")
		oauthClientID  = fs.String("oauth-client-id", "", "the OAuth2 client ID registered with the provider (see README: client registration)")
		oauthSecret    = fs.String("oauth-client-secret", "", "the OAuth2 client secret, for providers that want one for installed apps (Google)")
		oauthIssuer    = fs.String("oauth-issuer", "", "the OAuth2 authorization server, when neither the knowledge base nor the server names it (https URL)")
	)
	fs.Var(&acceptCert, "accept-cert", "accept this exact certificate for this server although it fails verification: HOST=SHA256 (a bare SHA256 applies to the servers of the address's own domain only)")
	fs.Var(&trustHosts, "trust-host", "let this server receive a login although no trusted source names it (repeatable)")
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return badInput(env, err, probeUsage)
	}
	if len(positional) != 1 {
		return badInput(env, errors.New("probe needs exactly one ADDRESS"), probeUsage)
	}
	if *timeout <= 0 {
		return badInput(env, fmt.Errorf("--timeout must be positive, got %s", *timeout), probeUsage)
	}
	addr, err := detect.ParseAddress(positional[0])
	if err != nil {
		return badInput(env, err, "")
	}

	opts := env.Base
	opts.Username = *username
	opts.AllowPlaintext = *allowPlaintext
	opts.SendTest = *sendTest
	opts.PreferPOP3 = *preferPOP3
	opts.Timeout = *timeout
	if err := validateAcceptCerts(acceptCert); err != nil {
		return badInput(env, err, probeUsage)
	}
	opts.AcceptFingerprints = acceptCert
	opts.TrustHosts = trustHosts
	if err := applyNetworkFlags(&opts, *dns, *caFile); err != nil {
		return badInput(env, err, "")
	}
	pw, err := readPassword(env, *passwordStdin, addr.String())
	if err != nil {
		return badInput(env, err, "")
	}
	opts.Password = pw
	if opts.OAuth, err = oauthSettings(env, *oauthMode, *oauthClientID, *oauthSecret, *oauthIssuer); err != nil {
		return badInput(env, err, probeUsage)
	}
	if opts.SendTest && pw == "" && opts.OAuth == nil {
		return badInput(env, errors.New("--send-test needs the password (--password-stdin) or --oauth"), "")
	}
	if !*asJSON {
		opts.Progress = progressPrinter(env.Stderr)
	}

	rep, err := detect.Run(ctx, addr.String(), opts)
	if err != nil {
		return badInput(env, err, "")
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(env.Stderr, "mailsetup: writing report: %v\n", err)
			return ExitNotFound
		}
	} else {
		PrintReport(env.Stdout, rep)
	}
	return ExitCode(rep)
}

// ExitCode is 0 when a working outgoing and incoming setting were found
// (verified by login when a password was given), else 1.
func ExitCode(rep *detect.Report) int {
	if rep.Recommended.Outgoing != nil && rep.Recommended.Incoming != nil {
		return ExitOK
	}
	return ExitNotFound
}

// oauthSettings builds the OAuth2 sign-in from the flags: the browser flow prints the
// address to open (and the test's browser follows it), the device flow prints the code.
func oauthSettings(env Env, mode, clientID, secret, issuer string) (*detect.OAuthSettings, error) {
	if mode == "" {
		if clientID != "" || secret != "" || issuer != "" {
			return nil, errors.New("--oauth-client-id, --oauth-client-secret and --oauth-issuer need --oauth browser|device")
		}
		return nil, nil
	}
	m := detect.OAuthMode(mode)
	if m != detect.OAuthBrowser && m != detect.OAuthDevice {
		return nil, fmt.Errorf("--oauth %q: want browser or device", mode)
	}
	if issuer != "" && !strings.HasPrefix(issuer, "https://") {
		return nil, fmt.Errorf("--oauth-issuer %q: want an https URL", issuer)
	}
	s := &detect.OAuthSettings{Mode: m, IssuerURL: issuer, OAuth: env.OAuth}
	s.Client.ClientID, s.Client.ClientSecret = clientID, secret
	s.OpenBrowser = env.OpenBrowser
	if s.OpenBrowser == nil {
		s.OpenBrowser = func(u string) error {
			fmt.Fprintf(env.Stderr, "Sign in with your provider: open this address in your browser, then come back here.\n\n  %s\n\nWaiting for the sign-in (Ctrl-C cancels)…\n", u)
			return nil
		}
	}
	s.ShowCode = env.ShowCode
	if s.ShowCode == nil {
		s.ShowCode = func(c oauth.DeviceCode) error {
			fmt.Fprintf(env.Stderr, "Sign in with your provider on any device: open %s and type the code %s (valid until %s).\nWaiting for the sign-in (Ctrl-C cancels)…\n",
				c.VerificationURI, c.UserCode, c.Expires.Format("15:04"))
			return nil
		}
	}
	return s, nil
}

// validateAcceptCerts checks each --accept-cert value: HOST=SHA256 or a bare SHA256,
// the fingerprint as 64 hex digits (colons allowed).
func validateAcceptCerts(values []string) error {
	for _, v := range values {
		host, fp, bound := strings.Cut(v, "=")
		if !bound {
			fp, host = host, ""
		}
		hexfp := strings.ReplaceAll(strings.TrimSpace(fp), ":", "")
		if _, err := hex.DecodeString(hexfp); err != nil || len(hexfp) != 64 {
			return fmt.Errorf("--accept-cert %q: want HOST=SHA256 with the certificate's SHA-256 fingerprint in hex (the report's cert.sha256)", v)
		}
		if bound && !trust.IsHostName(host) {
			return fmt.Errorf("--accept-cert %q: %q is not a server name", v, host)
		}
	}
	return nil
}

// applyNetworkFlags points DNS at --dns and adds the --ca roots. --dns replaces only
// the resolver: the engine's own dialer (every address, happy eyeballs, one lookup per
// name per run) resolves through it, exactly as in a run without the flag.
func applyNetworkFlags(opts *detect.Options, dns, caFile string) error {
	if dns != "" {
		if _, _, err := net.SplitHostPort(dns); err != nil {
			return fmt.Errorf("--dns %q: want HOST:PORT: %w", dns, err)
		}
		opts.Resolver = detect.DNSResolver(dns)
	}
	if caFile != "" {
		certs, err := detect.LoadCAFile(caFile)
		if err != nil {
			return err
		}
		opts.ExtraRoots = append(opts.ExtraRoots, certs...)
	}
	return nil
}

// readPassword reads the password from stdin's first line, or a hidden prompt on a terminal.
func readPassword(env Env, fromStdin bool, address string) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(env.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading password from stdin: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return "", errors.New("--password-stdin: standard input held no password")
		}
		return line, nil
	}
	if !env.StdinIsTerminal || env.ReadPassword == nil {
		return "", nil
	}
	fmt.Fprintf(env.Stderr, "Password for %s (Enter to skip the login test): ", address)
	pw, err := env.ReadPassword()
	fmt.Fprintln(env.Stderr)
	if err != nil {
		return "", fmt.Errorf("reading password: %w", err)
	}
	return pw, nil
}

// progressPrinter prints progress lines; the engine calls it from several goroutines.
func progressPrinter(w io.Writer) func(detect.Event) {
	var mu sync.Mutex
	return func(e detect.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case e.Source != nil:
			state := "not found"
			if e.Source.Found {
				state = "found"
			}
			fmt.Fprintf(w, "  discovery %-10s %s (%d ms)\n", e.Source.Source, state, e.Source.ElapsedMS)
		case e.Network != nil:
			fmt.Fprintf(w, "  network: port 25 %s\n", e.Network.Port25)
		case e.Stage != "" && e.Stage != detect.StageDone:
			fmt.Fprintf(w, "%s…\n", e.Stage)
		}
	}
}

// PrintReport writes the human-readable report.
func PrintReport(w io.Writer, rep *detect.Report) {
	fmt.Fprintf(w, "Mail settings for %s\n\n", rep.Address)
	printSetting(w, "Outgoing", rep.Recommended.Outgoing)
	printSetting(w, "Incoming", rep.Recommended.Incoming)
	if len(rep.Recommended.Alternatives) > 0 {
		fmt.Fprintln(w, "\nAlso working:")
		for _, s := range rep.Recommended.Alternatives {
			fmt.Fprintf(w, "  %-4s %s:%d %s\n", strings.ToUpper(string(s.Protocol)), s.Host, s.Port, detect.SecurityWords(s.Security))
		}
	}
	if len(rep.Warnings) > 0 {
		fmt.Fprintln(w, "\nGood to know:")
		for _, s := range rep.Warnings {
			fmt.Fprintf(w, "  - %s\n", s)
		}
	}
	fmt.Fprintf(w, "\nNetwork: port 25 %s", rep.Network.Port25)
	if len(rep.Network.Port25Evidence) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(rep.Network.Port25Evidence, "; "))
	}
	fmt.Fprintln(w)

	if a := rep.OAuth; a != nil && (a.SignedIn || a.Error != "") {
		state := "signed in with " + a.Provider + " (" + string(a.Mode) + ")"
		if !a.SignedIn {
			state = "not signed in: " + a.Error
		}
		fmt.Fprintf(w, "\nOAuth2: %s\n", state)
	}
	var untrusted []detect.HostTrust
	for _, h := range rep.Hosts {
		if !h.Trusted {
			untrusted = append(untrusted, h)
		}
	}
	if len(untrusted) > 0 {
		fmt.Fprintln(w, "\nNot trusted with a login (probed without your password; confirm with --trust-host HOST):")
		for _, h := range untrusted {
			via := ""
			if h.Via != "" {
				via = " [" + h.Via + "]"
			}
			fmt.Fprintf(w, "  %s: %s%s\n", h.Host, h.Why, via)
		}
	}

	fmt.Fprintln(w, "\nDiscovery:")
	for _, s := range rep.Discovery {
		state := "not found"
		if s.Found {
			state = "found"
		}
		detail := s.Detail
		if s.Error != "" {
			state, detail = "error", s.Error
		}
		if len(detail) > 110 {
			detail = detail[:110] + "…"
		}
		fmt.Fprintf(w, "  %-10s %-9s %5d ms  %s\n", s.Source, state, s.ElapsedMS, detail)
	}

	fmt.Fprintln(w, "\nEvery combination tried:")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  PROTO\tHOST\tPORT\tSECURITY\tRESULT\tAUTH\tMS\tWHY")
	for _, p := range rep.Probes {
		why := ""
		if p.Diagnosis != nil && p.Status != detect.StatusOK {
			why = p.Diagnosis.Title
		}
		mech := strings.Join(p.AuthMechanisms, " ")
		if p.AuthUsed != "" {
			mech = p.AuthUsed + " ✓"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%s\t%d\t%s\n", p.Protocol, p.Host, p.Port, p.Security, p.Status, mech, p.ElapsedMS, why)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nFinished in %.1f s.\n", float64(rep.Meta.ElapsedMS)/1000)
}

func printSetting(w io.Writer, label string, s *detect.Setting) {
	if s == nil {
		fmt.Fprintf(w, "%s: nothing found that works\n", label)
		return
	}
	state := "verified by login"
	if !s.Verified {
		state = "UNVERIFIED (no login tested)"
	}
	fmt.Fprintf(w, "%s: %s %s port %d, security %s, user %q, auth %s — %s\n",
		label, strings.ToUpper(string(s.Protocol)), s.Host, s.Port, detect.SecurityWords(s.Security), s.Username, s.Auth, state)
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// parseInterleaved parses flags that may come before or after positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func badInput(env Env, err error, usage string) int {
	fmt.Fprintf(env.Stderr, "mailsetup: %v\n", err)
	if usage != "" {
		fmt.Fprintln(env.Stderr, usage)
	}
	return ExitBadInput
}
