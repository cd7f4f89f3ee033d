package gui

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/export"
)

type resultScreen struct {
	report  *detect.Report
	summary *widget.Label
	// signer signs Apple profiles when the user chose a certificate; kept in memory only.
	signer *export.Signer
	// fields holds the copyable values by "outgoing host", "incoming port" … (for tests).
	fields map[string]string
}

// showResult shows the recommended settings, the plain-words summary and alternatives.
func (u *UI) showResult(rep *detect.Report) {
	s := &resultScreen{report: rep, fields: map[string]string{}}
	u.result = s
	rec := rep.Recommended

	headline := "Your mail settings work"
	switch {
	case rec.Outgoing == nil && rec.Incoming == nil:
		headline = "We found no setting that works"
	case rec.Outgoing == nil || rec.Incoming == nil:
		headline = "Only part of your mail works"
	case !rec.Outgoing.Verified || !rec.Incoming.Verified:
		headline = "Servers found — login not tested"
	}
	title := widget.NewLabelWithStyle(headline, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.summary = widget.NewLabel(strings.Join(summaryLines(rep), "\n"))
	s.summary.Wrapping = fyne.TextWrapWord
	if s.summary.Text == "" {
		s.summary.Hide()
	}

	cards := container.NewGridWithColumns(2,
		s.settingCard(u, "Incoming mail", "incoming", rec.Incoming),
		s.settingCard(u, "Outgoing mail (SMTP)", "outgoing", rec.Outgoing))

	box := container.NewVBox(title, s.summary)
	if offer := u.signInOffer(rep); offer != nil {
		box.Add(offer)
	}
	box.Add(cards)
	if len(rep.Warnings) > 0 {
		box.Add(widget.NewLabelWithStyle("Good to know", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, w := range rep.Warnings {
			l := widget.NewLabel("• " + w)
			l.Wrapping = fyne.TextWrapWord
			box.Add(l)
		}
	}
	if len(rec.Alternatives) > 0 {
		box.Add(widget.NewLabelWithStyle("Also working", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, a := range rec.Alternatives {
			box.Add(widget.NewLabel(settingLine(a)))
		}
	}
	untrusted := groupByCertificate(untrustedServers(rep))
	if len(untrusted) > 0 {
		box.Add(u.untrustedSection(rep, untrusted))
	}
	if rec.Outgoing == nil || rec.Incoming == nil {
		box.Add(widget.NewLabelWithStyle("What went wrong", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, p := range failureExamples(rep) {
			p := p
			d := p.Diagnosis
			b := widget.NewButtonWithIcon(fmt.Sprintf("%s %s:%d — %s", strings.ToUpper(string(p.Protocol)), p.Host, p.Port, d.Title), theme.InfoIcon(), func() {
				showResults(u.win, d.Title, []detect.ProbeResult{p})
			})
			b.Alignment = widget.ButtonAlignLeading
			box.Add(b)
			l := widget.NewLabel(d.Explanation + " " + d.Fix)
			l.Wrapping = fyne.TextWrapWord
			box.Add(l)
		}
	}

	copyAll := widget.NewButtonWithIcon("Copy all settings as text", theme.ContentCopyIcon(), func() {
		u.app.Clipboard().SetContent(settingsText(rep))
	})
	again := widget.NewButtonWithIcon("Check another account", theme.NavigateBackIcon(), func() { u.showAccount("") })
	details := widget.NewButtonWithIcon("Every combination tried", theme.ListIcon(), func() {
		showResults(u.win, "Every combination tried", rep.Probes)
	})
	if rec.Outgoing != nil && rec.Incoming != nil {
		box.Add(widget.NewLabelWithStyle("Set up your mail program", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		box.Add(s.exportRow(u, rep))
	}
	box.Add(container.NewHBox(copyAll, details, again))
	u.setContent("result", container.NewPadded(container.NewVScroll(box)))
	// Nothing works, but a server we may not vouch for answered: ask at once.
	if len(untrusted) > 0 && (rec.Outgoing == nil || rec.Incoming == nil) && rep.Meta.PasswordUsed {
		u.confirmServers(rep, untrusted[0])
	}
}

// exportButtons are the export formats the result screen offers: every export.Format.
var exportButtons = func() []struct{ label, format string } {
	var out []struct{ label, format string }
	for _, f := range export.Formats {
		out = append(out, struct{ label, format string }{export.Labels[f], f})
	}
	return out
}()

// exportRow is one save button per format and the option to sign Apple profiles.
func (s *resultScreen) exportRow(u *UI, rep *detect.Report) fyne.CanvasObject {
	grid := container.NewGridWithColumns(3)
	for _, f := range exportButtons {
		grid.Add(widget.NewButtonWithIcon(f.label, theme.DocumentSaveIcon(), func() { u.saveExport(rep, f.format, s.signer) }))
	}
	signed := widget.NewLabel("Apple profiles are not signed.")
	sign := widget.NewButtonWithIcon("Sign Apple profile…", theme.ConfirmIcon(), func() { s.chooseSigner(u, signed) })
	return container.NewVBox(grid, container.NewHBox(sign, signed))
}

// chooseSigner asks for a PKCS #12 file and its password; the password is used once.
func (s *resultScreen) chooseSigner(u *UI, status *widget.Label) {
	open := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		defer r.Close()
		p12, err := io.ReadAll(io.LimitReader(r, 1<<20))
		if err != nil {
			dialog.ShowError(err, u.win)
			return
		}
		pw := widget.NewPasswordEntry()
		dialog.ShowForm("Certificate password", "Use", "Cancel", []*widget.FormItem{widget.NewFormItem("Password", pw)}, func(ok bool) {
			if !ok {
				return
			}
			signer, err := export.LoadSigner(p12, pw.Text)
			pw.SetText("")
			if err != nil {
				dialog.ShowError(err, u.win)
				return
			}
			s.signer = signer
			status.SetText("Apple profiles are signed by " + signer.Name() + ".")
		}, u.win)
	}, u.win)
	open.SetFilter(storage.NewExtensionFileFilter([]string{".p12", ".pfx"}))
	open.Show()
}

// exportBytes renders one export of the report (never with a password).
func exportBytes(rep *detect.Report, format string) ([]byte, error) {
	data, _, err := exportSigned(rep, format, nil)
	return data, err
}

// exportSigned renders one export, signing Apple profiles when signer is set, and
// returns the warnings the user should read.
func exportSigned(rep *detect.Report, format string, signer *export.Signer) ([]byte, []string, error) {
	opts := export.Options{VerifiedAt: rep.Meta.StartedAt, Signer: signer}
	acc, err := export.FromReport(rep, opts)
	if err != nil {
		return nil, nil, err
	}
	var b bytes.Buffer
	warnings, err := export.Write(format, acc, opts, &b)
	if err != nil {
		return nil, nil, err
	}
	return b.Bytes(), warnings, nil
}

// saveExport asks where to save an export through Fyne's save dialog.
func (u *UI) saveExport(rep *detect.Report, format string, signer *export.Signer) {
	data, warnings, err := exportSigned(rep, format, signer)
	if err != nil {
		dialog.ShowError(err, u.win)
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		defer w.Close()
		if _, err := w.Write(data); err != nil {
			dialog.ShowError(err, u.win)
			return
		}
		if len(warnings) > 0 {
			dialog.ShowInformation("Good to know", strings.Join(warnings, "\n\n"), u.win)
		}
	}, u.win)
	d.SetFileName(strings.ReplaceAll(rep.Address, "@", "_at_") + "-" + format + export.Extensions[format])
	d.Show()
}

// settingCard renders one recommended setting with a copy button per field.
func (s *resultScreen) settingCard(u *UI, title, role string, set *detect.Setting) fyne.CanvasObject {
	if set == nil {
		l := widget.NewLabel("Nothing that works was found. See “What went wrong” below.")
		l.Wrapping = fyne.TextWrapWord
		l.Importance = widget.DangerImportance
		return widget.NewCard(title, "", l)
	}
	verified := "Verified: we logged in with these settings."
	if !set.Verified {
		verified = "Not verified: no login was tested."
		if set.Auth == detect.AuthNone {
			verified = "Works without login from this network only."
		}
	}
	rows := []struct{ label, value string }{
		{"Protocol", strings.ToUpper(string(set.Protocol))},
		{"Server", set.Host},
		{"Port", strconv.Itoa(set.Port)},
		{"Security", detect.SecurityWords(set.Security)},
		{"User name", set.Username},
		{"Login method", authWords(set.Auth)},
	}
	form := container.NewGridWithColumns(2)
	for _, r := range rows {
		s.fields[role+" "+strings.ToLower(r.label)] = r.value
		value := r.value
		copyBtn := widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() { u.app.Clipboard().SetContent(value) })
		copyBtn.Importance = widget.LowImportance
		form.Add(widget.NewLabel(r.label))
		form.Add(container.NewBorder(nil, nil, nil, copyBtn, widget.NewLabelWithStyle(value, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})))
	}
	v := widget.NewLabel(verified)
	v.Wrapping = fyne.TextWrapWord
	if set.Verified {
		v.Importance = widget.SuccessImportance
	} else {
		v.Importance = widget.WarningImportance
	}
	return widget.NewCard(title, "", container.NewVBox(form, v))
}

// authWords names a login method the way mail programs' menus do.
func authWords(a string) string {
	switch a {
	case "PLAIN", "LOGIN", "USER":
		return "Normal password"
	case "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "APOP":
		return "Encrypted password (" + a + ")"
	case "none":
		return "No login"
	case detect.AuthOAuth2:
		return "OAuth2 (sign in with your provider)"
	case "":
		return "Normal password"
	}
	return a
}

// summaryLines are the plain-words sentences at the top of the result.
func summaryLines(rep *detect.Report) []string {
	var out []string
	if rep.Provider != nil {
		out = append(out, "Your provider is "+rep.Provider.Name+".")
		if rep.Provider.Notes.AppPassword {
			out = append(out, "Your provider needs an app password when two-step verification is on.")
		}
	}
	if o := rep.Recommended.Outgoing; o != nil && rep.Network.Port25 == detect.Port25Blocked {
		out = append(out, fmt.Sprintf("This network blocks port 25; we used %d, which works everywhere.", o.Port))
	}
	if rep.Network.Port25 == detect.Port25Intercepted {
		out = append(out, "Something on this network intercepts port 25 — never send a password there.")
	}
	if len(rep.FailedLogins) > 0 {
		out = append(out, "The server rejected the password. Check it; many providers want an app password instead of your normal one.")
	}
	if !rep.Meta.PasswordUsed {
		out = append(out, "No password was given, so the logins were not tested.")
	}
	return out
}

// failureExamples picks the most telling failure per protocol for the "what went wrong" list.
func failureExamples(rep *detect.Report) []detect.ProbeResult {
	best := map[detect.Protocol]detect.ProbeResult{}
	for _, p := range rep.Probes {
		if p.Status == detect.StatusOK || p.Diagnosis == nil {
			continue
		}
		cur, ok := best[p.Protocol]
		if !ok || statusRank[p.Status] < statusRank[cur.Status] {
			best[p.Protocol] = p
		}
	}
	var out []detect.ProbeResult
	for _, proto := range []detect.Protocol{detect.SMTP, detect.IMAP, detect.POP3} {
		if p, ok := best[proto]; ok {
			out = append(out, p)
		}
	}
	return out
}

func settingLine(s detect.Setting) string {
	v := ""
	if s.Verified {
		v = ", verified"
	}
	return fmt.Sprintf("%s %s port %d, %s%s", strings.ToUpper(string(s.Protocol)), s.Host, s.Port, detect.SecurityWords(s.Security), v)
}

// settingsText is the copy-all text: every field of both settings, never the password.
func settingsText(rep *detect.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Mail settings for %s\n", rep.Address)
	for _, x := range []struct {
		label string
		s     *detect.Setting
	}{{"Incoming", rep.Recommended.Incoming}, {"Outgoing", rep.Recommended.Outgoing}} {
		if x.s == nil {
			fmt.Fprintf(&b, "\n%s: none found\n", x.label)
			continue
		}
		fmt.Fprintf(&b, "\n%s (%s)\n  Server: %s\n  Port: %d\n  Security: %s\n  User name: %s\n  Login: %s\n",
			x.label, strings.ToUpper(string(x.s.Protocol)), x.s.Host, x.s.Port, detect.SecurityWords(x.s.Security), x.s.Username, authWords(x.s.Auth))
	}
	return b.String()
}
