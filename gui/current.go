package gui

// This file is the "Check the settings I use now" screen: it lists the accounts the
// installed mail programs hold (or reads a file the user opens, or takes a typed-in
// form), asks the password once, runs the check through CurrentConfig.Check (the
// window never dials), shows the verdict on each current setting first, then the
// smallest proven change with the changed fields highlighted, a fix with confirmation
// and undo, and how this network compares with the ones checked before.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/clients/current"
	"github.com/mailsetup/mailsetup/detect"
)

// CurrentConfig is what the current-settings screen calls; main wires the real
// functions (clients/current and netmemory), tests wire in-process ones.
type CurrentConfig struct {
	// Find lists the accounts of the installed mail programs, with notes.
	Find func() ([]clients.Account, []string)
	// Open reads the accounts of a file or profile folder the user picked.
	Open func(path string) ([]clients.Account, []string, error)
	// Check checks one account with the password (used for this check only, never
	// stored); progress may be called from other goroutines.
	Check func(ctx context.Context, acct clients.Account, password string, progress func(current.Event)) (*current.Result, *current.NetworkView, error)
	// Fix applies a result's proven changes (in place for Thunderbird, else exports).
	Fix func(res *current.Result) (*current.Fixed, error)
	// Undo reverts an in-place fix.
	Undo func(fx *current.Fixed) error
	// StartFile, when set, opens this screen at start with the accounts of that file
	// (unattended runs and screenshots); StartCheck then checks the first account with
	// the demo password.
	StartFile  string
	StartCheck bool
}

// currentScreen is the presenter of the screen.
type currentScreen struct {
	u        *UI
	accounts []clients.Account
	notes    []string
	chosen   int
	list     *widget.RadioGroup
	details  *widget.Label
	password *widget.Entry
	check    *widget.Button
	progress binding.String
	result   *fyne.Container
	message  *widget.Label
	run      int
	cancel   context.CancelFunc

	// After a check: the result, what the network memory said, the fix and its state.
	res   *current.Result
	net   *current.NetworkView
	fixed *current.Fixed
	// fields holds the shown values by "outgoing port", "outgoing port changed" … (tests).
	fields map[string]string
	fixBtn *widget.Button
	undo   *widget.Button
	// confirm is the fix's confirmation dialog while shown (tests press it).
	confirm *dialog.ConfirmDialog
}

// showCurrent shows the "Check the settings I use now" screen with the accounts of
// the installed mail programs.
func (u *UI) showCurrent() {
	s := &currentScreen{u: u, progress: binding.NewString(), fields: map[string]string{}}
	u.cur = s
	if f := u.cfg.Current.Find; f != nil {
		s.accounts, s.notes = f()
	}
	s.build()
}

// showCurrentFile shows the screen with the accounts of a file.
func (u *UI) showCurrentFile(path string) {
	u.showCurrent()
	u.cur.openFile(path)
}

