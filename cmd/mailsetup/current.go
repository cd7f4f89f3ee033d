package main

import (
	"context"
	"os"
	"time"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/clients/current"
	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/gui"
	"github.com/mailsetup/mailsetup/netmemory"
)

// currentConfig wires the window's "Check the settings I use now" screen to the
// readers in clients/current and the network memory. In demo mode nothing is
// remembered unless MAILSETUP_NETWORKS_FILE names a memory file (the real one would
// otherwise record the demo's results for this network). MAILSETUP_CURRENT_FILE opens
// the screen at start with that file's accounts, and MAILSETUP_CURRENT_CHECK=1 checks
// the first one at once (unattended runs and screenshots).
func currentConfig(base detect.Options, demo bool) gui.CurrentConfig {
	memPath := os.Getenv("MAILSETUP_NETWORKS_FILE")
	if memPath == "" && !demo {
		memPath, _ = netmemory.DefaultPath()
	}
	return gui.CurrentConfig{
		Find: current.Installed,
		Open: func(path string) ([]clients.Account, []string, error) {
			o, err := current.Open(path, "")
			if err != nil {
				return nil, nil, err
			}
			return o.Accounts, o.Notes, nil
		},
		Check: func(ctx context.Context, acct clients.Account, password string, progress func(current.Event)) (*current.Result, *current.NetworkView, error) {
			opts := base
			opts.Password = password
			res, err := current.Check(ctx, current.Request{Account: acct, Options: opts, Progress: progress})
			if err != nil || memPath == "" {
				return res, nil, err
			}
			view, err := current.Remember(ctx, netmemory.Open(memPath), nil, res, time.Now())
			if err != nil {
				view = nil // the check stands; only the memory failed
			}
			return res, view, nil
		},
		Fix:        func(res *current.Result) (*current.Fixed, error) { return current.Apply(res, time.Now()) },
		Undo:       current.Undo,
		StartFile:  os.Getenv("MAILSETUP_CURRENT_FILE"),
		StartCheck: os.Getenv("MAILSETUP_CURRENT_CHECK") == "1",
	}
}
