package gui

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mailsetup/mailsetup/batch"
	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/export"
)

// This file is the batch screen: a consultant's list of mailboxes checked at once (one
// whole check per domain, a login for every further address), a live table, per-row
// details, re-checking what failed and exporting everything into one folder. The list's
// passwords live in this screen's memory only.

// BatchConfig opens the batch screen by itself (the demo and unattended measurements).
type BatchConfig struct {
	// Start opens the batch screen once the window is up, with List loaded.
	Start bool
	// List is a client list (address[,password][,name] per line) to load.
	List string
	// AutoRun checks the list at once.
	AutoRun bool
	// ExportDir, when set, exports everything there once the check is done.
	ExportDir string
	// OnDone is called on the UI goroutine when a check of the list has ended.
	OnDone func([]batch.Result)
	// Quit closes the app once the check (and the export) is done.
	Quit bool
}

// privacyNote is what the screen says about the passwords of a list.
const privacyNote = "Passwords you load or paste stay in this window's memory only: they are never saved, " +
	"a saved list has no passwords, and they are forgotten when you leave this screen."

type batchScreen struct {
	u       *UI
	clients []batch.Client
	results []batch.Result
	// engine keeps each domain's shared check between runs (re-checks cost logins only).
	engine *batch.Batch
	// trust are servers the consultant confirmed for this list (memory only).
	trust []string
	// plaintext, preferPOP3 and roots are the list's options (Advanced).
	plaintext, preferPOP3 bool
	roots                 []*x509.Certificate
	running               bool
	cancel                context.CancelFunc
	// done is closed when the running check ends (tests wait on it).
	done chan struct{}

	table    *widget.Table
	progress binding.Float
	status   binding.String
	message  *widget.Label
	// actions are disabled while a check runs; cancelBtn only then.
	actions   []*widget.Button
	checkBtn  *widget.Button
	recheck   *widget.Button
	exportBtn *widget.Button
	cancelBtn *widget.Button
	// signer signs Apple profiles with the consultant's certificate (this session only).
	signer *export.Signer
	// current maps the running check's results to rows.
	current *runRows
	// detail is the open row dialog and detailBox its content; exported is what the
	// last export wrote (tests).
	detail    dialog.Dialog
	detailBox fyne.CanvasObject
	exported  batch.Exported
}

// showBatch opens the batch screen with an empty list.
func (u *UI) showBatch() { u.openBatch() }

// openBatch builds the batch screen and returns it (tests drive it).
func (u *UI) openBatch() *batchScreen {
	s := &batchScreen{u: u, progress: binding.NewFloat(), status: binding.NewString()}
	_ = s.status.Set("Open or paste a list: one address per line, with its password and the person's name if you have them.")

	title := widget.NewLabelWithStyle("Check many accounts: one full check per domain, then one login per further address. Tap a row for its details.",
		fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Wrapping = fyne.TextWrapWord
	privacy := widget.NewLabel(privacyNote)
	privacy.Wrapping = fyne.TextWrapWord
	privacy.Importance = widget.WarningImportance
	s.message = widget.NewLabel("")
	s.message.Wrapping = fyne.TextWrapWord
	s.message.Importance = widget.DangerImportance
	s.message.Hide()

	open := widget.NewButtonWithIcon("Open list…", theme.FolderOpenIcon(), s.chooseList)
	paste := widget.NewButtonWithIcon("Paste list", theme.ContentPasteIcon(), s.pasteList)
	save := widget.NewButtonWithIcon("Save list (no passwords)…", theme.DocumentSaveIcon(), s.saveList)
	brand := widget.NewButtonWithIcon("Branding…", theme.AccountIcon(), s.editBranding)
	back := widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), s.leave)
	s.checkBtn = widget.NewButtonWithIcon("Check all", theme.SearchIcon(), func() { s.start(s.all()) })
	s.checkBtn.Importance = widget.HighImportance
	s.recheck = widget.NewButtonWithIcon("Re-check failed rows", theme.ViewRefreshIcon(), func() { s.start(s.failed()) })
	s.exportBtn = widget.NewButtonWithIcon("Export all…", theme.DownloadIcon(), s.chooseExport)
	s.cancelBtn = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), s.stop)
	s.actions = []*widget.Button{open, paste, save, brand, s.checkBtn, s.recheck, s.exportBtn}

	s.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(s.clients), len(batchColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return container.NewBorder(nil, nil, widget.NewIcon(nil), nil, l)
		},
		func(id widget.TableCellID, o fyne.CanvasObject) { s.fillCell(id, o.(*fyne.Container)) },
	)
	s.table.ShowHeaderColumn = false
	s.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	s.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(batchColumns) {
			o.(*widget.Label).SetText(batchColumns[id.Col].title)
		}
	}
	for i, c := range batchColumns {
		s.table.SetColumnWidth(i, c.width)
	}
	s.table.OnSelected = func(id widget.TableCellID) {
		s.table.Unselect(id)
		if id.Row >= 0 && id.Row < len(s.clients) {
			s.showRow(id.Row)
		}
	}

	advanced := widget.NewAccordion(widget.NewAccordionItem("Advanced", s.advanced()))
	bar := widget.NewProgressBarWithData(s.progress)
	top := container.NewVBox(container.NewBorder(nil, nil, back, nil, title), privacy,
		container.NewHBox(open, paste, save, brand, widget.NewSeparator(), s.checkBtn, s.cancelBtn, s.recheck, s.exportBtn),
		advanced, bar, widget.NewLabelWithData(s.status), s.message)
	if sz := u.win.Canvas().Size(); sz.Width < 1180 {
		u.win.Resize(fyne.NewSize(1180, max(sz.Height, 760))) // the table wants the width
	}
	u.setContent("batch", container.NewPadded(container.NewBorder(top, nil, nil, nil, s.table)))
	s.refreshButtons()
	u.batch = s
	return s
}