func (s *currentScreen) build() {
	u := s.u
	title := widget.NewLabelWithStyle("Check the settings I use now", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	intro := widget.NewLabel("We read your mail program's settings (never its passwords), test exactly those on this network, and find the smallest change that works here.")
	intro.Wrapping = fyne.TextWrapWord
	s.message = widget.NewLabel("")
	s.message.Wrapping = fyne.TextWrapWord
	s.message.Importance = widget.WarningImportance
	s.message.Hide()
	s.list = widget.NewRadioGroup(nil, func(string) { s.choose() })
	s.details = widget.NewLabel("")
	s.details.Wrapping = fyne.TextWrapWord
	s.details.TextStyle = fyne.TextStyle{Monospace: true}
	s.password = widget.NewPasswordEntry()
	s.password.SetPlaceHolder("Password for this account (used for this check only, never stored)")
	if u.cfg.Demo {
		s.password.SetText(u.cfg.DemoPassword)
	}
	s.check = widget.NewButtonWithIcon("Check these settings", theme.SearchIcon(), func() { s.start() })
	s.check.Importance = widget.HighImportance
	s.password.OnSubmitted = func(string) { s.start() }
	openBtn := widget.NewButtonWithIcon("Open a file…", theme.FolderOpenIcon(), func() {
		dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			path := r.URI().Path()
			r.Close()
			s.openFile(path)
		}, u.win)
	})
	manualBtn := widget.NewButtonWithIcon("Type them in…", theme.DocumentCreateIcon(), func() { s.manualForm() })
	back := widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), func() {
		s.stop()
		u.showAccount("")
	})
	s.result = container.NewVBox()
	progress := widget.NewLabelWithData(s.progress)
	progress.Wrapping = fyne.TextWrapWord
	s.refreshList()
	// The verdict comes first: once a check ran, its result sits above the account picker.
	content := container.NewVBox(title, intro, s.message, progress, s.result,
		widget.NewLabelWithStyle("Accounts found", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		s.list, container.NewHBox(openBtn, manualBtn), s.details,
		widget.NewForm(widget.NewFormItem("Password", s.password)),
		container.NewHBox(s.check, back))
	u.setContent("current", container.NewPadded(container.NewVScroll(content)))
}

func (s *currentScreen) refreshList() {
	var opts []string
	for _, a := range s.accounts {
		opts = append(opts, accountLine(a))
	}
	s.list.Options = opts
	if len(opts) == 0 {
		s.list.Hide()
		s.details.SetText("No Thunderbird or Outlook account was found for this user. Open a file (prefs.js, .reg, .prf, .mobileconfig, clientConfig XML or a saved report) or type the settings in.")
		s.check.Disable()
	} else {
		s.list.Show()
		s.check.Enable()
		s.chosen = -1
		s.list.SetSelected(opts[0])
	}
	if len(s.notes) > 0 {
		s.message.SetText(strings.Join(s.notes, "\n"))
		s.message.Show()
	} else {
		s.message.Hide()
	}
	s.list.Refresh()
}

// accountLine names an account and where it was read.
func accountLine(a clients.Account) string {
	src := map[clients.Client]string{clients.Thunderbird: "Thunderbird", clients.Outlook: "Outlook", clients.OutlookPRF: "Outlook PRF",
		clients.Apple: "Apple profile", clients.ClientConfig: "clientConfig file", clients.Report: "saved report", clients.Manual: "typed in"}[a.Client]
	return a.Label() + " — " + src
}

func (s *currentScreen) choose() {
	for i, o := range s.list.Options {
		if o == s.list.Selected {
			s.chosen = i
		}
	}
	if s.chosen < 0 || s.chosen >= len(s.accounts) {
		return
	}
	a := s.accounts[s.chosen]
	var lines []string
	for _, x := range []struct {
		label string
		s     *detect.Setting
	}{{"Incoming", a.Incoming}, {"Outgoing", a.Outgoing}} {
		if x.s != nil {
			lines = append(lines, fmt.Sprintf("%-8s %s %s:%d %s, user %q", x.label, strings.ToUpper(string(x.s.Protocol)), x.s.Host, x.s.Port, detect.SecurityWords(x.s.Security), x.s.Username))
		}
	}
	lines = append(lines, a.Notes...)
	s.details.SetText(strings.Join(lines, "\n"))
}

func (s *currentScreen) openFile(path string) {
	if s.u.cfg.Current.Open == nil {
		return
	}
	accts, notes, err := s.u.cfg.Current.Open(path)
	if err != nil {
		s.message.SetText("Could not read " + path + ": " + err.Error())
		s.message.Show()
		return
	}
	s.accounts, s.notes = accts, notes
	s.refreshList()
}

// validatePort is the manual form's port validator (pure).
func validatePort(v string) error {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > 65535 {
		return errors.New("a port is a number from 1 to 65535")
	}
	return nil
}

var securityChoices = []string{"SSL/TLS", "STARTTLS", "None"}

