package i18n_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/knowledge"
	"github.com/mailsetup/mailsetup/detect/trust"
	"github.com/mailsetup/mailsetup/export"
	. "github.com/mailsetup/mailsetup/i18n"
)

// These tests keep the catalogs whole: the same keys in every language, the same
// placeholders, the plural forms each language needs, every key used by the code and
// every key the code uses defined, and the English catalog saying what the engine says.

// catalog is one language file: key to its forms ("other" alone for a plain message).
type catalog map[string]map[string]string

func readCatalog(t *testing.T, code string) catalog {
	t.Helper()
	data, err := Files.ReadFile(Dir + "/" + code + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("%s.json: %v", code, err)
	}
	c := catalog{}
	for k, v := range raw {
		switch v := v.(type) {
		case string:
			c[k] = map[string]string{"other": v}
		case map[string]any:
			c[k] = map[string]string{}
			for form, s := range v {
				str, ok := s.(string)
				if !ok {
					t.Fatalf("%s.json: %s.%s is not text", code, k, form)
				}
				c[k][form] = str
			}
		default:
			t.Fatalf("%s.json: %s is neither text nor plural forms", code, k)
		}
	}
	return c
}

func (c catalog) keys() []string {
	var out []string
	for k := range c {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestCatalogsParse(t *testing.T) {
	New(English) // panics on a catalog go-i18n cannot read
	entries, err := Files.ReadDir(Dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	var want []string
	for _, l := range Languages {
		want = append(want, l.Code+".json")
	}
	sort.Strings(files)
	sort.Strings(want)
	if !slices.Equal(files, want) {
		t.Errorf("catalog files %v, want one per language %v", files, want)
	}
}

func TestEveryKeyInEveryLanguage(t *testing.T) {
	en := readCatalog(t, English)
	for _, l := range Languages[1:] {
		c := readCatalog(t, l.Code)
		for _, k := range en.keys() {
			if _, ok := c[k]; !ok {
				t.Errorf("%s lacks %s", l.Code, k)
			}
		}
		for _, k := range c.keys() {
			if _, ok := en[k]; !ok {
				t.Errorf("%s has %s, which English does not define", l.Code, k)
			}
		}
	}
}

var placeholder = regexp.MustCompile(`{{\s*\.(\w+)\s*}}`)

// fields lists the placeholders of every form of a message, each once.
func fields(forms map[string]string) []string {
	var out []string
	for _, s := range forms {
		for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
			if !slices.Contains(out, m[1]) {
				out = append(out, m[1])
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestPlaceholdersSameEverywhere(t *testing.T) {
	en := readCatalog(t, English)
	for _, l := range Languages {
		c := readCatalog(t, l.Code)
		for _, k := range c.keys() {
			if got, want := fields(c[k]), fields(en[k]); !slices.Equal(got, want) {
				t.Errorf("%s %s: placeholders %v, English has %v", l.Code, k, got, want)
			}
			for form, s := range c[k] {
				if strings.Count(s, "{{") != strings.Count(s, "}}") || strings.Count(s, "{{") != len(placeholder.FindAllString(s, -1)) {
					t.Errorf("%s %s (%s): a template other than {{.name}}: %q", l.Code, k, form, s)
				}
				if strings.TrimSpace(s) == "" && k != "change.list_separator" {
					t.Errorf("%s %s (%s) is empty", l.Code, k, form)
				}
			}
		}
	}
}

// Every plural message has the forms its language's plural rule picks for whole numbers
// (Russian: one, few, many; French also "many" for a million) and "other": go-i18n
// renders every count without falling back.
func TestPluralForms(t *testing.T) {
	bundle := goi18n.NewBundle(language.English)
	bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	for _, l := range Languages {
		data, _ := Files.ReadFile(Dir + "/" + l.Code + ".json")
		if _, err := bundle.ParseMessageFileBytes(data, l.Code+".json"); err != nil {
			t.Fatal(err)
		}
	}
	counts := []int{1_000_000, 2_000_000}
	for n := 0; n <= 1100; n++ {
		counts = append(counts, n)
	}
	for _, l := range Languages {
		c := readCatalog(t, l.Code)
		loc := goi18n.NewLocalizer(bundle, l.Code)
		tr := New(l.Code)
		for _, k := range c.keys() {
			if len(c[k]) == 1 {
				continue
			}
			if c[k]["other"] == "" {
				t.Errorf("%s %s: no \"other\" form", l.Code, k)
			}
			for _, n := range counts {
				if _, err := loc.Localize(&goi18n.LocalizeConfig{MessageID: k, PluralCount: n, TemplateData: map[string]any{}}); err != nil {
					t.Errorf("%s %s for %d: %v", l.Code, k, n, err)
					break
				}
			}
			var args []any
			for _, f := range fields(c[k]) {
				args = append(args, f, "x")
			}
			if s := tr.N(k, 3, args...); s == k || strings.Contains(s, "<no value>") {
				t.Errorf("%s %s for 3: %q", l.Code, k, s)
			}
		}
	}
}

// Non-English catalogs are translations, not copies: only technical values (protocol
// names, formats like "{{.label}}: {{.value}}") may equal the English.
func TestTranslationsAreTranslated(t *testing.T) {
	en := readCatalog(t, English)
	letters := regexp.MustCompile(`\p{L}{4,}`)
	for _, l := range Languages[1:] {
		c := readCatalog(t, l.Code)
		same, words := 0, 0
		var examples []string
		for _, k := range en.keys() {
			s := placeholder.ReplaceAllString(en[k]["other"], "")
			if !letters.MatchString(s) {
				continue
			}
			words++
			if c[k]["other"] == en[k]["other"] {
				same++
				if len(examples) < 12 {
					examples = append(examples, k)
				}
			}
		}
		if words == 0 || same*100/words > 5 {
			t.Errorf("%s: %d of %d worded values are the English ones (more than 5%%), e.g. %v", l.Code, same, words, examples)
		}
		t.Logf("%s: %d of %d worded values equal the English (names and technical terms), e.g. %v", l.Code, same, words, examples)
	}
}

// constants returns the values of the string constants of type typ declared in the Go
// files of dir (tests excluded).
func constants(t *testing.T, dir, typ string) []string {
	t.Helper()
	var out []string
	for _, f := range goFiles(t, dir) {
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok || vs.Type == nil {
				return true
			}
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typ {
				return true
			}
			for _, v := range vs.Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					out = append(out, s)
				}
			}
			return true
		})
	}
	if len(out) == 0 {
		t.Fatalf("no constants of type %s in %s", typ, dir)
	}
	return out
}

// goFiles parses the Go files of dir, tests excluded.
func goFiles(t *testing.T, dir string) []*ast.File {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	var out []*ast.File
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), n, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// returnedStrings lists the string literals function fn of dir returns.
func returnedStrings(t *testing.T, dir, fn string) []string {
	t.Helper()
	var out []string
	for _, f := range goFiles(t, dir) {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Name.Name != fn {
				continue
			}
			ast.Inspect(fd, func(n ast.Node) bool {
				if r, ok := n.(*ast.ReturnStmt); ok {
					for _, e := range r.Results {
						if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							s, _ := strconv.Unquote(lit.Value)
							out = append(out, s)
						}
					}
				}
				return true
			})
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s in %s returns no strings", fn, dir)
	}
	return out
}

// usedKey finds the keys the code asks for by name: the first argument of T, N, t and n
// (and of Fyne's lang.X); a literal ending in "." starts a key built from a typed value.
var usedKey = regexp.MustCompile(`\b(?:T|N|X|t|n)\(\s*"([^"]+)"`)

// staticKeys are the keys named in the Go files (tests excluded) and templates of dirs.
func staticKeys(t *testing.T, dirs ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range usedKey.FindAllStringSubmatch(string(src), -1) {
				if !strings.HasSuffix(m[1], ".") {
					out[m[1]] = f
				}
			}
			// html/template calls in the sheet: {{.L.T "key" …}}
			for _, m := range regexp.MustCompile(`\.L\.T "([^"]+)"`).FindAllStringSubmatch(string(src), -1) {
				out[m[1]] = f
			}
			// keys in tables of the code, such as export's loginWordKeys
			for _, m := range regexp.MustCompile(`:\s*"(login\.[a-z0-9_]+)"`).FindAllStringSubmatch(string(src), -1) {
				out[m[1]] = f
			}
		}
	}
	return out
}

