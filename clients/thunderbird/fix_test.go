package thunderbird

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/detect"
)

func TestPrefsFor(t *testing.T) {
	t.Parallel()
	smtpOrigin := clients.Origin{Keys: map[clients.Field]string{clients.FieldHost: "mail.smtpserver.smtp1.hostname"}}
	imapOrigin := clients.Origin{Keys: map[clients.Field]string{clients.FieldHost: "mail.server.server2.hostname"}}
	cur := detect.Setting{Protocol: detect.SMTP, Host: "smtp.example.test", Port: 25, Security: detect.SecurityStartTLS, Auth: "password-cleartext", Username: "a"}
	tests := []struct {
		name   string
		origin clients.Origin
		from   detect.Setting
		to     func(detect.Setting) detect.Setting
		want   []string
	}{
		{"port only", smtpOrigin, cur, func(s detect.Setting) detect.Setting { s.Port = 587; return s }, []string{"mail.smtpserver.smtp1.port=587"}},
		{"port and security", smtpOrigin, cur, func(s detect.Setting) detect.Setting { s.Port, s.Security = 465, detect.SecurityTLS; return s },
			[]string{"mail.smtpserver.smtp1.port=465", "mail.smtpserver.smtp1.try_ssl=3"}},
		{"host", smtpOrigin, cur, func(s detect.Setting) detect.Setting { s.Host = "mail.example.test"; return s }, []string{`mail.smtpserver.smtp1.hostname="mail.example.test"`}},
		{"mechanism name means the same method", smtpOrigin, cur, func(s detect.Setting) detect.Setting { s.Auth = "PLAIN"; return s }, nil},
		{"encrypted password", smtpOrigin, cur, func(s detect.Setting) detect.Setting { s.Auth = "CRAM-MD5"; return s }, []string{"mail.smtpserver.smtp1.authMethod=4"}},
		{"incoming security", imapOrigin, detect.Setting{Protocol: detect.IMAP, Host: "i", Port: 143, Security: detect.SecurityNone, Username: "u"},
			func(s detect.Setting) detect.Setting { s.Security = detect.SecurityStartTLS; return s },
			[]string{"mail.server.server2.port=143", "mail.server.server2.socketType=2"}},
		{"incoming user name", imapOrigin, detect.Setting{Protocol: detect.IMAP, Host: "i", Port: 993, Security: detect.SecurityTLS, Username: "u"},
			func(s detect.Setting) detect.Setting { s.Username = "u@x.test"; return s }, []string{`mail.server.server2.userName="u@x.test"`}},
	}
	for _, tt := range tests {
		got, err := PrefsFor(tt.origin, tt.from, tt.to(tt.from))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var s []string
		for _, c := range got {
			s = append(s, c.Name+"="+c.Literal)
		}
		if !reflect.DeepEqual(s, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, s, tt.want)
		}
	}
	if _, err := PrefsFor(imapOrigin, cur, cur); err == nil {
		t.Error("an SMTP change on an incoming branch was accepted")
	}
}