// batchColumns are the table's columns.
var batchColumns = []struct {
	title string
	width float32
}{{"Address", 240}, {"Name", 170}, {"Password", 90}, {"Status", 170}, {"Settings or what to do", 640}}

// advanced holds the list's options, as the account screen's Advanced does for one
// address; changing one starts the list's shared checks afresh.
func (s *batchScreen) advanced() fyne.CanvasObject {
	plain := widget.NewCheck("Allow logging in without encryption, on servers that offer no encryption at all", func(on bool) {
		s.plaintext, s.engine = on, nil
	})
	pop := widget.NewCheck("Prefer POP3 (downloads mail) to IMAP for incoming mail", func(on bool) {
		s.preferPOP3, s.engine = on, nil
	})
	caLabel := widget.NewLabel("No extra certificate authority")
	ca := widget.NewButtonWithIcon("Trust a CA file…", theme.FolderOpenIcon(), func() {
		dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			defer r.Close()
			certs, err := detect.LoadCAFile(r.URI().Path())
			if err != nil {
				dialog.ShowError(err, s.u.win)
				return
			}
			s.roots, s.engine = certs, nil
			caLabel.SetText("Also trusting " + r.URI().Name())
		}, s.u.win)
	})
	return container.NewVBox(plain, pop, container.NewHBox(ca, caLabel))
}

// fillCell renders one table cell: address, name, whether a password was given, the
// status as icon and word (never colour alone), and the one-line reason.
func (s *batchScreen) fillCell(id widget.TableCellID, box *fyne.Container) {
	var icon *widget.Icon
	var label *widget.Label
	for _, o := range box.Objects {
		switch w := o.(type) {
		case *widget.Icon:
			icon = w
		case *widget.Label:
			label = w
		}
	}
	icon.Hide()
	label.Importance = widget.MediumImportance
	if id.Row < 0 || id.Row >= len(s.clients) {
		label.SetText("")
		return
	}
	c, r := s.clients[id.Row], s.results[id.Row]
	switch id.Col {
	case 0:
		label.SetText(c.Address)
	case 1:
		label.SetText(c.Name)
	case 2:
		label.SetText(map[bool]string{true: "given", false: "none"}[c.Password != ""])
	case 3:
		word, res, imp := stateLook(r.State)
		icon.SetResource(res)
		icon.Show()
		label.Importance = imp
		label.SetText(word)
	case 4:
		text := r.Reason
		if r.Differs != "" {
			text += " — differs: " + r.Differs
		}
		label.SetText(text)
	}
}

