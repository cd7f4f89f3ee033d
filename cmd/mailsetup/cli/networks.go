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

	"github.com/mailsetup/mailsetup/netmemory"
)

const networksUsage = `usage: mailsetup networks [--json] [--name ID NAME] [--forget ID] [--networks FILE]`

// Networks runs `mailsetup networks`: lists the remembered networks, names or forgets one.
func Networks(_ context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("networks", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print the networks as JSON")
	name := fs.String("name", "", "give the network with this id a name (the name follows)")
	forget := fs.String("forget", "", "forget the network with this id")
	memPath := fs.String("networks", "", "the network memory file (default: the user's config folder)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return badInput(env, err, networksUsage)
	}
	switch {
	case *name != "" && len(pos) != 1:
		return badInput(env, errors.New("--name ID needs the NAME after it"), networksUsage)
	case *name == "" && len(pos) > 0:
		return badInput(env, fmt.Errorf("unexpected %q", pos[0]), networksUsage)
	case *name != "" && *forget != "":
		return badInput(env, errors.New("--name and --forget do not go together"), networksUsage)
	}
	path := *memPath
	if path == "" {
		if path, err = netmemory.DefaultPath(); err != nil {
			return badInput(env, err, "")
		}
	}
	store := netmemory.Open(path)
	switch {
	case *name != "":
		if err := store.Name(*name, pos[0]); err != nil {
			return badInput(env, err, "")
		}
		fmt.Fprintf(env.Stdout, "Network %s is now called %q.\n", *name, strings.TrimSpace(pos[0]))
		return ExitOK
	case *forget != "":
		if err := store.Forget(*forget); err != nil {
			return badInput(env, err, "")
		}
		fmt.Fprintf(env.Stdout, "Network %s forgotten.\n", *forget)
		return ExitOK
	}
	ns, err := store.List()
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailsetup: %v\n", err)
		return ExitNotFound
	}
	if *asJSON {
		if ns == nil {
			ns = []netmemory.Network{}
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(ns)
		return ExitOK
	}
	if len(ns) == 0 {
		fmt.Fprintf(env.Stdout, "No networks remembered yet (%s).\n", path)
		return ExitOK
	}
	sortedNetworks(ns)
	for _, n := range ns {
		last := n.Last()
		fmt.Fprintf(env.Stdout, "%s  %s\n", n.ID, n.Label())
		fp := n.Fingerprint
		var facts []string
		if fp.WiFi != "" {
			facts = append(facts, "Wi-Fi "+fp.WiFi)
		}
		if fp.Gateway != "" {
			g := "gateway " + fp.Gateway
			if fp.GatewayMAC != "" {
				g += " (" + fp.GatewayMAC + ")"
			}
			facts = append(facts, g)
		}
		if len(fp.DNS) > 0 {
			facts = append(facts, "DNS "+strings.Join(fp.DNS, " "))
		}
		if fp.PublicIP != "" {
			facts = append(facts, "public "+fp.PublicIP)
		}
		fmt.Fprintf(env.Stdout, "    %s\n", strings.Join(facts, ", "))
		fmt.Fprintf(env.Stdout, "    last checked %s (%d visits): port 25 %s", last.At.Format("2006-01-02 15:04"), len(n.Visits), last.Port25)
		var worked, failed []string
		for _, o := range last.Outcomes {
			s := fmt.Sprintf("%s %s:%d", strings.ToUpper(string(o.Protocol)), o.Host, o.Port)
			if o.Worked {
				worked = append(worked, s)
			} else {
				failed = append(failed, s)
			}
		}
		sort.Strings(worked)
		sort.Strings(failed)
		if len(worked) > 0 {
			fmt.Fprintf(env.Stdout, "; worked: %s", strings.Join(worked, ", "))
		}
		if len(failed) > 0 {
			fmt.Fprintf(env.Stdout, "; failed: %s", strings.Join(failed, ", "))
		}
		fmt.Fprintln(env.Stdout)
	}
	return ExitOK
}
