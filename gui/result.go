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
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/export"
	"github.com/mailsetup/mailsetup/i18n"
)

type resultScreen struct {
	report  *detect.Report
	summary *widget.Label
	// signer signs Apple profiles when the user chose a certificate; kept in memory only.
	signer *export.Signer
	// fields holds the copyable values by "outgoing host", "incoming port" … (for tests).
	fields map[string]string
	// copies, exports and copyAll are the buttons in screen order (the keyboard test).
	copies  []*widget.Button
	exports []*widget.Button
	copyAll *widget.Button
}

// showResult shows the recommended settings, the plain-words summary and alternatives.
func (u *UI) showResult(rep *detect.Report) {
	s := &resultScreen{report: rep, fields: map[string]string{}}
	u.result = s
	rec := rep.Recommended

	headline := u.t("result.headline_works")
	switch {
	case rec.Outgoing == nil && rec.Incoming == nil:
		headline = u.t("result.headline_nothing")
	case rec.Outgoing == nil || rec.Incoming == nil:
		headline = u.t("result.headline_part")
	case !rec.Outgoing.Verified || !rec.Incoming.Verified:
		headline = u.t("result.headline_unverified")
	}
	title := widget.NewLabelWithStyle(headline, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Wrapping = fyne.TextWrapWord
	s.summary = widget.NewLabel(strings.Join(summaryLines(u.tr, rep), "\n"))
	s.summary.Wrapping = fyne.TextWrapWord
	if s.summary.Text == "" {
		s.summary.Hide()
	}

	cards := container.NewGridWithColumns(2,
		s.settingCard(u, u.t("result.incoming"), "incoming", rec.Incoming),
		s.settingCard(u, u.t("result.outgoing"), "outgoing", rec.Outgoing))

	box := container.NewVBox(title, s.summary)
	if offer := u.signInOffer(rep); offer != nil {
		box.Add(offer)
	}
	box.Add(cards)
	if len(rep.Warnings) > 0 {
		box.Add(widget.NewLabelWithStyle(u.t("result.good_to_know"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, w := range u.tr.Notices(rep.Notices, rep.Warnings) {
			l := widget.NewLabel("• " + w)
			l.Wrapping = fyne.TextWrapWord
			box.Add(l)
		}
	}
	if len(rec.Alternatives) > 0 {
		box.Add(widget.NewLabelWithStyle(u.t("result.also_working"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, a := range rec.Alternatives {
			box.Add(widget.NewLabel(settingLine(u.tr, a)))
		}
	}
	untrusted := groupByCertificate(untrustedServers(rep))
	if len(untrusted) > 0 {
		box.Add(u.untrustedSection(rep, untrusted))
	}
	if rec.Outgoing == nil || rec.Incoming == nil {
		box.Add(widget.NewLabelWithStyle(u.t("result.what_went_wrong"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, p := range failureExamples(rep) {
			d := u.tr.Diagnosis(p.Diagnosis)
			b := widget.NewButtonWithIcon(fmt.Sprintf("%s %s:%d — %s", strings.ToUpper(string(p.Protocol)), p.Host, p.Port, d.Title), theme.InfoIcon(), func() {
				showResults(u, d.Title, []detect.ProbeResult{p})
			})
			b.Alignment = widget.ButtonAlignLeading
			box.Add(b)
			l := widget.NewLabel(d.Explanation + " " + d.Fix)
			l.Wrapping = fyne.TextWrapWord
			box.Add(l)
		}
	}

	s.copyAll = widget.NewButtonWithIcon(u.t("result.copy_all"), theme.ContentCopyIcon(), func() {
		u.app.Clipboard().SetContent(settingsText(u.tr, rep))
	})
	again := widget.NewButtonWithIcon(u.t("result.again"), theme.NavigateBackIcon(), func() { u.showAccount("") })
	details := widget.NewButtonWithIcon(u.t("result.every_combination"), theme.ListIcon(), func() {
		showResults(u, u.t("result.every_combination"), rep.Probes)
	})
	if rec.Outgoing != nil && rec.Incoming != nil {
		box.Add(widget.NewLabelWithStyle(u.t("result.set_up"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		box.Add(s.exportRow(u, rep))
	}
	box.Add(container.NewHBox(s.copyAll, details, again))
	u.setContent("result", container.NewPadded(container.NewVScroll(box)))
	// Nothing works, but a server we may not vouch for answered: ask at once.
	if len(untrusted) > 0 && (rec.Outgoing == nil || rec.Incoming == nil) && rep.Meta.PasswordUsed {
		u.confirmServers(rep, untrusted[0])
	}
}

// exportButtons are the export formats the result screen offers: every export.Format,
// labelled by the catalog's "export.format.<format>".
var exportButtons = func() []struct{ format string } {
	var out []struct{ format string }
	for _, f := range export.Formats {
		out = append(out, struct{ format string }{f})
	}
	return out
}()

// exportRow is one save button per format and the option to sign Apple profiles.
func (s *resultScreen) exportRow(u *UI, rep *detect.Report) fyne.CanvasObject {
	grid := container.NewGridWithColumns(3)
	s.exports = nil
	for _, f := range exportButtons {
		b := widget.NewButtonWithIcon(formatLabel(u.tr, f.format), theme.DocumentSaveIcon(), func() { u.saveExport(rep, f.format, s.signer) })
		s.exports = append(s.exports, b)
		grid.Add(b)
	}
	signed := widget.NewLabel(u.t("result.apple_unsigned"))
	signed.Wrapping = fyne.TextWrapWord
	sign := widget.NewButtonWithIcon(u.t("result.apple_sign"), theme.ConfirmIcon(), func() { s.chooseSigner(u, signed) })
	return container.NewVBox(grid, container.NewBorder(nil, nil, sign, nil, signed))
}

// formatLabel names an export format on its button.
func formatLabel(tr *i18n.Lang, format string) string {
	return tr.T("export.format." + format)
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
			u.showError(err)
			return
		}
		pw := widget.NewPasswordEntry()
		dialog.ShowForm(u.t("result.cert_password_title"), u.t("result.cert_password_use"), u.t("common.cancel"), []*widget.FormItem{widget.NewFormItem(u.t("account.password"), pw)}, func(ok bool) {
			if !ok {
				return
			}
			signer, err := export.LoadSigner(p12, pw.Text)
			pw.SetText("")
			if err != nil {
				u.showError(err)
				return
			}
			s.signer = signer
			status.SetText(u.t("result.apple_signed", "name", signer.Name()))
		}, u.win)
	}, u.win)
	open.SetFilter(storage.NewExtensionFileFilter([]string{".p12", ".pfx"}))
	open.Show()
}

// exportBytes renders one export of the report (never with a password) in the
// window's language (the settings sheet and the text; the other formats are files
// for mail programs).
func exportBytes(tr *i18n.Lang, rep *detect.Report, format string) ([]byte, error) {
	data, _, err := exportSigned(tr, rep, format, nil)
	return data, err
}

// exportSigned renders one export, signing Apple profiles when signer is set, and
// returns the warnings the user should read.
func exportSigned(tr *i18n.Lang, rep *detect.Report, format string, signer *export.Signer) ([]byte, []string, error) {
	opts := export.Options{VerifiedAt: rep.Meta.StartedAt, Signer: signer, Language: tr.Code()}
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
	data, warnings, err := exportSigned(u.tr, rep, format, signer)
	if err != nil {
		u.showError(err)
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		defer w.Close()
		if _, err := w.Write(data); err != nil {
			u.showError(err)
			return
		}
		if len(warnings) > 0 {
			l := widget.NewLabel(strings.Join(warnings, "\n\n"))
			l.Wrapping = fyne.TextWrapWord
			info := dialog.NewCustom(u.t("result.good_to_know"), u.t("common.close"), l, u.win)
			info.Resize(fyne.NewSize(560, 300))
			info.Show()
		}
	}, u.win)
	d.SetFileName(strings.ReplaceAll(rep.Address, "@", "_at_") + "-" + format + export.Extensions[format])
	d.Show()
}

// settingCard renders one recommended setting with a copy button per field.
func (s *resultScreen) settingCard(u *UI, title, role string, set *detect.Setting) fyne.CanvasObject {
	if set == nil {
		l := widget.NewLabel(u.t("result.nothing_found"))
		l.Wrapping = fyne.TextWrapWord
		l.Importance = widget.DangerImportance
		return widget.NewCard(title, "", l)
	}
	verified := u.t("result.verified")
	if !set.Verified {
		verified = u.t("result.not_verified")
		if set.Auth == detect.AuthNone {
			verified = u.t("result.works_without_login")
		}
	}
	rows := []struct{ field, label, value string }{
		{"protocol", u.t("field.protocol"), strings.ToUpper(string(set.Protocol))},
		{"server", u.t("field.server"), set.Host},
		{"port", u.t("field.port"), strconv.Itoa(set.Port)},
		{"security", u.t("field.security"), u.tr.Security(set.Security)},
		{"user name", u.t("field.username"), set.Username},
		{"login method", u.t("field.login_method"), u.tr.Auth(set.Auth)},
	}
	form := container.New(layout.NewFormLayout())
	for _, r := range rows {
		s.fields[role+" "+r.field] = r.value
		value := r.value
		copyBtn := widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() { u.app.Clipboard().SetContent(value) })
		copyBtn.Importance = widget.LowImportance
		s.copies = append(s.copies, copyBtn)
		form.Add(widget.NewLabel(r.label))
		v := widget.NewLabelWithStyle(value, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		v.Wrapping = fyne.TextWrapBreak
		form.Add(container.NewBorder(nil, nil, nil, copyBtn, v))
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

// summaryLines are the plain-words sentences at the top of the result.
func summaryLines(tr *i18n.Lang, rep *detect.Report) []string {
	var out []string
	if rep.Provider != nil {
		out = append(out, tr.T("result.provider", "provider", rep.Provider.Name))
		if rep.Provider.Notes.AppPassword {
			out = append(out, tr.T("result.provider_app_password"))
		}
	}
	if o := rep.Recommended.Outgoing; o != nil && rep.Network.Port25 == detect.Port25Blocked {
		out = append(out, tr.T("result.port25_blocked", "port", o.Port))
	}
	if rep.Network.Port25 == detect.Port25Intercepted {
		out = append(out, tr.T("result.port25_intercepted"))
	}
	if len(rep.FailedLogins) > 0 {
		out = append(out, tr.T("result.password_rejected"))
	}
	if !rep.Meta.PasswordUsed {
		out = append(out, tr.T("result.no_password"))
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

func settingLine(tr *i18n.Lang, s detect.Setting) string {
	proto := strings.ToUpper(string(s.Protocol))
	if s.Verified {
		return tr.T("result.alternative_verified", "protocol", proto, "host", s.Host, "port", s.Port, "security", tr.Security(s.Security))
	}
	return tr.T("result.alternative", "protocol", proto, "host", s.Host, "port", s.Port, "security", tr.Security(s.Security))
}

// settingsText is the copy-all text: every field of both settings, never the password.
func settingsText(tr *i18n.Lang, rep *detect.Report) string {
	var b strings.Builder
	b.WriteString(tr.T("text.title", "address", rep.Address) + "\n")
	for _, x := range []struct {
		label string
		s     *detect.Setting
	}{{tr.T("copy.incoming"), rep.Recommended.Incoming}, {tr.T("copy.outgoing"), rep.Recommended.Outgoing}} {
		if x.s == nil {
			b.WriteString("\n" + tr.T("copy.none_found", "role", x.label) + "\n")
			continue
		}
		fmt.Fprintf(&b, "\n%s (%s)\n", x.label, strings.ToUpper(string(x.s.Protocol)))
		for _, f := range [][2]string{
			{tr.T("field.server"), x.s.Host}, {tr.T("field.port"), strconv.Itoa(x.s.Port)}, {tr.T("field.security"), tr.Security(x.s.Security)},
			{tr.T("field.username"), x.s.Username}, {tr.T("field.login"), tr.Auth(x.s.Auth)},
		} {
			b.WriteString("  " + tr.T("copy.field", "label", f[0], "value", f[1]) + "\n")
		}
	}
	return b.String()
}
