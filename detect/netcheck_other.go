//go:build !linux && !darwin && !windows

package detect

import (
	"context"
	"errors"
)

func systemDNS(context.Context) ([]string, error) {
	return nil, errors.New("not read on this system")
}

func defaultGateway() string { return "" }
