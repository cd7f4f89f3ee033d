package gui

import (
	"context"
	"crypto/x509"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/clients/current"
	"github.com/mailsetup/mailsetup/clients/thunderbird"
	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/detecttest"
	"github.com/mailsetup/mailsetup/i18n"
	"github.com/mailsetup/mailsetup/netmemory"
)

// currentPrefs is a Thunderbird profile that sends through port 25 with STARTTLS.
const currentPrefs = `user_pref("mail.accountmanager.accounts", "account1");
user_pref("mail.account.account1.identities", "id1");
user_pref("mail.account.account1.server", "server1");
user_pref("mail.identity.id1.useremail", "me@demo.test");
user_pref("mail.identity.id1.smtpServer", "smtp1");
user_pref("mail.server.server1.type", "imap");
user_pref("mail.server.server1.hostname", "imap.demo.test");
user_pref("mail.server.server1.port", 993);
user_pref("mail.server.server1.socketType", 3);
user_pref("mail.server.server1.userName", "me@demo.test");
user_pref("mail.server.server1.name", "Me at demo");
user_pref("mail.smtpservers", "smtp1");
user_pref("mail.smtpserver.smtp1.hostname", "smtp.demo.test");
user_pref("mail.smtpserver.smtp1.port", 25);
user_pref("mail.smtpserver.smtp1.try_ssl", 2);
user_pref("mail.smtpserver.smtp1.username", "me@demo.test");
`

// newCurrentUI builds the window with the real current-settings functions against an
// in-process mail world whose network drops port 25, a profile folder, and a network
// memory that already knows a "Home" network where port 25 worked.
func newCurrentUI(t *testing.T) (*UI, string) {
	t.Helper()
	a := newApp(t)
	w := detecttest.StartWorld(t, "demo.test", user, pass)
	w.Net.Drop("*", 25)
	dir := t.TempDir()
	profile := filepath.Join(dir, "me.default")
	os.MkdirAll(profile, 0o700)
	if err := os.WriteFile(filepath.Join(profile, "prefs.js"), []byte(currentPrefs), 0o644); err != nil {
		t.Fatal(err)
	}
	store := netmemory.Open(filepath.Join(dir, "networks.json"))
	home := netmemory.Fingerprint{Gateway: "192.168.1.1", GatewayMAC: "aa:aa:aa:aa:aa:aa", WiFi: "Home"}
	homeVisit := netmemory.VisitOf(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), detect.Network{Port25: detect.Port25Open},
		[]netmemory.Outcome{{Protocol: detect.SMTP, Host: "smtp.demo.test", Port: 25, Security: detect.SecurityStartTLS, Worked: true}})
	if _, _, err := store.Record(home, homeVisit); err != nil {
		t.Fatal(err)
	}
	store.Name(home.ID(), "Home")
	hotel := func(context.Context, detect.Network) netmemory.Fingerprint {
		return netmemory.Fingerprint{Gateway: "10.9.0.1", GatewayMAC: "bb:bb:bb:bb:bb:bb", WiFi: "Hotel Guest"}
	}
	blocked := detect.Network{Port25: detect.Port25Blocked, Outbound: map[string]detect.PortState{"25": detect.PortFiltered, "587": detect.PortOpen}}
	base := detect.Options{Dialer: w.Net, Resolver: w.Net, ExtraRoots: []*x509.Certificate{w.CA.Cert}, Timeout: 3 * time.Second,
		Network: func(context.Context) detect.Network { return blocked }}
	u := New(a, Config{
		Base:       base,
		Background: func(f func()) { f() },
		Current: CurrentConfig{
			Find: func() ([]clients.Account, []string) {
				accts, notes, _ := thunderbird.ReadProfile(profile)
				return accts, notes
			},
			Open: func(path string) ([]clients.Account, []string, error) {
				o, err := current.Open(path, "")
				if err != nil {
					return nil, nil, err
				}
				return o.Accounts, o.Notes, nil
			},
			Check: func(ctx context.Context, acct clients.Account, pw string, progress func(current.Event)) (*current.Result, *current.NetworkView, error) {
				opts := base
				opts.Password = pw
				res, err := current.Check(ctx, current.Request{Account: acct, Options: opts, Progress: progress})
				if err != nil {
					return nil, nil, err
				}
				view, err := current.Remember(ctx, store, hotel, res, time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC))
				return res, view, err
			},
			Fix:  func(res *current.Result) (*current.Fixed, error) { return current.Apply(res, time.Now()) },
			Undo: current.Undo,
		},
	})
	t.Cleanup(u.Window().Close)
	return u, profile
}