func securityOf(word string) detect.Security {
	switch word {
	case "SSL/TLS":
		return detect.SecurityTLS
	case "STARTTLS":
		return detect.SecurityStartTLS
	}
	return detect.SecurityNone
}

// manualForm lets the user type the current settings in.
func (s *currentScreen) manualForm() {
	addr := widget.NewEntry()
	addr.Validator = validateAddress
	inProto := widget.NewSelect([]string{"IMAP", "POP3"}, nil)
	inProto.SetSelected("IMAP")
	inHost, inPort, inUser := widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	inPort.Validator = validatePort
	inPort.SetText("993")
	inSec := widget.NewSelect(securityChoices, nil)
	inSec.SetSelected("SSL/TLS")
	outHost, outPort, outUser := widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	outPort.Validator = validatePort
	outPort.SetText("587")
	outSec := widget.NewSelect(securityChoices, nil)
	outSec.SetSelected("STARTTLS")
	items := []*widget.FormItem{
		widget.NewFormItem("Email address", addr),
		widget.NewFormItem("Incoming", inProto), widget.NewFormItem("Incoming server", inHost), widget.NewFormItem("Incoming port", inPort),
		widget.NewFormItem("Incoming security", inSec), widget.NewFormItem("Incoming user name", inUser),
		widget.NewFormItem("Outgoing (SMTP) server", outHost), widget.NewFormItem("Outgoing port", outPort),
		widget.NewFormItem("Outgoing security", outSec), widget.NewFormItem("Outgoing user name", outUser),
	}
	dialog.ShowForm("The settings you use now", "Use these", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		ip, _ := strconv.Atoi(strings.TrimSpace(inPort.Text))
		op, _ := strconv.Atoi(strings.TrimSpace(outPort.Text))
		in := &detect.Setting{Protocol: detect.Protocol(strings.ToLower(inProto.Selected)), Host: strings.TrimSpace(inHost.Text), Port: ip,
			Security: securityOf(inSec.Selected), Auth: "password-cleartext", Username: strings.TrimSpace(inUser.Text)}
		out := &detect.Setting{Protocol: detect.SMTP, Host: strings.TrimSpace(outHost.Text), Port: op,
			Security: securityOf(outSec.Selected), Auth: "password-cleartext", Username: strings.TrimSpace(outUser.Text)}
		if out.Host == "" {
			out = nil
		}
		a, err := current.Manual(strings.TrimSpace(addr.Text), in, out)
		if err != nil {
			dialog.ShowError(err, s.u.win)
			return
		}
		s.accounts, s.notes = []clients.Account{a}, nil
		s.refreshList()
	}, s.u.win)
}

func (s *currentScreen) stop() {
	s.run++
	if s.cancel != nil {
		s.cancel()
	}
}

// start runs the check of the chosen account in the background.
func (s *currentScreen) start() {
	if s.chosen < 0 || s.chosen >= len(s.accounts) || s.u.cfg.Current.Check == nil {
		return
	}
	s.stop()
	run := s.run
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	acct, pw := s.accounts[s.chosen], s.password.Text
	s.res, s.net, s.fixed = nil, nil, nil
	s.fields = map[string]string{}
	s.result.RemoveAll()
	s.check.Disable()
	_ = s.progress.Set("Testing exactly the settings you use now, on this network…")
	progress := func(e current.Event) {
		s.u.do(func() {
			if s.run != run {
				return
			}
			switch {
			case e.Part != nil:
				s.showVerdict(*e.Part)
			case e.Stage == "matrix":
				_ = s.progress.Set("Looking for the smallest change that works here…")
			}
		})
	}
	s.u.cfg.Background(func() {
		res, view, err := s.u.cfg.Current.Check(ctx, acct, pw, progress)
		s.u.do(func() {
			if s.run != run {
				return
			}
			cancel()
			s.check.Enable()
			if err != nil {
				_ = s.progress.Set("")
				s.message.SetText("The check could not run: " + err.Error())
				s.message.Show()
				return
			}
			s.res, s.net = res, view
			_ = s.progress.Set(fmt.Sprintf("Verdict after %.1f s, finished in %.1f s.", float64(res.VerdictMS)/1000, float64(res.ElapsedMS)/1000))
			s.showResult()
			if s.u.cfg.OnResult != nil && res.Report != nil {
				s.u.cfg.OnResult(res.Report)
			}
		})
	})
}

