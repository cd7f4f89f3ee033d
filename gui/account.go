package gui

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/i18n"
)

// Preference keys, all in one place (prefLanguage is in lang.go). Passwords are never
// stored.
const (
	prefRecent     = "recent_addresses"
	prefPreferPOP3 = "prefer_pop3"
	maxRecent      = 8
	// The batch screen's: the consultant's branding, the formats of "Export all".
	prefBrandName    = "brand_name"
	prefBrandOrg     = "brand_organization"
	prefBrandContact = "brand_contact"
	prefBrandLogo    = "brand_logo_path"
	prefBrandCert    = "brand_certificate_path"
	prefBatchFormats = "batch_formats"
)

// validateAddress is the address entry's validator (pure; table-tested): the engine
// decides whether s is an address, the words say in tr's language what to fix.
func validateAddress(tr *i18n.Lang, s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return errors.New(tr.T("address.empty"))
	}
	if _, err := detect.ParseAddress(s); err != nil {
		at := strings.LastIndex(s, "@")
		switch {
		case at <= 0 || at == len(s)-1 || strings.Count(s, "@") > 1:
			return errors.New(tr.T("address.form"))
		case !strings.Contains(s[at+1:], "."):
			return errors.New(tr.T("address.no_dot", "domain", s[at+1:]))
		}
		return errors.New(tr.T("address.invalid"))
	}
	return nil
}

// request is what the account screen hands to the check.
type request struct {
	address        string
	password       string
	username       string
	preferPOP3     bool
	allowPlaintext bool
	caFile         string
	// trustHosts are servers the user confirmed in this session (never stored).
	trustHosts []string
	// oauth signs in with the provider's page in the browser (never stored).
	oauth detect.OAuthMode
	// oauthClientID is the OAuth2 client registration from the advanced options.
	oauthClientID string
}

type accountScreen struct {
	address   *widget.Entry
	password  *widget.Entry
	username  *widget.Entry
	incoming  *widget.RadioGroup
	plaintext *widget.Check
	caLabel   *widget.Label
	caFile    string
	clientID  *widget.Entry
	check     *widget.Button
	message   *widget.Label
	language  *widget.Select
}

// showAccountKeeping draws the account screen again (in another language) with what
// the user typed so far.
func (u *UI) showAccountKeeping() {
	old := u.acct
	if old == nil {
		u.showAccount("")
		return
	}
	msg := ""
	if !old.message.Hidden {
		msg = old.message.Text
	}
	u.showAccount(msg)
	s := u.acct
	s.address.SetText(old.address.Text)
	s.password.SetText(old.password.Text)
	s.username.SetText(old.username.Text)
	s.clientID.SetText(old.clientID.Text)
	s.incoming.SetSelected(s.incoming.Options[indexOf(old.incoming.Options, old.incoming.Selected)])
	s.plaintext.SetChecked(old.plaintext.Checked)
	if old.caFile != "" {
		s.caFile = old.caFile
		s.caLabel.SetText(u.t("account.ca_trusting", "file", fileName(old.caFile)))
	}
}

func indexOf(list []string, v string) int {
	for i, x := range list {
		if x == v {
			return i
		}
	}
	return 0
}

func fileName(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[i+1:]
	}
	return path
}

// languageSelect is the account screen's language choice: the system's language or one
// of the catalogs, each named in itself.
func (u *UI) languageSelect() *widget.Select {
	names := []string{u.t("menu.language_system")}
	for _, l := range i18n.Languages {
		names = append(names, l.Name)
	}
	sel := widget.NewSelect(names, nil)
	// A Select is as wide as its placeholder and cuts a longer choice short; the
	// placeholder (never shown: a choice is always made) is the longest name.
	for _, n := range names {
		if fyne.MeasureText(n, theme.TextSize(), fyne.TextStyle{}).Width > fyne.MeasureText(sel.PlaceHolder, theme.TextSize(), fyne.TextStyle{}).Width {
			sel.PlaceHolder = n
		}
	}
	chosen := u.app.Preferences().String(prefLanguage)
	sel.SetSelectedIndex(0)
	for i, l := range i18n.Languages {
		if l.Code == chosen {
			sel.SetSelectedIndex(i + 1)
		}
	}
	sel.OnChanged = func(string) {
		code := ""
		if i := sel.SelectedIndex(); i > 0 {
			code = i18n.Languages[i-1].Code
		}
		if code != u.app.Preferences().String(prefLanguage) {
			u.setLanguage(code)
		}
	}
	return sel
}

