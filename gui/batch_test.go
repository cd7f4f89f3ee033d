package gui

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/mailsetup/mailsetup/batch"
	"github.com/mailsetup/mailsetup/batch/batchtest"
	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/i18n"
)

// newBatchUI builds the window against an Office; background work runs synchronously
// unless async, so a tap runs the whole batch.
func newBatchUI(t *testing.T, o *batchtest.Office, m *batchtest.Meter, async bool) (*UI, *batchScreen) {
	t.Helper()
	a := test.NewTempApp(t)
	bg := func(f func()) { f() }
	if async {
		bg = func(f func()) { go f() }
	}
	var d detect.Dialer = o.Net
	if m != nil {
		d = m
	}
	u := New(a, Config{
		Base:       detect.Options{Dialer: d, Resolver: o.Net, ExtraRoots: []*x509.Certificate{o.CA.Cert}, SkipNetwork: true, Timeout: 3 * time.Second},
		Background: bg,
	})
	t.Cleanup(u.Window().Close)
	return u, u.openBatch()
}

// cellText renders one table cell and returns its text.
func cellText(s *batchScreen, row, col int) string {
	l := widget.NewLabel("")
	s.fillCell(widget.TableCellID{Row: row, Col: col}, container.NewBorder(nil, nil, widget.NewIcon(nil), nil, l))
	return l.Text
}

func rowOf(t *testing.T, s *batchScreen, address string) int {
	t.Helper()
	for i, c := range s.clients {
		if c.Address == address {
			return i
		}
	}
	t.Fatalf("no row %s", address)
	return -1
}

