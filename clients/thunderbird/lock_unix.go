//go:build unix

package thunderbird

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Running reports whether a Thunderbird holds the profile, and why. On Linux and
// macOS Thunderbird takes an fcntl write lock on .parentlock for as long as it runs
// (the file itself stays after exit); on Linux it also makes a symlink named lock
// whose target is "ADDRESS:+PID" ('+' when it also holds the fcntl lock). As in
// Mozilla's nsProfileLock: a held fcntl lock means running; a "+" symlink without
// that lock is stale; an old-style "ADDRESS:PID" symlink counts while that process lives.
func Running(profile string) (bool, string, error) {
	held, err := fcntlLocked(filepath.Join(profile, ".parentlock"))
	if err != nil {
		return false, "", err
	}
	if held {
		return true, "Thunderbird holds the profile lock (.parentlock)", nil
	}
	target, err := os.Readlink(filepath.Join(profile, "lock"))
	if errors.Is(err, os.ErrNotExist) {
		return false, "", nil
	}
	if err != nil {
		return false, "", nil // a regular file named lock is not Thunderbird's
	}
	_, pidPart, ok := strings.Cut(target, ":")
	if !ok || strings.HasPrefix(pidPart, "+") {
		return false, "", nil
	}
	pid, err := strconv.Atoi(pidPart)
	if err != nil || pid <= 0 {
		return false, "", nil
	}
	if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
		return true, "the profile's lock names process " + pidPart + ", which is running", nil
	}
	return false, "", nil
}

// fcntlLocked reports whether another process holds an fcntl lock on path.
func fcntlLocked(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	if err := unix.FcntlFlock(f.Fd(), unix.F_GETLK, &lk); err != nil {
		return false, nil // the file system does not support fcntl locks: no verdict from it
	}
	return lk.Type != unix.F_UNLCK, nil
}
