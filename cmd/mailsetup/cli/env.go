// Package cli holds the headless subcommands of mailsetup (probe, netcheck, export,
// batch). It imports no GUI code, so it builds and tests without GL headers.
package cli

import (
	"io"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/oauth"
)

// Env is what a subcommand may touch: its streams, whether stdin is a terminal, and
// the engine options tests inject (fake dialer/resolver); the zero Options is real.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// StdinIsTerminal enables the hidden password prompt.
	StdinIsTerminal bool
	// ReadPassword reads a password without echo (nil: term.ReadPassword on stdin).
	ReadPassword func() (string, error)
	// Base holds injected engine options (Dialer, Resolver, Providers …).
	Base detect.Options
	// OpenBrowser and ShowCode show an OAuth2 sign-in (nil: print the address or the code
	// on Stderr); tests play the browser here.
	OpenBrowser func(url string) error
	ShowCode    func(oauth.DeviceCode) error
	// OAuth is the OAuth2 package's environment (config folder, environment variables).
	OAuth oauth.Options
	// Language is the language of the settings sheet and the text export (an i18n code;
	// main takes it from LANGUAGE, LC_ALL, LC_MESSAGES or LANG); "" is English. The JSON
	// and the other human output stay English.
	Language string
}

// Exit codes shared by all subcommands.
const (
	ExitOK       = 0
	ExitNotFound = 1
	ExitBadInput = 2
)