// TestBatchFlow loads a list, runs it, opens a row, fixes a wrong password from the
// row's detail and exports everything: the whole consultant's flow in the window.
func TestBatchFlow(t *testing.T) {
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: []string{"d01.test", "d02.test"}, Users: 4})
	meter := batchtest.NewMeter(office.Net, nil)
	u, s := newBatchUI(t, office, meter, false)
	list := strings.Replace(office.CSV(), batchtest.Password("user03@d02.test"), "wrong-pass", 1)
	list = strings.Replace(list, "user04@d02.test,"+batchtest.Password("user04@d02.test"), "user04@d02.test,", 1)
	list += "not-an-address,pw,Nobody\n"
	if !strings.Contains(allText(u), u.t("batch.privacy")) {
		t.Error("the screen does not say where the passwords live")
	}
	s.loadText(strings.NewReader(list))
	if len(s.clients) != 9 || s.checkBtn.Disabled() || !s.recheck.Disabled() || !s.exportBtn.Disabled() {
		t.Fatalf("after loading: %d rows, check disabled %v, recheck disabled %v, export disabled %v",
			len(s.clients), s.checkBtn.Disabled(), s.recheck.Disabled(), s.exportBtn.Disabled())
	}
	if got := cellText(s, 8, 3); got != "needs attention" || !strings.Contains(cellText(s, 8, 4), "not an email address") {
		t.Errorf("the bad line shows %q %q", got, cellText(s, 8, 4))
	}
	if cellText(s, 0, 2) != "given" || cellText(s, rowOf(t, s, "user04@d02.test"), 2) != "none" {
		t.Error("the password column does not say whether a password was given")
	}

	test.Tap(s.checkBtn)
	want := map[string]string{"user01@d01.test": "verified", "user04@d01.test": "verified", "user03@d02.test": "needs attention",
		"user04@d02.test": "found, not tested", "user02@d02.test": "verified"}
	for addr, w := range want {
		if got := cellText(s, rowOf(t, s, addr), 3); got != w {
			t.Errorf("%s: %s, want %s", addr, got, w)
		}
	}
	if v, _ := s.progress.Get(); v != 1 {
		t.Errorf("progress %v after the run", v)
	}
	if st, _ := s.status.Get(); !strings.Contains(st, "8 of 8 done · 6 verified · 1 found without a password · 1 needs attention · 1 line not checked") {
		t.Errorf("status %q", st)
	}
	if !strings.Contains(cellText(s, 0, 4), "IMAP imap.d01.test:993 SSL/TLS") {
		t.Errorf("row 1 details %q", cellText(s, 0, 4))
	}
	saysTheEngine(t, s)

	// A row's detail: the same card and matrix as a single check.
	s.table.OnSelected(widget.TableCellID{Row: 1, Col: 0})
	if s.detail == nil {
		t.Fatal("tapping a row opened nothing")
	}
	detail := textsOf(s.detailBox)
	for _, w := range []string{"Verified: we logged in with these settings.", "imap.d01.test", "works", "IMAP 993", "only this mailbox's own logins", "Settings sheet"} {
		if !strings.Contains(detail, w) {
			t.Errorf("row detail lacks %q:\n%s", w, detail)
		}
	}
	s.detail.Hide()

	// Fix the wrong password in its row: one login each way, no whole check.
	wrong := rowOf(t, s, "user03@d02.test")
	s.showRow(wrong)
	pw, again := findPasswordAndButton(t, s.detailBox, "Check this row again")
	test.Type(pw, batchtest.Password("user03@d02.test"))
	before := meter.Total()
	test.Tap(again)
	if got := cellText(s, wrong, 3); got != "verified" {
		t.Errorf("after fixing the password: %s %q", got, cellText(s, wrong, 4))
	}
	if n := meter.Total() - before; n != 2 {
		t.Errorf("checking one row again opened %d connections, want 2", n)
	}

	// Export all: every row with settings gets its files; nothing holds a password.
	dir := t.TempDir()
	u.app.Preferences().SetString(prefBrandName, "Ana Consultant")
	u.app.Preferences().SetString(prefBrandOrg, "Acme IT")
	if err := s.exportAllTo(dir, []string{"apple", "sheet"}); err != nil {
		t.Fatal(err)
	}
	if s.exported.Clients != 8 {
		t.Errorf("%d clients exported, want 8 (7 verified, 1 without password)", s.exported.Clients)
	}
	summary, err := os.ReadFile(filepath.Join(dir, batch.SummaryHTML))
	if err != nil || !bytes.Contains(summary, []byte("Prepared by Ana Consultant, Acme IT.")) {
		t.Errorf("summary: %v\n%s", err, summary)
	}
	noPasswordAnywhere(t, dir, office, u)

	// Leaving the screen forgets the list and its passwords.
	kept := s.clients
	s.leave()
	if u.screen != "account" || u.batch != nil || kept[0].Password != "" {
		t.Errorf("after Back: screen %s, batch kept %v, password %q", u.screen, u.batch != nil, kept[0].Password)
	}
}

// findPasswordAndButton finds the password entry and the button with text under o.
func findPasswordAndButton(t *testing.T, o fyne.CanvasObject, text string) (*widget.Entry, *widget.Button) {
	t.Helper()
	var pw *widget.Entry
	var btn *widget.Button
	for _, e := range find[*widget.Entry](o) {
		if e.Password {
			pw = e
		}
	}
	for _, b := range find[*widget.Button](o) {
		if b.Text == text {
			btn = b
		}
	}
	if pw == nil || btn == nil {
		t.Fatalf("no password entry (%v) or %q button (%v)", pw != nil, text, btn != nil)
	}
	return pw, btn
}

// noPasswordAnywhere fails when a file under dir or a preference holds a password.
func noPasswordAnywhere(t *testing.T, dir string, office *batchtest.Office, u *UI) {
	t.Helper()
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		for _, m := range office.Mailboxes {
			if bytes.Contains(b, []byte(m.Password)) {
				t.Errorf("%s holds %s's password", p, m.Address)
			}
		}
		return nil
	})
	prefs := u.app.Preferences()
	var stored []string
	for _, k := range []string{prefRecent, prefBatchFormats} {
		stored = append(stored, prefs.StringList(k)...)
	}
	for _, k := range []string{prefBrandName, prefBrandOrg, prefBrandContact, prefBrandLogo, prefBrandCert} {
		stored = append(stored, prefs.String(k))
	}
	for _, m := range office.Mailboxes {
		if strings.Contains(strings.Join(stored, "\n"), m.Password) {
			t.Errorf("a preference holds %s's password", m.Address)
		}
	}
}

