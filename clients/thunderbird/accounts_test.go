package thunderbird

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/detect"
)

// testPrefs is a profile with three mail accounts and Local Folders: account1 (IMAP,
// SSL) has two identities sharing smtp1; account2 (POP3, STARTTLS, no port pref) uses
// the default SMTP server smtp2; account4 has an OAuth2 IMAP server.
const testPrefs = `// Mozilla User Preferences
user_pref("mail.accountmanager.accounts", "account1,account2,account3,account4");
user_pref("mail.account.account1.identities", "id1,id2");
user_pref("mail.account.account1.server", "server1");
user_pref("mail.account.account2.identities", "id3");
user_pref("mail.account.account2.server", "server2");
user_pref("mail.account.account3.server", "server3");
user_pref("mail.account.account4.identities", "id4");
user_pref("mail.account.account4.server", "server4");
user_pref("mail.identity.id1.useremail", "alice@example.test");
user_pref("mail.identity.id1.smtpServer", "smtp1");
user_pref("mail.identity.id2.useremail", "sales@example.test");
user_pref("mail.identity.id2.smtpServer", "smtp1");
user_pref("mail.identity.id3.useremail", "bob@pop.test");
user_pref("mail.identity.id4.useremail", "carol@oauth.test");
user_pref("mail.identity.id4.smtpServer", "smtp1");
user_pref("mail.server.server1.type", "imap");
user_pref("mail.server.server1.hostname", "imap.example.test");
user_pref("mail.server.server1.port", 993);
user_pref("mail.server.server1.socketType", 3);
user_pref("mail.server.server1.authMethod", 3);
user_pref("mail.server.server1.userName", "alice@example.test");
user_pref("mail.server.server1.name", "Alice at work");
user_pref("mail.server.server2.type", "pop3");
user_pref("mail.server.server2.hostname", "Pop.Pop.Test");
user_pref("mail.server.server2.socketType", 2);
user_pref("mail.server.server2.authMethod", 4);
user_pref("mail.server.server2.userName", "bob");
user_pref("mail.server.server3.type", "none");
user_pref("mail.server.server3.hostname", "Local Folders");
user_pref("mail.server.server4.type", "imap");
user_pref("mail.server.server4.hostname", "imap.oauth.test:10993");
user_pref("mail.server.server4.socketType", 3);
user_pref("mail.server.server4.authMethod", 10);
user_pref("mail.server.server4.userName", "carol@oauth.test");
user_pref("mail.smtpservers", "smtp1,smtp2");
user_pref("mail.smtp.defaultserver", "smtp2");
user_pref("mail.smtpserver.smtp1.hostname", "smtp.example.test");
user_pref("mail.smtpserver.smtp1.port", 25);
user_pref("mail.smtpserver.smtp1.try_ssl", 2);
user_pref("mail.smtpserver.smtp1.authMethod", 3);
user_pref("mail.smtpserver.smtp1.username", "alice@example.test");
user_pref("mail.smtpserver.smtp2.hostname", "smtp.pop.test");
user_pref("mail.smtpserver.smtp2.try_ssl", 3);
user_pref("mail.smtpserver.smtp2.username", "bob");
`

