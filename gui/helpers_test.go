package gui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// textsOf collects the text of every label, button and card under o, including the
// contents of accordions that are closed.
func textsOf(o fyne.CanvasObject) string {
	var b strings.Builder
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *widget.Label:
			b.WriteString(w.Text + "\n")
		case *widget.Button:
			b.WriteString(w.Text + "\n")
		case *widget.Check:
			b.WriteString(w.Text + "\n")
		case *widget.RadioGroup:
			b.WriteString(strings.Join(w.Options, "\n") + "\n")
		case *widget.Select:
			b.WriteString(w.Selected + "\n" + strings.Join(w.Options, "\n") + "\n")
		case *widget.Entry:
			b.WriteString(w.PlaceHolder + "\n")
		case *widget.Card:
			b.WriteString(w.Title + "\n")
			if w.Content != nil {
				walk(w.Content)
			}
		case *widget.Accordion:
			for _, it := range w.Items {
				b.WriteString(it.Title + "\n")
				walk(it.Detail)
			}
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
		case fyne.Widget:
			r := w.CreateRenderer()
			for _, c := range r.Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return b.String()
}

func allText(u *UI) string { return textsOf(u.win.Content()) }

// visit calls fn for o and everything under it (containers, widgets' renderers, and the
// details of accordion items, open or closed); fn returns false to skip what is under
// the object it was given.
func visit(o fyne.CanvasObject, fn func(fyne.CanvasObject) bool) {
	if !fn(o) {
		return
	}
	switch w := o.(type) {
	case *widget.Accordion:
		for _, it := range w.Items {
			visit(it.Detail, fn)
		}
	case *fyne.Container:
		for _, c := range w.Objects {
			visit(c, fn)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(w).Objects() {
			visit(c, fn)
		}
	}
}

// find returns every object of type W under o.
func find[W fyne.CanvasObject](o fyne.CanvasObject) []W {
	var out []W
	visit(o, func(o fyne.CanvasObject) bool {
		if w, ok := o.(W); ok {
			out = append(out, w)
		}
		return true
	})
	return out
}

// newApp is a test app that speaks English whatever the machine's language, as the
// tests that read English words expect; the language tests choose their own.
func newApp(t *testing.T) fyne.App {
	t.Helper()
	a := test.NewTempApp(t)
	a.Preferences().SetString(prefLanguage, "en")
	return a
}
