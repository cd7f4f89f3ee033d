// Package locale replaces the "C"/"POSIX" locale with en_US.UTF-8 before Fyne reads it:
// Fyne cannot parse "C" and logs an error on every start, which would also clutter the
// command line's output. Imported first by main; it has no dependencies of its own
// beyond os and strings. Locales tells the command line which language the user's
// environment asks for (the window asks Fyne, gui/lang.go).
package locale

import (
	"os"
	"strings"
)

func init() {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		switch v := os.Getenv(k); v {
		case "C", "POSIX", "C.UTF-8", "C.utf8", "C.UTF8":
			_ = os.Setenv(k, "en_US.UTF-8")
		}
	}
}

// Locales lists the locales the environment asks for, most wanted first, as gettext
// reads them: LANGUAGE (a colon-separated list) unless the locale is C, then the first
// of LC_ALL, LC_MESSAGES and LANG that is set.
func Locales() []string {
	var primary string
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if primary = os.Getenv(k); primary != "" {
			break
		}
	}
	var out []string
	if v := os.Getenv("LANGUAGE"); v != "" && primary != "C" && primary != "POSIX" {
		for _, l := range strings.Split(v, ":") {
			if l != "" {
				out = append(out, l)
			}
		}
	}
	if primary != "" {
		out = append(out, primary)
	}
	return out
}
