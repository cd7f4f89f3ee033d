package gui

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/mailsetup/mailsetup/batch"
	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/i18n"
)

// These tests run the window in every language: the whole flow through the Fyne test
// driver, no English left over and no template or key showing, the language chosen
// from the system through Fyne's lang package and from the menu, and every screen
// fitting the default window size.

// englishLeftovers are the English phrases of the catalog that code's translation
// changes: none of them may show on a screen in that language. A phrase is the longest
// run of a message between its placeholders, at least 16 characters long.
func englishLeftovers(t *testing.T, code string) []string {
	t.Helper()
	read := func(c string) map[string]any {
		data, err := i18n.Files.ReadFile(i18n.Dir + "/" + c + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	en, tr := read("en"), read(code)
	var out []string
	for k, v := range en {
		s, ok := v.(string)
		if !ok || tr[k] == v || strings.HasPrefix(k, "kind.") && strings.HasSuffix(k, ".title") {
			continue
		}
		for _, part := range regexp.MustCompile(`{{[^}]*}}`).Split(s, -1) {
			if part = strings.TrimSpace(part); len(part) >= 16 {
				out = append(out, part)
			}
		}
	}
	return out
}

// checkSpeaks fails when text shows an English phrase, a key or an unfilled template.
func checkSpeaks(t *testing.T, code, where, text string) {
	t.Helper()
	if strings.Contains(text, "<no value>") || strings.Contains(text, "{{") {
		t.Errorf("%s %s shows a template:\n%s", code, where, text)
	}
	if m := regexp.MustCompile(`\b(account|result|checking|current|consent|status|cell|network|signin|notice|kind|trust|field|export|batch)\.[a-z_]+\b`).FindString(text); m != "" {
		t.Errorf("%s %s shows the key %q", code, where, m)
	}
	if code == i18n.English {
		return
	}
	for _, p := range englishLeftovers(t, code) {
		if strings.Contains(text, p) {
			t.Errorf("%s %s shows English: %q", code, where, p)
		}
	}
}

// The whole flow in each language: account, checking, result with its exports, the
// matrix cell's diagnosis, a failure, the confirmation of an untrusted server and the
// current-settings screen.
func TestFlowInEveryLanguage(t *testing.T) {
	for _, l := range i18n.Languages {
		t.Run(l.Code, func(t *testing.T) {
			u, w := newTestUIIn(t, l.Code)
			tr := i18n.New(l.Code)
			if u.tr.Code() != l.Code {
				t.Fatalf("window speaks %s", u.tr.Code())
			}
			u.acct.address.SetText("not an address")
			if err := u.acct.address.Validate(); err == nil || err.Error() != tr.T("address.form") {
				t.Errorf("validation %v, want %q", err, tr.T("address.form"))
			}
			u.acct.address.SetText("")
			fill(u, user, pass)
			acct := allText(u)
			for _, want := range []string{tr.T("account.title"), tr.T("account.check"), tr.T("account.advanced")} {
				if !strings.Contains(acct, want) {
					t.Errorf("account screen lacks %q", want)
				}
			}
			checkSpeaks(t, l.Code, "account screen", acct)

			// The checking screen, as the engine's first events draw it.
			s := u.showChecking(request{address: user})
			p := detect.ProbeResult{Protocol: detect.SMTP, Host: "smtp.demo.test", Port: 587, Security: detect.SecurityStartTLS,
				Status: detect.StatusAuthFailed, Transcript: []string{"S: 220 hi"},
				Diagnosis: detect.DiagnosisFor(&detect.Failure{Kind: detect.KindAuthRejected, Code: 535, Enhanced: "5.7.8"})}
			s.apply(detect.Event{Source: &detect.SourceResult{Source: detect.SourceSRV, Found: true, Servers: make([]detect.Candidate, 3), ElapsedMS: 1200}})
			s.apply(detect.Event{Network: &detect.Network{Port25: detect.Port25Blocked, Outbound: map[string]detect.PortState{}}})
			s.apply(detect.Event{Start: &detect.ProbeKey{Protocol: detect.SMTP, Host: p.Host, Port: 587, Security: detect.SecurityStartTLS}})
			s.apply(detect.Event{Probe: &p})
			checking := allText(u)
			for _, want := range []string{tr.T("status.login_rejected"), tr.N("checking.source_servers", 3), tr.T("network.port25", "state", tr.T("network.port25_blocked")),
				tr.N("checking.progress", 1, "done", 1), tr.T("cell.not_used")} {
				if !strings.Contains(checking, want) {
					t.Errorf("checking screen lacks %q:\n%s", want, checking)
				}
			}
			checkSpeaks(t, l.Code, "checking screen", checking)
			test.Tap(s.cells[cellKey{detect.SMTP, 587, detect.SecurityStartTLS}].button)
			cellDialog := textsOf(u.win.Canvas().Overlays().Top())
			if d := tr.KindWords(detect.KindAuthRejected); !strings.Contains(cellDialog, d.Title) || !strings.Contains(cellDialog, d.Fix) {
				t.Errorf("cell dialog lacks the diagnosis:\n%s", cellDialog)
			}
			checkSpeaks(t, l.Code, "cell dialog", cellDialog)
			u.win.Canvas().Overlays().Top().Hide()

			u.showAccount("")
			fill(u, user, pass)
			test.Tap(u.acct.check)
			if u.screen != "result" {
				t.Fatalf("screen %s", u.screen)
			}
			result := allText(u)
			for _, want := range []string{tr.T("result.headline_works"), tr.T("result.verified"), tr.T("field.security"), tr.T("export.format.sheet")} {
				if !strings.Contains(result, want) {
					t.Errorf("result lacks %q", want)
				}
			}
			checkSpeaks(t, l.Code, "result screen", result)
			for _, format := range []string{"sheet", "text"} {
				data, err := exportBytes(u.tr, u.result.report, format)
				if err != nil || !strings.Contains(string(data), tr.T("text.title", "address", user)) {
					t.Errorf("%s export not in %s (%v):\n%s", format, l.Code, err, data)
				}
				checkSpeaks(t, l.Code, format+" export", string(data))
			}
			if copied := settingsText(u.tr, u.result.report); !strings.Contains(copied, tr.T("field.username")) {
				t.Errorf("copied text not in %s:\n%s", l.Code, copied)
			}

			// A wrong password: the failure, its diagnosis and the warnings.
			u.showAccount("")
			fill(u, user, "not the password")
			test.Tap(u.acct.check)
			failure := allText(u)
			for _, want := range []string{tr.T("result.headline_nothing"), tr.T("result.what_went_wrong"), tr.KindWords(detect.KindAuthRejected).Title} {
				if !strings.Contains(failure, want) {
					t.Errorf("failure lacks %q", want)
				}
			}
			checkSpeaks(t, l.Code, "failure", failure)

			// A server no trusted source names: the section and the confirmation.
			w.Net.SRV("submissions", "shop.test", "smtp.demo.test", 465)
			w.Net.SRV("imaps", "shop.test", "imap.demo.test", 993)
			u.showAccount("")
			fill(u, "me@shop.test", pass)
			test.Type(u.acct.username, user)
			test.Tap(u.acct.check)
			consent := textsOf(u.win.Canvas().Overlays().Top())
			hosts := "imap.demo.test, smtp.demo.test"
			for _, want := range []string{tr.T("consent.title", "hosts", hosts), tr.TrustReason("srv_outside_domain"), tr.T("consent.yes")} {
				if !strings.Contains(consent, want) {
					t.Errorf("confirmation lacks %q:\n%s", want, consent)
				}
			}
			checkSpeaks(t, l.Code, "confirmation", consent)
			checkSpeaks(t, l.Code, "result with untrusted servers", allText(u))
			if !tapButton(u.win.Canvas().Overlays().Top(), tr.T("consent.yes")) || u.result.fields["outgoing server"] != "smtp.demo.test" {
				t.Errorf("confirming in %s did not log in: %v", l.Code, u.result.fields)
			}

			// The batch screen: the list, its rows and status, every row's detail, the
			// confirmation of servers for the list, the export and the branding.
			b := u.openBatch()
			checkSpeaks(t, l.Code, "empty batch screen", batchText(b))
			b.loadText(strings.NewReader(batchList))
			checkSpeaks(t, l.Code, "loaded batch screen", batchText(b))
			test.Tap(b.checkBtn)
			texts := batchText(b)
			for _, want := range []string{tr.T("batch.title"), tr.T("batch.state_verified"), tr.T("batch.state_attention"), tr.T("batch.state_unverified"),
				tr.T("batch.problem_not_address"), tr.T("batch.problem_listed_twice", "line", 1), tr.N("batch.status_verified", 1),
				tr.T("batch.reason_untrusted", "hosts", hosts), tr.T("batch.reason_password_refused", "protocols", "SMTP, IMAP, POP3")} {
				if !strings.Contains(texts, want) {
					t.Errorf("batch screen lacks %q:\n%s", want, texts)
				}
			}
			checkSpeaks(t, l.Code, "batch screen", texts)
			for i, c := range b.clients {
				b.showRow(i)
				checkSpeaks(t, l.Code, "batch row "+c.Address, textsOf(b.detailBox))
				b.detail.Hide()
			}
			shop := b.results[3]
			if shop.Report == nil || len(untrustedServers(shop.Report)) == 0 {
				t.Fatalf("%s: no servers to confirm: %+v", shop.Address, shop)
			}
			b.confirmTrust(shop.Report, groupByCertificate(untrustedServers(shop.Report))[0])
			trust := textsOf(u.win.Canvas().Overlays().Top())
			if !strings.Contains(trust, tr.T("batch.trust_yes")) || !strings.Contains(trust, tr.T("batch.trust_list")) {
				t.Errorf("batch confirmation:\n%s", trust)
			}
			checkSpeaks(t, l.Code, "batch confirmation", trust)
			u.win.Canvas().Overlays().Top().Hide()
			b.chooseExport()
			exp := textsOf(u.win.Canvas().Overlays().Top())
			if !strings.Contains(exp, tr.N("batch.export_note", 2, "total", 6)) || !strings.Contains(exp, tr.T("export.format.sheet")) {
				t.Errorf("export dialog:\n%s", exp)
			}
			checkSpeaks(t, l.Code, "batch export", exp)
			u.win.Canvas().Overlays().Top().Hide()
			b.editBranding()
			checkSpeaks(t, l.Code, "batch branding", textsOf(u.win.Canvas().Overlays().Top()))
			u.win.Canvas().Overlays().Top().Hide()
			if got := exportedWords(tr, batch.Exported{Files: make([]string, 5), Clients: 2}, "/tmp/x"); !strings.Contains(got, tr.N("batch.exported_files", 5)) {
				t.Errorf("exported: %q", got)
			}
			checkSpeaks(t, l.Code, "batch exported", exportedWords(tr, batch.Exported{Files: make([]string, 5), Clients: 2}, "/tmp/x"))
		})
	}
}

// batchList is a client list for the demo world: a verified row, a wrong password, a
// row without password, an address whose servers only another domain's DNS names, a
// line that is no address and an address listed twice.
const batchList = user + "," + pass + ",Ana Example\nother@demo.test,wrong,Ben\nnobody@demo.test,,Cy\nme@shop.test," + pass + ",Di\nnot-an-address,x,Ed\n" + user + ",again,Twice\n"

// batchText is what the batch screen shows: its widgets, its status line, the table's
// titles and every cell.
func batchText(s *batchScreen) string {
	var b strings.Builder
	b.WriteString(allText(s.u))
	st, _ := s.status.Get()
	b.WriteString(st + "\n" + strings.Join(batchTitles(s.u.tr), "\n") + "\n")
	for i := range s.clients {
		for col := range batchColumns {
			b.WriteString(cellText(s, i, col) + "\n")
		}
	}
	return b.String()
}

// Every note of package batch says its values in every language, with no English left
// over: the notes the flows do not reach too.
func TestBatchNotesInEveryLanguage(t *testing.T) {
	rep := &detect.Report{Recommended: detect.Recommendation{
		Incoming: &detect.Setting{Protocol: detect.IMAP, Host: "imap.example.com", Port: 993, Security: detect.SecurityTLS},
		Outgoing: &detect.Setting{Protocol: detect.SMTP, Host: "smtp.example.com", Port: 587, Security: detect.SecurityStartTLS}}}
	failure := map[string]string{"kind": string(detect.KindCertUnknownCA), "protocol": "IMAP", "host": "imap.example.com", "port": "993"}
	where := map[string]string{"protocol": "IMAP", "host": "imap.example.com", "port": "993"}
	notes := []batch.Note{
		{Key: batch.NoteNotChecked}, {Key: batch.NoteWaiting}, {Key: batch.NoteProbing}, {Key: batch.NoteCancelled},
		{Key: batch.NoteWaitingFor, Args: map[string]string{"domain": "example.com"}},
		{Key: batch.NoteDiscovering, Args: map[string]string{"domain": "example.com"}},
		{Key: batch.NoteVerifying, Args: map[string]string{"domain": "example.com"}},
		{Key: batch.NoteTaking, Args: map[string]string{"domain": "example.com"}},
		{Key: batch.NoteSettings}, {Key: batch.NoteNoPassword}, {Key: batch.NoteNotVerified},
		{Key: batch.NotePasswordRefused, Args: map[string]string{"protocols": "IMAP, SMTP"}},
		{Key: batch.NoteUntrusted, Args: map[string]string{"hosts": "mail.example.net"}},
		{Key: batch.NoteNoSetting, Args: failure}, {Key: batch.NoteNoSetting},
		{Key: batch.NoteNoIncoming, Args: failure}, {Key: batch.NoteNoOutgoing, Args: failure},
		{Key: batch.NoteNoIncomingRefused, Args: map[string]string{"worked": "SMTP", "refused": "IMAP"}},
		{Key: batch.NoteNoOutgoingRefused, Args: map[string]string{"worked": "IMAP", "refused": "SMTP"}},
		{Key: batch.NoteBadAddress, Args: map[string]string{"error": "x"}}, {Key: batch.NoteFailed, Args: map[string]string{"error": "x"}},
		{Key: batch.NoteRefusedHere, Args: where},
		{Key: batch.NoteUses, Args: map[string]string{"protocol": "POP3", "host": "pop.example.com", "port": "995", "security": string(detect.SecurityNone),
			"other_protocol": "IMAP", "other_host": "imap.example.com", "other_port": "993"}},
		{Key: batch.NoteLogsInAs, Args: map[string]string{"protocol": "IMAP", "username": "me"}},
		{Key: batch.NoteColumns, Args: map[string]string{"columns": "4"}}, {Key: batch.NoteNotAddress}, {Key: batch.NoteControlChars},
		{Key: batch.NoteListedTwice, Args: map[string]string{"line": "3"}},
	}
	for _, l := range i18n.Languages {
		tr := i18n.New(l.Code)
		for _, n := range notes {
			got := batch.NoteWords(tr, n, rep, "NOT SAID")
			if got == "NOT SAID" || got == "" {
				t.Errorf("%s: note %s is not said", l.Code, n.Key)
			}
			checkSpeaks(t, l.Code, "note "+string(n.Key), got)
			for _, v := range n.Args {
				if v != string(detect.SecurityNone) && v != string(detect.KindCertUnknownCA) && !strings.Contains(got, v) {
					t.Errorf("%s: note %s %q lacks its value %q", l.Code, n.Key, got, v)
				}
			}
		}
		if got := batch.NoteWords(tr, batch.Note{Key: "from_a_newer_version"}, rep, "the English"); got != "the English" {
			t.Errorf("%s: an unknown note says %q, want its English", l.Code, got)
		}
		for _, err := range []error{batch.ErrNoClients, batch.ErrListTooLarge, batch.ErrTooManyClients, errors.New("csv: bare quote")} {
			checkSpeaks(t, l.Code, "list error", listErrorWords(tr, fmt.Errorf("batch: %w", err)))
		}
	}
}

// The current-settings screen in each language: verdicts, the proven change and the
// network, rendered from the engine's structured results.
func TestCurrentScreenInEveryLanguage(t *testing.T) {
	for _, l := range i18n.Languages {
		t.Run(l.Code, func(t *testing.T) {
			u, _ := newCurrentUI(t)
			u.app.Preferences().SetString(prefLanguage, l.Code)
			u.tr = i18n.New(l.Code)
			tr := u.tr
			u.showCurrent()
			s := u.cur
			test.Type(s.password, pass)
			test.Tap(s.check)
			if s.res == nil {
				t.Fatalf("no result: %q", s.message.Text)
			}
			if got, want := s.fields["outgoing verdict"], tr.T("current.verdict_port25_blocked_elsewhere", "other_port", 465); got != want && got != tr.T("current.verdict_port25_blocked") {
				t.Errorf("outgoing verdict %q, want %q", got, want)
			}
			texts := allText(u)
			for _, want := range []string{tr.T("current.headline_proven"), tr.T("current.smallest_change"), tr.T("current.fix_thunderbird"), "→ 587"} {
				if !strings.Contains(texts, want) {
					t.Errorf("screen lacks %q:\n%s", want, texts)
				}
			}
			checkSpeaks(t, l.Code, "current screen", texts)
		})
	}
}

// The language menu and the account screen's choice switch the window at once and are
// remembered; "system language" forgets the choice.
func TestLanguageChoiceIsRemembered(t *testing.T) {
	u, _ := newTestUI(t)
	test.Type(u.acct.address, user)
	u.acct.language.SetSelectedIndex(3) // Deutsch
	if got := u.app.Preferences().String(prefLanguage); got != "de" {
		t.Fatalf("preference %q after choosing Deutsch", got)
	}
	de := i18n.New("de")
	if u.tr.Code() != "de" || !strings.Contains(allText(u), de.T("account.title")) || u.win.Title() != de.T("app.name") {
		t.Fatalf("window not in German:\n%s", allText(u))
	}
	if u.acct.address.Text != user {
		t.Errorf("the typed address was lost on switching: %q", u.acct.address.Text)
	}
	again := New(u.app, Config{Background: func(f func()) { f() }})
	t.Cleanup(again.Window().Close)
	if again.tr.Code() != "de" {
		t.Errorf("a new window speaks %s, want the remembered de", again.tr.Code())
	}
	menu := u.win.MainMenu().Items[0]
	if menu.Label != de.T("menu.language") {
		t.Fatalf("first menu %q", menu.Label)
	}
	for _, it := range menu.Items {
		if it.Label == "Русский" {
			it.Action()
		}
	}
	if u.tr.Code() != "ru" || u.app.Preferences().String(prefLanguage) != "ru" {
		t.Errorf("menu choice: window %s, preference %q", u.tr.Code(), u.app.Preferences().String(prefLanguage))
	}
	u.win.MainMenu().Items[0].Items[0].Action() // system language
	if got := u.app.Preferences().String(prefLanguage); got != "" {
		t.Errorf("system language kept the preference %q", got)
	}
}

// Switching the language redraws the result and the current-settings screens in place,
// keeping what they show and what was typed.
func TestLanguageSwitchRedrawsScreens(t *testing.T) {
	u, _ := newTestUI(t)
	fill(u, user, pass)
	test.Tap(u.acct.check)
	u.setLanguage("fr")
	fr := i18n.New("fr")
	if u.screen != "result" || !strings.Contains(allText(u), fr.T("result.headline_works")) || u.result.fields["outgoing server"] != "smtp.demo.test" {
		t.Errorf("result after switching to French: screen %s\n%s", u.screen, allText(u))
	}

	c, _ := newCurrentUI(t)
	c.showCurrent()
	test.Type(c.cur.password, pass)
	test.Tap(c.cur.check)
	c.setLanguage("es")
	es := i18n.New("es")
	texts := allText(c)
	if !strings.Contains(texts, es.T("current.headline_proven")) || c.cur.password.Text != pass || c.cur.res == nil {
		t.Errorf("current screen after switching to Spanish: password kept %v\n%s", c.cur.password.Text == pass, texts)
	}

	// The batch screen keeps its list, its results and its options.
	b := u.openBatch()
	b.loadText(strings.NewReader(batchList))
	b.plaintext = true
	test.Tap(b.checkBtn)
	results := slices.Clone(b.results)
	u.setLanguage("ru")
	ru := i18n.New("ru")
	texts = batchText(b)
	if u.screen != "batch" || u.batch != b || !strings.Contains(texts, ru.T("batch.title")) || !strings.Contains(texts, ru.T("batch.state_verified")) {
		t.Errorf("batch screen after switching to Russian: screen %s\n%s", u.screen, texts)
	}
	if len(b.results) != len(results) || b.results[0].Report != results[0].Report || b.clients[0].Password != pass || !b.plaintext {
		t.Errorf("switching the language lost the list: %d rows, password kept %v, plaintext %v", len(b.results), b.clients[0].Password == pass, b.plaintext)
	}
	checkSpeaks(t, "ru", "batch screen after switching", texts)
	plain := 0
	for _, ch := range find[*widget.Check](u.win.Content()) {
		if ch.Text == ru.T("account.allow_plaintext") {
			plain++
			if !ch.Checked {
				t.Error("the list's plaintext option is drawn off after switching")
			}
		}
	}
	if plain != 1 {
		t.Errorf("%d plaintext options on the batch screen", plain)
	}
}

// Without a choice the window speaks the system's language, as Fyne's lang package
// matches it against the catalogs (LANG here; the user's languages on macOS/Windows).
func TestSystemLanguageThroughFyne(t *testing.T) {
	for _, k := range []string{"LANGUAGE", "LC_ALL", "LC_MESSAGES"} {
		t.Setenv(k, "")
	}
	registerCatalogs()
	for _, tt := range []struct{ env, want string }{
		{"ru_RU.UTF-8", "ru"}, {"de_AT.UTF-8", "de"}, {"fr_CA.UTF-8", "fr"}, {"es_MX.UTF-8", "es"},
		{"pt_BR.UTF-8", "pt-BR"}, {"pt_PT.UTF-8", "pt-BR"}, {"en_GB.UTF-8", "en"}, {"pl_PL.UTF-8", "en"},
	} {
		t.Setenv("LANG", tt.env)
		// Fyne reads the system's languages whenever translations are added.
		if err := lang.AddTranslationsForLocale([]byte(`{}`), "en"); err != nil {
			t.Fatal(err)
		}
		if got := systemLanguage(); got != tt.want {
			t.Errorf("LANG=%s: %s, want %s", tt.env, got, tt.want)
		}
	}
	t.Setenv("LANG", "de_DE.UTF-8")
	_ = lang.AddTranslationsForLocale([]byte(`{}`), "en")
	a := test.NewTempApp(t)
	u := New(a, Config{Background: func(f func()) { f() }})
	t.Cleanup(u.Window().Close)
	if u.tr.Code() != "de" {
		t.Errorf("LANG=de_DE.UTF-8: the window speaks %s", u.tr.Code())
	}
	t.Setenv("LANG", "en_US.UTF-8")
	_ = lang.AddTranslationsForLocale([]byte(`{}`), "en")
}

// fits fails for every button or unwrapped label under o that got less width than its
// text needs (cut off), and reports the widest such shortfall.
func fits(t *testing.T, code, where string, o fyne.CanvasObject) {
	t.Helper()
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if !o.Visible() {
			return
		}
		switch w := o.(type) {
		case *widget.Button:
			if w.Text != "" && w.Size().Width+0.5 < w.MinSize().Width {
				t.Errorf("%s %s: button %q is %.0f wide, needs %.0f", code, where, w.Text, w.Size().Width, w.MinSize().Width)
			}
			return
		case *widget.Label:
			if w.Wrapping == fyne.TextWrapOff && w.Text != "" && w.Size().Width+0.5 < w.MinSize().Width {
				t.Errorf("%s %s: label %q is %.0f wide, needs %.0f", code, where, w.Text, w.Size().Width, w.MinSize().Width)
			}
			return
		case *widget.RichText:
			// Text that truncates itself (a select's choice) must still have room for all of it.
			if w.Truncation != fyne.TextTruncateOff && w.String() != "" {
				need := fyne.MeasureText(w.String(), theme.TextSize(), fyne.TextStyle{}).Width + 2*theme.InnerPadding()
				if w.Size().Width+0.5 < need {
					t.Errorf("%s %s: %q is cut to %.0f px, needs %.0f", code, where, w.String(), w.Size().Width, need)
				}
			}
			return
		case *fyne.Container:
			for _, c := range w.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(w).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
}

// Every screen fits the default window (980×700) in every language: nothing is wider
// than the window, and no button or one-line label is narrower than its text. The
// matrix shows its longest cell word in every cell.
func TestLayoutFitsEveryLanguage(t *testing.T) {
	size := fyne.NewSize(980, 700)
	for _, l := range i18n.Languages {
		t.Run(l.Code, func(t *testing.T) {
			u, _ := newTestUIIn(t, l.Code)
			check := func(where string) {
				t.Helper()
				// A different size first: the test canvas lays out only when its size changes.
				u.win.Resize(size.AddWidthHeight(-40, 0))
				u.win.Resize(size)
				if min := u.win.Content().MinSize(); min.Width > size.Width {
					t.Errorf("%s %s needs %.0f px, the window has %.0f", l.Code, where, min.Width, size.Width)
				}
				fits(t, l.Code, where, u.win.Content())
			}
			u.acct.message.SetText(u.t("checking.cancelled"))
			u.acct.message.Show()
			for _, o := range find[*widget.Accordion](u.win.Content()) {
				o.OpenAll()
			}
			check("account screen")

			s := u.showChecking(request{address: "someone.with.a.long.name@example-provider.com"})
			longest := ""
			for _, st := range []detect.Status{detect.StatusOK, detect.StatusAuthFailed, detect.StatusAuthUnavailable, detect.StatusPlaintextRefused,
				detect.StatusCertInvalid, detect.StatusTLSFailed, detect.StatusTimeout, detect.StatusRefused, detect.StatusUnreachable,
				detect.StatusProtocolError, detect.StatusDNSFailed, detect.StatusSkipped, detect.StatusUntrustedHost} {
				for _, r := range []detect.ProbeResult{{Status: st}, {Status: st, Verified: true}, {Status: st, Relay: detect.RelayAccepted}} {
					if w, _, _ := statusLook(u.tr, r); len([]rune(w)) > len([]rune(longest)) {
						longest = w
					}
				}
			}
			for _, c := range s.cells {
				if !c.button.Disabled() {
					c.button.SetText(longest)
				}
			}
			s.apply(detect.Event{Stage: detect.StageSendTest})
			s.apply(detect.Event{Source: &detect.SourceResult{Source: detect.SourceISPDB, Found: true, Servers: make([]detect.Candidate, 12), ElapsedMS: 12345}})
			yes := true
			s.apply(detect.Event{Network: &detect.Network{Port25: detect.Port25Intercepted, CaptivePortal: &yes, Outbound: map[string]detect.PortState{"587": detect.PortFiltered, "465": detect.PortFiltered}}})
			check(fmt.Sprintf("checking screen (cells %q)", longest))

			fill(u, user, pass)
			u.showAccount("")
			fill(u, user, pass)
			test.Tap(u.acct.check)
			check("result screen")
			u.showAccount("")
			fill(u, user, "wrong")
			test.Tap(u.acct.check)
			check("failure screen")

			// The batch screen with a checked list and its options open, a row's detail,
			// the export and the branding dialogs.
			bs := u.openBatch()
			bs.loadText(strings.NewReader(batchList))
			test.Tap(bs.checkBtn)
			for _, o := range find[*widget.Accordion](u.win.Content()) {
				o.OpenAll()
			}
			check("batch screen")
			for _, d := range []struct {
				where string
				open  func()
			}{{"batch row", func() { bs.showRow(0) }}, {"batch row needing attention", func() { bs.showRow(1) }},
				{"batch export", bs.chooseExport}, {"batch branding", bs.editBranding}} {
				d.open()
				top := u.win.Canvas().Overlays().Top()
				top.Resize(size.AddWidthHeight(-40, 0))
				top.Resize(size)
				if min := top.MinSize(); min.Width > size.Width {
					t.Errorf("%s %s needs %.0f px, the window has %.0f", l.Code, d.where, min.Width, size.Width)
				}
				// A Fyne dialog is its icon, background, content, buttons and title; the
				// title label is never sized (Fyne draws it whole), its width is in MinSize.
				c := top.(*widget.PopUp).Content.(*fyne.Container)
				for _, o := range c.Objects[2:4] {
					fits(t, l.Code, d.where, o)
				}
				top.Hide()
			}
		})
	}
}

// The window is drawn with the bundled fonts: every character of every catalog must be
// in Noto Sans (regular and bold) or Fyne's symbol font, so Cyrillic and accents never
// show as boxes.
func TestFontsHaveEveryCharacter(t *testing.T) {
	t.Parallel()
	missing := map[rune][]string{}
	faces := loadFaces(t)
	for _, l := range i18n.Languages {
		data, err := i18n.Files.ReadFile(i18n.Dir + "/" + l.Code + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		var all strings.Builder
		for _, v := range m {
			fmt.Fprint(&all, v)
		}
		for _, r := range all.String() {
			if r < 0x20 || slices.Contains(missing[r], l.Code) {
				continue
			}
			if !faces.has(r) {
				missing[r] = append(missing[r], l.Code)
			}
		}
	}
	for r, codes := range missing {
		t.Errorf("%q (U+%04X) in %v is in none of the window's fonts", r, r, codes)
	}
	if !faces.has('Ж') || !faces.has('ç') || !faces.has('ß') || !faces.has('ã') || !faces.has('→') {
		t.Error("the font check itself is broken")
	}
}

// TestMain pins the tests' language whatever the machine's locale, so Fyne's own
// lookups stay quiet; each test chooses the window's language itself.
func TestMain(m *testing.M) {
	os.Setenv("LANG", "en_US.UTF-8")
	os.Exit(m.Run())
}
