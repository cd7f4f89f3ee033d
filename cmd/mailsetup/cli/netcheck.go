package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/mailsetup/mailsetup/detect"
)

const netcheckUsage = `usage: mailsetup netcheck [--json] [--dns HOST:PORT] [ADDRESS]`

// Netcheck runs `mailsetup netcheck`: the network section alone. With ADDRESS, the
// account's outgoing servers join the reference hosts as targets.
func Netcheck(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("netcheck", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print the network section as JSON")
	dns := fs.String("dns", "", "send every DNS query to this server (HOST:PORT)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return badInput(env, err, netcheckUsage)
	}
	if len(pos) > 1 {
		return badInput(env, errors.New("netcheck takes at most one ADDRESS"), netcheckUsage)
	}
	opts := env.Base
	if err := applyNetworkFlags(&opts, *dns, ""); err != nil {
		return badInput(env, err, "")
	}
	var targets []string
	if len(pos) == 1 {
		addr, err := detect.ParseAddress(pos[0])
		if err != nil {
			return badInput(env, err, "")
		}
		_, cands, _ := opts.Discover(ctx, addr)
		seen := map[string]bool{}
		for _, c := range cands {
			if c.Protocol == detect.SMTP && !seen[c.Host] && len(targets) < 3 {
				seen[c.Host] = true
				targets = append(targets, c.Host)
			}
		}
	}
	n := opts.CheckNetwork(ctx, targets)
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(n)
	} else {
		PrintNetwork(env.Stdout, n)
	}
	return ExitOK
}

// PrintNetwork writes the network section in plain words.
func PrintNetwork(w io.Writer, n detect.Network) {
	fmt.Fprintf(w, "Port 25: %s\n", strings.ToUpper(string(n.Port25)))
	for _, e := range n.Port25Evidence {
		fmt.Fprintf(w, "  - %s\n", e)
	}
	ports := make([]string, 0, len(n.Outbound))
	for p := range n.Outbound {
		ports = append(ports, p)
	}
	sort.Slice(ports, func(i, j int) bool {
		return len(ports[i]) < len(ports[j]) || len(ports[i]) == len(ports[j]) && ports[i] < ports[j]
	})
	fmt.Fprintln(w, "Outbound ports:")
	for _, p := range ports {
		fmt.Fprintf(w, "  %-5s %s\n", p, n.Outbound[p])
	}
	captive := "unknown"
	if n.CaptivePortal != nil {
		captive = map[bool]string{true: "YES — sign in on a web page first", false: "no"}[*n.CaptivePortal]
	}
	fmt.Fprintf(w, "Captive portal: %s\n", captive)
	fmt.Fprintf(w, "Local addresses: %s\n", strings.Join(n.LocalAddresses, ", "))
	fmt.Fprintf(w, "DNS servers: %s\n", strings.Join(n.DNSServers, ", "))
	fmt.Fprintf(w, "IPv6: %s\n", n.IPv6)
	if n.PublicIP != "" {
		fmt.Fprintf(w, "Public address: %s\n", n.PublicIP)
	}
	for _, a := range n.Advice {
		fmt.Fprintf(w, "\n%s\n", a)
	}
	fmt.Fprintf(w, "\n(%d ms)\n", n.ElapsedMS)
}
