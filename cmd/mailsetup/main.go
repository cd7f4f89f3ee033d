// Command mailsetup is Mail Setup Assistant: without arguments it opens the window;
// with a subcommand (probe, netcheck, export, batch) it works headless.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"

	"golang.org/x/term"

	// First, so the locale is fixed before Fyne's lang package reads it.
	"github.com/mailsetup/mailsetup/cmd/mailsetup/internal/locale"

	"github.com/mailsetup/mailsetup/cmd/mailsetup/cli"
	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/knowledge"
	"github.com/mailsetup/mailsetup/i18n"
)

// version and commit are set at build time with -ldflags -X.
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	if commit == "unknown" {
		commit = vcsRevision()
	}
	detect.Version = version
	db, err := knowledge.Load()
	if err != nil {
		fmt.Fprintf(os.Stderr, "mailsetup: provider knowledge: %v\n", err)
		os.Exit(cli.ExitBadInput)
	}
	args := os.Args[1:]
	if len(args) > 0 && (args[0] == "--version" || args[0] == "version") {
		fmt.Printf("mailsetup %s (commit %s)\n", version, commit)
		return
	}
	if len(args) > 0 && cli.IsCommand(args[0]) {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		env := cli.Env{
			Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
			StdinIsTerminal: term.IsTerminal(int(os.Stdin.Fd())),
			ReadPassword: func() (string, error) {
				b, err := term.ReadPassword(int(os.Stdin.Fd()))
				return string(b), err
			},
			Base: detect.Options{Providers: db},
			// The sheet and the text export follow the environment's language; the JSON
			// and the other output stay English.
			Language: i18n.Match(locale.Locales()...),
		}
		os.Exit(cli.Main(ctx, args, env))
	}
	runWindow(args, db)
}

// vcsRevision is the commit the Go toolchain recorded, for builds without -ldflags.
func vcsRevision() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 7 {
				return s.Value[:7]
			}
		}
	}
	return "unknown"
}
