package gui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/i18n"
)

type cellKey struct {
	proto detect.Protocol
	port  int
	sec   detect.Security
}

// cell is one matrix cell: every host's result for that protocol/port/mode.
type cell struct {
	button  *widget.Button
	started int
	results []detect.ProbeResult
}

type checkingScreen struct {
	u         *UI
	address   string
	cells     map[cellKey]*cell
	sources   *fyne.Container
	network   *fyne.Container
	progress  binding.String
	done      int
	started   int
	seen      map[string]bool
	cancelBtn *widget.Button
}

// startCheck switches to the checking screen and runs the engine in the background.
func (u *UI) startCheck(req request) {
	u.run++
	run := u.run
	ctx, cancel := context.WithCancel(context.Background())
	u.cancel = cancel
	s := u.showChecking(req)

	opts := u.cfg.Base
	opts.Password = req.password
	opts.Username = req.username
	opts.PreferPOP3 = req.preferPOP3
	opts.AllowPlaintext = req.allowPlaintext
	opts.TrustHosts = append(append([]string(nil), opts.TrustHosts...), req.trustHosts...)
	opts.OAuth = u.oauthSettings(req, run)
	u.lastReq = &req
	if req.caFile != "" {
		certs, err := detect.LoadCAFile(req.caFile)
		if err != nil {
			cancel()
			u.showAccount(err.Error())
			return
		}
		opts.ExtraRoots = append(append(opts.ExtraRoots[:0:0], opts.ExtraRoots...), certs...)
	}
	opts.Progress = func(e detect.Event) {
		u.do(func() {
			if u.run == run {
				s.apply(e)
			}
		})
	}
	address := req.address
	u.cfg.Background(func() {
		rep, err := u.cfg.Engine(ctx, address, opts)
		u.do(func() {
			if u.run != run {
				return // cancelled or superseded: its result is dropped
			}
			u.signedIn()
			cancel()
			if err != nil {
				u.showAccount(errorWords(u.tr, err))
				return
			}
			u.showResult(rep)
			if u.cfg.OnResult != nil {
				u.cfg.OnResult(rep)
			}
			if u.cfg.QuitAfterResult {
				u.quit()
			}
		})
	})
}

// do runs f on the UI goroutine through fyne.Do. The mutex serialises callers: the real
// driver already runs f on one goroutine, but the test driver runs it on the caller's.
func (u *UI) do(f func()) {
	u.doMu.Lock()
	defer u.doMu.Unlock()
	fyne.Do(f)
}

// cancelCheck stops the running check at once and returns to the account screen.
func (u *UI) cancelCheck() {
	u.run++ // before cancel: the engine's last callback must see the new run
	u.signedIn()
	if u.cancel != nil {
		u.cancel()
	}
	u.showAccount(u.t("checking.cancelled"))
}

// errorWords turns an engine error (only bad input reaches here) into a sentence.
func errorWords(tr *i18n.Lang, err error) string {
	if errors.Is(err, detect.ErrBadAddress) {
		return tr.T("checking.bad_address", "error", err.Error())
	}
	return tr.T("checking.failed", "error", err.Error())
}

