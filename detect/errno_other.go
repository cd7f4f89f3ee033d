//go:build !windows

package detect

import "syscall"

// Socket errors grouped by what they mean for a probe; Windows reports the same events
// with its own WSA codes (errno_windows.go), which syscall.ECONNREFUSED & co. do not match.
var (
	errnoRefused     = []error{syscall.ECONNREFUSED}
	errnoUnreachable = []error{syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.EADDRNOTAVAIL, syscall.ENETDOWN}
	errnoReset       = []error{syscall.ECONNRESET, syscall.EPIPE}
)
