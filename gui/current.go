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
	"github.com/mailsetup/mailsetup/i18n"
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
	title := widget.NewLabelWithStyle(u.t("current.title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	intro := widget.NewLabel(u.t("current.intro"))
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
	s.password.SetPlaceHolder(u.t("current.password_placeholder"))
	if u.cfg.Demo {
		s.password.SetText(u.cfg.DemoPassword)
	}
	s.check = widget.NewButtonWithIcon(u.t("current.check"), theme.SearchIcon(), func() { s.start() })
	s.check.Importance = widget.HighImportance
	s.password.OnSubmitted = func(string) { s.start() }
	openBtn := widget.NewButtonWithIcon(u.t("current.open_file"), theme.FolderOpenIcon(), func() {
		dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			path := r.URI().Path()
			r.Close()
			s.openFile(path)
		}, u.win)
	})
	manualBtn := widget.NewButtonWithIcon(u.t("current.type_in"), theme.DocumentCreateIcon(), func() { s.manualForm() })
	back := widget.NewButtonWithIcon(u.t("current.back"), theme.NavigateBackIcon(), func() {
		s.stop()
		u.showAccount("")
	})
	s.result = container.NewVBox()
	progress := widget.NewLabelWithData(s.progress)
	progress.Wrapping = fyne.TextWrapWord
	s.refreshList()
	// The verdict comes first: once a check ran, its result sits above the account picker.
	content := container.NewVBox(title, intro, s.message, progress, s.result,
		widget.NewLabelWithStyle(u.t("current.accounts"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		s.list, container.NewHBox(openBtn, manualBtn), s.details,
		widget.NewForm(widget.NewFormItem(u.t("account.password"), s.password)),
		container.NewHBox(s.check, back))
	u.setContent("current", container.NewPadded(container.NewVScroll(content)))
}

func (s *currentScreen) refreshList() {
	var opts []string
	for _, a := range s.accounts {
		opts = append(opts, accountLine(s.u.tr, a))
	}
	s.list.Options = opts
	if len(opts) == 0 {
		s.list.Hide()
		s.details.SetText(s.u.t("current.no_accounts"))
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
func accountLine(tr *i18n.Lang, a clients.Account) string {
	src := map[clients.Client]string{clients.Thunderbird: "Thunderbird", clients.Outlook: "Outlook", clients.OutlookPRF: "Outlook PRF",
		clients.Apple: tr.T("current.source_apple"), clients.ClientConfig: tr.T("current.source_clientconfig"),
		clients.Report: tr.T("current.source_report"), clients.Manual: tr.T("current.source_manual")}[a.Client]
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
	tr := s.u.tr
	for _, x := range []struct {
		label string
		s     *detect.Setting
	}{{tr.T("copy.incoming"), a.Incoming}, {tr.T("copy.outgoing"), a.Outgoing}} {
		if x.s != nil {
			lines = append(lines, tr.T("current.detail", "role", x.label, "protocol", strings.ToUpper(string(x.s.Protocol)), "host", x.s.Host,
				"port", x.s.Port, "security", tr.Security(x.s.Security), "user", strconv.Quote(x.s.Username)))
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
		s.message.SetText(s.u.t("current.read_failed", "path", path, "error", err.Error()))
		s.message.Show()
		return
	}
	s.accounts, s.notes = accts, notes
	s.refreshList()
}

// validatePort is the manual form's port validator (pure).
func validatePort(tr *i18n.Lang, v string) error {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > 65535 {
		return errors.New(tr.T("current.port_invalid"))
	}
	return nil
}

// securityModes are the manual form's security choices, in the order its menus list them.
var securityModes = []detect.Security{detect.SecurityTLS, detect.SecurityStartTLS, detect.SecurityNone}

func securitySelect(tr *i18n.Lang, chosen detect.Security) *widget.Select {
	var names []string
	for _, m := range securityModes {
		names = append(names, tr.Security(m))
	}
	sel := widget.NewSelect(names, nil)
	for i, m := range securityModes {
		if m == chosen {
			sel.SetSelectedIndex(i)
		}
	}
	return sel
}

func securityOf(sel *widget.Select) detect.Security {
	if i := sel.SelectedIndex(); i >= 0 && i < len(securityModes) {
		return securityModes[i]
	}
	return detect.SecurityNone
}

// manualForm lets the user type the current settings in.
func (s *currentScreen) manualForm() {
	u := s.u
	addr := widget.NewEntry()
	addr.Validator = func(v string) error { return validateAddress(u.tr, v) }
	port := func(v string) error { return validatePort(u.tr, v) }
	inProto := widget.NewSelect([]string{"IMAP", "POP3"}, nil)
	inProto.SetSelected("IMAP")
	inHost, inPort, inUser := widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	inPort.Validator = port
	inPort.SetText("993")
	inSec := securitySelect(u.tr, detect.SecurityTLS)
	outHost, outPort, outUser := widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	outPort.Validator = port
	outPort.SetText("587")
	outSec := securitySelect(u.tr, detect.SecurityStartTLS)
	items := []*widget.FormItem{
		widget.NewFormItem(u.t("account.address"), addr),
		widget.NewFormItem(u.t("manual.incoming"), inProto), widget.NewFormItem(u.t("manual.incoming_server"), inHost), widget.NewFormItem(u.t("manual.incoming_port"), inPort),
		widget.NewFormItem(u.t("manual.incoming_security"), inSec), widget.NewFormItem(u.t("manual.incoming_username"), inUser),
		widget.NewFormItem(u.t("manual.outgoing_server"), outHost), widget.NewFormItem(u.t("manual.outgoing_port"), outPort),
		widget.NewFormItem(u.t("manual.outgoing_security"), outSec), widget.NewFormItem(u.t("manual.outgoing_username"), outUser),
	}
	dialog.ShowForm(u.t("manual.title"), u.t("manual.use"), u.t("common.cancel"), items, func(ok bool) {
		if !ok {
			return
		}
		ip, _ := strconv.Atoi(strings.TrimSpace(inPort.Text))
		op, _ := strconv.Atoi(strings.TrimSpace(outPort.Text))
		in := &detect.Setting{Protocol: detect.Protocol(strings.ToLower(inProto.Selected)), Host: strings.TrimSpace(inHost.Text), Port: ip,
			Security: securityOf(inSec), Auth: "password-cleartext", Username: strings.TrimSpace(inUser.Text)}
		out := &detect.Setting{Protocol: detect.SMTP, Host: strings.TrimSpace(outHost.Text), Port: op,
			Security: securityOf(outSec), Auth: "password-cleartext", Username: strings.TrimSpace(outUser.Text)}
		if out.Host == "" {
			out = nil
		}
		a, err := current.Manual(strings.TrimSpace(addr.Text), in, out)
		if err != nil {
			u.showError(err)
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
	_ = s.progress.Set(s.u.t("current.testing"))
	progress := func(e current.Event) {
		s.u.do(func() {
			if s.run != run {
				return
			}
			switch {
			case e.Part != nil:
				s.showVerdict(*e.Part)
			case e.Stage == current.StageMatrix:
				_ = s.progress.Set(s.u.t("current.looking_for_change"))
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
				s.message.SetText(s.u.t("checking.failed", "error", err.Error()))
				s.message.Show()
				return
			}
			s.res, s.net = res, view
			tr := s.u.tr
			_ = s.progress.Set(tr.T("current.timing", "verdict", tr.Decimal(float64(res.VerdictMS)/1000, 1), "total", tr.Decimal(float64(res.ElapsedMS)/1000, 1)))
			s.showResult()
			if s.u.cfg.OnResult != nil && res.Report != nil {
				s.u.cfg.OnResult(res.Report)
			}
		})
	})
}

func roleTitle(tr *i18n.Lang, r current.Role) string {
	if r == current.Outgoing {
		return tr.T("current.role_outgoing")
	}
	return tr.T("current.role_incoming")
}

// verdictText is a verdict's sentence in tr's language, from its notice (the English
// Sentence when the verdict has none).
func verdictText(tr *i18n.Lang, p current.Part) string {
	v := p.Verdict
	port, other := v.Notice.Args["port"], v.Notice.Args["other_port"]
	switch v.Notice.Key {
	case "verdict_works":
		return tr.T("current.verdict_works")
	case "verdict_relay":
		return tr.T("current.verdict_relay")
	case "verdict_pop_before_smtp":
		return tr.T("current.verdict_pop_before_smtp")
	case "verdict_reachable":
		return tr.T("current.verdict_reachable")
	case "verdict_intercepted":
		return tr.T("current.verdict_intercepted")
	case "verdict_unproven":
		return tr.T("current.verdict_unproven", "explanation", tr.KindWords(v.Kind).Explanation)
	case "verdict_port25_blocked":
		if other != "" {
			return tr.T("current.verdict_port25_blocked_elsewhere", "other_port", other)
		}
		return tr.T("current.verdict_port25_blocked")
	case "verdict_port_blocked":
		if other != "" {
			return tr.T("current.verdict_port_blocked_elsewhere", "port", port, "other_port", other)
		}
		return tr.T("current.verdict_port_blocked", "port", port)
	case "verdict_fails":
		d := tr.Diagnosis(p.Probe.Diagnosis)
		if p.Probe.Diagnosis == nil {
			d = tr.KindWords(v.Kind)
		}
		return tr.T("current.verdict_fails", "title", d.Title, "explanation", d.Explanation)
	}
	return v.Sentence
}

// verdictCard renders one verdict: works or fails here, and why.
func (s *currentScreen) verdictCard(p current.Part) fyne.CanvasObject {
	tr := s.u.tr
	head := tr.T("current.head_works")
	icon := theme.ConfirmIcon()
	imp := widget.SuccessImportance
	switch {
	case p.Verdict.Works && !p.Verdict.Verified:
		head, imp = tr.T("current.head_reachable"), widget.WarningImportance
	case !p.Verdict.Works && p.Verdict.BlockedHere:
		head, icon, imp = tr.T("current.head_blocked"), theme.ErrorIcon(), widget.DangerImportance
	case !p.Verdict.Works:
		head, icon, imp = tr.T("current.head_fails"), theme.ErrorIcon(), widget.DangerImportance
	}
	h := widget.NewLabelWithStyle(fmt.Sprintf("%s — %s", roleTitle(tr, p.Role), head), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	h.Importance = imp
	now := widget.NewLabel(fmt.Sprintf("%s %s:%d %s", strings.ToUpper(string(p.Current.Protocol)), p.Current.Host, p.Current.Port, tr.Security(p.Current.Security)))
	now.Importance = widget.LowImportance
	text := verdictText(tr, p)
	sentence := widget.NewLabel(text)
	sentence.Wrapping = fyne.TextWrapWord
	s.fields[string(p.Role)+" verdict"] = text
	probe := p.Probe
	details := widget.NewButtonWithIcon(tr.T("current.what_happened"), theme.InfoIcon(), func() {
		showResults(s.u, tr.T("current.your_setting", "role", roleTitle(tr, p.Role)), []detect.ProbeResult{probe})
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
	tr := s.u.tr
	grid := container.NewGridWithColumns(3,
		widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{}),
		widget.NewLabelWithStyle(tr.T("current.now"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewLabelWithStyle(tr.T("current.change_to"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	rows := []struct {
		field    clients.Field
		name     string
		label    string
		from, to string
	}{
		{clients.FieldHost, "server", tr.T("field.server"), c.From.Host, c.To.Host},
		{clients.FieldPort, "port", tr.T("field.port"), strconv.Itoa(c.From.Port), strconv.Itoa(c.To.Port)},
		{clients.FieldSecurity, "security", tr.T("field.security"), tr.Security(c.From.Security), tr.Security(c.To.Security)},
		{clients.FieldUsername, "user name", tr.T("field.username"), c.From.Username, c.To.Username},
		{clients.FieldAuth, "login method", tr.T("field.login_method"), tr.Auth(c.From.Auth), tr.Auth(c.To.Auth)},
	}
	for _, r := range rows {
		key := string(c.Role) + " " + r.name
		s.fields[key] = r.to
		label := widget.NewLabel(r.label)
		label.Wrapping = fyne.TextWrapWord
		from := widget.NewLabel(r.from)
		to := widget.NewLabel(r.to)
		from.Wrapping, to.Wrapping = fyne.TextWrapBreak, fyne.TextWrapBreak
		if changed[r.field] {
			s.fields[key+" changed"] = "yes"
			label.TextStyle = fyne.TextStyle{Bold: true}
			to.TextStyle = fyne.TextStyle{Bold: true}
			to.Importance = widget.HighImportance
			to.SetText("→ " + r.to)
			from.Importance = widget.LowImportance
		} else {
			to.Importance = widget.LowImportance
			to.SetText(tr.T("current.unchanged"))
		}
		grid.Add(label)
		grid.Add(from)
		grid.Add(to)
	}
	return grid
}

func (s *currentScreen) showResult() {
	res := s.res
	s.result.RemoveAll()
	tr := s.u.tr
	headline := tr.T("current.headline_works")
	var changes []current.Change
	for _, p := range res.Parts {
		if !p.Verdict.Works {
			headline = tr.T("current.headline_change")
			if p.Change == nil {
				headline = tr.T("current.headline_fails")
			}
		}
		if p.Change != nil {
			changes = append(changes, *p.Change)
		}
	}
	if len(changes) > 0 && res.OK() {
		headline = tr.T("current.headline_proven")
	}
	h := widget.NewLabelWithStyle(headline, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	h.Wrapping = fyne.TextWrapWord
	s.result.Add(h)
	for _, p := range res.Parts {
		s.result.Add(s.verdictCard(p))
		if p.Change != nil {
			t := widget.NewLabelWithStyle(tr.T("current.smallest_change"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			sentence := widget.NewLabel(changeText(tr, *p.Change))
			sentence.Wrapping = fyne.TextWrapWord
			s.result.Add(widget.NewCard("", "", container.NewVBox(t, sentence, s.changeTable(*p.Change))))
		} else if !p.Verdict.Works && p.Verdict.Advice != "" {
			l := widget.NewLabel(tr.T("current.no_change", "advice", tr.KindWords(p.Verdict.Kind).Fix))
			l.Wrapping = fyne.TextWrapWord
			s.result.Add(l)
		}
	}
	if len(changes) > 0 {
		s.result.Add(s.fixRow())
	}
	s.result.Add(s.networkBox())
	details := widget.NewButtonWithIcon(tr.T("result.every_combination"), theme.ListIcon(), func() {
		if res.Report != nil {
			showResults(s.u, tr.T("result.every_combination"), append(append([]detect.ProbeResult(nil), res.Report.Probes...), res.Extra...))
		}
	})
	s.result.Add(container.NewHBox(details))
	s.result.Add(widget.NewSeparator())
}

// changeText says a proven change in tr's language, from its fields: each changed part
// is one phrase, joined the way the language lists things.
func changeText(tr *i18n.Lang, c current.Change) string {
	var parts []string
	for _, f := range c.Fields {
		switch f {
		case clients.FieldHost:
			parts = append(parts, tr.T("change.server", "from", c.From.Host, "to", c.To.Host))
		case clients.FieldPort:
			parts = append(parts, tr.T("change.port", "from", c.From.Port, "to", c.To.Port))
		case clients.FieldSecurity:
			parts = append(parts, tr.T("change.security", "from", tr.Security(c.From.Security), "to", tr.Security(c.To.Security)))
		case clients.FieldAuth:
			parts = append(parts, tr.T("change.auth", "to", tr.Auth(c.To.Auth)))
		case clients.FieldUsername:
			parts = append(parts, tr.T("change.username", "to", c.To.Username))
		}
	}
	list := strings.Join(parts, tr.T("change.list_separator"))
	if len(parts) > 1 {
		list = strings.Join(parts[:len(parts)-1], tr.T("change.list_separator")) + tr.T("change.list_last") + parts[len(parts)-1]
	}
	keep := len(c.Fields) == 1 && c.Fields[0] == clients.FieldPort
	switch {
	case keep && c.Verified:
		return tr.T("change.sentence_keep", "changes", list, "security", tr.Security(c.To.Security))
	case keep:
		return tr.T("change.sentence_keep_unverified", "changes", list, "security", tr.Security(c.To.Security))
	case c.Verified:
		return tr.T("change.sentence", "changes", list)
	}
	return tr.T("change.sentence_unverified", "changes", list)
}

// fixRow is the fix button: in place for a Thunderbird profile (with confirmation and
// undo), else the export in the program's own format.
func (s *currentScreen) fixRow() fyne.CanvasObject {
	status := widget.NewLabel("")
	status.Wrapping = fyne.TextWrapWord
	s.undo = widget.NewButtonWithIcon(s.u.t("current.undo"), theme.ContentUndoIcon(), func() { s.doUndo(status) })
	s.undo.Hide()
	if current.Fixable(s.res.Account) {
		s.fixBtn = widget.NewButtonWithIcon(s.u.t("current.fix_thunderbird"), theme.DocumentSaveIcon(), func() { s.confirmFix(status) })
	} else {
		s.fixBtn = widget.NewButtonWithIcon(s.u.t("current.save_change"), theme.DocumentSaveIcon(), func() { s.saveExports(status) })
	}
	s.fixBtn.Importance = widget.HighImportance
	return container.NewVBox(container.NewHBox(s.fixBtn, s.undo), status)
}

// fixSummary lists the prefs a Thunderbird fix would write.
func fixSummary(tr *i18n.Lang, res *current.Result) string {
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
			lines = append(lines, fmt.Sprintf("• %s = %s", key, fieldValue(tr, p.Change.To, f)))
		}
	}
	return strings.Join(lines, "\n")
}

// fieldValue is one field of a setting as text.
func fieldValue(tr *i18n.Lang, st detect.Setting, f clients.Field) string {
	switch f {
	case clients.FieldHost:
		return st.Host
	case clients.FieldPort:
		return strconv.Itoa(st.Port)
	case clients.FieldSecurity:
		return tr.Security(st.Security)
	case clients.FieldAuth:
		return tr.Auth(st.Auth)
	case clients.FieldUsername:
		return st.Username
	}
	return ""
}

func (s *currentScreen) confirmFix(status *widget.Label) {
	msg := s.u.t("current.fix_confirm_text") + "\n\n" + fixSummary(s.u.tr, s.res)
	d := dialog.NewConfirm(s.u.t("current.fix_confirm_title"), msg, func(ok bool) {
		if ok {
			s.doFix(status)
		}
	}, s.u.win)
	d.SetConfirmText(s.u.t("current.fix"))
	d.SetDismissText(s.u.t("common.cancel"))
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
		status.SetText(s.u.t("current.not_changed", "error", err.Error()))
		return
	}
	s.fixed = fx
	status.Importance = widget.SuccessImportance
	msg := s.u.t("current.fixed")
	if fx.Backup != nil {
		msg = s.u.t("current.fixed_file", "file", fx.Backup.UserJS)
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
		status.SetText(s.u.t("current.not_undone", "error", err.Error()))
		return
	}
	s.fixed = nil
	status.Importance = widget.MediumImportance
	status.SetText(s.u.t("current.undone"))
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
		status.SetText(s.u.t("current.not_saved", "error", err.Error()))
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
				s.u.showError(err)
				return
			}
			status.SetText(s.u.t("current.saved", "file", w.URI().Name()))
		}, s.u.win)
		d.SetFileName(f.Name)
		d.Show()
	}
}

// networkBox shows this network and how the ones checked before compare.
func (s *currentScreen) networkBox() fyne.CanvasObject {
	tr := s.u.tr
	box := container.NewVBox(widget.NewLabelWithStyle(tr.T("checking.network"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	n := s.res.Network
	line := tr.T("network.port25", "state", tr.Port25(n.Port25))
	if v := s.net; v != nil {
		name := v.Name
		if name == "" {
			switch {
			case v.Fingerprint.WiFi != "":
				name = tr.T("current.net_wifi", "name", v.Fingerprint.WiFi)
			case v.Fingerprint.Gateway != "":
				name = tr.T("current.net_gateway", "gateway", v.Fingerprint.Gateway)
			default:
				name = tr.T("checking.network")
			}
		}
		state := tr.T("current.net_first_time")
		if v.Known {
			state = tr.T("current.net_known")
		}
		if !v.Remembered {
			state = tr.T("current.net_not_remembered")
		}
		line = tr.T("current.net_line", "name", name, "state", state, "port25", tr.Port25(n.Port25))
		s.fields["network"] = line
		for _, c := range v.Compare {
			l := widget.NewLabel("• " + c)
			l.Wrapping = fyne.TextWrapWord
			box.Add(l)
			s.fields["compare"] += c + "\n"
		}
	}
	netLine := widget.NewLabel(line)
	netLine.Wrapping = fyne.TextWrapWord
	box.Objects = append([]fyne.CanvasObject{box.Objects[0], netLine}, box.Objects[1:]...)
	return box
}
