package main

import (
	"fmt"
	"os"

	"github.com/mailsetup/mailsetup/cmd/mailsetup/cli"
	"github.com/mailsetup/mailsetup/detect"
)

// runWindow opens the GUI (wired when the gui package lands).
func runWindow(args []string, db *detect.ProviderDB) {
	fmt.Fprintln(os.Stderr, cli.Usage)
	os.Exit(cli.ExitBadInput)
}
