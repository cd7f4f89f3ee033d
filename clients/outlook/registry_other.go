//go:build !windows

package outlook

import "github.com/mailsetup/mailsetup/clients"

// FromRegistry reads Outlook's accounts on Windows; elsewhere it returns ErrNoRegistry.
func FromRegistry() ([]clients.Account, []string, error) { return nil, nil, ErrNoRegistry }