func TestCurrentScreenFlow(t *testing.T) {
	u, profile := newCurrentUI(t)
	u.showCurrent()
	s := u.cur
	if u.screen != "current" || len(s.list.Options) != 1 || !strings.Contains(s.list.Options[0], "Me at demo <me@demo.test> — Thunderbird") {
		t.Fatalf("screen %s, accounts %q", u.screen, s.list.Options)
	}
	if !strings.Contains(s.details.Text, "SMTP smtp.demo.test:25 STARTTLS") {
		t.Errorf("details %q", s.details.Text)
	}
	test.Type(s.password, pass)
	test.Tap(s.check)
	if s.res == nil {
		t.Fatalf("no result; message %q progress %v", s.message.Text, s.progress)
	}
	f := s.fields
	if !strings.HasPrefix(f["outgoing verdict"], "Fails here because this network blocks outgoing port 25") || !strings.HasPrefix(f["incoming verdict"], "Works") {
		t.Errorf("verdicts %q / %q", f["outgoing verdict"], f["incoming verdict"])
	}
	if f["outgoing port"] != "587" || f["outgoing port changed"] != "yes" || f["outgoing security changed"] != "" || f["outgoing server changed"] != "" {
		t.Errorf("change fields %v", f)
	}
	if !strings.Contains(f["compare"], "at Home on 2026-11-20: port 25 worked; here it is blocked") || !strings.Contains(f["network"], "Hotel Guest") {
		t.Errorf("network %q compare %q", f["network"], f["compare"])
	}
	texts := allText(u)
	for _, want := range []string{"Your settings need a change here — and we proved one", "Blocked on this network", "Smallest change that works here", "→ 587", "(unchanged)", "Fix in Thunderbird"} {
		if !strings.Contains(texts, want) {
			t.Errorf("screen lacks %q:\n%s", want, texts)
		}
	}
	if strings.Contains(texts, pass) {
		t.Error("the password is shown")
	}
	if dir := os.Getenv("MAILSETUP_GUI_CAPTURE"); dir != "" {
		u.win.Resize(fyne.NewSize(980, 1400))
		img := u.win.Canvas().Capture()
		fh, _ := os.Create(filepath.Join(dir, "current-test.png"))
		png.Encode(fh, img)
		fh.Close()
	}

	// Fix asks first; confirming writes user.js; Undo restores the profile.
	test.Tap(s.fixBtn)
	if s.confirm == nil {
		t.Fatal("no confirmation before the fix")
	}
	if _, err := os.Stat(filepath.Join(profile, "user.js")); err == nil {
		t.Fatal("user.js written before the confirmation")
	}
	s.confirm.Confirm()
	data, err := os.ReadFile(filepath.Join(profile, "user.js"))
	if err != nil || !strings.Contains(string(data), `user_pref("mail.smtpserver.smtp1.port", 587);`) {
		t.Fatalf("user.js after fix: %q %v", data, err)
	}
	if !s.fixBtn.Disabled() || s.undo.Hidden {
		t.Error("after the fix: Fix still enabled or Undo hidden")
	}
	// A second check reads the fixed profile and passes.
	u.showCurrent()
	s2 := u.cur
	test.Type(s2.password, pass)
	test.Tap(s2.check)
	if s2.res == nil || !strings.HasPrefix(s2.fields["outgoing verdict"], "Works") {
		t.Errorf("second check: %q", s2.fields["outgoing verdict"])
	}
	// Undo from the first screen's state.
	test.Tap(s.undo)
	if _, err := os.Stat(filepath.Join(profile, "user.js")); !os.IsNotExist(err) {
		t.Errorf("user.js still there after undo: %v", err)
	}
	// Nothing the app stores holds the password.
	for _, k := range []string{prefRecent} {
		if strings.Contains(strings.Join(u.app.Preferences().StringList(k), " "), pass) {
			t.Errorf("password stored under %s", k)
		}
	}
}

func TestCurrentScreenOpenFileAndErrors(t *testing.T) {
	u, _ := newCurrentUI(t)
	u.showCurrent()
	s := u.cur
	dir := t.TempDir()
	rep := `{"address":"me@demo.test","domain":"demo.test","discovery":[],"probes":[],"network":{"port25":"open","port25_evidence":[],"outbound":{},"captive_portal":null,"ipv6":"","local_addresses":[],"dns_servers":[],"public_ip":"","elapsed_ms":0},` +
		`"recommended":{"outgoing":{"protocol":"smtp","host":"smtp.demo.test","port":465,"security":"tls","auth":"PLAIN","username":"me@demo.test","verified":true},` +
		`"incoming":{"protocol":"imap","host":"imap.demo.test","port":993,"security":"tls","auth":"PLAIN","username":"me@demo.test","verified":true},"alternatives":[]},"warnings":[],"meta":{"elapsed_ms":0,"password_used":true,"allow_plaintext":false}}`
	os.WriteFile(filepath.Join(dir, "report.json"), []byte(rep), 0o600)
	s.openFile(filepath.Join(dir, "report.json"))
	if len(s.list.Options) != 1 || !strings.Contains(s.list.Options[0], "saved report") {
		t.Errorf("after opening a report: %q", s.list.Options)
	}
	os.WriteFile(filepath.Join(dir, "x.txt"), []byte("hello"), 0o600)
	s.openFile(filepath.Join(dir, "x.txt"))
	if s.message.Hidden || !strings.Contains(s.message.Text, "Could not read") {
		t.Errorf("unknown file message %q", s.message.Text)
	}
	// A report's account is not a Thunderbird profile: the fix is an export.
	test.Type(s.password, pass)
	test.Tap(s.check)
	if s.res == nil || !strings.HasPrefix(s.fields["outgoing verdict"], "Works") {
		t.Errorf("report account check: %+v", s.fields)
	}
}

func TestValidatePort(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in string
		ok bool
	}{{"587", true}, {" 993 ", true}, {"0", false}, {"65536", false}, {"x", false}, {"", false}} {
		if err := validatePort(i18n.New("en"), tt.in); (err == nil) != tt.ok {
			t.Errorf("validatePort(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}
