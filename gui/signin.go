package gui

import (
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mailsetup/mailsetup/detect"
)

// This file is the OAuth2 sign-in as the window shows it: a "Sign in with <provider>"
// button where the knowledge base knows the provider's sign-in, the browser opened on
// the provider's own page, and a waiting dialog with Cancel while the user signs in.

// oauthProvider names the provider one signs in with for address, from the knowledge
// base (a pure lookup; the window never dials), or "" when none is known.
func (u *UI) oauthProvider(address string) string {
	addr, err := detect.ParseAddress(address)
	if err != nil {
		return ""
	}
	p := u.cfg.Base.Providers.ByDomain(addr.Domain)
	if p == nil || p.OAuth2 == nil {
		return ""
	}
	return p.Name
}

// signInButton is the account screen's "Sign in with <provider>" button; it shows only
// for addresses whose provider the knowledge base knows a sign-in for.
func (u *UI) signInButton(s *accountScreen) *widget.Button {
	b := widget.NewButtonWithIcon(u.t("signin.button_generic"), theme.LoginIcon(), func() { u.submitSignIn() })
	b.Hide()
	update := func(address string) {
		if name := u.oauthProvider(address); name != "" {
			b.SetText(u.t("signin.button", "provider", name))
			b.Show()
		} else {
			b.Hide()
		}
	}
	prev := s.address.OnChanged
	s.address.OnChanged = func(v string) {
		if prev != nil {
			prev(v)
		}
		update(v)
	}
	update(s.address.Text)
	return b
}

// submitSignIn starts a check that signs in with the provider in the browser.
func (u *UI) submitSignIn() {
	s := u.acct
	if s == nil || validateAddress(u.tr, s.address.Text) != nil {
		return
	}
	req := u.requestFromForm()
	req.oauth = detect.OAuthBrowser
	u.rememberAddress(req.address)
	u.startCheck(req)
}

// oauthSettings is the engine's sign-in for a check: the browser opens on the
// provider's page and a waiting dialog offers Cancel; run guards against a check that
// was cancelled meanwhile.
func (u *UI) oauthSettings(req request, run int) *detect.OAuthSettings {
	if req.oauth == detect.OAuthOff {
		return nil
	}
	s := &detect.OAuthSettings{Mode: req.oauth}
	s.Client.ClientID = req.oauthClientID
	s.OpenBrowser = func(raw string) error {
		target, err := url.Parse(raw)
		if err != nil {
			return err
		}
		u.do(func() {
			if u.run != run {
				return
			}
			u.showSignInWait(req, target)
			_ = u.openURL(target)
		})
		return nil
	}
	return s
}

// openURL opens the user's browser (tests play the browser instead).
func (u *UI) openURL(target *url.URL) error {
	if u.cfg.OpenURL != nil {
		return u.cfg.OpenURL(target)
	}
	return u.app.OpenURL(target)
}

// showSignInWait is the dialog shown while the user signs in on the provider's page.
func (u *UI) showSignInWait(req request, target *url.URL) {
	provider := u.oauthProvider(req.address)
	text, title := u.t("signin.wait_generic", "address", req.address), u.t("signin.button_generic")
	if provider != "" {
		text, title = u.t("signin.wait", "provider", provider, "address", req.address), u.t("signin.button", "provider", provider)
	}
	msg := widget.NewLabel(text)
	msg.Wrapping = fyne.TextWrapWord
	again := widget.NewButtonWithIcon(u.t("signin.open_again"), theme.ComputerIcon(), func() { _ = u.openURL(target) })
	link := widget.NewLabel(shorten(target.String(), 90))
	link.Importance = widget.LowImportance
	link.Wrapping = fyne.TextWrapBreak
	box := container.NewVBox(msg, widget.NewProgressBarInfinite(), container.NewHBox(again), link)
	d := dialog.NewCustom(title, u.t("common.cancel"), box, u.win)
	d.SetOnClosed(func() {
		if u.signIn == d { // closed by the user, not by the check moving on
			u.signIn = nil
			u.cancelCheck()
		}
	})
	d.Resize(fyne.NewSize(560, 260))
	u.signIn = d
	d.Show()
}

// signedIn closes the waiting dialog once the engine moves on to the probes.
func (u *UI) signedIn() {
	if d := u.signIn; d != nil {
		u.signIn = nil
		d.Hide()
	}
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// signInOffer is the result screen's button when the provider accepts (or needs) a
// sign-in that did not happen in this check.
func (u *UI) signInOffer(rep *detect.Report) fyne.CanvasObject {
	a := rep.OAuth
	if a == nil || a.SignedIn || u.lastReq == nil {
		return nil
	}
	words := u.t("signin.offer", "provider", a.Provider)
	if a.Needed {
		words = u.t("signin.offer_needed", "provider", a.Provider)
	}
	if a.Error != "" {
		words += " " + u.t("signin.last_failed", "words", firstSentence(u.tr.OAuthError(a.Error, a.ErrorWords)))
	}
	l := widget.NewLabel(words)
	l.Wrapping = fyne.TextWrapWord
	b := widget.NewButtonWithIcon(u.t("signin.button", "provider", a.Provider), theme.LoginIcon(), func() {
		req := *u.lastReq
		req.oauth = detect.OAuthBrowser
		u.startCheck(req)
	})
	b.Importance = widget.HighImportance
	return container.NewVBox(l, container.NewHBox(b))
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i > 0 {
		return s[:i+1]
	}
	return s
}
