package thunderbird

import (
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// holdLock takes an open-file-description write lock on path, which conflicts with the
// classic fcntl lock test Running makes (as Thunderbird's lock would), even from this
// same process.
func holdLock(t *testing.T, path string) func() {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
		f.Close()
		t.Fatal(err)
	}
	return func() { f.Close() }
}

// deadPID returns the PID of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}