// TestBatchCancel: Cancel ends a running list at once; its rows say cancelled and can
// be checked again.
func TestBatchCancel(t *testing.T) {
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: []string{"d01.test"}, Users: 6})
	office.Net.Drop("*", 993) // every IMAP connection hangs until cancelled
	_, s := newBatchUI(t, office, nil, true)
	s.loadText(strings.NewReader(office.CSV()))
	// The engine's progress reaches the widgets through u.do from its goroutines; the
	// test's own taps and reads go through it too, as the real driver's event loop would.
	u := s.u
	u.do(func() { test.Tap(s.checkBtn) })
	u.do(func() {
		if !s.running || s.cancelBtn.Disabled() || !s.checkBtn.Disabled() {
			t.Errorf("while running: running %v, cancel disabled %v, check disabled %v", s.running, s.cancelBtn.Disabled(), s.checkBtn.Disabled())
		}
	})
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	u.do(func() { test.Tap(s.cancelBtn) })
	select {
	case <-s.done:
	case <-time.After(3 * time.Second):
		t.Fatal("the list still runs 3 s after Cancel")
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("cancel took %s", took)
	}
	for i := range s.clients {
		if got := cellText(s, i, 3); got != "cancelled" {
			t.Errorf("row %d: %s after Cancel", i, got)
		}
	}
	saysTheEngine(t, s)
	if s.running || s.recheck.Disabled() || !s.cancelBtn.Disabled() || len(s.failed()) != 6 {
		t.Errorf("after Cancel: running %v, recheck disabled %v, cancel disabled %v, %d to re-check", s.running, s.recheck.Disabled(), s.cancelBtn.Disabled(), len(s.failed()))
	}
}

// TestBatchRecheckFailed: "Re-check failed rows" checks only the rows that need
// attention, each on its domain's shared check: their logins only.
func TestBatchRecheckFailed(t *testing.T) {
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: []string{"d01.test", "d02.test"}, Users: 3})
	meter := batchtest.NewMeter(office.Net, nil)
	_, s := newBatchUI(t, office, meter, false)
	list := office.CSV()
	for _, a := range []string{"user02@d01.test", "user03@d02.test"} {
		list = strings.Replace(list, batchtest.Password(a), "typo", 1)
	}
	s.loadText(strings.NewReader(list))
	test.Tap(s.checkBtn)
	if len(s.failed()) != 2 || s.recheck.Disabled() {
		t.Fatalf("%d failed rows, recheck disabled %v", len(s.failed()), s.recheck.Disabled())
	}
	kept := s.results[0].Report
	for _, a := range []string{"user02@d01.test", "user03@d02.test"} {
		s.clients[rowOf(t, s, a)].Password = batchtest.Password(a)
	}
	before := meter.Total()
	test.Tap(s.recheck)
	for i := range s.clients {
		if got := cellText(s, i, 3); got != "verified" {
			t.Errorf("%s: %s %q", s.clients[i].Address, got, cellText(s, i, 4))
		}
	}
	if n := meter.Total() - before; n != 4 {
		t.Errorf("re-checking two rows opened %d connections, want 4", n)
	}
	if s.results[0].Report != kept {
		t.Error("a verified row was checked again")
	}
	if !s.recheck.Disabled() {
		t.Error("Re-check stays enabled with nothing failed")
	}
}