// showAccount shows the first screen; message (e.g. "Cancelled") is shown above the form.
func (u *UI) showAccount(message string) {
	s := &accountScreen{}
	u.acct = s
	s.address = widget.NewEntry()
	s.address.SetPlaceHolder(u.t("account.address_placeholder"))
	s.address.Validator = func(v string) error { return validateAddress(u.tr, v) }
	s.password = widget.NewPasswordEntry()
	s.password.SetPlaceHolder(u.t("account.password_placeholder"))
	s.username = widget.NewEntry()
	s.username.SetPlaceHolder(u.t("account.username_placeholder"))
	s.incoming = widget.NewRadioGroup([]string{u.t("account.incoming_imap"), u.t("account.incoming_pop3")}, nil)
	s.incoming.Horizontal = true
	s.incoming.SetSelected(s.incoming.Options[0])
	if u.app.Preferences().Bool(prefPreferPOP3) {
		s.incoming.SetSelected(s.incoming.Options[1])
	}
	s.plaintext = widget.NewCheck(u.t("account.allow_plaintext"), nil)
	plainHelp := widget.NewLabel(u.t("account.allow_plaintext_help"))
	plainHelp.Wrapping = fyne.TextWrapWord
	plainHelp.Importance = widget.LowImportance
	s.caLabel = widget.NewLabel(u.t("account.ca_none"))
	caButton := widget.NewButtonWithIcon(u.t("account.ca_button"), theme.FolderOpenIcon(), func() {
		dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			defer r.Close()
			s.caFile = r.URI().Path()
			if _, err := detect.LoadCAFile(s.caFile); err != nil {
				s.caFile = ""
				u.showError(err)
				return
			}
			s.caLabel.SetText(u.t("account.ca_trusting", "file", r.URI().Name()))
		}, u.win)
	})
	s.clientID = widget.NewEntry()
	s.clientID.SetPlaceHolder(u.t("account.client_id_placeholder"))
	advanced := widget.NewAccordion(widget.NewAccordionItem(u.t("account.advanced"), container.NewVBox(
		widget.NewForm(widget.NewFormItem(u.t("account.username"), s.username), widget.NewFormItem(u.t("account.incoming"), s.incoming),
			widget.NewFormItem(u.t("account.client_id"), s.clientID)),
		s.plaintext, plainHelp,
		container.NewHBox(caButton, s.caLabel),
	)))

	s.check = widget.NewButtonWithIcon(u.t("account.check"), theme.SearchIcon(), func() { u.submit() })
	s.check.Importance = widget.HighImportance
	s.check.Disable()
	s.address.OnChanged = func(v string) {
		if validateAddress(u.tr, v) == nil {
			s.check.Enable()
		} else {
			s.check.Disable()
		}
	}
	s.address.OnSubmitted = func(string) { u.submit() }
	s.password.OnSubmitted = func(string) { u.submit() }

	s.message = widget.NewLabel(message)
	s.message.Importance = widget.WarningImportance
	s.message.Wrapping = fyne.TextWrapWord
	if message == "" {
		s.message.Hide()
	}

	recent := container.NewHBox()
	for _, a := range u.app.Preferences().StringList(prefRecent) {
		recent.Add(widget.NewButton(a, func() { s.address.SetText(a) }))
	}
	if u.cfg.Demo {
		s.address.SetText(u.cfg.DemoAddress)
		s.password.SetText(u.cfg.DemoPassword)
		s.username.SetText(u.cfg.DemoUsername)
	}

	title := widget.NewLabelWithStyle(u.t("account.title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.language = u.languageSelect()
	header := container.NewBorder(nil, nil, nil, container.NewHBox(widget.NewIcon(theme.SettingsIcon()), s.language), title)
	intro := widget.NewLabel(u.t("account.intro"))
	intro.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(widget.NewFormItem(u.t("account.address"), s.address), widget.NewFormItem(u.t("account.password"), s.password))
	var recentRow fyne.CanvasObject = container.NewVBox()
	if len(recent.Objects) > 0 {
		recentRow = container.NewVBox(widget.NewLabel(u.t("account.recent")), container.NewHScroll(recent))
	}
	current := widget.NewButtonWithIcon(u.t("account.current_button"), theme.FolderOpenIcon(), func() { u.showCurrent() })
	current.Importance = widget.LowImportance
	currentIntro := widget.NewLabel(u.t("account.current_intro"))
	currentIntro.Wrapping = fyne.TextWrapWord
	batch := widget.NewButtonWithIcon(u.t("account.batch_button"), theme.ListIcon(), func() { u.showBatch() })
	batch.Importance = widget.LowImportance
	batchIntro := widget.NewLabel(u.t("account.batch_intro"))
	batchIntro.Wrapping = fyne.TextWrapWord
	content := container.NewVBox(header, intro, s.message, form, recentRow, advanced, container.NewHBox(s.check, u.signInButton(s)),
		widget.NewSeparator(), currentIntro, container.NewHBox(current), batchIntro, container.NewHBox(batch))
	u.setContent("account", container.NewPadded(container.NewVScroll(content)))
	u.win.Canvas().Focus(s.address)
}

// submit starts a check when the address is valid.
func (u *UI) submit() {
	s := u.acct
	if s == nil || validateAddress(u.tr, s.address.Text) != nil {
		return
	}
	req := u.requestFromForm()
	u.rememberAddress(req.address)
	u.app.Preferences().SetBool(prefPreferPOP3, req.preferPOP3)
	u.startCheck(req)
}

// requestFromForm reads the account form into a check's request.
func (u *UI) requestFromForm() request {
	s := u.acct
	return request{
		address:        strings.TrimSpace(s.address.Text),
		password:       s.password.Text,
		username:       strings.TrimSpace(s.username.Text),
		preferPOP3:     s.incoming.Selected == s.incoming.Options[1],
		allowPlaintext: s.plaintext.Checked,
		caFile:         s.caFile,
		oauthClientID:  strings.TrimSpace(s.clientID.Text),
	}
}

// rememberAddress keeps the recent addresses (never passwords), newest first.
func (u *UI) rememberAddress(a string) {
	list := []string{a}
	for _, x := range u.app.Preferences().StringList(prefRecent) {
		if x != a && len(list) < maxRecent {
			list = append(list, x)
		}
	}
	u.app.Preferences().SetStringList(prefRecent, list)
}
