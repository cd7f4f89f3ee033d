//go:build !linux && !darwin

package main

// peakResidentMB is not measured in-process here; on Windows the CI job reads the
// process's PeakWorkingSet64 instead.
func peakResidentMB() int64 { return 0 }
