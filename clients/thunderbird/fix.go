package thunderbird

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/detect"
)

// ErrRunning says Thunderbird has the profile open, so nothing was written.
var ErrRunning = errors.New("thunderbird: Thunderbird is running; quit it first")

// ErrChangedSince says user.js changed after the fix, so undo would lose those changes.
var ErrChangedSince = errors.New("thunderbird: user.js changed since the fix; not undone")

// PrefChange is one preference to set in user.js.
type PrefChange struct {
	Name  string `json:"name"`
	Value Value  `json:"-"`
	// Literal is the value as user.js spells it (587, "host", true).
	Literal string `json:"value"`
}

// intPref and strPref build PrefChanges.
func intPref(name string, v int) PrefChange {
	return PrefChange{Name: name, Value: Value{Kind: Int, Int: v}, Literal: strconv.Itoa(v)}
}

func strPref(name, v string) PrefChange {
	return PrefChange{Name: name, Value: Value{Kind: String, Str: v}, Literal: Quote(v)}
}

// PrefsFor lists the prefs that turn setting from into setting to for the server whose
// keys origin names: only the fields that differ, under that server's own branch.
func PrefsFor(origin clients.Origin, from, to detect.Setting) ([]PrefChange, error) {
	hostKey := origin.Keys[clients.FieldHost]
	if !strings.HasSuffix(hostKey, ".hostname") {
		return nil, fmt.Errorf("thunderbird: no server branch in %q", hostKey)
	}
	branch := strings.TrimSuffix(hostKey, "hostname")
	smtp := strings.HasPrefix(branch, "mail.smtpserver.")
	if smtp != (to.Protocol == detect.SMTP) || from.Protocol != to.Protocol {
		return nil, fmt.Errorf("thunderbird: cannot turn a %s server into %s", from.Protocol, to.Protocol)
	}
	var out []PrefChange
	if !strings.EqualFold(from.Host, to.Host) {
		out = append(out, strPref(branch+"hostname", to.Host))
	}
	if from.Port != to.Port || from.Security != to.Security {
		// The port is written whenever the security changes too: an unset port follows
		// the socket type, and an explicit one makes the result independent of that.
		out = append(out, intPref(branch+"port", to.Port))
	}
	if from.Security != to.Security {
		name := branch + "socketType"
		if smtp {
			name = branch + "try_ssl"
		}
		out = append(out, intPref(name, SocketType(to.Security)))
	}
	if to.Auth != "" && AuthMethod(from.Auth) != AuthMethod(to.Auth) {
		out = append(out, intPref(branch+"authMethod", AuthMethod(to.Auth)))
	}
	if to.Username != "" && from.Username != to.Username {
		name := branch + "userName"
		if smtp {
			name = branch + "username"
		}
		out = append(out, strPref(name, to.Username))
	}
	return out, nil
}

// Backup is what Fix saved, enough to undo it.
type Backup struct {
	Profile string `json:"profile"`
	// UserJS is the file Fix wrote.
	UserJS string `json:"user_js"`
	// Path is the copy of the former user.js; empty when there was none.
	Path string `json:"backup"`
	// Written is the SHA-256 of the user.js Fix wrote (undo refuses if it changed since).
	Written string       `json:"written_sha256"`
	Changes []PrefChange `json:"changes"`
}

// Fix writes changes into the profile's user.js while Thunderbird is not running:
// lines of user.js that set one of the same prefs are replaced, a comment says what
// and why, the former user.js is kept as user.js.mailsetup-YYYYMMDD-HHMMSS.bak, and
// the new file is written atomically with the former file's mode (or prefs.js's).
func Fix(profile string, changes []PrefChange, why string, now time.Time) (*Backup, error) {
	if len(changes) == 0 {
		return nil, errors.New("thunderbird: nothing to change")
	}
	running, reason, err := Running(profile)
	if err != nil {
		return nil, fmt.Errorf("thunderbird: checking the profile lock: %w", err)
	}
	if running {
		return nil, fmt.Errorf("%w (%s)", ErrRunning, reason)
	}
	userJS := filepath.Join(profile, "user.js")
	old, err := os.ReadFile(userJS)
	existed := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("thunderbird: %w", err)
	}
	mode := os.FileMode(0o600)
	if st, err := os.Stat(userJS); err == nil {
		mode = st.Mode().Perm()
	} else if st, err := os.Stat(filepath.Join(profile, "prefs.js")); err == nil {
		mode = st.Mode().Perm()
	}
	b := &Backup{Profile: profile, UserJS: userJS, Changes: changes}
	if existed {
		b.Path = filepath.Join(profile, "user.js.mailsetup-"+now.Format("20060102-150405")+".bak")
		if err := writeAtomic(b.Path, old, mode); err != nil {
			return nil, err
		}
	}
	data := editUserJS(old, changes, why, now)
	if err := writeAtomic(userJS, data, mode); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	b.Written = fmt.Sprintf("%x", sum)
	return b, nil
}

// editUserJS drops the single-line statements that set one of the changed prefs and
// appends the new values under a comment.
func editUserJS(old []byte, changes []PrefChange, why string, now time.Time) []byte {
	names := map[string]bool{}
	for _, c := range changes {
		names[c.Name] = true
	}
	var out bytes.Buffer
	for _, line := range strings.SplitAfter(string(old), "\n") {
		if line == "" {
			continue
		}
		prefs, errs := ParsePrefs([]byte(line))
		if len(errs) == 0 && len(prefs) == 1 && names[prefs[0].Name] {
			continue
		}
		out.WriteString(line)
	}
	if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
		out.WriteByte('\n')
	}
	why = strings.Map(func(r rune) rune {
		if r < 0x20 {
			return ' '
		}
		return r
	}, why)
	fmt.Fprintf(&out, "// Mail Setup Assistant, %s: %s\n", now.Format("2006-01-02 15:04"), why)
	for _, c := range changes {
		fmt.Fprintf(&out, "user_pref(%s, %s);\n", Quote(c.Name), c.Literal)
	}
	return out.Bytes()
}

// Undo restores the user.js that Fix replaced (or removes the one it created), only
// while Thunderbird is not running and only if user.js is still what Fix wrote.
func Undo(b Backup) error {
	running, reason, err := Running(b.Profile)
	if err != nil {
		return fmt.Errorf("thunderbird: checking the profile lock: %w", err)
	}
	if running {
		return fmt.Errorf("%w (%s)", ErrRunning, reason)
	}
	cur, err := os.ReadFile(b.UserJS)
	if err != nil {
		return fmt.Errorf("thunderbird: undo: %w", err)
	}
	if fmt.Sprintf("%x", sha256.Sum256(cur)) != b.Written {
		return ErrChangedSince
	}
	if b.Path == "" {
		if err := os.Remove(b.UserJS); err != nil {
			return fmt.Errorf("thunderbird: undo: %w", err)
		}
		return nil
	}
	old, err := os.ReadFile(b.Path)
	if err != nil {
		return fmt.Errorf("thunderbird: undo: %w", err)
	}
	mode := os.FileMode(0o600)
	if st, err := os.Stat(b.UserJS); err == nil {
		mode = st.Mode().Perm()
	}
	if err := writeAtomic(b.UserJS, old, mode); err != nil {
		return err
	}
	return os.Remove(b.Path)
}

// writeAtomic writes data to path through a temporary file in the same folder.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("thunderbird: write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("thunderbird: write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("thunderbird: write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("thunderbird: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("thunderbird: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("thunderbird: write %s: %w", path, err)
	}
	return nil
}
