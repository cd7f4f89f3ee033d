package gui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mailsetup/mailsetup/detect"
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
				u.showAccount(errorWords(err))
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
	u.showAccount("Cancelled. Nothing was changed; check again whenever you like.")
}

// errorWords turns an engine error (only bad input reaches here) into a sentence.
func errorWords(err error) string {
	if errors.Is(err, detect.ErrBadAddress) {
		return "That is not an email address we can check: " + err.Error()
	}
	return "The check could not run: " + err.Error()
}

func (u *UI) showChecking(req request) *checkingScreen {
	s := &checkingScreen{u: u, cells: map[cellKey]*cell{}, progress: binding.NewString(), seen: map[string]bool{}}
	u.check = s
	_ = s.progress.Set("Looking for the servers of " + domainOf(req.address) + "…")

	// The engine's own matrix: its rows and security modes, nothing of the window's.
	grid := container.NewGridWithColumns(len(detect.MatrixModes) + 1)
	grid.Add(widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{}))
	for _, c := range detect.MatrixModes {
		grid.Add(widget.NewLabelWithStyle(detect.SecurityWords(c), fyne.TextAlignCenter, fyne.TextStyle{Bold: true}))
	}
	for _, r := range detect.Matrix {
		grid.Add(widget.NewLabelWithStyle(fmt.Sprintf("%s %d", strings.ToUpper(string(r.Protocol)), r.Port), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, c := range detect.MatrixModes {
			k := cellKey{r.Protocol, r.Port, c}
			cl := &cell{}
			cl.button = widget.NewButtonWithIcon("waiting", theme.MoreHorizontalIcon(), func() { s.showCell(k) })
			cl.button.Importance = widget.LowImportance
			if !slices.Contains(r.Modes, c) {
				cl.button.SetText("not used")
				cl.button.SetIcon(nil)
				cl.button.Disable()
			}
			s.cells[k] = cl
			grid.Add(cl.button)
		}
	}
	s.sources = container.NewVBox(widget.NewLabelWithStyle("Where we looked", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	s.network = container.NewVBox(widget.NewLabelWithStyle("This network", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewLabel("checking…"))
	s.cancelBtn = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), u.cancelCheck)
	status := widget.NewLabelWithData(s.progress)
	top := container.NewBorder(nil, nil, nil, s.cancelBtn, container.NewVBox(
		widget.NewLabelWithStyle("Checking "+req.address, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		status, widget.NewProgressBarInfinite()))
	side := container.NewVBox(s.network, widget.NewSeparator(), s.sources)
	legend := widget.NewLabel("Tap a cell for what happened there and the conversation with the server (passwords hidden).")
	legend.Importance = widget.LowImportance
	body := container.NewHSplit(container.NewVScroll(container.NewVBox(grid, legend)), container.NewVScroll(side))
	body.SetOffset(0.66)
	u.setContent("checking", container.NewBorder(top, nil, nil, nil, body))
	return s
}

// apply renders one progress event.
func (s *checkingScreen) apply(e detect.Event) {
	switch {
	case e.Source != nil:
		state := "nothing"
		if e.Source.Found {
			state = fmt.Sprintf("%d servers", len(e.Source.Servers))
			if e.Source.Source == detect.SourceProviders {
				state += " — " + e.Source.Detail // the provider and where its facts come from
			}
		}
		l := widget.NewLabel(fmt.Sprintf("%s: %s (%d ms)", sourceWords(e.Source.Source), state, e.Source.ElapsedMS))
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
				c.button.SetText("checking…")
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
			word, icon, imp := statusLook(best)
			c.button.SetText(word)
			c.button.SetIcon(icon)
			c.button.Importance = imp
			c.button.Enable()
			c.button.Refresh()
		}
		s.updateProgress()
	case e.Network != nil:
		s.network.Objects = s.network.Objects[:1]
		for _, o := range networkRows(*e.Network) {
			s.network.Add(o)
		}
		s.network.Refresh()
	case e.Stage == detect.StageSignIn:
		_ = s.progress.Set("Signing in with your provider in the browser…")
	case e.Stage == detect.StageProbing:
		s.u.signedIn()
		_ = s.progress.Set("Trying every port, encryption and login…")
	case e.Stage == detect.StageSendTest:
		_ = s.progress.Set("Sending a test message to yourself and looking for it…")
	}
}

func (s *checkingScreen) updateProgress() {
	_ = s.progress.Set(fmt.Sprintf("%d of %d combinations checked", s.done, max(s.started, s.done)))
}

// sourceWords names a discovery source for people.
func sourceWords(src string) string {
	switch src {
	case detect.SourceProviders:
		return "Known providers"
	case detect.SourceISPDB:
		return "Mozilla's provider database (online)"
	case detect.SourceAutoconfig:
		return "Provider's setup file"
	case detect.SourceAutodiscover:
		return "Microsoft Autodiscover"
	case detect.SourceSRV:
		return "DNS service records"
	case detect.SourceMX:
		return "Mail exchanger (MX)"
	case detect.SourceGuess:
		return "Usual server names"
	}
	return src
}

// networkRows renders the network section.
func networkRows(n detect.Network) []fyne.CanvasObject {
	icon, imp := theme.QuestionIcon(), widget.LowImportance
	switch n.Port25 {
	case detect.Port25Open:
		icon, imp = theme.ConfirmIcon(), widget.SuccessImportance
	case detect.Port25Blocked:
		icon, imp = theme.CancelIcon(), widget.WarningImportance
	case detect.Port25Intercepted:
		icon, imp = theme.WarningIcon(), widget.DangerImportance
	}
	p25 := widget.NewLabel("Port 25: " + string(n.Port25))
	p25.Importance = imp
	rows := []fyne.CanvasObject{container.NewHBox(widget.NewIcon(icon), p25)}
	captive := "unknown"
	if n.CaptivePortal != nil {
		captive = map[bool]string{true: "yes — sign in on a web page first", false: "no"}[*n.CaptivePortal]
	}
	for _, s := range []string{
		"Sign-in page (captive portal): " + captive,
		"This computer: " + firstOr(n.LocalAddresses, "unknown"),
		"DNS: " + firstOr(n.DNSServers, "unknown"),
	} {
		l := widget.NewLabel(s)
		l.Wrapping = fyne.TextWrapWord
		rows = append(rows, l)
	}
	for _, a := range n.Advice {
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
func statusLook(r detect.ProbeResult) (string, fyne.Resource, widget.Importance) {
	switch r.Status {
	case detect.StatusOK:
		switch {
		case r.Verified:
			return "works", theme.ConfirmIcon(), widget.SuccessImportance
		case r.Relay == detect.RelayAccepted:
			return "no login", theme.WarningIcon(), widget.WarningImportance
		default:
			return "reachable", theme.ConfirmIcon(), widget.HighImportance
		}
	case detect.StatusAuthFailed:
		return "login rejected", theme.ErrorIcon(), widget.DangerImportance
	case detect.StatusAuthUnavailable:
		return "no login method", theme.WarningIcon(), widget.WarningImportance
	case detect.StatusPlaintextRefused:
		return "not sent unencrypted", theme.WarningIcon(), widget.WarningImportance
	case detect.StatusCertInvalid:
		return "bad certificate", theme.WarningIcon(), widget.DangerImportance
	case detect.StatusTLSFailed:
		if r.Diagnosis != nil && r.Diagnosis.Kind == detect.KindPlainPort {
			return "starts plain", theme.InfoIcon(), widget.LowImportance
		}
		return "encryption failed", theme.ErrorIcon(), widget.DangerImportance
	case detect.StatusTimeout:
		return "no answer", theme.HistoryIcon(), widget.DangerImportance
	case detect.StatusRefused:
		return "closed", theme.CancelIcon(), widget.LowImportance
	case detect.StatusSkipped:
		return "blocked here", theme.CancelIcon(), widget.WarningImportance
	case detect.StatusUntrustedHost:
		return "not trusted", theme.WarningIcon(), widget.WarningImportance
	case detect.StatusDNSFailed:
		return "no such server", theme.CancelIcon(), widget.LowImportance
	case detect.StatusUnreachable:
		return "unreachable", theme.ErrorIcon(), widget.DangerImportance
	}
	if r.Diagnosis != nil && r.Diagnosis.Kind == detect.KindImplicitTLSPort {
		return "needs TLS", theme.InfoIcon(), widget.LowImportance
	}
	return "error", theme.ErrorIcon(), widget.DangerImportance
}

// showCell opens the diagnosis and redacted transcript of every host tried in a cell.
func (s *checkingScreen) showCell(k cellKey) {
	c := s.cells[k]
	if c == nil || len(c.results) == 0 {
		return
	}
	showResults(s.u.win, fmt.Sprintf("%s %d — %s", strings.ToUpper(string(k.proto)), k.port, detect.SecurityWords(k.sec)), c.results)
}

// showResults is the one dialog that explains probe results.
func showResults(w fyne.Window, title string, rs []detect.ProbeResult) {
	box := container.NewVBox()
	for _, r := range rs {
		word, icon, imp := statusLook(r)
		head := widget.NewLabelWithStyle(fmt.Sprintf("%s:%s — %s", r.Host, strconv.Itoa(r.Port), word), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		head.Importance = imp
		box.Add(container.NewHBox(widget.NewIcon(icon), head))
		if d := r.Diagnosis; d != nil {
			for _, s := range []string{d.Title + ". " + d.Explanation, "What to do: " + d.Fix} {
				l := widget.NewLabel(s)
				l.Wrapping = fyne.TextWrapWord
				box.Add(l)
			}
		}
		if r.Cert != nil {
			cert := fmt.Sprintf("Certificate: %s, issued by %s, valid until %s", r.Cert.Subject, r.Cert.Issuer, r.Cert.NotAfter)
			if r.Cert.Problem != "" {
				cert += " — problem: " + r.Cert.Problem
			}
			l := widget.NewLabel(cert)
			l.Wrapping = fyne.TextWrapWord
			box.Add(l)
		}
		tr := widget.NewLabelWithStyle(strings.Join(r.Transcript, "\n"), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		box.Add(widget.NewAccordion(widget.NewAccordionItem(fmt.Sprintf("Conversation with the server (%d lines, passwords hidden)", len(r.Transcript)), tr)))
		box.Add(widget.NewSeparator())
	}
	scroll := container.NewVScroll(box)
	scroll.SetMinSize(fyne.NewSize(640, 420))
	dialog.ShowCustom(title, "Close", scroll, w)
}
