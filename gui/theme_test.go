package gui

import (
	"image/color"
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"golang.org/x/image/font/sfnt"
)

// luminance is the WCAG relative luminance of c (alpha ignored: c is opaque).
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		s := float64(v) / 0xffff
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrast is the WCAG contrast ratio of two opaque colours (1 to 21).
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// over paints c (with its alpha) over the opaque base, as a button's hover and focus
// tints are painted over its background.
func over(base, c color.Color) color.Color {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	b := color.NRGBAModel.Convert(base).(color.NRGBA)
	a := float64(n.A) / 255
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(y)*(1-a) + float64(x)*a)) }
	return color.NRGBA{R: mix(n.R, b.R), G: mix(n.G, b.G), B: mix(n.B, b.B), A: 0xff}
}

// Every pair of text colour and background the window draws has a contrast of at least
// 4.5:1 (WCAG AA), in both variants: labels of each importance (low importance uses the
// "disabled" colour) on the window, dialogs and headers; entries and their placeholders;
// plain and low-importance buttons, also hovered and focused, and disabled ones; the
// text of coloured buttons on their colour (also hovered and focused); selects and menus.
// Fyne's default light theme fails this (its success green on white is 1.5:1); the test
// logs both.
func TestThemeContrast(t *testing.T) {
	test.NewTempApp(t)
	th := newTheme()
	for _, v := range []fyne.ThemeVariant{theme.VariantLight, theme.VariantDark} {
		name := map[fyne.ThemeVariant]string{theme.VariantLight: "light", theme.VariantDark: "dark"}[v]
		c := func(n fyne.ThemeColorName) color.Color { return th.Color(n, v) }
		window, dialog, button := c(theme.ColorNameBackground), c(theme.ColorNameOverlayBackground), c(theme.ColorNameButton)
		hover, focus := c(theme.ColorNameHover), c(theme.ColorNameFocus)
		type pair struct {
			what   string
			fg, bg color.Color
		}
		var pairs []pair
		for _, fg := range []fyne.ThemeColorName{theme.ColorNameForeground, theme.ColorNamePrimary, theme.ColorNameHyperlink, theme.ColorNameSuccess,
			theme.ColorNameWarning, theme.ColorNameError, theme.ColorNameDisabled} {
			for where, bg := range map[string]color.Color{"window": window, "dialog": dialog, "header": c(theme.ColorNameHeaderBackground)} {
				pairs = append(pairs, pair{string(fg) + " label on the " + where, c(fg), bg})
			}
		}
		for _, fg := range []fyne.ThemeColorName{theme.ColorNameForeground, theme.ColorNamePlaceHolder} {
			pairs = append(pairs, pair{string(fg) + " in an entry", c(fg), c(theme.ColorNameInputBackground)})
		}
		for where, bg := range map[string]color.Color{"button": button, "hovered button": over(button, hover), "focused button": over(button, focus),
			"hovered low button": over(over(window, button), hover), "focused low button in a dialog": over(over(dialog, button), focus),
			"focused select": over(window, focus), "menu": c(theme.ColorNameMenuBackground)} {
			pairs = append(pairs, pair{"text on the " + where, c(theme.ColorNameForeground), bg})
		}
		for where, bg := range map[string]color.Color{"disabled button": c(theme.ColorNameDisabledButton), "disabled low button": window, "disabled low button in a dialog": dialog} {
			pairs = append(pairs, pair{"text of a " + where, c(theme.ColorNameDisabled), bg})
		}
		for bgName, fg := range map[fyne.ThemeColorName]fyne.ThemeColorName{
			theme.ColorNamePrimary: theme.ColorNameForegroundOnPrimary, theme.ColorNameSuccess: theme.ColorNameForegroundOnSuccess,
			theme.ColorNameWarning: theme.ColorNameForegroundOnWarning, theme.ColorNameError: theme.ColorNameForegroundOnError,
		} {
			bg := c(bgName)
			for where, b := range map[string]color.Color{"": bg, " hovered": over(bg, hover), " focused": over(bg, focus)} {
				pairs = append(pairs, pair{"text on a" + where + " " + string(bgName) + " button", c(fg), b})
			}
		}
		worst := 21.0
		for _, p := range pairs {
			r := contrast(p.fg, p.bg)
			worst = min(worst, r)
			if r < 4.5 {
				t.Errorf("%s: %s is %.2f:1, below 4.5:1", name, p.what, r)
			}
		}
		def := theme.DefaultTheme()
		t.Logf("%s: %d pairs, worst contrast %.2f:1; Fyne's default: success label on the window %.2f:1, warning %.2f:1, low importance %.2f:1",
			name, len(pairs), worst, contrast(def.Color(theme.ColorNameSuccess, v), def.Color(theme.ColorNameBackground, v)),
			contrast(def.Color(theme.ColorNameWarning, v), def.Color(theme.ColorNameBackground, v)),
			contrast(def.Color(theme.ColorNameDisabled, v), def.Color(theme.ColorNameBackground, v)))
	}
}

// faces are the fonts the window draws text with.
type faces []*sfnt.Font

func loadFaces(t *testing.T) faces {
	t.Helper()
	var out faces
	for _, r := range []fyne.Resource{theme.DefaultTextFont(), theme.DefaultTextBoldFont(), theme.DefaultSymbolFont()} {
		f, err := sfnt.Parse(r.Content())
		if err != nil {
			t.Fatalf("%s: %v", r.Name(), err)
		}
		out = append(out, f)
	}
	return out
}

// has reports whether the regular and bold faces, or the symbol font, have a glyph for r.
func (fs faces) has(r rune) bool {
	var b sfnt.Buffer
	in := func(f *sfnt.Font) bool {
		i, err := f.GlyphIndex(&b, r)
		return err == nil && i != 0
	}
	if r == ' ' || r == '\u00a0' || r == '\u202f' {
		return in(fs[0])
	}
	return in(fs[0]) && in(fs[1]) || in(fs[2])
}
