package gui

import (
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"

	"github.com/mailsetup/mailsetup/i18n"
)

// This file chooses the window's language. The catalogs (i18n/translations/*.json) are
// registered with Fyne's lang package, which matches them against the languages the
// operating system lists (LANGUAGE, LC_ALL, LC_MESSAGES, LANG on Linux; the user's
// preferred languages on macOS and Windows); the language menu overrides that choice
// and is remembered in the preferences. Every text of the window comes from u.tr.

// prefLanguage holds the language the user chose ("" follows the system).
const prefLanguage = "language"

var registerOnce sync.Once

// registerCatalogs hands the catalogs to Fyne's lang package once; the Brazilian catalog
// also serves plain Portuguese, which Fyne would otherwise match to its own "pt".
func registerCatalogs() {
	registerOnce.Do(func() {
		if err := lang.AddTranslationsFS(i18n.Files, i18n.Dir); err != nil {
			fyne.LogError("loading the translations", err)
		}
		if data, err := i18n.Files.ReadFile(i18n.Dir + "/pt-BR.json"); err == nil {
			_ = lang.AddTranslationsForLocale(data, "pt")
		}
	})
}

// systemLanguage is the catalog Fyne's lang package chose for the operating system's
// languages: each catalog names its own code under "language.code", so asking Fyne for
// that key tells which one it matched. When the system's first language has no catalog
// of ours (Fyne knows more languages than we do), the window speaks English.
func systemLanguage() string {
	registerCatalogs()
	if i18n.Match(lang.SystemLocale().String()) == i18n.English {
		return i18n.English
	}
	if code := lang.X("language.code", i18n.English); i18n.Known(code) {
		return code
	}
	return i18n.Match(lang.SystemLocale().String())
}

// languageFor is the language the window speaks: the remembered choice, else the system's.
func languageFor(p fyne.Preferences) string {
	if code := p.String(prefLanguage); i18n.Known(code) {
		return code
	}
	return systemLanguage()
}

// setLanguage switches the window to code ("" follows the system), remembers the choice
// and draws the current screen again in it.
func (u *UI) setLanguage(code string) {
	if code != "" && !i18n.Known(code) {
		return
	}
	u.app.Preferences().SetString(prefLanguage, code)
	u.tr = i18n.New(languageFor(u.app.Preferences()))
	u.win.SetTitle(u.t("app.name"))
	u.win.SetMainMenu(u.mainMenu())
	switch u.screen {
	case "account":
		u.showAccountKeeping()
	case "result":
		if u.result != nil {
			u.showResult(u.result.report)
		}
	case "current":
		if s := u.cur; s != nil {
			pw, chosen := s.password.Text, s.chosen
			s.build()
			s.password.SetText(pw)
			if chosen >= 0 && chosen < len(s.list.Options) {
				s.list.SetSelected(s.list.Options[chosen])
			}
			if s.res != nil {
				s.showResult()
			}
		}
	case "batch":
		// A running list keeps its language until its check ends: its rows hold state.
		if s := u.batch; s != nil && !s.running {
			s.build()
		}
	}
	// The checking screen keeps its language until the check ends: its cells hold state.
}

// t translates key with name, value pairs.
func (u *UI) t(key string, args ...any) string { return u.tr.T(key, args...) }

// n translates the plural message key for count.
func (u *UI) n(key string, count int, args ...any) string { return u.tr.N(key, count, args...) }

// mainMenu is the window's menu: the language choice and the about box.
func (u *UI) mainMenu() *fyne.MainMenu {
	chosen := u.app.Preferences().String(prefLanguage)
	auto := fyne.NewMenuItem(u.t("menu.language_system"), func() { u.setLanguage("") })
	auto.Checked = chosen == ""
	items := []*fyne.MenuItem{auto, fyne.NewMenuItemSeparator()}
	for _, l := range i18n.Languages {
		it := fyne.NewMenuItem(l.Name, func() { u.setLanguage(l.Code) })
		it.Checked = chosen == l.Code
		items = append(items, it)
	}
	return fyne.NewMainMenu(
		fyne.NewMenu(u.t("menu.language"), items...),
		fyne.NewMenu(u.t("menu.help"), fyne.NewMenuItem(u.t("menu.about"), u.showAbout)))
}
