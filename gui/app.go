// Package gui is the window of Mail Setup Assistant: Fyne screens that render what the
// detect engine reports. It never dials; the engine runs off the UI goroutine and every
// widget change goes through fyne.Do.
package gui

import (
	"context"
	_ "embed"
	"net/url"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/i18n"
)

// AppID is the application ID; FyneApp.toml's ID must be the same (a test compares them).
const AppID = "net.mailsetup.assistant"

//go:embed icon.png
var iconPNG []byte

// Icon is the application icon (a copy of assets/icon.png, which packaging uses).
var Icon = fyne.NewStaticResource("icon.png", iconPNG)

// Engine runs a check; detect.Run is the real one.
type Engine func(ctx context.Context, address string, opts detect.Options) (*detect.Report, error)

// Config is what the window needs from main.
type Config struct {
	// Engine defaults to detect.Run.
	Engine Engine
	// Base holds the engine options main prepared (providers; the demo's network).
	Base detect.Options
	// Background runs long work; default `go f()`. Tests run it synchronously.
	Background func(func())
	// Demo shows the demo banner and prefills the demo account.
	Demo         bool
	DemoAddress  string
	DemoPassword string
	// DemoUsername, when set, prefills the advanced user-name field (the hosted-domain demo).
	DemoUsername string
	// DemoDomain names whose servers run on this computer, for the banner.
	DemoDomain string
	// DemoSignIn makes AutoStart press "Sign in with <provider>" instead of Check.
	DemoSignIn bool
	// Version is shown in the about box.
	Version string
	// OnStarted is called once the first frame is up (timing in the smoke test).
	OnStarted func(time.Duration)
	// AutoStart, in demo mode, starts the check of the demo account once the window is
	// up, as if the user pressed Enter (unattended measurements on CI machines).
	AutoStart bool
	// OnResult is called on the UI goroutine whenever a result screen is shown.
	OnResult func(*detect.Report)
	// QuitAfterResult closes the app once a result is shown (for AutoStart runs).
	QuitAfterResult bool
	// OpenURL opens the browser on an OAuth2 sign-in page; nil means the app's. Tests
	// play the browser here.
	OpenURL func(*url.URL) error
	// Current wires the "Check the settings I use now" screen (gui/current.go).
	Current CurrentConfig
	// Batch opens the batch screen by itself (gui/batch.go).
	Batch BatchConfig
}

// UI is the window and its current screen.
type UI struct {
	app fyne.App
	win fyne.Window
	cfg Config
	// tr speaks the window's language (gui/lang.go).
	tr     *i18n.Lang
	cancel context.CancelFunc
	doMu   sync.Mutex
	// run counts checks, so results of a cancelled check are dropped.
	run int
	// screen names the visible screen (for tests): account, checking, result.
	screen string
	acct   *accountScreen
	check  *checkingScreen
	result *resultScreen
	cur    *currentScreen
	batch  *batchScreen
	// quit closes the app (QuitAfterResult); tests replace it.
	quit func()
	// lastReq is the running or last check's request, kept in memory only, so that a
	// confirmed server can be checked again without asking for the password again.
	lastReq *request
	// consent is the open confirmation of an untrusted server (for tests).
	consent dialog.Dialog
	// signIn is the open "waiting for you to sign in" dialog.
	signIn dialog.Dialog
}

// New builds the window on a.
func New(a fyne.App, cfg Config) *UI {
	if cfg.Engine == nil {
		cfg.Engine = detect.Run
	}
	if cfg.Background == nil {
		cfg.Background = func(f func()) { go f() }
	}
	u := &UI{app: a, cfg: cfg, quit: a.Quit}
	a.Settings().SetTheme(newTheme())
	u.tr = i18n.New(languageFor(a.Preferences()))
	u.win = a.NewWindow(u.t("app.name"))
	u.win.SetIcon(Icon)
	u.win.Resize(fyne.NewSize(980, 700))
	u.win.SetMainMenu(u.mainMenu())
	u.showAccount("")
	return u
}

// started runs on the UI goroutine once the window is up (Fyne calls lifecycle hooks
// there): with AutoStart in demo mode it checks the demo account.
func (u *UI) started() {
	if u.cfg.Demo && u.cfg.AutoStart {
		if u.cfg.DemoSignIn {
			u.submitSignIn()
		} else {
			u.submit()
		}
	}
	if u.cfg.Batch.Start {
		u.startBatchDemo()
	}
	if u.cfg.Current.StartFile != "" {
		u.showCurrentFile(u.cfg.Current.StartFile)
		if u.cfg.Current.StartCheck {
			u.cur.start()
		}
	}
}

// Window returns the main window.
func (u *UI) Window() fyne.Window { return u.win }

// Main creates the app, opens the window and runs until it is closed.
func Main(cfg Config) {
	start := time.Now()
	a := app.NewWithID(AppID)
	a.SetIcon(Icon)
	u := New(a, cfg)
	a.Lifecycle().SetOnStarted(func() {
		if cfg.OnStarted != nil {
			cfg.OnStarted(time.Since(start))
		}
		u.started()
	})
	u.win.ShowAndRun()
}

func (u *UI) setContent(name string, c fyne.CanvasObject) {
	u.screen = name
	if u.cfg.Demo {
		d := u.cfg.DemoDomain
		if d == "" {
			d = domainOf(u.cfg.DemoAddress)
		}
		banner := widget.NewLabel(u.t("app.demo_banner", "domain", d))
		banner.Importance = widget.WarningImportance
		banner.Wrapping = fyne.TextWrapWord
		c = container.NewBorder(banner, nil, nil, nil, c)
	}
	u.win.SetContent(c)
}

func (u *UI) showAbout() {
	v := u.cfg.Version
	if v == "" {
		v = "dev"
	}
	about := widget.NewLabel(u.t("app.about_text"))
	about.Wrapping = fyne.TextWrapWord
	box := container.NewVBox(
		widget.NewIcon(Icon),
		widget.NewLabelWithStyle(u.t("app.name_version", "version", v), fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
		about)
	d := dialog.NewCustom(u.t("menu.about"), u.t("common.close"), box, u.win)
	d.Resize(fyne.NewSize(460, 260))
	d.Show()
}

// showError shows an error in a dialog titled in the window's language (Fyne's own
// error dialog follows the system's language).
func (u *UI) showError(err error) {
	l := widget.NewLabel(err.Error())
	l.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom(u.t("common.error"), u.t("common.close"), l, u.win)
	d.Resize(fyne.NewSize(520, 200))
	d.Show()
}

func domainOf(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == '@' {
			return addr[i+1:]
		}
	}
	return addr
}
