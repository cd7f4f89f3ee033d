package gui

import (
	"context"
	"crypto/x509"
	"errors"
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
	"github.com/mailsetup/mailsetup/i18n"
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

type batchScreen struct {
	u       *UI
	clients []batch.Client
	results []batch.Result
	// engine keeps each domain's shared check between runs (re-checks cost logins only).
	engine *batch.Batch
	// trust are servers the consultant confirmed for this list (memory only).
	trust []string
	// plaintext, preferPOP3 and roots are the list's options (Advanced); caFile names
	// the file roots came from.
	plaintext, preferPOP3 bool
	roots                 []*x509.Certificate
	caFile                string
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
	if sz := u.win.Canvas().Size(); sz.Width < 1180 {
		u.win.Resize(fyne.NewSize(1180, max(sz.Height, 760))) // the table wants the width
	}
	u.batch = s
	s.build()
	return s
}

// build draws the screen in the window's language, keeping the list, its results and
// its options (the language menu draws it again).
func (s *batchScreen) build() {
	u := s.u
	_ = s.status.Set(u.t("batch.intro"))

	title := widget.NewLabelWithStyle(u.t("batch.title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Wrapping = fyne.TextWrapWord
	privacy := widget.NewLabel(u.t("batch.privacy"))
	privacy.Wrapping = fyne.TextWrapWord
	privacy.Importance = widget.WarningImportance
	s.message = widget.NewLabel("")
	s.message.Wrapping = fyne.TextWrapWord
	s.message.Importance = widget.DangerImportance
	s.message.Hide()

	open := widget.NewButtonWithIcon(u.t("batch.open"), theme.FolderOpenIcon(), s.chooseList)
	paste := widget.NewButtonWithIcon(u.t("batch.paste"), theme.ContentPasteIcon(), s.pasteList)
	save := widget.NewButtonWithIcon(u.t("batch.save_list"), theme.DocumentSaveIcon(), s.saveList)
	brand := widget.NewButtonWithIcon(u.t("batch.branding"), theme.AccountIcon(), s.editBranding)
	back := widget.NewButtonWithIcon(u.t("current.back"), theme.NavigateBackIcon(), s.leave)
	s.checkBtn = widget.NewButtonWithIcon(u.t("batch.check_all"), theme.SearchIcon(), func() { s.start(s.all()) })
	s.checkBtn.Importance = widget.HighImportance
	s.recheck = widget.NewButtonWithIcon(u.t("batch.recheck"), theme.ViewRefreshIcon(), func() { s.start(s.failed()) })
	s.exportBtn = widget.NewButtonWithIcon(u.t("batch.export_all"), theme.DownloadIcon(), s.chooseExport)
	s.cancelBtn = widget.NewButtonWithIcon(u.t("common.cancel"), theme.CancelIcon(), s.stop)
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
	titles := batchTitles(u.tr)
	s.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(titles) {
			o.(*widget.Label).SetText(titles[id.Col])
		}
	}
	for i, w := range batchWidths(u.tr) {
		s.table.SetColumnWidth(i, w)
	}
	s.table.OnSelected = func(id widget.TableCellID) {
		s.table.Unselect(id)
		if id.Row >= 0 && id.Row < len(s.clients) {
			s.showRow(id.Row)
		}
	}

	advanced := widget.NewAccordion(widget.NewAccordionItem(u.t("account.advanced"), s.advanced()))
	bar := widget.NewProgressBarWithData(s.progress)
	// The list's buttons and the check's on rows of their own: in some languages they do
	// not fit the window side by side.
	top := container.NewVBox(container.NewBorder(nil, nil, back, nil, title), privacy,
		container.NewHBox(open, paste, save, brand), container.NewHBox(s.checkBtn, s.cancelBtn, s.recheck, s.exportBtn),
		advanced, bar, widget.NewLabelWithData(s.status), s.message)
	u.setContent("batch", container.NewPadded(container.NewBorder(top, nil, nil, nil, s.table)))
	s.updateStatus()
	s.refreshButtons()
}

// batchColumns are the least widths of the table's columns (address, name, password,
// status, settings or what to do).
var batchColumns = []float32{240, 170, 90, 170, 640}

// batchTitles are the table's column titles in tr's language.
func batchTitles(tr *i18n.Lang) []string {
	return []string{tr.T("batch.column_address"), tr.T("batch.name"), tr.T("account.password"), tr.T("text.status"), tr.T("batch.column_settings")}
}

// batchWidths are the column widths: at least batchColumns, and as wide as the title
// (and for the status, its longest word beside its icon) in tr's language.
func batchWidths(tr *i18n.Lang) []float32 {
	pad := 2*theme.InnerPadding() + theme.Padding()
	bold := fyne.TextStyle{Bold: true}
	out := slices.Clone(batchColumns)
	for i, t := range batchTitles(tr) {
		out[i] = max(out[i], fyne.MeasureText(t, theme.TextSize(), bold).Width+pad)
	}
	for _, st := range []batch.State{batch.StateWaiting, batch.StateDiscovering, batch.StateChecking, batch.StateVerified,
		batch.StateUnverified, batch.StateAttention, batch.StateCancelled} {
		word, _, _ := stateLook(tr, st)
		out[3] = max(out[3], fyne.MeasureText(word, theme.TextSize(), fyne.TextStyle{}).Width+pad+theme.IconInlineSize()+theme.Padding())
	}
	for _, w := range []string{tr.T("batch.password_given"), tr.T("batch.password_none")} {
		out[2] = max(out[2], fyne.MeasureText(w, theme.TextSize(), fyne.TextStyle{}).Width+pad)
	}
	return out
}

// advanced holds the list's options, as the account screen's Advanced does for one
// address; changing one starts the list's shared checks afresh.
func (s *batchScreen) advanced() fyne.CanvasObject {
	u := s.u
	plain := widget.NewCheck(u.t("account.allow_plaintext"), nil)
	plain.SetChecked(s.plaintext)
	plain.OnChanged = func(on bool) { s.plaintext, s.engine = on, nil }
	pop := widget.NewCheck(u.t("batch.prefer_pop3"), nil)
	pop.SetChecked(s.preferPOP3)
	pop.OnChanged = func(on bool) { s.preferPOP3, s.engine = on, nil }
	caLabel := widget.NewLabel(u.t("account.ca_none"))
	if s.caFile != "" {
		caLabel.SetText(u.t("account.ca_trusting", "file", s.caFile))
	}
	ca := widget.NewButtonWithIcon(u.t("account.ca_button"), theme.FolderOpenIcon(), func() {
		dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			defer r.Close()
			certs, err := detect.LoadCAFile(r.URI().Path())
			if err != nil {
				u.showError(err)
				return
			}
			s.roots, s.engine, s.caFile = certs, nil, r.URI().Name()
			caLabel.SetText(u.t("account.ca_trusting", "file", s.caFile))
		}, u.win)
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
	tr := s.u.tr
	c, r := s.clients[id.Row], s.results[id.Row]
	switch id.Col {
	case 0:
		label.SetText(c.Address)
	case 1:
		label.SetText(c.Name)
	case 2:
		if c.Password != "" {
			label.SetText(tr.T("batch.password_given"))
		} else {
			label.SetText(tr.T("batch.password_none"))
		}
	case 3:
		word, res, imp := stateLook(tr, r.State)
		icon.SetResource(res)
		icon.Show()
		label.Importance = imp
		label.SetText(word)
	case 4:
		label.SetText(rowLine(tr, c, r))
	}
}

// rowLine is the table's one line for a row: its reason, and how it differs from the
// others of its domain.
func rowLine(tr *i18n.Lang, c batch.Client, r batch.Result) string {
	text := batch.ReasonWords(tr, c, r)
	if r.Differs != "" {
		return tr.T("batch.reason_differs", "reason", text, "differs", batch.DiffersWords(tr, r))
	}
	return text
}

// stateLook is a row state's word, icon and colour.
func stateLook(tr *i18n.Lang, s batch.State) (string, fyne.Resource, widget.Importance) {
	switch s {
	case batch.StateDiscovering:
		return tr.T("batch.state_discovering"), theme.SearchIcon(), widget.HighImportance
	case batch.StateChecking:
		return tr.T("batch.state_checking"), theme.ViewRefreshIcon(), widget.HighImportance
	case batch.StateVerified:
		return tr.T("batch.state_verified"), theme.ConfirmIcon(), widget.SuccessImportance
	case batch.StateUnverified:
		return tr.T("batch.state_unverified"), theme.QuestionIcon(), widget.WarningImportance
	case batch.StateAttention:
		return tr.T("batch.state_attention"), theme.ErrorIcon(), widget.DangerImportance
	case batch.StateCancelled:
		return tr.T("batch.state_cancelled"), theme.CancelIcon(), widget.LowImportance
	}
	return tr.T("cell.waiting"), theme.MoreHorizontalIcon(), widget.LowImportance
}

// load replaces the list (never while a check runs).
func (s *batchScreen) load(clients []batch.Client) {
	if s.running {
		return
	}
	s.clients = clients
	s.results = make([]batch.Result, len(clients))
	for i, c := range clients {
		s.results[i] = batch.Result{Index: i, Address: c.Address, State: batch.StateWaiting, Reason: "not checked yet",
			Note: batch.Note{Key: batch.NoteNotChecked}}
		if c.Problem != "" {
			s.results[i] = batch.Result{Index: i, Address: c.Address, State: batch.StateAttention, Reason: fmt.Sprintf("line %d: %s", c.Line, c.Problem),
				Note: c.ProblemNote}
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
		s.showMessage(listErrorWords(s.u.tr, err))
		return
	}
	s.load(clients)
}

// listErrorWords says why a list cannot be read at all.
func listErrorWords(tr *i18n.Lang, err error) string {
	switch {
	case errors.Is(err, batch.ErrNoClients):
		return tr.T("batch.list_empty")
	case errors.Is(err, batch.ErrListTooLarge):
		return tr.T("batch.list_too_large")
	case errors.Is(err, batch.ErrTooManyClients):
		return tr.T("batch.list_too_many", "max", tr.Int(batch.MaxClients))
	}
	return tr.T("batch.list_unreadable", "error", err.Error())
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
		s.showMessage(s.u.t("batch.clipboard_empty"))
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
			s.u.showError(err)
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
		s.results[i] = batch.Result{Index: i, Address: s.clients[i].Address, State: batch.StateWaiting, Reason: "waiting for its turn",
			Note: batch.Note{Key: batch.NoteWaiting}}
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
			s.showMessage(s.u.t("batch.export_failed", "error", err.Error()))
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
	u := s.u
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
		parts = append(parts, u.n("batch.status_to_check", checkable, "with", u.tr.Int(withPassword)))
		if problems > 0 {
			parts = append(parts, u.n("batch.status_lines_cannot", problems))
		}
		_ = s.status.Set(strings.Join(parts, " · "))
		return
	}
	parts = append(parts, u.n("batch.status_done", checkable, "done", u.tr.Int(done)), u.n("batch.status_verified", c[batch.StateVerified]))
	if n := c[batch.StateUnverified]; n > 0 {
		parts = append(parts, u.n("batch.status_without_password", n))
	}
	if n := c[batch.StateAttention] - problems; n > 0 {
		parts = append(parts, u.n("batch.status_attention", n))
	}
	if problems > 0 {
		parts = append(parts, u.n("batch.status_not_checked", problems))
	}
	if n := c[batch.StateCancelled]; n > 0 {
		parts = append(parts, u.n("batch.status_cancelled", n))
	}
	if s.running {
		parts = append(parts, u.t("cell.checking"))
	}
	_ = s.status.Set(strings.Join(parts, " · "))
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
	word, icon, imp := stateLook(u.tr, r.State)
	head := widget.NewLabelWithStyle(word, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	head.Importance = imp
	box.Add(container.NewHBox(widget.NewIcon(icon), head))
	for _, t := range []string{batch.ReasonWords(u.tr, c, r), differsWords(u.tr, r), sharedWords(u.tr, r)} {
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
			l := widget.NewLabel(u.t("batch.nothing_works"))
			l.Wrapping = fyne.TextWrapWord
			l.Importance = widget.DangerImportance
			return widget.NewCard(title, "", l)
		}
		box.Add(container.NewGridWithColumns(2,
			card(u.t("result.incoming"), "incoming", rec.Incoming),
			card(u.t("result.outgoing"), "outgoing", rec.Outgoing)))
		box.Add(widget.NewLabelWithStyle(u.t("batch.matrix_title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		box.Add(matrixOf(u, rep))
		box.Add(widget.NewButtonWithIcon(u.t("result.every_combination"), theme.ListIcon(), func() {
			showResults(u, u.t("batch.every_combination_for", "address", rep.Address), rep.Probes)
		}))
		for _, g := range groupByCertificate(untrustedServers(rep)) {
			b := widget.NewButtonWithIcon(u.t("batch.trust_button", "hosts", strings.Join(g.hosts(), ", ")), theme.WarningIcon(), func() { s.confirmTrust(rep, g) })
			b.Alignment = widget.ButtonAlignLeading
			box.Add(b)
		}
		if rec.Incoming != nil && rec.Outgoing != nil {
			box.Add(widget.NewLabelWithStyle(u.t("batch.files"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
			box.Add(rs.exportRow(u, rep))
		}
	}
	if c.Problem == "" && !s.running && (r.State == batch.StateAttention || r.State == batch.StateUnverified || r.State == batch.StateCancelled) {
		pw := widget.NewPasswordEntry()
		pw.SetPlaceHolder(u.t("batch.password_placeholder"))
		again := widget.NewButtonWithIcon(u.t("batch.check_row"), theme.ViewRefreshIcon(), nil)
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
		box.Add(widget.NewForm(widget.NewFormItem(u.t("batch.new_password"), pw)))
		box.Add(again)
	}
	scroll := container.NewVScroll(box)
	scroll.SetMinSize(fyne.NewSize(760, 520))
	s.detailBox = box
	s.detail = dialog.NewCustom(c.Address, u.t("common.close"), scroll, u.win)
	s.detail.Show()
}

// differsWords says how a row's mailbox differs from the others of its domain ("" when
// it does not).
func differsWords(tr *i18n.Lang, r batch.Result) string {
	if r.Differs == "" {
		return ""
	}
	return tr.T("batch.differs_sentence", "differs", batch.DiffersWords(tr, r))
}

// sharedWords says whether a row was checked on its domain's shared check.
func sharedWords(tr *i18n.Lang, r batch.Result) string {
	if r.Report == nil || !r.State.Done() {
		return ""
	}
	if r.Shared {
		return tr.T("batch.shared")
	}
	return tr.T("batch.whole")
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
		grid.Add(widget.NewLabelWithStyle(u.tr.Security(m), fyne.TextAlignCenter, fyne.TextStyle{Bold: true}))
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
				b := widget.NewButton(u.t("cell.not_used"), nil)
				b.Importance = widget.LowImportance
				b.Disable()
				grid.Add(b)
				continue
			}
			word, icon, imp := statusLook(u.tr, bestResult(rs))
			title := fmt.Sprintf("%s %d — %s", strings.ToUpper(string(r.proto)), r.port, u.tr.Security(sec))
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
	u := s.u
	for _, t := range append(consentText(u.tr, g, rep.Address), u.t("batch.trust_list")) {
		l := widget.NewLabel(t)
		l.Wrapping = fyne.TextWrapWord
		lines = append(lines, l)
	}
	scroll := container.NewVScroll(container.NewVBox(lines...))
	scroll.SetMinSize(fyne.NewSize(600, 320))
	d := dialog.NewCustomConfirm(u.t("consent.title", "hosts", strings.Join(g.hosts(), ", ")), u.t("batch.trust_yes"), u.t("consent.no"), scroll, func(yes bool) {
		if yes {
			s.trustServers(g.hosts())
		}
	}, u.win)
	u.consent = d
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
		c := widget.NewCheck(formatLabel(u.tr, f), nil)
		c.SetChecked(slices.Contains(chosen, f))
		boxes[f] = c
		checks.Add(c)
	}
	b := s.branding()
	brand := u.t("batch.brand_none")
	if b.Name != "" || b.Organization != "" {
		brand = u.t("batch.branded", "who", strings.Trim(b.Name+", "+b.Organization, ", "))
	}
	signed := widget.NewLabel(s.signerWords())
	sign := widget.NewButtonWithIcon(u.t("batch.sign"), theme.ConfirmIcon(), func() { s.chooseCertificate(signed) })
	note := widget.NewLabel(u.n("batch.export_note", s.exportable(), "total", u.tr.Int(len(s.clients))))
	note.Wrapping = fyne.TextWrapWord
	brandLabel := widget.NewLabel(brand)
	brandLabel.Wrapping = fyne.TextWrapWord
	content := container.NewVBox(note, checks, brandLabel, container.NewHBox(sign, signed))
	dialog.ShowCustomConfirm(u.t("batch.export_title"), u.t("batch.choose_folder"), u.t("common.cancel"), content, func(ok bool) {
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
			dialog.ShowInformation(u.t("batch.export_title"), u.t("batch.choose_format"), u.win)
			return
		}
		u.app.Preferences().SetStringList(prefBatchFormats, formats)
		dialog.ShowFolderOpen(func(dir fyne.ListableURI, err error) {
			if err != nil || dir == nil {
				return
			}
			if err := s.exportAllTo(dir.Path(), formats); err != nil {
				u.showError(err)
				return
			}
			dialog.ShowInformation(u.t("batch.exported_title"), exportedWords(u.tr, s.exported, dir.Path()), u.win)
		}, u.win)
	}, u.win)
}

// exportedWords says what an export wrote, and where.
func exportedWords(tr *i18n.Lang, out batch.Exported, dir string) string {
	return tr.N("batch.exported", out.Clients, "files", tr.N("batch.exported_files", len(out.Files)), "folder", dir)
}

// exportAllTo writes every row's files and the summary into dir (formats nil: every one).
func (s *batchScreen) exportAllTo(dir string, formats []string) error {
	out, err := batch.ExportAll(dir, s.clients, s.results, batch.ExportOptions{Formats: formats, Branding: s.branding(), Signer: s.signer,
		Language: s.u.tr.Code()})
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
	name.SetPlaceHolder(u.t("batch.your_name"))
	org.SetPlaceHolder(u.t("batch.your_organisation"))
	contact.SetPlaceHolder(u.t("batch.contact_placeholder"))
	logoPath := p.String(prefBrandLogo)
	logoLabel := widget.NewLabel(u.t("batch.no_logo"))
	if logoPath != "" {
		logoLabel.SetText(u.t("batch.logo", "path", logoPath))
	}
	chooseLogo := widget.NewButtonWithIcon(u.t("batch.choose_logo"), theme.FileImageIcon(), func() {
		d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			r.Close()
			if _, err := readLogo(r.URI().Path()); err != nil {
				u.showError(err)
				return
			}
			logoPath = r.URI().Path()
			logoLabel.SetText(u.t("batch.logo", "path", logoPath))
		}, u.win)
		d.SetFilter(storage.NewExtensionFileFilter([]string{".png", ".jpg", ".jpeg", ".gif"}))
		d.Show()
	})
	removeLogo := widget.NewButtonWithIcon(u.t("batch.no_logo"), theme.DeleteIcon(), func() { logoPath = ""; logoLabel.SetText(u.t("batch.no_logo")) })
	signed := widget.NewLabel(s.signerWords())
	sign := widget.NewButtonWithIcon(u.t("batch.signing_certificate"), theme.ConfirmIcon(), func() { s.chooseCertificate(signed) })
	note := widget.NewLabel(u.t("batch.branding_note"))
	note.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(widget.NewFormItem(u.t("batch.name"), name), widget.NewFormItem(u.t("batch.organisation"), org),
		widget.NewFormItem(u.t("batch.contact"), contact))
	content := container.NewVBox(note, form, container.NewHBox(chooseLogo, removeLogo), logoLabel, container.NewHBox(sign, signed))
	dialog.ShowCustomConfirm(u.t("batch.branding_title"), u.t("batch.save"), u.t("common.cancel"), content, func(ok bool) {
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
		return s.u.t("result.apple_signed", "name", s.signer.Name())
	}
	if path := s.u.app.Preferences().String(prefBrandCert); path != "" {
		return s.u.t("batch.not_signed_yet", "path", path)
	}
	return s.u.t("result.apple_unsigned")
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
			u.showError(err)
			return
		}
		path := r.URI().Path()
		pw := widget.NewPasswordEntry()
		dialog.ShowForm(u.t("result.cert_password_title"), u.t("result.cert_password_use"), u.t("common.cancel"),
			[]*widget.FormItem{widget.NewFormItem(u.t("account.password"), pw)}, func(ok bool) {
				if !ok {
					return
				}
				err := s.useCertificate(p12, pw.Text, path)
				pw.SetText("")
				if err != nil {
					u.showError(err)
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