func (u *UI) showChecking(req request) *checkingScreen {
	s := &checkingScreen{u: u, address: req.address, cells: map[cellKey]*cell{}, progress: binding.NewString(), seen: map[string]bool{}}
	u.check = s
	_ = s.progress.Set(u.t("checking.looking", "domain", domainOf(req.address)))

	// The engine's own matrix: its rows and security modes, nothing of the window's.
	grid := container.New(&matrixLayout{cols: len(detect.MatrixModes) + 1})
	grid.Add(widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{}))
	for _, c := range detect.MatrixModes {
		grid.Add(widget.NewLabelWithStyle(u.tr.Security(c), fyne.TextAlignCenter, fyne.TextStyle{Bold: true}))
	}
	for _, r := range detect.Matrix {
		grid.Add(widget.NewLabelWithStyle(fmt.Sprintf("%s %d", strings.ToUpper(string(r.Protocol)), r.Port), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, c := range detect.MatrixModes {
			k := cellKey{r.Protocol, r.Port, c}
			cl := &cell{}
			cl.button = widget.NewButtonWithIcon(u.t("cell.waiting"), theme.MoreHorizontalIcon(), func() { s.showCell(k) })
			cl.button.Importance = widget.LowImportance
			if !slices.Contains(r.Modes, c) {
				cl.button.SetText(u.t("cell.not_used"))
				cl.button.SetIcon(nil)
				cl.button.Disable()
			}
			s.cells[k] = cl
			grid.Add(cl.button)
		}
	}
	s.sources = container.NewVBox(widget.NewLabelWithStyle(u.t("checking.sources"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	s.network = container.NewVBox(widget.NewLabelWithStyle(u.t("checking.network"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewLabel(u.t("checking.network_checking")))
	s.cancelBtn = widget.NewButtonWithIcon(u.t("common.cancel"), theme.CancelIcon(), u.cancelCheck)
	status := widget.NewLabelWithData(s.progress)
	status.Wrapping = fyne.TextWrapWord
	heading := widget.NewLabelWithStyle(u.t("checking.title", "address", req.address), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	heading.Wrapping = fyne.TextWrapWord
	top := container.NewBorder(nil, nil, nil, s.cancelBtn, container.NewVBox(heading, status, widget.NewProgressBarInfinite()))
	side := container.NewVBox(s.network, widget.NewSeparator(), s.sources)
	legend := widget.NewLabel(u.t("checking.legend"))
	legend.Wrapping = fyne.TextWrapWord
	legend.Importance = widget.LowImportance
	body := container.NewHSplit(container.NewVScroll(container.NewVBox(grid, legend)), container.NewVScroll(side))
	body.SetOffset(0.7)
	// The top comes first among the objects, so Tab reaches Cancel before the matrix.
	u.setContent("checking", container.New(layout.NewBorderLayout(top, nil, nil, nil), top, body))
	return s
}

// apply renders one progress event.
func (s *checkingScreen) apply(e detect.Event) {
	switch {
	case e.Source != nil:
		tr := s.u.tr
		state := tr.T("checking.source_nothing")
		if e.Source.Found {
			state = tr.N("checking.source_servers", len(e.Source.Servers))
			if e.Source.Source == detect.SourceProviders {
				state += " — " + s.providerWords() // the provider and where its facts come from
			}
		}
		l := widget.NewLabel(tr.T("checking.source_line", "source", tr.Source(e.Source.Source), "state", state, "ms", tr.Int(int(e.Source.ElapsedMS))))
		l.Wrapping = fyne.TextWrapWord
		if !e.Source.Found {
			l.Importance = widget.LowImportance
		}
		s.sources.Add(l)
	case e.Start != nil:
		s.started++
		if c := s.cells[cellKey{e.Start.Protocol, e.Start.Port, e.Start.Security}]; c != nil {
			c.started++
			if len(c.results) == 0 {
				c.button.SetText(s.u.t("cell.checking"))
				c.button.SetIcon(theme.ViewRefreshIcon())
				c.button.Importance = widget.MediumImportance
				c.button.Refresh()
			}
		}
		s.updateProgress()
	case e.Probe != nil:
		id := fmt.Sprintf("%s|%s|%d|%s", e.Probe.Protocol, e.Probe.Host, e.Probe.Port, e.Probe.Security)
		if !s.seen[id] {
			s.seen[id] = true
			s.done++
		}
		k := cellKey{e.Probe.Protocol, e.Probe.Port, e.Probe.Security}
		if c := s.cells[k]; c != nil {
			// The engine may send a host's result again with better words: replace it.
			replaced := false
			for i := range c.results {
				if c.results[i].Host == e.Probe.Host {
					c.results[i], replaced = *e.Probe, true
				}
			}
			if !replaced {
				c.results = append(c.results, *e.Probe)
			}
			best := bestResult(c.results)
			word, icon, imp := statusLook(s.u.tr, best)
			c.button.SetText(word)
			c.button.SetIcon(icon)
			c.button.Importance = imp
			c.button.Enable()
			c.button.Refresh()
		}
		s.updateProgress()
	case e.Network != nil:
		s.network.Objects = s.network.Objects[:1]
		for _, o := range networkRows(s.u.tr, *e.Network) {
			s.network.Add(o)
		}
		s.network.Refresh()
	case e.Stage == detect.StageSignIn:
		_ = s.progress.Set(s.u.t("checking.stage_sign_in"))
	case e.Stage == detect.StageProbing:
		s.u.signedIn()
		_ = s.progress.Set(s.u.t("checking.stage_probing"))
	case e.Stage == detect.StageSendTest:
		_ = s.progress.Set(s.u.t("checking.stage_send_test"))
	}
}

func (s *checkingScreen) updateProgress() {
	total := max(s.started, s.done)
	_ = s.progress.Set(s.u.n("checking.progress", total, "done", s.u.tr.Int(s.done)))
}

// providerWords names the provider the knowledge base knows for the checked address and
// where its facts come from (curated, an ISPDB snapshot).
func (s *checkingScreen) providerWords() string {
	tr := s.u.tr
	addr, err := detect.ParseAddress(s.address)
	p := s.u.cfg.Base.Providers.ByDomain(addr.Domain)
	if err != nil || p == nil {
		return tr.T("provenance.unknown")
	}
	var parts []string
	if p.Provenance.Curated {
		parts = append(parts, tr.T("provenance.curated"))
	}
	if p.Provenance.ISPDB != nil {
		parts = append(parts, tr.T("provenance.ispdb", "date", p.Provenance.ISPDB.Date))
	}
	if len(parts) == 0 {
		parts = append(parts, tr.T("provenance.unknown"))
	}
	return tr.T("provenance.provider", "provider", p.Name, "sources", strings.Join(parts, " + "))
}

// networkRows renders the network section.
func networkRows(tr *i18n.Lang, n detect.Network) []fyne.CanvasObject {
	icon, imp := theme.QuestionIcon(), widget.LowImportance
	switch n.Port25 {
	case detect.Port25Open:
		icon, imp = theme.ConfirmIcon(), widget.SuccessImportance
	case detect.Port25Blocked:
		icon, imp = theme.CancelIcon(), widget.WarningImportance
	case detect.Port25Intercepted:
		icon, imp = theme.WarningIcon(), widget.DangerImportance
	}
	p25 := widget.NewLabel(tr.T("network.port25", "state", tr.Port25(n.Port25)))
	p25.Importance = imp
	p25.Wrapping = fyne.TextWrapWord
	rows := []fyne.CanvasObject{container.NewBorder(nil, nil, widget.NewIcon(icon), nil, p25)}
	captive := tr.T("network.unknown")
	if n.CaptivePortal != nil {
		captive = map[bool]string{true: tr.T("network.captive_yes"), false: tr.T("network.captive_no")}[*n.CaptivePortal]
	}
	unknown := tr.T("network.unknown")
	for _, s := range []string{
		tr.T("network.captive", "state", captive),
		tr.T("network.this_computer", "addresses", firstOr(n.LocalAddresses, unknown)),
		tr.T("network.dns", "servers", firstOr(n.DNSServers, unknown)),
	} {
		l := widget.NewLabel(s)
		l.Wrapping = fyne.TextWrapWord
		rows = append(rows, l)
	}
	for _, a := range tr.Notices(detect.NetworkNotices(n), n.Advice) {
		l := widget.NewLabel(a)
		l.Wrapping = fyne.TextWrapWord
		l.Importance = widget.WarningImportance
		rows = append(rows, l)
	}
	return rows
}

func firstOr(s []string, def string) string {
	if len(s) == 0 {
		return def
	}
	if len(s) > 2 {
		return strings.Join(s[:2], ", ") + " …"
	}
	return strings.Join(s, ", ")
}

// statusRank orders results for the cell summary: the most useful outcome shows.
var statusRank = map[detect.Status]int{
	detect.StatusOK: 0, detect.StatusAuthFailed: 1, detect.StatusPlaintextRefused: 2, detect.StatusAuthUnavailable: 3,
	detect.StatusCertInvalid: 4, detect.StatusTLSFailed: 5, detect.StatusProtocolError: 6, detect.StatusTimeout: 7,
	detect.StatusSkipped: 8, detect.StatusUnreachable: 9, detect.StatusRefused: 10, detect.StatusDNSFailed: 11,
	detect.StatusUntrustedHost: 1, // the reason nothing was tried there: tell it first
}

func bestResult(rs []detect.ProbeResult) detect.ProbeResult {
	best := rs[0]
	for _, r := range rs[1:] {
		if r.Verified && !best.Verified || statusRank[r.Status] < statusRank[best.Status] {
			best = r
		}
	}
	return best
}

// statusLook is a result's word, icon and colour: never colour alone.
func statusLook(tr *i18n.Lang, r detect.ProbeResult) (string, fyne.Resource, widget.Importance) {
	switch r.Status {
	case detect.StatusOK:
		switch {
		case r.Verified:
			return tr.T("status.works"), theme.ConfirmIcon(), widget.SuccessImportance
		case r.Relay == detect.RelayAccepted:
			return tr.T("status.no_login"), theme.WarningIcon(), widget.WarningImportance
		default:
			return tr.T("status.reachable"), theme.ConfirmIcon(), widget.HighImportance
		}
	case detect.StatusAuthFailed:
		return tr.T("status.login_rejected"), theme.ErrorIcon(), widget.DangerImportance
	case detect.StatusAuthUnavailable:
		return tr.T("status.no_login_method"), theme.WarningIcon(), widget.WarningImportance
	case detect.StatusPlaintextRefused:
		return tr.T("status.not_sent_unencrypted"), theme.WarningIcon(), widget.WarningImportance
	case detect.StatusCertInvalid:
		return tr.T("status.bad_certificate"), theme.WarningIcon(), widget.DangerImportance
	case detect.StatusTLSFailed:
		if r.Diagnosis != nil && r.Diagnosis.Kind == detect.KindPlainPort {
			return tr.T("status.starts_plain"), theme.InfoIcon(), widget.LowImportance
		}
		return tr.T("status.encryption_failed"), theme.ErrorIcon(), widget.DangerImportance
	case detect.StatusTimeout:
		return tr.T("status.no_answer"), theme.HistoryIcon(), widget.DangerImportance
	case detect.StatusRefused:
		return tr.T("status.closed"), theme.CancelIcon(), widget.LowImportance
	case detect.StatusSkipped:
		return tr.T("status.blocked_here"), theme.CancelIcon(), widget.WarningImportance
	case detect.StatusUntrustedHost:
		return tr.T("status.not_trusted"), theme.WarningIcon(), widget.WarningImportance
	case detect.StatusDNSFailed:
		return tr.T("status.no_such_server"), theme.CancelIcon(), widget.LowImportance
	case detect.StatusUnreachable:
		return tr.T("status.unreachable"), theme.ErrorIcon(), widget.DangerImportance
	}
	if r.Diagnosis != nil && r.Diagnosis.Kind == detect.KindImplicitTLSPort {
		return tr.T("status.needs_tls"), theme.InfoIcon(), widget.LowImportance
	}
	return tr.T("status.error"), theme.ErrorIcon(), widget.DangerImportance
}

// showCell opens the diagnosis and redacted transcript of every host tried in a cell.
func (s *checkingScreen) showCell(k cellKey) {
	c := s.cells[k]
	if c == nil || len(c.results) == 0 {
		return
	}
	showResults(s.u, fmt.Sprintf("%s %d — %s", strings.ToUpper(string(k.proto)), k.port, s.u.tr.Security(k.sec)), c.results)
}

// showResults is the one dialog that explains probe results.
func showResults(u *UI, title string, rs []detect.ProbeResult) {
	tr := u.tr
	box := container.NewVBox()
	for _, r := range rs {
		word, icon, imp := statusLook(tr, r)
		head := widget.NewLabelWithStyle(fmt.Sprintf("%s:%s — %s", r.Host, strconv.Itoa(r.Port), word), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		head.Importance = imp
		head.Wrapping = fyne.TextWrapWord
		box.Add(container.NewBorder(nil, nil, widget.NewIcon(icon), nil, head))
		if r.Diagnosis != nil {
			d := tr.Diagnosis(r.Diagnosis)
			for _, s := range []string{tr.T("diagnosis.line", "title", d.Title, "explanation", d.Explanation), tr.T("diagnosis.fix", "fix", d.Fix)} {
				l := widget.NewLabel(s)
				l.Wrapping = fyne.TextWrapWord
				box.Add(l)
			}
		}
		if c := r.Cert; c != nil {
			until := c.NotAfter
			if t, err := time.Parse(time.RFC3339, c.NotAfter); err == nil {
				until = t.Format(time.DateOnly)
			}
			cert := tr.T("cert.line", "subject", c.Subject, "issuer", c.Issuer, "until", until)
			if c.Problem != "" {
				cert = tr.T("cert.line_problem", "subject", c.Subject, "issuer", c.Issuer, "until", until, "problem", tr.CertProblem(c.Problem))
			}
			l := widget.NewLabel(cert)
			l.Wrapping = fyne.TextWrapWord
			box.Add(l)
		}
		transcript := widget.NewLabelWithStyle(strings.Join(r.Transcript, "\n"), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		box.Add(widget.NewAccordion(widget.NewAccordionItem(tr.N("results.transcript", len(r.Transcript)), transcript)))
		box.Add(widget.NewSeparator())
	}
	scroll := container.NewVScroll(box)
	scroll.SetMinSize(fyne.NewSize(640, 420))
	dialog.ShowCustom(title, tr.T("common.close"), scroll, u.win)
}

// matrixLayout lays out the matrix: the first column (the row names) as wide as its
// widest name, the cell columns sharing the rest equally, so long cell words in any
// language get all the room the window has.
type matrixLayout struct{ cols int }

func (l *matrixLayout) sizes(objects []fyne.CanvasObject) (first, cell float32, rows []float32) {
	for i, o := range objects {
		m := o.MinSize()
		if i%l.cols == 0 {
			first = max(first, m.Width)
			rows = append(rows, 0)
		} else {
			cell = max(cell, m.Width)
		}
		rows[len(rows)-1] = max(rows[len(rows)-1], m.Height)
	}
	return first, cell, rows
}

// MinSize is the widest row name, the widest cell times the cell columns, and the rows.
func (l *matrixLayout) MinSize(objects []fyne.CanvasObject) fyne.Size {
	first, cell, rows := l.sizes(objects)
	pad := theme.Padding()
	h := float32(0)
	for _, r := range rows {
		h += r + pad
	}
	return fyne.NewSize(first+float32(l.cols-1)*(cell+pad), max(0, h-pad))
}

// Layout places the objects row by row.
func (l *matrixLayout) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	first, _, rows := l.sizes(objects)
	pad := theme.Padding()
	cell := (size.Width - first - float32(l.cols-1)*pad) / float32(l.cols-1)
	y := float32(0)
	for i, o := range objects {
		row, col := i/l.cols, i%l.cols
		if col == 0 && row > 0 {
			y += rows[row-1] + pad
		}
		x, w := float32(0), first
		if col > 0 {
			x, w = first+pad+float32(col-1)*(cell+pad), cell
		}
		o.Move(fyne.NewPos(x, y))
		o.Resize(fyne.NewSize(w, rows[row]))
	}
}