func roleTitle(r current.Role) string {
	if r == current.Outgoing {
		return "Sending (SMTP)"
	}
	return "Receiving"
}

// verdictCard renders one verdict: works or fails here, and why.
func (s *currentScreen) verdictCard(p current.Part) fyne.CanvasObject {
	head := "Works"
	icon := theme.ConfirmIcon()
	imp := widget.SuccessImportance
	switch {
	case p.Verdict.Works && !p.Verdict.Verified:
		head, imp = "Reachable", widget.WarningImportance
	case !p.Verdict.Works && p.Verdict.BlockedHere:
		head, icon, imp = "Blocked on this network", theme.ErrorIcon(), widget.DangerImportance
	case !p.Verdict.Works:
		head, icon, imp = "Fails here", theme.ErrorIcon(), widget.DangerImportance
	}
	h := widget.NewLabelWithStyle(fmt.Sprintf("%s — %s", roleTitle(p.Role), head), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	h.Importance = imp
	now := widget.NewLabel(fmt.Sprintf("%s %s:%d %s", strings.ToUpper(string(p.Current.Protocol)), p.Current.Host, p.Current.Port, detect.SecurityWords(p.Current.Security)))
	now.Importance = widget.LowImportance
	sentence := widget.NewLabel(p.Verdict.Sentence)
	sentence.Wrapping = fyne.TextWrapWord
	s.fields[string(p.Role)+" verdict"] = p.Verdict.Sentence
	probe := p.Probe
	details := widget.NewButtonWithIcon("What happened", theme.InfoIcon(), func() {
		showResults(s.u.win, roleTitle(p.Role)+": your setting", []detect.ProbeResult{probe})
	})
	details.Importance = widget.LowImportance
	return container.NewVBox(container.NewHBox(widget.NewIcon(icon), h, now, layout.NewSpacer(), details), sentence)
}

func (s *currentScreen) showVerdict(p current.Part) {
	s.result.Add(s.verdictCard(p))
}

// changeTable shows the change field by field; the changed rows are highlighted.
func (s *currentScreen) changeTable(c current.Change) fyne.CanvasObject {
	changed := map[clients.Field]bool{}
	for _, f := range c.Fields {
		changed[f] = true
	}
	grid := container.NewGridWithColumns(3,
		widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{}),
		widget.NewLabelWithStyle("Now", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewLabelWithStyle("Change to", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	rows := []struct {
		field    clients.Field
		label    string
		from, to string
	}{
		{clients.FieldHost, "Server", c.From.Host, c.To.Host},
		{clients.FieldPort, "Port", strconv.Itoa(c.From.Port), strconv.Itoa(c.To.Port)},
		{clients.FieldSecurity, "Security", detect.SecurityWords(c.From.Security), detect.SecurityWords(c.To.Security)},
		{clients.FieldUsername, "User name", c.From.Username, c.To.Username},
		{clients.FieldAuth, "Login method", loginWords(c.From.Auth), loginWords(c.To.Auth)},
	}
	for _, r := range rows {
		key := string(c.Role) + " " + strings.ToLower(r.label)
		s.fields[key] = r.to
		label := widget.NewLabel(r.label)
		from := widget.NewLabel(r.from)
		to := widget.NewLabel(r.to)
		if changed[r.field] {
			s.fields[key+" changed"] = "yes"
			label.TextStyle = fyne.TextStyle{Bold: true}
			to.TextStyle = fyne.TextStyle{Bold: true}
			to.Importance = widget.HighImportance
			to.SetText("→ " + r.to)
			from.Importance = widget.LowImportance
		} else {
			to.Importance = widget.LowImportance
			to.SetText("(unchanged)")
		}
		grid.Add(label)
		grid.Add(from)
		grid.Add(to)
	}
	return grid
}

// loginWords names a mail program's login setting the way its menus do.
func loginWords(a string) string {
	switch a {
	case "password-cleartext":
		return "Normal password"
	case "password-encrypted":
		return "Encrypted password"
	case "any":
		return "Any method"
	}
	return authWords(a)
}

func (s *currentScreen) showResult() {
	res := s.res
	s.result.RemoveAll()
	headline := "Your settings work on this network"
	var changes []current.Change
	for _, p := range res.Parts {
		if !p.Verdict.Works {
			headline = "Your settings need a change here"
			if p.Change == nil {
				headline = "Your settings do not work here"
			}
		}
		if p.Change != nil {
			changes = append(changes, *p.Change)
		}
	}
	if len(changes) > 0 && res.OK() {
		headline = "Your settings need a change here — and we proved one"
	}
	h := widget.NewLabelWithStyle(headline, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.result.Add(h)
	for _, p := range res.Parts {
		s.result.Add(s.verdictCard(p))
		if p.Change != nil {
			t := widget.NewLabelWithStyle("Smallest change that works here", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			sentence := widget.NewLabel(p.Change.Sentence)
			sentence.Wrapping = fyne.TextWrapWord
			s.result.Add(widget.NewCard("", "", container.NewVBox(t, sentence, s.changeTable(*p.Change))))
		} else if !p.Verdict.Works && p.Verdict.Advice != "" {
			l := widget.NewLabel("No change that works was proven in this run. " + p.Verdict.Advice)
			l.Wrapping = fyne.TextWrapWord
			s.result.Add(l)
		}
	}
	if len(changes) > 0 {
		s.result.Add(s.fixRow())
	}
	s.result.Add(s.networkBox())
	details := widget.NewButtonWithIcon("Every combination tried", theme.ListIcon(), func() {
		if res.Report != nil {
			showResults(s.u.win, "Every combination tried", append(append([]detect.ProbeResult(nil), res.Report.Probes...), res.Extra...))
		}
	})
	s.result.Add(container.NewHBox(details))
	s.result.Add(widget.NewSeparator())
}

// fixRow is the fix button: in place for a Thunderbird profile (with confirmation and
// undo), else the export in the program's own format.
func (s *currentScreen) fixRow() fyne.CanvasObject {
	status := widget.NewLabel("")
	status.Wrapping = fyne.TextWrapWord
	s.undo = widget.NewButtonWithIcon("Undo", theme.ContentUndoIcon(), func() { s.doUndo(status) })
	s.undo.Hide()
	if current.Fixable(s.res.Account) {
		s.fixBtn = widget.NewButtonWithIcon("Fix in Thunderbird", theme.DocumentSaveIcon(), func() { s.confirmFix(status) })
	} else {
		s.fixBtn = widget.NewButtonWithIcon("Save my settings with this change…", theme.DocumentSaveIcon(), func() { s.saveExports(status) })
	}
	s.fixBtn.Importance = widget.HighImportance
	return container.NewVBox(container.NewHBox(s.fixBtn, s.undo), status)
}

// fixSummary lists the prefs a Thunderbird fix would write.
func fixSummary(res *current.Result) string {
	var lines []string
	for _, p := range res.Parts {
		if p.Change == nil {
			continue
		}
		for _, f := range p.Change.Fields {
			key := p.Origin.Keys[f]
			if key == "" {
				key = string(f)
			}
			lines = append(lines, fmt.Sprintf("• %s = %s", key, fieldValue(p.Change.To, f)))
		}
	}
	return strings.Join(lines, "\n")
}

// fieldValue is one field of a setting as text.
func fieldValue(st detect.Setting, f clients.Field) string {
	switch f {
	case clients.FieldHost:
		return st.Host
	case clients.FieldPort:
		return strconv.Itoa(st.Port)
	case clients.FieldSecurity:
		return detect.SecurityWords(st.Security)
	case clients.FieldAuth:
		return loginWords(st.Auth)
	case clients.FieldUsername:
		return st.Username
	}
	return ""
}

func (s *currentScreen) confirmFix(status *widget.Label) {
	msg := "Thunderbird must be closed. We write only these settings into your profile's user.js and keep a backup of it, so you can undo:\n\n" + fixSummary(s.res)
	d := dialog.NewConfirm("Change Thunderbird's settings?", msg, func(ok bool) {
		if ok {
			s.doFix(status)
		}
	}, s.u.win)
	d.SetConfirmText("Fix")
	d.SetDismissText("Cancel")
	d.Show()
	s.confirm = d
}

func (s *currentScreen) doFix(status *widget.Label) {
	if s.u.cfg.Current.Fix == nil {
		return
	}
	fx, err := s.u.cfg.Current.Fix(s.res)
	if err != nil {
		status.Importance = widget.DangerImportance
		status.SetText("Not changed: " + err.Error())
		return
	}
	s.fixed = fx
	status.Importance = widget.SuccessImportance
	msg := "Done. Start Thunderbird: it now uses the change."
	if fx.Backup != nil {
		msg = "Written to " + fx.Backup.UserJS + ". Start Thunderbird: it now uses the change."
	}
	status.SetText(msg)
	s.fixBtn.Disable()
	s.undo.Show()
}

func (s *currentScreen) doUndo(status *widget.Label) {
	if s.fixed == nil || s.u.cfg.Current.Undo == nil {
		return
	}
	if err := s.u.cfg.Current.Undo(s.fixed); err != nil {
		status.Importance = widget.DangerImportance
		status.SetText("Not undone: " + err.Error())
		return
	}
	s.fixed = nil
	status.Importance = widget.MediumImportance
	status.SetText("Undone: Thunderbird's settings are as they were.")
	s.undo.Hide()
	s.fixBtn.Enable()
}

// saveExports asks where to save each export file of the change.
func (s *currentScreen) saveExports(status *widget.Label) {
	if s.u.cfg.Current.Fix == nil {
		return
	}
	fx, err := s.u.cfg.Current.Fix(s.res)
	if err != nil {
		status.SetText("Not saved: " + err.Error())
		return
	}
	for _, f := range fx.Exports {
		f := f
		d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
			if err != nil || w == nil {
				return
			}
			defer w.Close()
			if _, err := w.Write(f.Data); err != nil {
				dialog.ShowError(err, s.u.win)
				return
			}
			status.SetText("Saved " + w.URI().Name() + ". Install it as for any export (see the Set up your mail program buttons).")
		}, s.u.win)
		d.SetFileName(f.Name)
		d.Show()
	}
}

// networkBox shows this network and how the ones checked before compare.
func (s *currentScreen) networkBox() fyne.CanvasObject {
	box := container.NewVBox(widget.NewLabelWithStyle("This network", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	n := s.res.Network
	line := "Port 25 " + string(n.Port25)
	if v := s.net; v != nil {
		name := v.Name
		if name == "" {
			switch {
			case v.Fingerprint.WiFi != "":
				name = "Wi-Fi “" + v.Fingerprint.WiFi + "”"
			case v.Fingerprint.Gateway != "":
				name = "The network behind " + v.Fingerprint.Gateway
			default:
				name = "This network"
			}
		}
		state := "first time here"
		if v.Known {
			state = "checked here before"
		}
		if !v.Remembered {
			state = "not remembered: nothing identifies it"
		}
		line = fmt.Sprintf("%s (%s) — port 25 %s", name, state, n.Port25)
		s.fields["network"] = line
		for _, c := range v.Compare {
			l := widget.NewLabel("• " + c)
			l.Wrapping = fyne.TextWrapWord
			box.Add(l)
			s.fields["compare"] += c + "\n"
		}
	}
	box.Objects = append([]fyne.CanvasObject{box.Objects[0], widget.NewLabel(line)}, box.Objects[1:]...)
	return box
}
