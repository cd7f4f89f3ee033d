package gui

import (
	"bytes"
	"context"
	"crypto/x509"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/detecttest"
	"github.com/mailsetup/mailsetup/i18n"
)

const (
	user = "me@demo.test"
	pass = "gui test password"
)

func TestValidateAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		ok   bool
		want string
	}{
		{"me@example.com", true, ""},
		{" me@bücher.de ", true, ""},
		{"", false, "type your email address"},
		{"me", false, "not an email address"},
		{"me@localhost", false, "no dot"},
		{"Me <me@example.com>", false, "not an email address"},
	}
	for _, tt := range tests {
		err := validateAddress(i18n.New("en"), tt.in)
		if (err == nil) != tt.ok || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("validateAddress(%q) = %v, want ok=%v containing %q", tt.in, err, tt.ok, tt.want)
		}
	}
}

// newTestUI builds the window against an in-process mail world, running the engine
// synchronously so the whole flow happens inside the tap.
func newTestUI(t *testing.T) (*UI, *detecttest.World) {
	t.Helper()
	return newTestUIIn(t, "en")
}

// newTestUIIn is newTestUI speaking the language code.
func newTestUIIn(t *testing.T, code string) (*UI, *detecttest.World) {
	t.Helper()
	a := newApp(t)
	a.Preferences().SetString(prefLanguage, code)
	w := detecttest.StartWorld(t, "demo.test", user, pass)
	u := New(a, Config{
		Base:       detect.Options{Dialer: w.Net, Resolver: w.Net, ExtraRoots: []*x509.Certificate{w.CA.Cert}, SkipNetwork: true, Timeout: 3 * time.Second},
		Background: func(f func()) { f() },
	})
	t.Cleanup(u.Window().Close)
	return u, w
}

func fill(u *UI, address, password string) {
	test.Type(u.acct.address, address)
	test.Type(u.acct.password, password)
}