// stateLook is a row state's word, icon and colour.
func stateLook(s batch.State) (string, fyne.Resource, widget.Importance) {
	switch s {
	case batch.StateDiscovering:
		return "finding servers", theme.SearchIcon(), widget.HighImportance
	case batch.StateChecking:
		return "checking", theme.ViewRefreshIcon(), widget.HighImportance
	case batch.StateVerified:
		return "verified", theme.ConfirmIcon(), widget.SuccessImportance
	case batch.StateUnverified:
		return "found, not tested", theme.QuestionIcon(), widget.WarningImportance
	case batch.StateAttention:
		return "needs attention", theme.ErrorIcon(), widget.DangerImportance
	case batch.StateCancelled:
		return "cancelled", theme.CancelIcon(), widget.LowImportance
	}
	return "waiting", theme.MoreHorizontalIcon(), widget.LowImportance
}

// load replaces the list (never while a check runs).
func (s *batchScreen) load(clients []batch.Client) {
	if s.running {
		return
	}
	s.clients = clients
	s.results = make([]batch.Result, len(clients))
	for i, c := range clients {
		s.results[i] = batch.Result{Index: i, Address: c.Address, State: batch.StateWaiting, Reason: "not checked yet"}
		if c.Problem != "" {
			s.results[i] = batch.Result{Index: i, Address: c.Address, State: batch.StateAttention, Reason: fmt.Sprintf("line %d: %s", c.Line, c.Problem)}
		}
	}
	s.message.Hide()
	s.table.Refresh()
	s.updateStatus()
	s.refreshButtons()
}

// loadText parses a list from text (a file or the clipboard) and loads it.
func (s *batchScreen) loadText(r io.Reader) {
	clients, err := batch.ParseList(r)
	if err != nil {
		s.showMessage("This list cannot be read: " + err.Error())
		return
	}
	s.load(clients)
}

func (s *batchScreen) showMessage(m string) {
	s.message.SetText(m)
	s.message.Show()
}

// chooseList opens a list file (CSV, or a spreadsheet's CSV or text export).
func (s *batchScreen) chooseList() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		defer r.Close()
		s.loadText(r)
	}, s.u.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".csv", ".txt", ".tsv"}))
	d.Show()
}

// pasteList loads the rows on the clipboard (copied from a spreadsheet: tab separated).
// The clipboard is read straight into memory: the passwords are never shown.
func (s *batchScreen) pasteList() {
	text := s.u.app.Clipboard().Content()
	if strings.TrimSpace(text) == "" {
		s.showMessage("The clipboard is empty: copy the rows (address, password, name) in your spreadsheet first.")
		return
	}
	s.loadText(strings.NewReader(text))
}

// saveList writes the list without passwords.
func (s *batchScreen) saveList() {
	if len(s.clients) == 0 {
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		defer w.Close()
		if err := batch.WriteList(w, s.clients); err != nil {
			dialog.ShowError(err, s.u.win)
		}
	}, s.u.win)
	d.SetFileName("clients.csv")
	d.Show()
}

func (s *batchScreen) all() []int {
	var out []int
	for i, c := range s.clients {
		if c.Problem == "" {
			out = append(out, i)
		}
	}
	return out
}

// failed lists the rows worth checking again: those that need attention or were cancelled.
func (s *batchScreen) failed() []int {
	var out []int
	for i, c := range s.clients {
		if st := s.results[i].State; c.Problem == "" && (st == batch.StateAttention || st == batch.StateCancelled) {
			out = append(out, i)
		}
	}
	return out
}

// batchEngine returns the engine of this list: the window's (knowledge, network)
// plus the servers confirmed for this list.
func (s *batchScreen) batchEngine() *batch.Batch {
	if s.engine == nil {
		opts := s.u.cfg.Base
		opts.TrustHosts = append(append([]string(nil), opts.TrustHosts...), s.trust...)
		opts.AllowPlaintext, opts.PreferPOP3 = s.plaintext, s.preferPOP3
		opts.ExtraRoots = append(append([]*x509.Certificate(nil), opts.ExtraRoots...), s.roots...)
		s.engine = batch.New(batch.Options{Engine: opts, Progress: s.progressFunc()})
	}
	return s.engine
}

// progressFunc posts each row's progress to the UI goroutine.
func (s *batchScreen) progressFunc() func(batch.Result) {
	return func(r batch.Result) {
		s.u.do(func() { s.apply(r) })
	}
}