func TestFixAndUndo(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 15, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		userJS string
	}{{"no user.js", ""}, {"existing user.js", "// mine\nuser_pref(\"mail.smtpserver.smtp1.port\", 2525);\nuser_pref(\"other.pref\", true);\n"}} {
		dir := t.TempDir()
		writeProfile(t, dir, testPrefs, tt.userJS)
		if tt.userJS != "" {
			if err := os.Chmod(filepath.Join(dir, "user.js"), 0o640); err != nil {
				t.Fatal(err)
			}
		}
		before, _, _ := ReadProfile(dir)
		changes, err := PrefsFor(before[0].OutOrigin, *before[0].Outgoing, func() detect.Setting { s := *before[0].Outgoing; s.Port = 587; return s }())
		if err != nil {
			t.Fatal(err)
		}
		b, err := Fix(dir, changes, "port 25 is blocked on this network; 587 proven", now)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		after, _, _ := ReadProfile(dir)
		for _, a := range after[:2] { // both identities share smtp1
			if a.Outgoing.Port != 587 {
				t.Errorf("%s: %s outgoing port %d after fix, want 587", tt.name, a.Address, a.Outgoing.Port)
			}
		}
		if after[2].Outgoing.Port != 465 {
			t.Errorf("%s: bob's server changed: %+v", tt.name, after[2].Outgoing)
		}
		data, _ := os.ReadFile(filepath.Join(dir, "user.js"))
		if strings.Count(string(data), "mail.smtpserver.smtp1.port") != 1 || !strings.Contains(string(data), "// Mail Setup Assistant, 2026-11-27 15:30: port 25") {
			t.Errorf("%s: user.js:\n%s", tt.name, data)
		}
		if tt.userJS != "" {
			if !strings.Contains(string(data), "other.pref") || !strings.Contains(string(data), "// mine") {
				t.Errorf("%s: unrelated lines lost:\n%s", tt.name, data)
			}
			st, _ := os.Stat(filepath.Join(dir, "user.js"))
			if st.Mode().Perm() != 0o640 {
				t.Errorf("%s: mode %v, want 0640 kept", tt.name, st.Mode().Perm())
			}
			bak, err := os.ReadFile(b.Path)
			if err != nil || string(bak) != tt.userJS || !strings.HasSuffix(b.Path, "user.js.mailsetup-20261127-153000.bak") {
				t.Errorf("%s: backup %s = %q, %v", tt.name, b.Path, bak, err)
			}
		} else if b.Path != "" {
			t.Errorf("%s: backup %q of a user.js that did not exist", tt.name, b.Path)
		}
		if err := Undo(*b); err != nil {
			t.Fatalf("%s: undo: %v", tt.name, err)
		}
		restored, err := os.ReadFile(filepath.Join(dir, "user.js"))
		if tt.userJS == "" && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: user.js left after undo: %q", tt.name, restored)
		}
		if tt.userJS != "" && string(restored) != tt.userJS {
			t.Errorf("%s: undo gave %q", tt.name, restored)
		}
	}
}

func TestUndoRefusesLaterEdits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeProfile(t, dir, testPrefs, "")
	b, err := Fix(dir, []PrefChange{intPref("mail.smtpserver.smtp1.port", 587)}, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(filepath.Join(dir, "user.js"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("user_pref(\"added.later\", 1);\n")
	f.Close()
	if err := Undo(*b); !errors.Is(err, ErrChangedSince) {
		t.Errorf("undo after an edit: %v, want ErrChangedSince", err)
	}
}

func TestRunningLock(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the lock test holds a Linux open-file-description lock")
	}
	dir := t.TempDir()
	writeProfile(t, dir, testPrefs, "")
	if running, _, err := Running(dir); running || err != nil {
		t.Fatalf("empty profile: running=%v err=%v", running, err)
	}
	// Thunderbird leaves .parentlock behind after exit: an unlocked file is not running.
	if err := os.WriteFile(filepath.Join(dir, ".parentlock"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if running, _, _ := Running(dir); running {
		t.Error("a leftover .parentlock counted as running")
	}
	release := holdLock(t, filepath.Join(dir, ".parentlock"))
	running, why, err := Running(dir)
	if !running || err != nil {
		t.Errorf("held .parentlock: running=%v (%s) err=%v", running, why, err)
	}
	if _, err := Fix(dir, []PrefChange{intPref("x", 1)}, "test", time.Now()); !errors.Is(err, ErrRunning) {
		t.Errorf("Fix while running: %v, want ErrRunning", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "user.js")); !errors.Is(err, os.ErrNotExist) {
		t.Error("Fix wrote user.js while Thunderbird ran")
	}
	release()
	if running, _, _ := Running(dir); running {
		t.Error("still running after the lock was released")
	}

	// Symlink locks: "+" marks one that goes with the fcntl lock (stale without it);
	// the old form counts while its process lives.
	link := filepath.Join(dir, "lock")
	for _, tt := range []struct {
		target string
		want   bool
	}{
		{"127.0.1.1:+" + strconv.Itoa(os.Getpid()), false},
		{"127.0.1.1:" + strconv.Itoa(os.Getpid()), true},
		{"127.0.1.1:" + strconv.Itoa(deadPID(t)), false},
	} {
		os.Remove(link)
		if err := os.Symlink(tt.target, link); err != nil {
			t.Fatal(err)
		}
		if running, _, _ := Running(dir); running != tt.want {
			t.Errorf("lock -> %s: running=%v, want %v", tt.target, running, tt.want)
		}
	}
}