func TestAccounts(t *testing.T) {
	t.Parallel()
	prefs, errs := ParsePrefs([]byte(testPrefs))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	accts, problems := Accounts(Merge(nil, prefs), "prefs.js")
	if len(problems) != 0 {
		t.Errorf("problems: %v", problems)
	}
	type want struct {
		address, name string
		in, out       detect.Setting
	}
	smtp1 := detect.Setting{Protocol: detect.SMTP, Host: "smtp.example.test", Port: 25, Security: detect.SecurityStartTLS, Auth: "password-cleartext", Username: "alice@example.test"}
	wants := []want{
		{"alice@example.test", "Alice at work", detect.Setting{Protocol: detect.IMAP, Host: "imap.example.test", Port: 993, Security: detect.SecurityTLS, Auth: "password-cleartext", Username: "alice@example.test"}, smtp1},
		{"sales@example.test", "Alice at work", detect.Setting{Protocol: detect.IMAP, Host: "imap.example.test", Port: 993, Security: detect.SecurityTLS, Auth: "password-cleartext", Username: "alice@example.test"}, smtp1},
		{"bob@pop.test", "bob on Pop.Pop.Test", detect.Setting{Protocol: detect.POP3, Host: "pop.pop.test", Port: 110, Security: detect.SecurityStartTLS, Auth: "password-encrypted", Username: "bob"},
			detect.Setting{Protocol: detect.SMTP, Host: "smtp.pop.test", Port: 465, Security: detect.SecurityTLS, Auth: "password-cleartext", Username: "bob"}},
		{"carol@oauth.test", "carol@oauth.test on imap.oauth.test", detect.Setting{Protocol: detect.IMAP, Host: "imap.oauth.test", Port: 10993, Security: detect.SecurityTLS, Auth: "OAuth2", Username: "carol@oauth.test"}, smtp1},
	}
	if len(accts) != len(wants) {
		t.Fatalf("got %d accounts, want %d: %+v", len(accts), len(wants), accts)
	}
	for i, w := range wants {
		a := accts[i]
		if a.Address != w.address || a.Name != w.name || a.Client != clients.Thunderbird {
			t.Errorf("account %d = %q %q, want %q %q", i, a.Address, a.Name, w.address, w.name)
		}
		if a.Incoming == nil || *a.Incoming != w.in {
			t.Errorf("account %d incoming = %+v, want %+v", i, a.Incoming, w.in)
		}
		if a.Outgoing == nil || *a.Outgoing != w.out {
			t.Errorf("account %d outgoing = %+v, want %+v", i, a.Outgoing, w.out)
		}
	}
	// The shared SMTP server: the same keys for both identities of account1.
	if accts[0].OutOrigin.Keys[clients.FieldPort] != "mail.smtpserver.smtp1.port" || accts[1].OutOrigin.Keys[clients.FieldPort] != "mail.smtpserver.smtp1.port" {
		t.Errorf("shared SMTP origins: %v / %v", accts[0].OutOrigin, accts[1].OutOrigin)
	}
	if got := accts[2].InOrigin.Keys[clients.FieldPort]; got != "" {
		t.Errorf("POP3 port origin = %q, want none (default port)", got)
	}
	if !strings.Contains(strings.Join(accts[3].Notes, " "), "OAuth2") {
		t.Errorf("OAuth2 account notes: %v", accts[3].Notes)
	}
}

func TestAccountsRejectControlCharacters(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		`user_pref("mail.server.server1.hostname", "imap.example.test\nevil");`,
		`user_pref("mail.server.server1.userName", "al\x01ice");`,
		`user_pref("mail.server.server1.hostname", "imap example");`,
	} {
		prefs, _ := ParsePrefs([]byte(testPrefs + bad))
		accts, problems := Accounts(Merge(nil, prefs), "prefs.js")
		for _, a := range accts {
			if a.Incoming != nil && a.Incoming.Host != "imap.example.test" && strings.Contains(a.Address, "example.test") {
				t.Errorf("%s: accepted %+v", bad, a.Incoming)
			}
		}
		if len(problems) == 0 {
			t.Errorf("%s: no problem reported", bad)
		}
	}
}

func TestAccountsUnknownSocketType(t *testing.T) {
	t.Parallel()
	prefs, _ := ParsePrefs([]byte(testPrefs + `user_pref("mail.smtpserver.smtp2.try_ssl", 7);`))
	accts, problems := Accounts(Merge(nil, prefs), "prefs.js")
	if len(problems) == 0 {
		t.Fatal("socket type 7 accepted")
	}
	for _, a := range accts {
		if a.Address == "bob@pop.test" && a.Outgoing != nil {
			t.Errorf("bob's outgoing server kept despite a bad socket type: %+v", a.Outgoing)
		}
	}
}