// runRows maps the results of a running check (indices into its subset) to rows.
type runRows struct{ rows []int }

// start checks the rows idx in the background.
func (s *batchScreen) start(idx []int) {
	if s.running || len(idx) == 0 {
		return
	}
	s.running = true
	s.message.Hide()
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.done = make(chan struct{})
	done := s.done
	subset := make([]batch.Client, len(idx))
	for k, i := range idx {
		subset[k] = s.clients[i]
		s.results[i] = batch.Result{Index: i, Address: s.clients[i].Address, State: batch.StateWaiting, Reason: "waiting for its turn"}
	}
	s.current = &runRows{rows: idx}
	s.table.Refresh()
	s.updateStatus()
	s.refreshButtons()
	engine := s.batchEngine()
	s.u.cfg.Background(func() {
		results := engine.Check(ctx, subset)
		s.u.do(func() {
			defer close(done)
			cancel()
			if s.u.batch != s {
				return // the screen was left: its list is forgotten
			}
			for _, r := range results {
				s.set(idx[r.Index], r)
			}
			s.current = nil
			s.running = false
			s.table.Refresh()
			s.updateStatus()
			s.refreshButtons()
			s.finished()
		})
	})
}

// apply renders one progress event of the running check.
func (s *batchScreen) apply(r batch.Result) {
	if s.current == nil || r.Index >= len(s.current.rows) || s.u.batch != s {
		return
	}
	i := s.current.rows[r.Index]
	s.set(i, r)
	for col := range batchColumns {
		s.table.RefreshItem(widget.TableCellID{Row: i, Col: col})
	}
	s.updateStatus()
}

func (s *batchScreen) set(i int, r batch.Result) {
	if i < 0 || i >= len(s.results) || s.u.batch != s {
		return
	}
	r.Index = i
	s.results[i] = r
}

// leave forgets the list and its passwords and goes back to the account screen.
func (s *batchScreen) leave() {
	if s.cancel != nil {
		s.cancel()
	}
	for i := range s.clients {
		s.clients[i].Password = ""
	}
	s.clients, s.results = nil, nil
	if s.u.batch == s {
		s.u.batch = nil
	}
	s.u.showAccount("")
}

// stop cancels the running check; its rows end as cancelled at once.
func (s *batchScreen) stop() {
	if s.cancel != nil {
		s.cancel()
	}
}

// finished runs the unattended steps after a check (demo, measurements).
func (s *batchScreen) finished() {
	bc := s.u.cfg.Batch
	if bc.ExportDir != "" {
		if err := s.exportAllTo(bc.ExportDir, nil); err != nil {
			s.showMessage(err.Error())
		}
	}
	if bc.OnDone != nil {
		bc.OnDone(slices.Clone(s.results))
	}
	if bc.Quit {
		s.u.quit()
	}
}

// counts are the rows per state.
func (s *batchScreen) counts() map[batch.State]int {
	m := map[batch.State]int{}
	for _, r := range s.results {
		m[r.State]++
	}
	return m
}

func (s *batchScreen) updateStatus() {
	if len(s.clients) == 0 {
		return
	}
	c := s.counts()
	checkable := len(s.all())
	problems := len(s.clients) - checkable
	done := c[batch.StateVerified] + c[batch.StateUnverified] + c[batch.StateAttention] + c[batch.StateCancelled] - problems
	if checkable > 0 {
		_ = s.progress.Set(float64(done) / float64(checkable))
	}
	var parts []string
	if done == 0 && !s.running {
		withPassword := 0
		for _, cl := range s.clients {
			if cl.Problem == "" && cl.Password != "" {
				withPassword++
			}
		}
		parts = append(parts, fmt.Sprintf("%d addresses to check, %d with a password", checkable, withPassword))
		if problems > 0 {
			parts = append(parts, count(problems, "line cannot", "lines cannot")+" be checked (marked in the table)")
		}
		_ = s.status.Set(strings.Join(parts, " · "))
		return
	}
	parts = append(parts, fmt.Sprintf("%d of %d done", done, checkable), fmt.Sprintf("%d verified", c[batch.StateVerified]))
	if n := c[batch.StateUnverified]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d found without a password", n))
	}
	if n := c[batch.StateAttention] - problems; n > 0 {
		parts = append(parts, count(n, "needs", "need")+" attention")
	}
	if problems > 0 {
		parts = append(parts, count(problems, "line", "lines")+" not checked")
	}
	if n := c[batch.StateCancelled]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d cancelled", n))
	}
	if s.running {
		parts = append(parts, "checking…")
	}
	_ = s.status.Set(strings.Join(parts, " · "))
}

