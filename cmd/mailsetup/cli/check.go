package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/clients/current"
	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/netmemory"
)

const checkUsage = `usage: mailsetup check [--from FILE | --client thunderbird|outlook] [--account ADDRESS] [--fix [--out DIR]]
                       [--json] [--password-stdin] [--dns HOST:PORT] [--ca FILE] [--timeout DURATION]
                       [--allow-plaintext] [--networks FILE] [--no-remember] [--public-ip URL]`

// checkOutput is the JSON `mailsetup check --json` prints; its field names are a contract.
type checkOutput struct {
	Account   clients.Account      `json:"account"`
	Source    string               `json:"source"`
	Incoming  *current.Part        `json:"incoming"`
	Outgoing  *current.Part        `json:"outgoing"`
	OK        bool                 `json:"ok"`
	Network   checkNetwork         `json:"network"`
	Fix       *current.Fixed       `json:"fix,omitempty"`
	FixError  string               `json:"fix_error,omitempty"`
	Extra     []detect.ProbeResult `json:"extra_probes,omitempty"`
	VerdictMS int64                `json:"verdict_ms"`
	ElapsedMS int64                `json:"elapsed_ms"`
	Report    *detect.Report       `json:"report"`
}

type checkNetwork struct {
	*current.NetworkView
	Check detect.Network `json:"check"`
	Error string         `json:"memory_error,omitempty"`
}

// Check runs `mailsetup check`: the verdict on the settings a mail program uses now,
// on this network, and the smallest proven change; --fix applies it.
func Check(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		from           = fs.String("from", "", "read the settings from this file or Thunderbird profile folder")
		client         = fs.String("client", "", "read the settings of this installed program: thunderbird or outlook")
		account        = fs.String("account", "", "check the account with this address")
		fix            = fs.Bool("fix", false, "apply the proven change (Thunderbird: user.js; others: an export)")
		outDir         = fs.String("out", ".", "folder for the exports --fix writes for programs other than Thunderbird")
		asJSON         = fs.Bool("json", false, "print the result as one JSON object")
		passwordStdin  = fs.Bool("password-stdin", false, "read the password from the first line of standard input")
		dns            = fs.String("dns", "", "send every DNS query to this server (HOST:PORT)")
		caFile         = fs.String("ca", "", "PEM file of extra trusted root certificates")
		timeout        = fs.Duration("timeout", 10*time.Second, "cap for each single probe")
		allowPlaintext = fs.Bool("allow-plaintext", false, "allow sending the password over unencrypted connections")
		memPath        = fs.String("networks", "", "the network memory file (default: the user's config folder)")
		noRemember     = fs.Bool("no-remember", false, "do not record this network")
		publicIP       = fs.String("public-ip", "", "ask this URL for the public address (plain text) and remember it with the network")
	)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return badInput(env, err, checkUsage)
	}
	switch {
	case len(pos) > 0:
		return badInput(env, fmt.Errorf("check takes no arguments besides flags, got %q", pos[0]), checkUsage)
	case *from != "" && *client != "":
		return badInput(env, errors.New("give --from or --client, not both"), checkUsage)
	case *timeout <= 0:
		return badInput(env, fmt.Errorf("--timeout must be positive, got %s", *timeout), checkUsage)
	}
	accts, source, notes, err := loadAccounts(*from, *client, *account)
	if err != nil {
		return badInput(env, err, "")
	}
	acct, err := pickAccount(accts, *account)
	if err != nil {
		return badInput(env, err, "")
	}
	if acct.Address == "" {
		acct.Address = *account // a source that names no address (some .reg exports)
	}
	opts := env.Base
	opts.Timeout = *timeout
	opts.AllowPlaintext = *allowPlaintext
	if *publicIP != "" {
		opts.PublicIPURL = *publicIP
	}
	if err := applyNetworkFlags(&opts, *dns, *caFile); err != nil {
		return badInput(env, err, "")
	}
	label := acct.Address
	if label == "" {
		label = acct.Label()
	}
	pw, err := readPassword(env, *passwordStdin, label)
	if err != nil {
		return badInput(env, err, "")
	}
	opts.Password = pw
	if !*asJSON {
		for _, n := range append(notes, acct.Notes...) {
			fmt.Fprintf(env.Stderr, "note: %s\n", n)
		}
	}
	req := current.Request{Account: acct, Options: opts}
	if !*asJSON {
		req.Progress = checkProgress(env.Stderr)
	}
	res, err := current.Check(ctx, req)
	if err != nil {
		return badInput(env, err, "")
	}
	out := checkOutput{Account: res.Account, Source: source, Incoming: res.Part(current.Incoming), Outgoing: res.Part(current.Outgoing),
		OK: res.OK(), Network: checkNetwork{Check: res.Network}, Extra: res.Extra, VerdictMS: res.VerdictMS, ElapsedMS: res.ElapsedMS, Report: res.Report}
	if !*noRemember {
		path := *memPath
		if path == "" {
			path, err = netmemory.DefaultPath()
		}
		if err == nil {
			out.Network.NetworkView, err = current.Remember(ctx, netmemory.Open(path), nil, res, time.Now())
		}
		if err != nil {
			out.Network.Error = err.Error()
		}
	}
	code := ExitNotFound
	if res.OK() {
		code = ExitOK
	}
	if *fix && len(res.Changes()) > 0 {
		fx, err := current.Apply(res, time.Now())
		if err == nil && len(fx.Exports) > 0 {
			err = writeExports(*outDir, fx.Exports)
		}
		if err != nil {
			out.FixError = err.Error()
			code = ExitNotFound
		} else {
			out.Fix = fx
		}
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(env.Stderr, "mailsetup: writing the result: %v\n", err)
			return ExitNotFound
		}
	} else {
		printCheck(env.Stdout, out, *fix, *outDir)
	}
	return code
}