// TestBatchPaste: a list copied from a spreadsheet (tab separated) loads from the
// clipboard; an empty clipboard says what to do.
func TestBatchPaste(t *testing.T) {
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: []string{"d01.test"}, Users: 2})
	u, s := newBatchUI(t, office, nil, false)
	u.app.Clipboard().SetContent("")
	s.pasteList()
	if !s.message.Visible() || !strings.Contains(s.message.Text, "clipboard is empty") {
		t.Errorf("empty clipboard: message %q", s.message.Text)
	}
	u.app.Clipboard().SetContent("user01@d01.test\t" + batchtest.Password("user01@d01.test") + "\tUser One\nuser02@d01.test\t\tUser Two\n")
	s.pasteList()
	if len(s.clients) != 2 || s.clients[0].Name != "User One" || s.clients[1].Password != "" || s.message.Visible() {
		t.Errorf("pasted: %+v", s.clients)
	}
}

// TestBatchTrustForList: servers named only by another domain's DNS get no login until
// the consultant confirms them for the list; then the rows are checked again.
func TestBatchTrustForList(t *testing.T) {
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: []string{"d01.test"}, Users: 2,
		LocalLogin: []string{"user01@d01.test", "user02@d01.test"}})
	office.Net.SRV("submissions", "shop.test", "smtp.d01.test", 465)
	office.Net.SRV("imaps", "shop.test", "imap.d01.test", 993)
	_, s := newBatchUI(t, office, nil, false)
	s.loadText(strings.NewReader("user01@shop.test," + batchtest.Password("user01@d01.test") + "\nuser02@shop.test," + batchtest.Password("user02@d01.test") + "\n"))
	test.Tap(s.checkBtn)
	if got := cellText(s, 0, 4); !strings.Contains(got, "no trusted source names") {
		t.Fatalf("unconfirmed: %q", got)
	}
	saysTheEngine(t, s)
	s.showRow(0)
	if d := textsOf(s.detailBox); !strings.Contains(d, "for this list…") {
		t.Errorf("the row does not offer to trust the servers:\n%s", d)
	}
	s.trustServers([]string{"smtp.d01.test", "imap.d01.test"})
	for i := range s.clients {
		if got := cellText(s, i, 3); got != "verified" {
			t.Errorf("row %d after confirming: %s %q", i, got, cellText(s, i, 4))
		}
	}
}

// TestBatchSignedExport: the consultant's certificate signs every Apple profile of an
// export; its place is remembered, its password is not.
func TestBatchSignedExport(t *testing.T) {
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: []string{"d01.test"}, Users: 2})
	u, s := newBatchUI(t, office, nil, false)
	s.loadText(strings.NewReader(office.CSV()))
	test.Tap(s.checkBtn)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Ana Consultant"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	p12, err := pkcs12.Modern.Encode(key, cert, nil, "cert-pass")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.useCertificate(p12, "nope", "/home/ana/ana.p12"); err == nil {
		t.Error("a wrong certificate password was taken")
	}
	if err := s.useCertificate(p12, "cert-pass", "/home/ana/ana.p12"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := s.exportAllTo(dir, []string{"apple"}); err != nil {
		t.Fatal(err)
	}
	prof, _ := os.ReadFile(filepath.Join(dir, "user01@d01.test", "apple.mobileconfig"))
	if len(prof) == 0 || prof[0] != 0x30 {
		t.Error("the Apple profile is not signed")
	}
	if got := u.app.Preferences().String(prefBrandCert); got != "/home/ana/ana.p12" || strings.Contains(s.signerWords(), "not signed") {
		t.Errorf("certificate remembered as %q; %s", got, s.signerWords())
	}
}

// TestBatchAdvancedCA: a list whose servers' certificates come from a company CA needs
// attention until that CA is trusted for the list (Advanced).
func TestBatchAdvancedCA(t *testing.T) {
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: []string{"d01.test"}, Users: 2})
	a := test.NewTempApp(t)
	u := New(a, Config{Base: detect.Options{Dialer: office.Net, Resolver: office.Net, SkipNetwork: true, Timeout: 3 * time.Second},
		Background: func(f func()) { f() }})
	t.Cleanup(u.Window().Close)
	s := u.openBatch()
	s.loadText(strings.NewReader(office.CSV()))
	test.Tap(s.checkBtn)
	if got := cellText(s, 0, 3); got != "needs attention" || !strings.Contains(strings.ToLower(cellText(s, 0, 4)), "certificate") {
		t.Fatalf("unknown CA: %s %q", got, cellText(s, 0, 4))
	}
	saysTheEngine(t, s)
	s.roots, s.engine = []*x509.Certificate{office.CA.Cert}, nil // what "Trust a CA file…" sets
	test.Tap(s.recheck)
	for i := range s.clients {
		if got := cellText(s, i, 3); got != "verified" {
			t.Errorf("row %d with the CA: %s %q", i, got, cellText(s, i, 4))
		}
	}
}

