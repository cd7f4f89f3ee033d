package gui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// This file is the window's theme: Fyne's default with the colours that carry text made
// readable for everyone (WCAG AA, a contrast ratio of at least 4.5:1 against every
// background they are drawn on, in the light and the dark variant; TestThemeContrast
// computes them). Fyne's own light palette draws the green "Verified" line at 1.5:1 on
// white, warnings at 2.1:1 and low-importance text (its "disabled" grey) at 1.3:1.

// themeColors replace the default palette's text colours, per variant.
var themeColors = map[fyne.ThemeVariant]map[fyne.ThemeColorName]color.Color{
	theme.VariantLight: {
		theme.ColorNamePrimary:             rgb(0x1a, 0x5d, 0xcc),
		theme.ColorNameHyperlink:           rgb(0x1a, 0x5d, 0xcc),
		theme.ColorNameForegroundOnPrimary: rgb(0xff, 0xff, 0xff),
		theme.ColorNameSuccess:             rgb(0x1b, 0x7a, 0x33),
		theme.ColorNameWarning:             rgb(0x9a, 0x56, 0x00),
		theme.ColorNameError:               rgb(0xc4, 0x29, 0x1d),
		theme.ColorNameDisabled:            rgb(0x6b, 0x6b, 0x6b),
		theme.ColorNamePlaceHolder:         rgb(0x6b, 0x6b, 0x6b),
	},
	theme.VariantDark: {
		theme.ColorNamePrimary:             rgb(0x79, 0xa8, 0xff),
		theme.ColorNameHyperlink:           rgb(0x79, 0xa8, 0xff),
		theme.ColorNameForegroundOnPrimary: rgb(0x17, 0x17, 0x18),
		theme.ColorNameError:               rgb(0xff, 0x6f, 0x61),
		theme.ColorNameDisabled:            rgb(0x9e, 0x9e, 0x9e),
	},
}

func rgb(r, g, b uint8) color.Color { return color.NRGBA{R: r, G: g, B: b, A: 0xff} }

// contrastTheme is Fyne's default theme with themeColors.
type contrastTheme struct{ fyne.Theme }

func newTheme() fyne.Theme { return &contrastTheme{theme.DefaultTheme()} }

// Color returns the readable colour for n where the default's is not, else the default.
func (t *contrastTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if c, ok := themeColors[v][n]; ok {
		return c
	}
	return t.Theme.Color(n, v)
}
