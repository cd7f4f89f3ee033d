package cli

import (
	"context"
	"fmt"
)

// Usage lists the subcommands.
const Usage = `usage: mailsetup                      open the window
       mailsetup --demo               open the window on built-in demo servers
       mailsetup --version            print version and commit
       mailsetup probe [flags] ADDRESS find and verify an account's settings
       mailsetup netcheck [--json] [--dns HOST:PORT] [ADDRESS]
                                      what this network allows (port 25 blocked? intercepted?)
       mailsetup export --format F [--in report.json | ADDRESS] [-o FILE]
                                      settings for Apple Mail, Thunderbird, Outlook, a sheet, text
       mailsetup batch [flags] clients.csv --out DIR
                                      check and export many accounts, one matrix per domain
                                      (CSV: address[,password][,name]; the probe's network and trust flags)
       mailsetup check [--from FILE | --client thunderbird|outlook] [--account ADDRESS] [--fix] [--json]
                                      the verdict on the settings you use now, here, and the smallest proven change
       mailsetup networks [--json] [--name ID NAME] [--forget ID]
                                      the networks checked before (no secrets kept)
       mailsetup help                 this text`

// Commands maps subcommand names to their functions.
var Commands = map[string]func(context.Context, []string, Env) int{
	"probe":    Probe,
	"netcheck": Netcheck,
	"export":   Export,
	"batch":    Batch,
	"check":    Check,
	"networks": Networks,
}

// IsCommand reports whether name is a headless subcommand.
func IsCommand(name string) bool {
	_, ok := Commands[name]
	return ok || name == "help" || name == "-h" || name == "--help"
}

// Main runs the subcommand named by args[0].
func Main(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, Usage)
		return ExitBadInput
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprintln(env.Stdout, Usage)
		return ExitOK
	}
	cmd, ok := Commands[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "mailsetup: unknown command %q\n%s\n", args[0], Usage)
		return ExitBadInput
	}
	return cmd(ctx, args[1:], env)
}
