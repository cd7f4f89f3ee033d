package gui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/mailsetup/mailsetup/batch"
	"github.com/mailsetup/mailsetup/detect"
)

// tabOrder presses Tab (FocusNext) from nothing until focus comes round again and
// returns the widgets in the order they received focus.
func tabOrder(t *testing.T, c fyne.Canvas) []fyne.Focusable {
	t.Helper()
	c.Unfocus()
	var out []fyne.Focusable
	for range 400 {
		c.FocusNext()
		f := c.Focused()
		if f == nil || len(out) > 0 && f == out[0] {
			return out
		}
		out = append(out, f)
	}
	t.Fatal("Tab never comes round")
	return nil
}

// inOrder fails unless every widget of want receives focus, in want's order.
func inOrder(t *testing.T, where string, order []fyne.Focusable, want ...fyne.Focusable) {
	t.Helper()
	last := -1
	for i, w := range want {
		at := slices.Index(order, w)
		if at < 0 {
			t.Errorf("%s: widget %d of %d (%T) never receives focus", where, i+1, len(want), w)
			continue
		}
		if at < last {
			t.Errorf("%s: widget %d (%T) receives focus before the one listed before it", where, i+1, w)
		}
		last = at
	}
}

// press sends the space bar to the focused widget, as a keyboard user activates it.
func press(c fyne.Canvas) {
	if f := c.Focused(); f != nil {
		f.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	}
}

// Every action is reachable with Tab in reading order, and Space activates it: the
// account form (language, address, password, advanced options, Check), the matrix cells
// row by row, and on the result the copy buttons, every export and the final buttons.
func TestKeyboardReachesEveryAction(t *testing.T) {
	u, _ := newTestUI(t)
	c := u.win.Canvas()
	test.Type(u.acct.address, user)
	order := tabOrder(t, c)
	inOrder(t, "account screen", order, u.acct.language, u.acct.address, u.acct.password, u.acct.check)
	advanced := find[*widget.Accordion](u.win.Content())[0]
	advanced.OpenAll()
	order = tabOrder(t, c)
	inOrder(t, "account screen, advanced open", order, u.acct.address, u.acct.password, u.acct.username, u.acct.clientID, u.acct.plaintext, u.acct.check)

	// The address field submits with Enter; the Check button with Space.
	c.Focus(u.acct.password)
	test.Type(u.acct.password, pass)
	c.Focus(u.acct.check)
	press(c)
	if u.screen != "result" {
		t.Fatalf("Space on Check: screen %s", u.screen)
	}
	s := u.result
	order = tabOrder(t, c)
	var want []fyne.Focusable
	for _, b := range s.copies {
		want = append(want, b)
	}
	for _, b := range s.exports {
		want = append(want, b)
	}
	want = append(want, s.copyAll)
	inOrder(t, "result screen", order, want...)
	if len(s.exports) != len(exportButtons) || len(s.copies) != 12 {
		t.Errorf("%d export buttons, %d copy buttons", len(s.exports), len(s.copies))
	}

	// The matrix: every cell that was tried takes focus, row by row, and Space opens it.
	ch := u.showChecking(request{address: user})
	p := detect.ProbeResult{Protocol: detect.SMTP, Host: "smtp.demo.test", Port: 465, Security: detect.SecurityTLS, Status: detect.StatusOK, Verified: true}
	ch.apply(detect.Event{Probe: &p})
	var cells []fyne.Focusable
	for _, r := range detect.Matrix {
		for _, col := range detect.MatrixModes {
			if cl := ch.cells[cellKey{r.Protocol, r.Port, col}]; !cl.button.Disabled() {
				cells = append(cells, cl.button)
			}
		}
	}
	order = tabOrder(t, c)
	inOrder(t, "matrix", order, append([]fyne.Focusable{ch.cancelBtn}, cells...)...)
	for _, f := range order {
		if b, ok := f.(*widget.Button); ok && b.Disabled() {
			t.Errorf("the unused cell %q takes focus", b.Text)
		}
	}
	c.Focus(ch.cells[cellKey{detect.SMTP, 465, detect.SecurityTLS}].button)
	press(c)
	if c.Overlays().Top() == nil {
		t.Error("Space on a matrix cell opened nothing")
	}
	c.Overlays().Top().Hide()

	// The batch screen: the list's buttons, then the check's, in reading order; Space on
	// Check all checks the list.
	b := u.openBatch()
	b.loadText(strings.NewReader(user + "," + pass + "\n"))
	order = tabOrder(t, c)
	var listButtons []fyne.Focusable
	for _, btn := range append(slices.Clone(b.actions[:4]), b.checkBtn) {
		listButtons = append(listButtons, btn)
	}
	inOrder(t, "batch screen", order, listButtons...)
	c.Focus(b.checkBtn)
	press(c)
	if b.results[0].State != batch.StateVerified {
		t.Errorf("Space on Check all: the row is %s", b.results[0].State)
	}
	inOrder(t, "batch screen after the check", tabOrder(t, c), b.actions[0], b.checkBtn, b.exportBtn)
}
