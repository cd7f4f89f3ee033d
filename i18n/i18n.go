// Package i18n holds the words of the window, the settings sheet and the text export in
// every language the program speaks: one catalog per language (translations/<code>.json,
// go-i18n's flat JSON, the format Fyne's lang package loads), and the functions that
// render the engine's typed results (kinds, trust reasons, notices) from them. It never
// imports Fyne, so the exports can use it; the window also registers the same files with
// Fyne's lang package (gui/lang.go), which picks the language from the operating system.
//
// Keys are namespaced by where they are used ("account.title", "kind.timeout.fix",
// "notice.port25_blocked"); placeholders are Go template fields with lower-case names
// ({{.host}}); a message that counts something has plural forms ("one", "few", "many",
// "other" as the language needs) and its number in {{.count}}.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// Files holds the catalogs under Dir, one <code>.json per language.
//
//go:embed translations/*.json
var Files embed.FS

// Dir is the folder of the catalogs inside Files.
const Dir = "translations"

// English is the source language: its catalog defines every key.
const English = "en"

// Language is one language with a catalog: its code (BCP 47, also the file name) and
// its name in itself, as the language menu shows it.
type Language struct {
	Code string
	Name string
}

// Languages are the languages with a catalog, English first.
var Languages = []Language{
	{"en", "English"},
	{"ru", "Русский"},
	{"de", "Deutsch"},
	{"fr", "Français"},
	{"es", "Español"},
	{"pt-BR", "Português (Brasil)"},
}

var (
	loadOnce sync.Once
	bundle   *goi18n.Bundle
	tags     []language.Tag
)

// load parses every catalog once; a catalog that does not parse is a build defect
// (TestCatalogsParse), so it panics.
func load() {
	loadOnce.Do(func() {
		bundle = goi18n.NewBundle(language.English)
		bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
		for _, l := range Languages {
			data, err := Files.ReadFile(Dir + "/" + l.Code + ".json")
			if err != nil {
				panic(fmt.Sprintf("i18n: catalog %s: %v", l.Code, err))
			}
			if _, err := bundle.ParseMessageFileBytes(data, l.Code+".json"); err != nil {
				panic(fmt.Sprintf("i18n: catalog %s: %v", l.Code, err))
			}
			tags = append(tags, language.Make(l.Code))
		}
	})
}

// Match picks the catalog for a list of locales (BCP 47 "pt-BR" or POSIX "pt_BR.UTF-8",
// most wanted first): the closest language with a catalog, any Portuguese to Brazilian
// Portuguese, English when none fits.
func Match(locales ...string) string {
	load()
	var want []language.Tag
	for _, l := range locales {
		l = strings.TrimSpace(l)
		if i := strings.IndexAny(l, ".@"); i >= 0 {
			l = l[:i] // POSIX: drop the charset and modifier
		}
		if l == "" || l == "C" || l == "POSIX" {
			continue
		}
		t, err := language.Parse(strings.ReplaceAll(l, "_", "-"))
		if err != nil {
			continue
		}
		want = append(want, t)
	}
	if len(want) == 0 {
		return English
	}
	_, i, conf := language.NewMatcher(tags).Match(want...)
	if conf == language.No {
		return English
	}
	return Languages[i].Code
}

// Known reports whether code names a language with a catalog.
func Known(code string) bool {
	for _, l := range Languages {
		if l.Code == code {
			return true
		}
	}
	return false
}

// Lang translates into one language.
type Lang struct {
	code    string
	loc     *goi18n.Localizer
	printer *message.Printer
}

// New returns the translator for code; an unknown code gets English.
func New(code string) *Lang {
	load()
	if !Known(code) {
		code = English
	}
	return &Lang{
		code:    code,
		loc:     goi18n.NewLocalizer(bundle, code, English),
		printer: message.NewPrinter(language.Make(code)),
	}
}

// Code is the language's code ("de", "pt-BR").
func (l *Lang) Code() string { return l.code }

// T renders the message key with args given as name, value pairs; values are shown as
// they are (a port stays 2525, never 2 525).
func (l *Lang) T(key string, args ...any) string {
	return l.render(key, nil, args)
}

// N renders the plural message key for count, which it also passes as {{.count}},
// formatted the way the language writes numbers.
func (l *Lang) N(key string, count int, args ...any) string {
	return l.render(key, &count, args)
}

func (l *Lang) render(key string, count *int, args []any) string {
	data := make(map[string]any, len(args)/2+1)
	for i := 0; i+1 < len(args); i += 2 {
		name, _ := args[i].(string)
		data[name] = fmt.Sprint(args[i+1])
	}
	cfg := &goi18n.LocalizeConfig{MessageID: key, TemplateData: data}
	if count != nil {
		cfg.PluralCount = *count
		data["count"] = l.Int(*count)
	}
	s, err := l.loc.Localize(cfg)
	if err != nil && s == "" {
		// A missing key is a defect the catalog tests catch; show the key rather than
		// nothing. (A key missing only in this language comes back in English.)
		return key
	}
	return s
}

// has reports whether the catalogs define key (in this language or English).
func (l *Lang) has(key string) bool {
	s, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: key})
	return err == nil || s != ""
}

// Int writes n with the language's digit grouping (12 000 in Russian, 12.000 in German).
func (l *Lang) Int(n int) string {
	if n > -1000 && n < 1000 {
		return strconv.Itoa(n)
	}
	return l.printer.Sprint(number.Decimal(n))
}

// Decimal writes x with digits decimals and the language's decimal mark (0,3 in German).
func (l *Lang) Decimal(x float64, digits int) string {
	return l.printer.Sprint(number.Decimal(x, number.Scale(digits)))
}