// saysTheEngine fails unless the window's English says every row word for word as
// package batch does: each note rendered from the English catalog is the row's line.
func saysTheEngine(t *testing.T, s *batchScreen) {
	t.Helper()
	en := i18n.New(i18n.English)
	for i, c := range s.clients {
		r := s.results[i]
		if got := batch.ReasonWords(en, c, r); got != r.Reason {
			t.Errorf("%s: the window says %q, batch %q", c.Address, got, r.Reason)
		}
		if got := batch.DiffersWords(en, r); got != r.Differs {
			t.Errorf("%s: the window says it differs %q, batch %q", c.Address, got, r.Differs)
		}
	}
}

// TestBatchNotesSayTheEnglish: every line package batch gives a row while it runs and
// when it is done, rendered from its note by the English catalog, is batch's English
// line: whole checks and shared ones, a wrong password, no password, a mailbox without
// IMAP, one with another login name, and the rows of the list that cannot be checked.
func TestBatchNotesSayTheEnglish(t *testing.T) {
	office := batchtest.StartOffice(t, batchtest.OfficeConfig{Domains: []string{"d01.test", "d02.test"}, Users: 3,
		NoIMAP: []string{"user02@d02.test"}, LocalLogin: []string{"user03@d02.test"}})
	list := strings.Replace(office.CSV(), batchtest.Password("user02@d01.test"), "wrong", 1)
	list = strings.Replace(list, "user03@d01.test,"+batchtest.Password("user03@d01.test"), "user03@d01.test,", 1)
	list += "not-an-address,x,Nobody\nuser01@d02.test,again,Twice\nuser09@d02.test,pw,Name,extra\n"
	clients, err := batch.ParseList(strings.NewReader(list))
	if err != nil {
		t.Fatal(err)
	}
	en := i18n.New(i18n.English)
	var mu sync.Mutex
	var seen []batch.Result
	b := batch.New(batch.Options{Engine: detect.Options{Dialer: office.Net, Resolver: office.Net, ExtraRoots: []*x509.Certificate{office.CA.Cert},
		SkipNetwork: true, Timeout: 3 * time.Second}, Progress: func(r batch.Result) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r)
	}})
	results := b.Check(context.Background(), clients)
	keys := map[batch.NoteKey]bool{}
	for _, r := range append(seen, results...) {
		keys[r.Note.Key] = true
		if got := batch.NoteWords(en, r.Note, r.Report, ""); got != r.Reason {
			t.Errorf("%s %s: the window says %q, batch %q", r.Address, r.State, got, r.Reason)
		}
		if got := batch.DiffersWords(en, r); got != r.Differs {
			t.Errorf("%s: the window says it differs %q, batch %q", r.Address, got, r.Differs)
		}
		for _, n := range r.DiffersNotes {
			keys[n.Key] = true
		}
	}
	for _, k := range []batch.NoteKey{batch.NoteWaiting, batch.NoteDiscovering, batch.NoteProbing, batch.NoteVerifying, batch.NoteTaking,
		batch.NoteSettings, batch.NoteNoPassword, batch.NotePasswordRefused, batch.NoteRefusedHere, batch.NoteUses, batch.NoteLogsInAs,
		batch.NoteNotAddress, batch.NoteListedTwice, batch.NoteColumns} {
		if !keys[k] {
			t.Errorf("no row said %s (the test no longer covers it)", k)
		}
	}
}
