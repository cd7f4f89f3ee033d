//go:build !windows

package outlook

import (
	"errors"

	"github.com/mailsetup/mailsetup/clients"
)

// ErrNoRegistry says this system has no Windows registry; open a .reg export instead.
var ErrNoRegistry = errors.New("outlook: the Windows registry exists only on Windows; open a .reg export of it instead")

// FromRegistry reads Outlook's accounts on Windows; elsewhere it returns ErrNoRegistry.
func FromRegistry() ([]clients.Account, []string, error) { return nil, nil, ErrNoRegistry }
