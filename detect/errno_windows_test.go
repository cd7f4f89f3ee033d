package detect

import (
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/windows"
)

// TestClassifyWindowsSocketErrors: a Windows socket error reads as what it means, as
// the same event does on Linux (make windows-smoke runs this under wine).
func TestClassifyWindowsSocketErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		step string
		err  syscall.Errno
		want Kind
	}{
		{"connect", windows.WSAECONNREFUSED, KindRefused},
		{"connect", windows.WSAENETUNREACH, KindUnreachable},
		{"connect", windows.WSAEHOSTUNREACH, KindUnreachable},
		{"connect", windows.WSAEADDRNOTAVAIL, KindUnreachable},
		{"connect", windows.WSAENETDOWN, KindUnreachable},
		{"greeting", windows.WSAECONNRESET, KindProtocol},
		{"greeting", windows.WSAECONNABORTED, KindProtocol},
		{"tls", windows.WSAECONNRESET, KindTLSHandshake},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.step, tt.err), func(t *testing.T) {
			t.Parallel()
			err := fmt.Errorf("smtp example.test:25: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connectex", tt.err)})
			if got := Classify(tt.step, err).Kind; got != tt.want {
				t.Errorf("Classify(%s, %v) = %s, want %s", tt.step, err, got, tt.want)
			}
		})
	}
}

// TestDialErrorPrefersRefusedOnWindows: of several addresses, the refused one explains
// the failure (the port is closed), not the one that timed out.
func TestDialErrorPrefersRefusedOnWindows(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connectex", windows.WSAECONNREFUSED)}
	e := &DialError{Address: "example.test:25", Attempts: []AttemptError{
		{IP: "192.0.2.1", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connectex", windows.WSAEHOSTUNREACH)}},
		{IP: "192.0.2.2", Err: refused},
	}}
	if got := e.Unwrap(); got != refused {
		t.Errorf("Unwrap = %v, want the refused attempt", got)
	}
}