func TestFlowFindsVerifiedSettings(t *testing.T) {
	u, _ := newTestUI(t)
	fill(u, user, pass)
	if u.acct.check.Disabled() {
		t.Fatal("Check is disabled for a valid address")
	}
	test.Tap(u.acct.check)
	if u.screen != "result" {
		t.Fatalf("screen = %s, want result", u.screen)
	}
	want := map[string]string{
		"outgoing server": "smtp.demo.test", "outgoing port": "465", "outgoing security": "SSL/TLS",
		"incoming protocol": "IMAP", "incoming server": "imap.demo.test", "incoming port": "993", "incoming user name": user,
	}
	for k, v := range want {
		if got := u.result.fields[k]; got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if got := u.app.Preferences().StringList(prefRecent); len(got) != 1 || got[0] != user {
		t.Errorf("recent addresses = %q", got)
	}
	// Nothing the app stores may contain the password.
	for _, k := range []string{prefRecent} {
		if strings.Contains(strings.Join(u.app.Preferences().StringList(k), " "), pass) {
			t.Errorf("password stored under %s", k)
		}
	}
	if strings.Contains(settingsText(u.tr, u.result.report), pass) {
		t.Error("password in the copy-all text")
	}
}

func TestFlowWrongPassword(t *testing.T) {
	u, _ := newTestUI(t)
	fill(u, user, "not the password")
	test.Tap(u.acct.check)
	if u.screen != "result" || u.result.fields["outgoing server"] != "" {
		t.Fatalf("screen %s fields %v", u.screen, u.result.fields)
	}
	texts := allText(u)
	for _, want := range []string{"We found no setting that works", "Login rejected", "rejected the password"} {
		if !strings.Contains(texts, want) {
			t.Errorf("result lacks %q:\n%s", want, texts)
		}
	}
}

func TestFlowNothingFound(t *testing.T) {
	u, _ := newTestUI(t)
	fill(u, "me@nowhere.test", "x")
	test.Tap(u.acct.check)
	texts := allText(u)
	if !strings.Contains(texts, "We found no setting that works") || !strings.Contains(texts, "Nothing that works was found") {
		t.Errorf("result:\n%s", texts)
	}
}

func TestInvalidAddressDisablesCheck(t *testing.T) {
	u, _ := newTestUI(t)
	test.Type(u.acct.address, "not an address")
	if !u.acct.check.Disabled() {
		t.Fatal("Check enabled for an invalid address")
	}
	if err := u.acct.address.Validate(); err == nil || !strings.Contains(err.Error(), "not an email address") {
		t.Fatalf("validation message %v", err)
	}
	u.submit()
	if u.screen != "account" {
		t.Fatal("an invalid address started a check")
	}
}

func TestCancelStopsAtOnce(t *testing.T) {
	a := newApp(t)
	started := make(chan struct{})
	finished := make(chan error, 1)
	u := New(a, Config{
		Engine: func(ctx context.Context, address string, opts detect.Options) (*detect.Report, error) {
			close(started)
			<-ctx.Done()
			finished <- ctx.Err()
			return &detect.Report{}, nil
		},
		Background: func(f func()) { go f() },
	})
	defer u.Window().Close()
	fill(u, user, pass)
	test.Tap(u.acct.check)
	<-started
	start := time.Now()
	test.Tap(u.check.cancelBtn)
	select {
	case err := <-finished:
		if err != context.Canceled {
			t.Fatalf("engine ended with %v", err)
		}
	case <-time.After(200 * time.Millisecond):
		t.Fatal("engine still running 200 ms after Cancel")
	}
	if u.screen != "account" || !strings.Contains(u.acct.message.Text, "Cancelled") || time.Since(start) > 200*time.Millisecond {
		t.Fatalf("screen %s message %q", u.screen, u.acct.message.Text)
	}
}

func TestMatrixCellShowsDiagnosisAndTranscript(t *testing.T) {
	u, _ := newTestUI(t)
	s := u.showChecking(request{address: user})
	p := detect.ProbeResult{Protocol: detect.SMTP, Host: "smtp.demo.test", Port: 587, Security: detect.SecurityStartTLS,
		Status: detect.StatusAuthFailed, Transcript: []string{"S: 220 hi", "C: AUTH PLAIN [redacted]", "S: 535 5.7.8 no"},
		Diagnosis: detect.DiagnosisFor(&detect.Failure{Kind: detect.KindAuthRejected})}
	s.apply(detect.Event{Start: &detect.ProbeKey{Protocol: detect.SMTP, Host: p.Host, Port: 587, Security: detect.SecurityStartTLS}})
	s.apply(detect.Event{Probe: &p})
	c := s.cells[cellKey{detect.SMTP, 587, detect.SecurityStartTLS}]
	if c.button.Text != "login rejected" || c.button.Importance != widget.DangerImportance || c.button.Icon == nil {
		t.Fatalf("cell = %q %v", c.button.Text, c.button.Importance)
	}
	test.Tap(c.button)
	top := u.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog opened")
	}
	texts := textsOf(top)
	for _, want := range []string{"Login rejected", "C: AUTH PLAIN [redacted]", "Conversation with the server"} {
		if !strings.Contains(texts, want) {
			t.Errorf("dialog lacks %q:\n%s", want, texts)
		}
	}
}

func TestAppIDMatchesFyneAppToml(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../FyneApp.toml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*ID\s*=\s*"([^"]+)"`).FindSubmatch(b)
	if m == nil || string(m[1]) != AppID {
		t.Fatalf("FyneApp.toml ID %q, app ID %q", m, AppID)
	}
	icon, err := os.ReadFile("../assets/icon.png")
	if err != nil || !bytes.Equal(icon, iconPNG) {
		t.Fatal("gui/icon.png differs from assets/icon.png; copy it again")
	}
}

func TestExportBytesForEveryButton(t *testing.T) {
	u, _ := newTestUI(t)
	fill(u, user, pass)
	test.Tap(u.acct.check)
	for _, b := range exportButtons {
		data, err := exportBytes(u.tr, u.result.report, b.format)
		if err != nil || len(data) == 0 || bytes.Contains(data, []byte(pass)) {
			t.Errorf("%s: %d bytes, %v", b.format, len(data), err)
		}
	}
	if !strings.Contains(allText(u), "Apple Mail profile") {
		t.Error("no export buttons on the result screen")
	}
}

