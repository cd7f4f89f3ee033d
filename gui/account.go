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
)

// Preference keys, all in one place. Passwords are never stored.
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

// validateAddress is the address entry's validator (pure; table-tested).
func validateAddress(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("type your email address")
	}
	if _, err := detect.ParseAddress(s); err != nil {
		msg := err.Error()
		if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "detect: bad email address") {
			msg = msg[i+2:]
		}
		return errors.New("not an email address: " + msg)
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
}

// showAccount shows the first screen; message (e.g. "Cancelled") is shown above the form.
func (u *UI) showAccount(message string) {
	s := &accountScreen{}
	u.acct = s
	s.address = widget.NewEntry()
	s.address.SetPlaceHolder("you@example.com")
	s.address.Validator = validateAddress
	s.password = widget.NewPasswordEntry()
	s.password.SetPlaceHolder("Password or app password (optional: without it we test everything but the login)")
	s.username = widget.NewEntry()
	s.username.SetPlaceHolder("Only if your provider uses a different login name")
	s.incoming = widget.NewRadioGroup([]string{"IMAP (keeps mail on the server)", "POP3 (downloads mail)"}, nil)
	s.incoming.Horizontal = true
	s.incoming.SetSelected(s.incoming.Options[0])
	if u.app.Preferences().Bool(prefPreferPOP3) {
		s.incoming.SetSelected(s.incoming.Options[1])
	}
	s.plaintext = widget.NewCheck("Allow logging in without encryption, on servers that offer no encryption at all", nil)
	plainHelp := widget.NewLabel("Off by default. When on, and only for a server that offers no encryption on any port, we log in on an unencrypted connection: anyone on this network could read the password, or (with CRAM-MD5, SCRAM or APOP) record an answer from which it can be guessed. A server that offers encryption never gets an unencrypted login, whatever this says.")
	plainHelp.Wrapping = fyne.TextWrapWord
	plainHelp.Importance = widget.LowImportance
	s.caLabel = widget.NewLabel("No extra certificate authority")
	caButton := widget.NewButtonWithIcon("Trust a CA file…", theme.FolderOpenIcon(), func() {
		dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			defer r.Close()
			s.caFile = r.URI().Path()
			if _, err := detect.LoadCAFile(s.caFile); err != nil {
				s.caFile = ""
				dialog.ShowError(err, u.win)
				return
			}
			s.caLabel.SetText("Also trusting " + r.URI().Name())
		}, u.win)
	})
	s.clientID = widget.NewEntry()
	s.clientID.SetPlaceHolder("Only if your provider's sign-in needs this program registered (see README)")
	advanced := widget.NewAccordion(widget.NewAccordionItem("Advanced", container.NewVBox(
		widget.NewForm(widget.NewFormItem("User name", s.username), widget.NewFormItem("Incoming", s.incoming),
			widget.NewFormItem("OAuth2 client ID", s.clientID)),
		s.plaintext, plainHelp,
		container.NewHBox(caButton, s.caLabel),
	)))

	s.check = widget.NewButtonWithIcon("Check my settings", theme.SearchIcon(), func() { u.submit() })
	s.check.Importance = widget.HighImportance
	s.check.Disable()
	s.address.OnChanged = func(v string) {
		if validateAddress(v) == nil {
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

	title := widget.NewLabelWithStyle("Make your mail work", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	intro := widget.NewLabel("Type your address and password. We find your servers, try every way to reach them, prove the settings by logging in, and explain anything that fails.")
	intro.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(widget.NewFormItem("Email address", s.address), widget.NewFormItem("Password", s.password))
	var recentRow fyne.CanvasObject = container.NewVBox()
	if len(recent.Objects) > 0 {
		recentRow = container.NewVBox(widget.NewLabel("Recent:"), container.NewHScroll(recent))
	}
	current := widget.NewButtonWithIcon("Check the settings I use now…", theme.FolderOpenIcon(), func() { u.showCurrent() })
	current.Importance = widget.LowImportance
	batch := widget.NewButtonWithIcon("Check a list of accounts…", theme.ListIcon(), func() { u.showBatch() })
	batch.Importance = widget.LowImportance
	content := container.NewVBox(title, intro, s.message, form, recentRow, advanced, container.NewHBox(s.check, u.signInButton(s)),
		widget.NewSeparator(), widget.NewLabel("Mail worked elsewhere and not here? Check the settings your mail program uses now. Setting up a whole team? Check a list:"),
		container.NewHBox(current, batch))
	u.setContent("account", container.NewPadded(container.NewVScroll(content)))
	u.win.Canvas().Focus(s.address)
}

// submit starts a check when the address is valid.
func (u *UI) submit() {
	s := u.acct
	if s == nil || validateAddress(s.address.Text) != nil {
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