// loadAccounts reads the accounts of a file, of one installed program, or of all.
func loadAccounts(from, client, address string) ([]clients.Account, string, []string, error) {
	switch {
	case from != "":
		o, err := current.Open(from, address)
		if err != nil {
			return nil, "", nil, err
		}
		return o.Accounts, string(o.Kind) + " " + from, o.Notes, nil
	case client != "":
		accts, notes, err := current.InstalledClient(client)
		if err == nil && len(accts) == 0 {
			err = fmt.Errorf("no %s account found for this user", client)
		}
		return accts, client, notes, err
	}
	accts, notes := current.Installed()
	if len(accts) == 0 {
		return nil, "", notes, errors.New("no Thunderbird or Outlook account found for this user; open a file with --from")
	}
	return accts, "installed mail programs", notes, nil
}

// pickAccount selects the account to check: the one with address, or the only one.
func pickAccount(accts []clients.Account, address string) (clients.Account, error) {
	if address != "" {
		m := clients.ByAddress(accts, address)
		if len(m) == 0 {
			return clients.Account{}, fmt.Errorf("no account %s here; found: %s", address, labels(accts))
		}
		return m[0], nil
	}
	if len(accts) > 1 {
		return clients.Account{}, fmt.Errorf("%d accounts found; choose one with --account: %s", len(accts), labels(accts))
	}
	return accts[0], nil
}

func labels(accts []clients.Account) string {
	var out []string
	for _, a := range accts {
		out = append(out, a.Label()+" ("+string(a.Client)+")")
	}
	return strings.Join(out, ", ")
}

func writeExports(dir string, files []current.ExportFile) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, f := range files {
		if err := writeFileAtomic(filepath.Join(dir, f.Name), f.Data); err != nil {
			return err
		}
	}
	return nil
}

// checkProgress prints the stages and the verdicts as they arrive.
func checkProgress(w io.Writer) func(current.Event) {
	var mu sync.Mutex
	return func(e current.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case e.Stage == current.StageCurrent:
			fmt.Fprintln(w, "Checking the settings you use now…")
		case e.Part != nil:
			fmt.Fprintf(w, "  %s: %s\n", e.Part.Role, e.Part.Verdict.Sentence)
		case e.Stage == current.StageMatrix:
			fmt.Fprintln(w, "Looking for the smallest change that works here…")
		}
	}
}

func settingLine(s detect.Setting) string {
	line := fmt.Sprintf("%s %s:%d %s", strings.ToUpper(string(s.Protocol)), s.Host, s.Port, detect.SecurityWords(s.Security))
	if s.Username != "" {
		line += fmt.Sprintf(", user %q", s.Username)
	}
	return line
}