// writeProfile makes a profile folder with prefs.js (and user.js when given).
func writeProfile(t *testing.T, dir, prefs, user string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "prefs.js"), []byte(prefs), 0o644); err != nil {
		t.Fatal(err)
	}
	if user != "" {
		if err := os.WriteFile(filepath.Join(dir, "user.js"), []byte(user), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadProfileUserJSWins(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeProfile(t, dir, testPrefs, `user_pref("mail.smtpserver.smtp1.port", 587);`+"\n"+`user_pref("broken" 1);`)
	accts, notes, err := ReadProfile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if accts[0].Outgoing.Port != 587 {
		t.Errorf("outgoing port = %d, want 587 from user.js", accts[0].Outgoing.Port)
	}
	if accts[0].Profile != dir {
		t.Errorf("profile = %q", accts[0].Profile)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "user.js") {
		t.Errorf("notes = %v, want the user.js syntax error", notes)
	}
}

func TestProfilesAndRoots(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	roots := Roots("linux", home, "")
	if len(roots) != 3 {
		t.Fatalf("linux roots: %v", roots)
	}
	// Regular: an [Install] section picks the default; snap: Default=1; flatpak: absolute path.
	abs := filepath.Join(home, "elsewhere", "abs.default")
	layouts := map[Install]string{
		Regular: "[Install4F96D1932A9F858E]\nDefault=Profiles/b.default-release\nLocked=1\n\n[Profile1]\nName=old\nIsRelative=1\nPath=Profiles/a.default\nDefault=1\n\n[Profile0]\nName=default-release\nIsRelative=1\nPath=Profiles/b.default-release\n\n[General]\nStartWithLastProfile=1\nVersion=2\n",
		Snap:    "\xef\xbb\xbf[Profile0]\r\nName=default\r\nIsRelative=1\r\nPath=snapprof.default\r\nDefault=1\r\n",
		Flatpak: "[Profile0]\nName=flat\nIsRelative=0\nPath=" + filepath.ToSlash(abs) + "\n",
	}
	dirs := map[Install]string{}
	for _, r := range roots {
		if err := os.MkdirAll(r.Dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(r.Dir, "profiles.ini"), []byte(layouts[r.Install]), 0o644); err != nil {
			t.Fatal(err)
		}
		profs, err := Profiles(r)
		if err != nil {
			t.Fatal(err)
		}
		if len(profs) == 0 || !profs[0].Default && r.Install != Flatpak {
			t.Fatalf("%s: profiles %+v, want the default first", r.Install, profs)
		}
		dirs[r.Install] = profs[0].Dir
	}
	if want := filepath.Join(home, ".thunderbird", "Profiles", "b.default-release"); dirs[Regular] != want {
		t.Errorf("regular default = %s, want %s (the [Install] default beats Default=1)", dirs[Regular], want)
	}
	if want := filepath.Join(home, "snap", "thunderbird", "common", ".thunderbird", "snapprof.default"); dirs[Snap] != want {
		t.Errorf("snap default = %s, want %s", dirs[Snap], want)
	}
	if dirs[Flatpak] != abs {
		t.Errorf("flatpak profile = %s, want %s", dirs[Flatpak], abs)
	}
	writeProfile(t, dirs[Regular], testPrefs, "")
	writeProfile(t, dirs[Snap], strings.ReplaceAll(testPrefs, "example.test", "snap.test"), "")
	found := Find(roots)
	var addrs []string
	for _, f := range found {
		for _, a := range f.Accounts {
			addrs = append(addrs, string(f.Profile.Install)+":"+a.Address)
		}
	}
	got := strings.Join(addrs, " ")
	for _, want := range []string{"regular:alice@example.test", "snap:alice@snap.test"} {
		if !strings.Contains(got, want) {
			t.Errorf("Find: %s lacks %s", got, want)
		}
	}

	for _, tt := range []struct{ goos, home, appdata, want string }{
		{"windows", `C:\Users\me`, `C:\Users\me\AppData\Roaming`, filepath.Join(`C:\Users\me\AppData\Roaming`, "Thunderbird")},
		{"darwin", "/Users/me", "", filepath.Join("/Users/me", "Library", "Thunderbird")},
	} {
		r := Roots(tt.goos, tt.home, tt.appdata)
		if len(r) != 1 || r[0].Dir != tt.want {
			t.Errorf("Roots(%s) = %v, want %s", tt.goos, r, tt.want)
		}
	}
}