// count is "1 one" or "n many".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (s *batchScreen) refreshButtons() {
	for _, b := range s.actions {
		if s.running {
			b.Disable()
		} else {
			b.Enable()
		}
	}
	if s.running {
		s.cancelBtn.Enable()
	} else {
		s.cancelBtn.Disable()
	}
	if !s.running && len(s.all()) == 0 {
		s.checkBtn.Disable()
	}
	if !s.running && len(s.failed()) == 0 {
		s.recheck.Disable()
	}
	if !s.running && s.exportable() == 0 {
		s.exportBtn.Disable()
	}
}

// exportable counts the rows with settings to export.
func (s *batchScreen) exportable() int {
	n := 0
	for _, r := range s.results {
		if r.State == batch.StateVerified || r.State == batch.StateUnverified {
			n++
		}
	}
	return n
}

// showRow opens a row's detail: its state and reason, the result card and the matrix of
// a single check, its files, and what can be done about it.
func (s *batchScreen) showRow(i int) {
	u, c, r := s.u, s.clients[i], s.results[i]
	box := container.NewVBox()
	word, icon, imp := stateLook(r.State)
	head := widget.NewLabelWithStyle(word, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	head.Importance = imp
	box.Add(container.NewHBox(widget.NewIcon(icon), head))
	for _, t := range []string{r.Reason, differsWords(r.Differs), sharedWords(r)} {
		if t != "" {
			l := widget.NewLabel(t)
			l.Wrapping = fyne.TextWrapWord
			box.Add(l)
		}
	}
	if rep := r.Report; rep != nil {
		rs := &resultScreen{report: rep, fields: map[string]string{}, signer: s.signer}
		rec := rep.Recommended
		card := func(title, role string, set *detect.Setting) fyne.CanvasObject {
			if set != nil {
				return rs.settingCard(u, title, role, set)
			}
			l := widget.NewLabel("Nothing that works was found: see above, and the matrix below (tap a cell for what happened there).")
			l.Wrapping = fyne.TextWrapWord
			l.Importance = widget.DangerImportance
			return widget.NewCard(title, "", l)
		}
		box.Add(container.NewGridWithColumns(2,
			card("Incoming mail", "incoming", rec.Incoming),
			card("Outgoing mail (SMTP)", "outgoing", rec.Outgoing)))
		box.Add(widget.NewLabelWithStyle("Every port, encryption and login tried", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		box.Add(matrixOf(u, rep))
		box.Add(widget.NewButtonWithIcon("Every combination tried", theme.ListIcon(), func() {
			showResults(u, "Every combination tried for "+rep.Address, rep.Probes)
		}))
		for _, g := range groupByCertificate(untrustedServers(rep)) {
			b := widget.NewButtonWithIcon("Trust "+strings.Join(g.hosts(), ", ")+" for this list…", theme.WarningIcon(), func() { s.confirmTrust(rep, g) })
			b.Alignment = widget.ButtonAlignLeading
			box.Add(b)
		}
		if rec.Incoming != nil && rec.Outgoing != nil {
			box.Add(widget.NewLabelWithStyle("Files for this mailbox", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
			box.Add(rs.exportRow(u, rep))
		}
	}
	if c.Problem == "" && !s.running && (r.State == batch.StateAttention || r.State == batch.StateUnverified || r.State == batch.StateCancelled) {
		pw := widget.NewPasswordEntry()
		pw.SetPlaceHolder("Password or app password (kept in memory only)")
		again := widget.NewButtonWithIcon("Check this row again", theme.ViewRefreshIcon(), nil)
		again.Importance = widget.HighImportance
		again.OnTapped = func() {
			if pw.Text != "" {
				s.clients[i].Password = pw.Text
			}
			pw.SetText("")
			if s.detail != nil {
				s.detail.Hide()
			}
			s.table.Refresh()
			s.start([]int{i})
		}
		box.Add(widget.NewForm(widget.NewFormItem("New password", pw)))
		box.Add(again)
	}
	scroll := container.NewVScroll(box)
	scroll.SetMinSize(fyne.NewSize(760, 520))
	s.detailBox = box
	s.detail = dialog.NewCustom(c.Address, "Close", scroll, u.win)
	s.detail.Show()
}

func differsWords(d string) string {
	if d == "" {
		return ""
	}
	return "This mailbox differs from the others of its domain: " + d + "."
}

func sharedWords(r batch.Result) string {
	if r.Report == nil || !r.State.Done() {
		return ""
	}
	if r.Shared {
		return "Checked on the servers found once for its domain: only this mailbox's own logins were made."
	}
	return "Its domain was checked in full with this mailbox."
}

// matrixOf is the matrix of the checking screen for a finished report: a row per
// protocol and port the report has cells for (non-standard ports a source named too), a
// column per security mode, each cell's word and icon; tapping it shows what happened.
func matrixOf(u *UI, rep *detect.Report) fyne.CanvasObject {
	type row struct {
		proto detect.Protocol
		port  int
	}
	modes := []detect.Security{detect.SecurityTLS, detect.SecurityStartTLS, detect.SecurityNone}
	protoRank := map[detect.Protocol]int{detect.SMTP: 0, detect.IMAP: 1, detect.POP3: 2}
	var rows []row
	for _, p := range rep.Probes {
		if r := (row{p.Protocol, p.Port}); !slices.Contains(rows, r) {
			rows = append(rows, r)
		}
	}
	slices.SortStableFunc(rows, func(a, b row) int {
		if protoRank[a.proto] != protoRank[b.proto] {
			return protoRank[a.proto] - protoRank[b.proto]
		}
		return a.port - b.port
	})
	grid := container.NewGridWithColumns(len(modes) + 1)
	grid.Add(widget.NewLabel(""))
	for _, m := range modes {
		grid.Add(widget.NewLabelWithStyle(detect.SecurityWords(m), fyne.TextAlignCenter, fyne.TextStyle{Bold: true}))
	}
	for _, r := range rows {
		grid.Add(widget.NewLabelWithStyle(fmt.Sprintf("%s %d", strings.ToUpper(string(r.proto)), r.port), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, sec := range modes {
			var rs []detect.ProbeResult
			for _, p := range rep.Probes {
				if p.Protocol == r.proto && p.Port == r.port && p.Security == sec {
					rs = append(rs, p)
				}
			}
			if len(rs) == 0 {
				b := widget.NewButton("not used", nil)
				b.Importance = widget.LowImportance
				b.Disable()
				grid.Add(b)
				continue
			}
			word, icon, imp := statusLook(u.tr, bestResult(rs))
			title := fmt.Sprintf("%s %d — %s", strings.ToUpper(string(r.proto)), r.port, detect.SecurityWords(sec))
			b := widget.NewButtonWithIcon(word, icon, func() { showResults(u, title, rs) })
			b.Importance = imp
			grid.Add(b)
		}
	}
	return grid
}

// confirmTrust asks whether servers that no trusted source names belong to the
// client's provider; yes lets them receive the logins of every address of this list
// (in memory only) and checks the rows that need them again.
func (s *batchScreen) confirmTrust(rep *detect.Report, g serverGroup) {
	var lines []fyne.CanvasObject
	for _, t := range append(consentText(s.u.tr, g, rep.Address), "Yes confirms these servers for every address of this list, until you leave this screen.") {
		l := widget.NewLabel(t)
		l.Wrapping = fyne.TextWrapWord
		lines = append(lines, l)
	}
	scroll := container.NewVScroll(container.NewVBox(lines...))
	scroll.SetMinSize(fyne.NewSize(600, 320))
	d := dialog.NewCustomConfirm("Log in to "+strings.Join(g.hosts(), ", ")+"?", "Yes, the provider's", "No", scroll, func(yes bool) {
		if yes {
			s.trustServers(g.hosts())
		}
	}, s.u.win)
	s.u.consent = d
	d.Show()
}

// trustServers adds confirmed servers to this list's trust and checks again every row
// that a server of them was withheld from.
func (s *batchScreen) trustServers(hosts []string) {
	if s.detail != nil {
		s.detail.Hide()
	}
	s.trust = append(s.trust, hosts...)
	s.engine = nil // the shared checks were made with the old trust
	var rows []int
	for i, r := range s.results {
		if r.Report == nil {
			continue
		}
		for _, h := range r.Report.Hosts {
			if !h.Trusted && slices.Contains(hosts, h.Host) {
				rows = append(rows, i)
				break
			}
		}
	}
	s.start(rows)
}

// chooseExport asks for the formats, then the folder, and exports every row with settings.
func (s *batchScreen) chooseExport() {
	u := s.u
	chosen := u.app.Preferences().StringListWithFallback(prefBatchFormats, export.Formats)
	checks := container.NewGridWithColumns(2)
	boxes := map[string]*widget.Check{}
	for _, f := range export.Formats {
		c := widget.NewCheck(export.Labels[f], nil)
		c.SetChecked(slices.Contains(chosen, f))
		boxes[f] = c
		checks.Add(c)
	}
	b := s.branding()
	brand := "No branding: Branding… adds your name, organisation, contact line and logo."
	if b.Name != "" || b.Organization != "" {
		brand = "Branded: prepared by " + strings.Trim(b.Name+", "+b.Organization, ", ") + "."
	}
	signed := widget.NewLabel(s.signerWords())
	sign := widget.NewButtonWithIcon("Sign Apple profiles…", theme.ConfirmIcon(), func() { s.chooseCertificate(signed) })
	note := widget.NewLabel(fmt.Sprintf("%d mailboxes get a folder each with the chosen files; summary.html (printable) and summary.csv list all %d. No password is written.",
		s.exportable(), len(s.clients)))
	note.Wrapping = fyne.TextWrapWord
	content := container.NewVBox(note, checks, widget.NewLabel(brand), container.NewHBox(sign, signed))
	dialog.ShowCustomConfirm("Export all", "Choose folder…", "Cancel", content, func(ok bool) {
		if !ok {
			return
		}
		var formats []string
		for _, f := range export.Formats {
			if boxes[f].Checked {
				formats = append(formats, f)
			}
		}
		if len(formats) == 0 {
			dialog.ShowInformation("Export all", "Choose at least one format.", u.win)
			return
		}
		u.app.Preferences().SetStringList(prefBatchFormats, formats)
		dialog.ShowFolderOpen(func(dir fyne.ListableURI, err error) {
			if err != nil || dir == nil {
				return
			}
			if err := s.exportAllTo(dir.Path(), formats); err != nil {
				dialog.ShowError(err, u.win)
				return
			}
			dialog.ShowInformation("Exported", fmt.Sprintf("%d files for %d mailboxes in %s.\nOpen summary.html there to print the summary.",
				len(s.exported.Files), s.exported.Clients, dir.Path()), u.win)
		}, u.win)
	}, u.win)
}

// exportAllTo writes every row's files and the summary into dir (formats nil: every one).
func (s *batchScreen) exportAllTo(dir string, formats []string) error {
	out, err := batch.ExportAll(dir, s.clients, s.results, batch.ExportOptions{Formats: formats, Branding: s.branding(), Signer: s.signer})
	s.exported = out
	return err
}

// branding is the consultant's branding as remembered in the preferences.
func (s *batchScreen) branding() batch.Branding {
	p := s.u.app.Preferences()
	b := batch.Branding{Name: p.String(prefBrandName), Organization: p.String(prefBrandOrg), Contact: p.String(prefBrandContact)}
	if path := p.String(prefBrandLogo); path != "" {
		if data, err := readLogo(path); err == nil {
			b.Logo = data
		}
	}
	return b
}

// readLogo reads a logo file and checks it is an image a sheet can show.
func readLogo(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("logo: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, export.MaxLogoBytes+1))
	if err != nil {
		return nil, fmt.Errorf("logo: %w", err)
	}
	if _, err := export.LogoType(data); err != nil {
		return nil, err
	}
	return data, nil
}

// editBranding edits the consultant's name, organisation, contact line, logo and
// signing certificate; all but the certificate's password are remembered.
func (s *batchScreen) editBranding() {
	u := s.u
	p := u.app.Preferences()
	name, org, contact := widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	name.SetText(p.String(prefBrandName))
	org.SetText(p.String(prefBrandOrg))
	contact.SetText(p.String(prefBrandContact))
	name.SetPlaceHolder("Your name")
	org.SetPlaceHolder("Your organisation")
	contact.SetPlaceHolder("Phone or address your clients reach you at")
	logoPath := p.String(prefBrandLogo)
	logoLabel := widget.NewLabel("No logo")
	if logoPath != "" {
		logoLabel.SetText("Logo: " + logoPath)
	}
	chooseLogo := widget.NewButtonWithIcon("Choose logo…", theme.FileImageIcon(), func() {
		d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			r.Close()
			if _, err := readLogo(r.URI().Path()); err != nil {
				dialog.ShowError(err, u.win)
				return
			}
			logoPath = r.URI().Path()
			logoLabel.SetText("Logo: " + logoPath)
		}, u.win)
		d.SetFilter(storage.NewExtensionFileFilter([]string{".png", ".jpg", ".jpeg", ".gif"}))
		d.Show()
	})
	removeLogo := widget.NewButtonWithIcon("No logo", theme.DeleteIcon(), func() { logoPath = ""; logoLabel.SetText("No logo") })
	signed := widget.NewLabel(s.signerWords())
	sign := widget.NewButtonWithIcon("Signing certificate…", theme.ConfirmIcon(), func() { s.chooseCertificate(signed) })
	note := widget.NewLabel("Your branding appears on every settings sheet, the summary and the Apple profiles. It is remembered on this computer; the certificate's password never is.")
	note.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(widget.NewFormItem("Name", name), widget.NewFormItem("Organisation", org), widget.NewFormItem("Contact line", contact))
	content := container.NewVBox(note, form, container.NewHBox(chooseLogo, removeLogo), logoLabel, container.NewHBox(sign, signed))
	dialog.ShowCustomConfirm("Branding", "Save", "Cancel", content, func(ok bool) {
		if !ok {
			return
		}
		p.SetString(prefBrandName, strings.TrimSpace(name.Text))
		p.SetString(prefBrandOrg, strings.TrimSpace(org.Text))
		p.SetString(prefBrandContact, strings.TrimSpace(contact.Text))
		p.SetString(prefBrandLogo, logoPath)
	}, u.win)
}

func (s *batchScreen) signerWords() string {
	if s.signer != nil {
		return "Apple profiles are signed by " + s.signer.Name() + "."
	}
	if path := s.u.app.Preferences().String(prefBrandCert); path != "" {
		return "Not signed yet: choose your certificate (" + path + ") and type its password."
	}
	return "Apple profiles are not signed."
}

// chooseCertificate asks for the consultant's PKCS #12 file and its password; the
// password is used once and kept nowhere, the file's place is remembered.
func (s *batchScreen) chooseCertificate(status *widget.Label) {
	u := s.u
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		defer r.Close()
		p12, err := io.ReadAll(io.LimitReader(r, 1<<20))
		if err != nil {
			dialog.ShowError(err, u.win)
			return
		}
		path := r.URI().Path()
		pw := widget.NewPasswordEntry()
		dialog.ShowForm("Certificate password", "Use", "Cancel", []*widget.FormItem{widget.NewFormItem("Password", pw)}, func(ok bool) {
			if !ok {
				return
			}
			err := s.useCertificate(p12, pw.Text, path)
			pw.SetText("")
			if err != nil {
				dialog.ShowError(err, u.win)
				return
			}
			status.SetText(s.signerWords())
		}, u.win)
	}, u.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".p12", ".pfx"}))
	d.Show()
}

// useCertificate loads the signing certificate for this session and remembers where it is.
func (s *batchScreen) useCertificate(p12 []byte, password, path string) error {
	signer, err := export.LoadSigner(p12, password)
	if err != nil {
		return err
	}
	s.signer = signer
	s.u.app.Preferences().SetString(prefBrandCert, path)
	return nil
}

// startBatchDemo opens the batch screen as Config.Batch asks (demo, measurements).
func (u *UI) startBatchDemo() {
	s := u.openBatch()
	if u.cfg.Batch.List != "" {
		s.loadText(strings.NewReader(u.cfg.Batch.List))
	}
	if u.cfg.Batch.AutoRun {
		s.start(s.all())
	}
}