// The code uses every key of the catalogs, and every key it names exists. Keys built
// from typed values are checked against those values: kinds, trust reasons, notice
// keys, OAuth2 error kinds, certificate problems, export formats and the provider notes
// of the knowledge base.
func TestNoUnusedOrMissingKeys(t *testing.T) {
	en := readCatalog(t, English)
	static := staticKeys(t, "../gui", "../export", "../batch", ".")
	for k, f := range static {
		if _, ok := en[k]; !ok {
			t.Errorf("%s asks for %q, which the catalogs lack", f, k)
		}
	}
	dynamic := map[string]bool{}
	for _, k := range constants(t, "../detect", "Kind") {
		for _, part := range []string{"title", "explanation", "fix"} {
			dynamic["kind."+k+"."+part] = true
		}
	}
	for _, r := range constants(t, "../detect/trust", "Reason") {
		dynamic["trust."+r] = true
	}
	for _, n := range constants(t, "../detect", "NoticeKey") {
		dynamic["notice."+n] = true
	}
	for _, k := range constants(t, "../detect/oauth", "Kind") {
		dynamic["oauth.error."+k] = true
	}
	for _, p := range returnedStrings(t, "../detect", "certProblem") {
		dynamic["cert.problem."+p] = true
	}
	for _, f := range export.Formats {
		dynamic["export.format."+f] = true
	}
	for _, n := range providerNotes(t) {
		dynamic[n.key] = true
	}
	for _, k := range en.keys() {
		if _, ok := static[k]; !ok && !dynamic[k] {
			t.Errorf("%s is in the catalogs but the code never uses it", k)
		}
	}
	for k := range dynamic {
		if _, ok := en[k]; !ok && !strings.HasPrefix(k, "notice.") {
			t.Errorf("%s is missing from the catalogs", k)
		}
	}
}

