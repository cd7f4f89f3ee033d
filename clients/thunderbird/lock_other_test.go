//go:build !linux

package thunderbird

import "testing"

func holdLock(t *testing.T, _ string) func() { t.Skip("needs Linux OFD locks"); return nil }

func deadPID(t *testing.T) int { t.Skip("needs Linux"); return 0 }
