// Package locale replaces the "C"/"POSIX" locale with en_US.UTF-8 before Fyne reads it:
// Fyne cannot parse "C" and logs an error on every start, which would also clutter the
// command line's output. Imported first by main; Go initialises it before Fyne's lang
// package because it has no dependencies of its own beyond os.
package locale

import "os"

func init() {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		switch v := os.Getenv(k); v {
		case "C", "POSIX", "C.UTF-8", "C.utf8", "C.UTF8":
			_ = os.Setenv(k, "en_US.UTF-8")
		}
	}
}
