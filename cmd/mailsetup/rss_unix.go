//go:build linux || darwin

package main

import (
	"runtime"
	"syscall"
)

// peakResidentMB returns the most memory the process has had resident so far.
func peakResidentMB() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return ru.Maxrss >> 20 // bytes
	}
	return ru.Maxrss >> 10 // KiB
}