func printCheck(w io.Writer, out checkOutput, fixAsked bool, outDir string) {
	fmt.Fprintf(w, "%s — %s\n", out.Account.Label(), out.Source)
	for _, p := range []*current.Part{out.Outgoing, out.Incoming} {
		if p == nil {
			continue
		}
		name := map[current.Role]string{current.Incoming: "Incoming", current.Outgoing: "Outgoing"}[p.Role]
		fmt.Fprintf(w, "\n%s  %s\n", name, settingLine(p.Current))
		mark := "✗"
		if p.Verdict.Works {
			mark = "✓"
		}
		fmt.Fprintf(w, "  %s %s\n", mark, p.Verdict.Sentence)
		if c := p.Change; c != nil {
			fmt.Fprintf(w, "  → %s\n", c.Sentence)
			var keys []string
			for _, f := range c.Fields {
				if k := p.Origin.Keys[f]; k != "" {
					keys = append(keys, k)
				}
			}
			if len(keys) > 0 {
				fmt.Fprintf(w, "    (%s in %s)\n", strings.Join(keys, ", "), p.Origin.File)
			}
		} else if !p.Verdict.Works {
			if p.Verdict.Advice != "" {
				fmt.Fprintf(w, "  What to do: %s\n", p.Verdict.Advice)
			}
			fmt.Fprintln(w, "  No change that works was proven in this run.")
		}
	}
	fmt.Fprintf(w, "\nNetwork: port 25 %s", out.Network.Check.Port25)
	if v := out.Network.NetworkView; v != nil {
		state := "new"
		if v.Known {
			state = "seen before"
		}
		if !v.Remembered {
			state = "not remembered: nothing identifies it"
		}
		name := v.Name
		if name == "" {
			name = "id " + v.ID
		}
		fmt.Fprintf(w, " — %s (%s)\n", name, state)
		for _, c := range v.Compare {
			fmt.Fprintf(w, "  %s\n", c)
		}
	} else {
		fmt.Fprintln(w)
	}
	if out.Network.Error != "" {
		fmt.Fprintf(w, "  (network memory: %s)\n", out.Network.Error)
	}
	switch {
	case out.FixError != "":
		fmt.Fprintf(w, "\nNot fixed: %s\n", out.FixError)
	case out.Fix != nil && out.Fix.Backup != nil:
		fmt.Fprintf(w, "\nFixed in %s:\n", out.Fix.Backup.UserJS)
		for _, p := range out.Fix.Prefs {
			fmt.Fprintf(w, "  user_pref(%q, %s);\n", p.Name, p.Literal)
		}
		if out.Fix.Backup.Path != "" {
			fmt.Fprintf(w, "Undo: quit Thunderbird and copy %s back to user.js.\n", out.Fix.Backup.Path)
		} else {
			fmt.Fprintf(w, "Undo: quit Thunderbird and delete %s (there was none before).\n", out.Fix.Backup.UserJS)
		}
	case out.Fix != nil:
		fmt.Fprintln(w, "\nWritten with the change (install as for any export):")
		for _, f := range out.Fix.Exports {
			fmt.Fprintf(w, "  %s\n", filepath.Join(outDir, f.Name))
		}
	case !fixAsked && hasChange(out):
		if current.Fixable(out.Account) {
			fmt.Fprintln(w, "\nRun again with --fix to write only the changed prefs into the profile's user.js (quit Thunderbird first).")
		} else {
			fmt.Fprintln(w, "\nRun again with --fix to write the settings with the change in this program's own format.")
		}
	}
	fmt.Fprintf(w, "\nVerdict after %.1f s, finished in %.1f s.\n", float64(out.VerdictMS)/1000, float64(out.ElapsedMS)/1000)
}

func hasChange(out checkOutput) bool {
	return out.Incoming != nil && out.Incoming.Change != nil || out.Outgoing != nil && out.Outgoing.Change != nil
}

// sortedNetworks orders networks for printing: named first, then most recent.
func sortedNetworks(ns []netmemory.Network) {
	sort.SliceStable(ns, func(i, j int) bool { return ns[i].LastSeen.After(ns[j].LastSeen) })
}
