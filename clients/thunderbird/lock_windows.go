package thunderbird

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// Running reports whether a Thunderbird holds the profile. On Windows Thunderbird
// keeps parent.lock open without sharing for as long as it runs (and never deletes
// it), so opening it fails with a sharing violation exactly while it runs.
func Running(profile string) (bool, string, error) {
	f, err := os.OpenFile(filepath.Join(profile, "parent.lock"), os.O_RDWR, 0)
	if err == nil {
		f.Close()
		return false, "", nil
	}
	if errors.Is(err, os.ErrNotExist) {
		return false, "", nil
	}
	if errors.Is(err, windows.ERROR_SHARING_VIOLATION) || errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return true, "Thunderbird holds the profile lock (parent.lock)", nil
	}
	return false, "", err
}
