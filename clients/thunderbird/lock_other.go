//go:build !unix && !windows

package thunderbird

import "errors"

// Running cannot tell on this system, so a fix is refused.
func Running(string) (bool, string, error) {
	return false, "", errors.New("thunderbird: cannot tell whether Thunderbird is running on this system")
}
