package detect

import (
	"syscall"

	"golang.org/x/sys/windows"
)

// Socket errors grouped by what they mean for a probe. Windows sockets fail with WSA
// codes (a refused connect is WSAECONNREFUSED, 10061), which syscall.ECONNREFUSED does
// not match; without these a closed port read as "unreachable" on Windows (found by
// make windows-smoke, which compares the Windows build's reports with Linux's).
var (
	errnoRefused     = []error{syscall.ECONNREFUSED, windows.WSAECONNREFUSED}
	errnoUnreachable = []error{syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.EADDRNOTAVAIL, syscall.ENETDOWN,
		windows.WSAENETUNREACH, windows.WSAEHOSTUNREACH, windows.WSAEADDRNOTAVAIL, windows.WSAENETDOWN}
	errnoReset = []error{syscall.ECONNRESET, syscall.EPIPE,
		windows.WSAECONNRESET, windows.WSAECONNABORTED, windows.WSAESHUTDOWN, windows.WSAENETRESET}
)