// The unattended demo run: the window checks the demo account by itself, reports the
// result once, and closes when asked to.
func TestAutoStartReportsAndQuits(t *testing.T) {
	for _, quit := range []bool{false, true} {
		a := newApp(t)
		w := detecttest.StartWorld(t, "demo.test", user, pass)
		var got []*detect.Report
		u := New(a, Config{
			Base:       detect.Options{Dialer: w.Net, Resolver: w.Net, ExtraRoots: []*x509.Certificate{w.CA.Cert}, SkipNetwork: true, Timeout: 3 * time.Second},
			Background: func(f func()) { f() },
			Demo:       true, DemoAddress: user, DemoPassword: pass,
			AutoStart: true, QuitAfterResult: quit,
			OnResult: func(rep *detect.Report) { got = append(got, rep) },
		})
		t.Cleanup(u.Window().Close)
		quits := 0
		u.quit = func() { quits++ }
		if u.screen != "account" {
			t.Fatalf("before start: screen %s", u.screen)
		}
		u.started()
		if u.screen != "result" || len(got) != 1 {
			t.Fatalf("after start: screen %s, %d results reported; want result, 1", u.screen, len(got))
		}
		if want := map[bool]int{false: 0, true: 1}[quit]; quits != want {
			t.Errorf("QuitAfterResult=%v: the app was closed %d times, want %d", quit, quits, want)
		}
		if o := got[0].Recommended.Outgoing; o == nil || !o.Verified {
			t.Errorf("reported result has no verified outgoing setting: %+v", o)
		}
	}
	// Without demo mode AutoStart does nothing: a real account is never checked unasked.
	u, _ := newTestUI(t)
	u.cfg.AutoStart = true
	u.started()
	if u.screen != "account" {
		t.Errorf("AutoStart outside demo mode started a check (screen %s)", u.screen)
	}
}

// A server that only an SRV record outside the address's domain names gets no password
// until the user confirms it in the dialog, which names the server, where its name came
// from and whose certificate it holds; yes checks again and logs in there.
func TestFlowConfirmUntrustedServer(t *testing.T) {
	u, w := newTestUI(t)
	w.Net.SRV("submissions", "shop.test", "smtp.demo.test", 465)
	w.Net.SRV("imaps", "shop.test", "imap.demo.test", 993)
	fill(u, "me@shop.test", pass)
	test.Type(u.acct.username, user)
	test.Tap(u.acct.check)
	if u.screen != "result" {
		t.Fatalf("screen %s", u.screen)
	}
	texts := allText(u)
	for _, want := range []string{"Servers we did not log in to", "smtp.demo.test: A DNS service record points to it", "Check imap.demo.test, smtp.demo.test with my password…"} {
		if !strings.Contains(texts, want) {
			t.Errorf("result lacks %q:\n%s", want, texts)
		}
	}
	if u.consent == nil {
		t.Fatal("nothing worked, but no confirmation was asked")
	}
	top := u.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("the confirmation is not shown")
	}
	dialogText := textsOf(top)
	for _, want := range []string{"Log in to imap.demo.test, smtp.demo.test?", "did not send your password there", "(_imaps._tcp.shop.test)",
		"(_submissions._tcp.shop.test)", "Certificate: for smtp.demo.test, imap.demo.test, pop.demo.test", "Fingerprint (SHA-256): "} {
		if !strings.Contains(dialogText, want) {
			t.Errorf("dialog lacks %q:\n%s", want, dialogText)
		}
	}
	if !tapButton(top, "Yes, my provider's") {
		t.Fatalf("no yes button in:\n%s", dialogText)
	}
	if u.screen != "result" || u.result.fields["incoming server"] != "imap.demo.test" || u.result.fields["outgoing server"] != "smtp.demo.test" {
		t.Fatalf("after confirming: incoming %q outgoing %q", u.result.fields["incoming server"], u.result.fields["outgoing server"])
	}
	if got := u.app.Preferences().String("trust_hosts"); got != "" {
		t.Errorf("a confirmation was stored: %q", got)
	}
}

// tapButton taps the first button under o whose text is label.
func tapButton(o fyne.CanvasObject, label string) bool {
	for _, b := range find[*widget.Button](o) {
		if b.Text == label {
			test.Tap(b)
			return true
		}
	}
	return false
}

// The account screen leads to "Check the settings I use now".
func TestAccountScreenOpensCurrentSettings(t *testing.T) {
	u, _ := newTestUI(t)
	if !tapButton(u.win.Content(), "Check the settings I use now…") {
		t.Fatalf("no button:\n%s", allText(u))
	}
	if u.screen != "current" {
		t.Fatalf("screen %s, want current", u.screen)
	}
}

// The account screen leads to the batch screen for consultants.
func TestAccountScreenOpensBatch(t *testing.T) {
	u, _ := newTestUI(t)
	if !tapButton(u.win.Content(), "Check a list of accounts…") {
		t.Fatalf("no button:\n%s", allText(u))
	}
	if u.screen != "batch" {
		t.Fatalf("screen %s, want batch", u.screen)
	}
}
