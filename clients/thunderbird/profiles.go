package thunderbird

import (
	"bufio"
	"bytes"
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
	sections := parseINI(data)
	installDefault := map[string]bool{}
	for _, s := range sections {
		if strings.HasPrefix(s.name, "Install") && s.kv["Default"] != "" {
			installDefault[filepath.Clean(filepath.FromSlash(s.kv["Default"]))] = true
		}
	}
	var out []Profile
	for _, s := range sections {
		if !strings.HasPrefix(s.name, "Profile") || s.kv["Path"] == "" {
			continue
		}
		rel := filepath.FromSlash(s.kv["Path"])
		dir := rel
		if s.kv["IsRelative"] != "0" {
			dir = filepath.Join(root.Dir, rel)
		}
		p := Profile{Name: s.kv["Name"], Dir: dir, Install: root.Install}
		if len(installDefault) > 0 {
			p.Default = installDefault[filepath.Clean(rel)]
		} else {
			p.Default = s.kv["Default"] == "1"
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Default && !out[j].Default })
	return out, nil
}

type iniSection struct {
	name string
	kv   map[string]string
}

// parseINI reads the simple INI dialect of profiles.ini and PRF files: [sections],
// key=value lines, ; and # comments.
func parseINI(data []byte) []iniSection {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var out []iniSection
	s := bufio.NewScanner(bytes.NewReader(data))
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		switch {
		case line == "" || line[0] == ';' || line[0] == '#':
		case line[0] == '[' && strings.HasSuffix(line, "]"):
			out = append(out, iniSection{name: strings.TrimSpace(line[1 : len(line)-1]), kv: map[string]string{}})
		case len(out) > 0:
			if k, v, ok := strings.Cut(line, "="); ok {
				out[len(out)-1].kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return out
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
