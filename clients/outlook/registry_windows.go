package outlook

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"

	"github.com/mailsetup/mailsetup/clients"
)

// FromRegistry reads the accounts of every Outlook 16.0 profile of the current user.
func FromRegistry() ([]clients.Account, []string, error) {
	root, err := registry.OpenKey(registry.CURRENT_USER, ProfilesPath, registry.ENUMERATE_SUB_KEYS)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("outlook: open %s: %w", ProfilesPath, err)
	}
	defer root.Close()
	profiles, err := root.ReadSubKeyNames(-1)
	if err != nil {
		return nil, nil, fmt.Errorf("outlook: list profiles: %w", err)
	}
	var keys []Key
	var notes []string
	for _, prof := range profiles {
		base := ProfilesPath + `\` + prof + `\` + AccountsKeyGUID
		ak, err := registry.OpenKey(registry.CURRENT_USER, base, registry.ENUMERATE_SUB_KEYS)
		if err != nil {
			continue // a profile without internet accounts
		}
		names, err := ak.ReadSubKeyNames(-1)
		ak.Close()
		if err != nil {
			notes = append(notes, fmt.Sprintf("profile %s: %v", prof, err))
			continue
		}
		for _, n := range names {
			k, err := readKey(base + `\` + n)
			if err != nil {
				notes = append(notes, fmt.Sprintf("profile %s account %s: %v", prof, n, err))
				continue
			}
			keys = append(keys, k)
		}
	}
	accts, problems := Accounts(keys, "")
	return accts, append(notes, problems...), nil
}

// readKey reads the values of one account key (never the password values).
func readKey(path string) (Key, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, path, registry.QUERY_VALUE)
	if err != nil {
		return Key{}, err
	}
	defer k.Close()
	names, err := k.ReadValueNames(-1)
	if err != nil {
		return Key{}, err
	}
	out := Key{Path: `HKEY_CURRENT_USER\` + path, Values: map[string]Value{}}
	for _, n := range names {
		if isSecretValue(n) {
			continue
		}
		buf := make([]byte, 1024)
		size, typ, err := k.GetValue(n, buf)
		if errors.Is(err, registry.ErrShortBuffer) || size > len(buf) {
			buf = make([]byte, size)
			size, typ, err = k.GetValue(n, buf)
		}
		if err != nil {
			continue
		}
		out.Values[n] = Value{Type: typ, Data: buf[:size]}
	}
	return out, nil
}
