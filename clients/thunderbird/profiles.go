package thunderbird

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mailsetup/mailsetup/clients"
)

// Install names how Thunderbird was installed, which decides where its profiles live.
type Install string

// The installs whose profile folders Roots knows.
const (
	Regular Install = "regular"
	Snap    Install = "snap"
	Flatpak Install = "flatpak"
)

// Root is one folder that may hold a profiles.ini.
type Root struct {
	Dir     string
	Install Install
}

// Roots lists the folders Thunderbird keeps profiles.ini in, for the OS goos, the
// user's home folder and (Windows) %APPDATA%: Linux ~/.thunderbird, the snap's
// ~/snap/thunderbird/common/.thunderbird and the flatpak's
// ~/.var/app/org.mozilla.Thunderbird/.thunderbird; Windows %APPDATA%\Thunderbird;
// macOS ~/Library/Thunderbird.
func Roots(goos, home, appData string) []Root {
	switch goos {
	case "windows":
		if appData == "" {
			appData = filepath.Join(home, "AppData", "Roaming")
		}
		return []Root{{filepath.Join(appData, "Thunderbird"), Regular}}
	case "darwin":
		return []Root{{filepath.Join(home, "Library", "Thunderbird"), Regular}}
	default:
		return []Root{
			{filepath.Join(home, ".thunderbird"), Regular},
			{filepath.Join(home, "snap", "thunderbird", "common", ".thunderbird"), Snap},
			{filepath.Join(home, ".var", "app", "org.mozilla.Thunderbird", ".thunderbird"), Flatpak},
		}
	}
}

// Profile is one profile listed in a profiles.ini.
type Profile struct {
	Name    string
	Dir     string
	Install Install
	// Default is true for the profile Thunderbird opens: the [Install…] section's
	// Default, else the [Profile…] marked Default=1.
	Default bool
}

// maxProfilesIni caps profiles.ini (a few hundred bytes in practice).
const maxProfilesIni = 1 << 20

// Profiles reads root's profiles.ini. A missing file means no profiles (nil, nil).
func Profiles(root Root) ([]Profile, error) {
	data, err := os.ReadFile(filepath.Join(root.Dir, "profiles.ini"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("thunderbird: %w", err)
	}
	if len(data) > maxProfilesIni {
		return nil, fmt.Errorf("thunderbird: %s/profiles.ini is too large", root.Dir)
	}
	sections := clients.ParseINI(data)
	installDefault := map[string]bool{}
	for _, s := range sections {
		if strings.HasPrefix(s.Name, "Install") && s.Values["Default"] != "" {
			installDefault[filepath.Clean(filepath.FromSlash(s.Values["Default"]))] = true
		}
	}
	var out []Profile
	for _, s := range sections {
		if !strings.HasPrefix(s.Name, "Profile") || s.Values["Path"] == "" {
			continue
		}
		rel := filepath.FromSlash(s.Values["Path"])
		dir := rel
		if s.Values["IsRelative"] != "0" {
			dir = filepath.Join(root.Dir, rel)
		}
		p := Profile{Name: s.Values["Name"], Dir: dir, Install: root.Install}
		if len(installDefault) > 0 {
			p.Default = installDefault[filepath.Clean(rel)]
		} else {
			p.Default = s.Values["Default"] == "1"
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Default && !out[j].Default })
	return out, nil
}

// Found is a profile with the accounts read from it.
type Found struct {
	Profile  Profile
	Accounts []clients.Account
	Notes    []string
}

// Find reads every profile under roots, the default ones first. Profiles that cannot
// be read are reported in their Notes, not as errors.
func Find(roots []Root) []Found {
	var out []Found
	for _, r := range roots {
		profs, err := Profiles(r)
		if err != nil {
			out = append(out, Found{Profile: Profile{Dir: r.Dir, Install: r.Install}, Notes: []string{err.Error()}})
			continue
		}
		for _, p := range profs {
			accts, notes, err := ReadProfile(p.Dir)
			if err != nil {
				notes = append(notes, err.Error())
			}
			out = append(out, Found{Profile: p, Accounts: accts, Notes: notes})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Profile.Default && !out[j].Profile.Default })
	return out
}