type providerNote struct{ key, text string }

// providerNotes are the free-text notes of the built-in knowledge base, keyed the way
// Lang.Notice looks them up.
func providerNotes(t *testing.T) []providerNote {
	t.Helper()
	db, err := knowledge.Load()
	if err != nil {
		t.Fatal(err)
	}
	var out []providerNote
	for _, p := range db.Providers {
		if p.Notes.EnableInWeb != "" {
			out = append(out, providerNote{"note." + p.ID + ".enable_in_web", p.Notes.EnableInWeb})
		}
		for i, o := range p.Notes.Other {
			out = append(out, providerNote{"note." + p.ID + ".other." + strconv.Itoa(i), o})
		}
	}
	if len(out) == 0 {
		t.Fatal("the knowledge base has no free-text notes")
	}
	return out
}

// The English catalog says exactly what the engine says: the words of every kind and
// trust reason, and every provider note of the knowledge base (a note edited in
// providers.yaml must be translated again).
func TestEnglishIsTheEngine(t *testing.T) {
	en := New(English)
	for _, k := range constants(t, "../detect", "Kind") {
		w := detect.WordsFor(detect.Kind(k))
		if got := en.KindWords(detect.Kind(k)); got != (Words{w.Title, w.Explanation, w.Fix}) {
			t.Errorf("kind %s: catalog %+v, engine %+v", k, got, w)
		}
	}
	for _, r := range constants(t, "../detect/trust", "Reason") {
		if got, want := en.TrustReason(r), detect.TrustWords(trust.Reason(r)); got != want {
			t.Errorf("trust %s: catalog %q, engine %q", r, got, want)
		}
	}
	for _, n := range providerNotes(t) {
		if got := en.T(n.key); got != n.text {
			t.Errorf("%s: catalog %q, knowledge base %q", n.key, got, n.text)
		}
	}
	db, err := knowledge.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range db.Providers {
		var got []string
		for _, n := range detect.ProviderNotices(p.ID, p.Name, p.Notes) {
			got = append(got, en.Notice(n))
		}
		if want := detect.ProviderWarnings(p.Name, p.Notes); !slices.Equal(got, want) {
			t.Errorf("%s: catalog %q, engine %q", p.ID, got, want)
		}
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{[]string{"ru_RU.UTF-8"}, "ru"},
		{[]string{"de-AT"}, "de"},
		{[]string{"de_CH.utf8@euro"}, "de"},
		{[]string{"fr-CA"}, "fr"},
		{[]string{"es_MX.UTF-8"}, "es"},
		{[]string{"pt_BR.UTF-8"}, "pt-BR"},
		{[]string{"pt-PT"}, "pt-BR"},
		{[]string{"en_GB.UTF-8"}, "en"},
		{[]string{"pl_PL.UTF-8"}, "en"},
		{[]string{"pl", "de"}, "de"},
		{[]string{"C"}, "en"},
		{[]string{""}, "en"},
		{nil, "en"},
	} {
		if got := Match(tt.in...); got != tt.want {
			t.Errorf("Match(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestNumbersPerLanguage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		code         string
		n            int
		x            float64
		wantN, wantX string
	}{
		{"en", 12000, 0.34, "12,000", "0.3"},
		{"de", 12000, 0.34, "12.000", "0,3"},
		{"ru", 12000, 2.56, "12\u00a0000", "2,6"},
		{"fr", 12000, 2.56, "12\u00a0000", "2,6"},
		{"pt-BR", 12000, 1.0, "12.000", "1,0"},
		{"es", 512, 1.26, "512", "1,3"},
	} {
		l := New(tt.code)
		if got := l.Int(tt.n); got != tt.wantN {
			t.Errorf("%s Int(%d) = %q, want %q", tt.code, tt.n, got, tt.wantN)
		}
		if got := l.Decimal(tt.x, 1); got != tt.wantX {
			t.Errorf("%s Decimal(%v) = %q, want %q", tt.code, tt.x, got, tt.wantX)
		}
	}
}

// Russian counts take the form the number needs.
func TestRussianPlurals(t *testing.T) {
	t.Parallel()
	ru := New("ru")
	one, few, many := ru.N("results.transcript", 1), ru.N("results.transcript", 3), ru.N("results.transcript", 5)
	if one == few || few == many || one == many || !strings.Contains(few, "3") {
		t.Errorf("1: %q, 3: %q, 5: %q: want three different forms", one, few, many)
	}
	if got := ru.N("results.transcript", 21); got != strings.Replace(one, "1", "21", 1) {
		t.Errorf("21 takes the form of 1: %q vs %q", got, one)
	}
}

func TestUnknownLanguageIsEnglish(t *testing.T) {
	t.Parallel()
	if got := New("xx").Code(); got != English {
		t.Errorf("New(xx).Code() = %s", got)
	}
	if got := New("xx").T("app.name"); got != "Mail Setup Assistant" {
		t.Errorf("app.name = %q", got)
	}
}
