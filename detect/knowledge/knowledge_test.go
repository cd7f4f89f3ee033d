package knowledge_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup"
	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/knowledge"
	"github.com/mailsetup/mailsetup/detect/knowledge/internal/generate"
)

func load(t testing.TB) *detect.ProviderDB {
	t.Helper()
	db, err := knowledge.Load()
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestEveryISPDBDomainRecognised checks that every domain of the snapshot resolves
// offline, and that what it resolves to agrees with the ISPDB or carries an override.
func TestEveryISPDBDomainRecognised(t *testing.T) {
	t.Parallel()
	db := load(t)
	ispdb, err := knowledge.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, p := range ispdb.Providers {
		for _, d := range p.Domains {
			if db.ByDomain(d) == nil {
				t.Errorf("ISPDB domain %s is not recognised", d)
				continue
			}
			n++
		}
	}
	if n < 960 {
		t.Errorf("%d ISPDB domains recognised, want at least 960", n)
	}
	t.Logf("%d ISPDB domains recognised offline", n)
	for _, d := range knowledge.Disagreements(db, ispdb) {
		if d.Override(db.ByDomain(d.Domains[0])) == nil {
			t.Errorf("merged knowledge disagrees with the ISPDB without an override: %s", d)
		}
	}
}

// TestCuratedProvidersStay checks that every curated provider keeps its domains, MX
// suffixes and servers after the merge, including those the ISPDB lacks.
func TestCuratedProvidersStay(t *testing.T) {
	t.Parallel()
	curated, err := detect.LoadProviders(mailsetup.ProvidersYAML)
	if err != nil {
		t.Fatal(err)
	}
	db := load(t)
	for _, c := range curated.Providers {
		i := slices.IndexFunc(db.Providers, func(p detect.Provider) bool { return p.ID == c.ID })
		if i < 0 {
			t.Errorf("curated provider %s is missing after the merge", c.ID)
			continue
		}
		m := db.Providers[i]
		if !m.Provenance.Curated {
			t.Errorf("%s: provenance %v, want curated", c.ID, m.Provenance)
		}
		for _, d := range c.Domains {
			if got := db.ByDomain(d); got == nil || got.ID != c.ID {
				t.Errorf("ByDomain(%s) = %v, want %s", d, name(got), c.ID)
			}
		}
		for _, s := range c.Servers {
			if !slices.ContainsFunc(m.Servers, func(ms detect.ProviderServer) bool {
				return ms.Protocol == s.Protocol && ms.Host == s.Host && ms.Port == s.Port && ms.Security == s.Security
			}) {
				t.Errorf("%s: server %+v lost in the merge", c.ID, s)
			}
		}
		if !slices.Equal(m.MXSuffixes, c.MXSuffixes) || m.Notes.MaxMessageMB != c.Notes.MaxMessageMB {
			t.Errorf("%s: MX suffixes or notes changed in the merge", c.ID)
		}
	}
	if len(db.ReferenceHosts) != len(curated.ReferenceHosts) {
		t.Errorf("%d reference hosts, want %d", len(db.ReferenceHosts), len(curated.ReferenceHosts))
	}
}

// TestWellKnownDomainsOffline is the table of domains a reviewer would try first: each
// resolves with no network to the servers its provider documents.
func TestWellKnownDomainsOffline(t *testing.T) {
	t.Parallel()
	db := load(t)
	type srv struct {
		host string
		port int
		sec  detect.Security
	}
	tests := []struct {
		domain, id string
		imap, smtp srv
		// user is the login name for local part "jane.doe".
		user    string
		sources []string
	}{
		{"gmail.com", "gmail", srv{"imap.gmail.com", 993, "tls"}, srv{"smtp.gmail.com", 465, "tls"}, "jane.doe@gmail.com", []string{"curated", "ispdb"}},
		{"googlemail.com", "gmail", srv{"imap.gmail.com", 993, "tls"}, srv{"smtp.gmail.com", 465, "tls"}, "jane.doe@googlemail.com", []string{"curated", "ispdb"}},
		{"outlook.com", "outlook", srv{"outlook.office365.com", 993, "tls"}, srv{"smtp-mail.outlook.com", 587, "starttls"}, "jane.doe@outlook.com", []string{"curated", "ispdb"}},
		{"hotmail.com", "outlook", srv{"outlook.office365.com", 993, "tls"}, srv{"smtp-mail.outlook.com", 587, "starttls"}, "jane.doe@hotmail.com", []string{"curated", "ispdb"}},
		{"hotmail.co.jp", "outlook", srv{"outlook.office365.com", 993, "tls"}, srv{"smtp-mail.outlook.com", 587, "starttls"}, "jane.doe@hotmail.co.jp", []string{"curated", "ispdb"}},
		{"yahoo.com", "yahoo", srv{"imap.mail.yahoo.com", 993, "tls"}, srv{"smtp.mail.yahoo.com", 465, "tls"}, "jane.doe@yahoo.com", []string{"curated", "ispdb"}},
		{"cox.net", "yahoo", srv{"imap.mail.yahoo.com", 993, "tls"}, srv{"smtp.mail.yahoo.com", 465, "tls"}, "jane.doe@cox.net", []string{"curated", "ispdb"}},
		{"aol.com", "aol", srv{"imap.aol.com", 993, "tls"}, srv{"smtp.aol.com", 465, "tls"}, "jane.doe@aol.com", []string{"curated", "ispdb"}},
		{"gmx.de", "gmx", srv{"imap.gmx.net", 993, "tls"}, srv{"mail.gmx.net", 465, "tls"}, "jane.doe@gmx.de", []string{"curated", "ispdb"}},
		{"gmx.com", "gmx-com", srv{"imap.gmx.com", 993, "tls"}, srv{"mail.gmx.com", 465, "tls"}, "jane.doe@gmx.com", []string{"curated", "ispdb"}},
		{"gmx.ie", "gmx-com", srv{"imap.gmx.com", 993, "tls"}, srv{"mail.gmx.com", 465, "tls"}, "jane.doe@gmx.ie", []string{"curated", "ispdb"}},
		{"web.de", "webde", srv{"imap.web.de", 993, "tls"}, srv{"smtp.web.de", 465, "tls"}, "jane.doe@web.de", []string{"curated", "ispdb"}},
		{"t-online.de", "tonline", srv{"secureimap.t-online.de", 993, "tls"}, srv{"securesmtp.t-online.de", 465, "tls"}, "jane.doe@t-online.de", []string{"curated", "ispdb"}},
		{"yandex.ru", "yandex", srv{"imap.yandex.ru", 993, "tls"}, srv{"smtp.yandex.ru", 465, "tls"}, "jane.doe", []string{"curated", "ispdb"}},
		{"mail.ru", "mailru", srv{"imap.mail.ru", 993, "tls"}, srv{"smtp.mail.ru", 465, "tls"}, "jane.doe@mail.ru", []string{"curated", "ispdb"}},
		{"orange.fr", "orange", srv{"imap.orange.fr", 993, "tls"}, srv{"smtp.orange.fr", 465, "tls"}, "jane.doe@orange.fr", []string{"curated", "ispdb"}},
		{"free.fr", "free", srv{"imap.free.fr", 993, "tls"}, srv{"smtp.free.fr", 465, "tls"}, "jane.doe", []string{"curated", "ispdb"}},
		{"libero.it", "libero", srv{"imapmail.libero.it", 993, "tls"}, srv{"smtp.libero.it", 465, "tls"}, "jane.doe@libero.it", []string{"curated", "ispdb"}},
		{"comcast.net", "comcast", srv{"imap.comcast.net", 993, "tls"}, srv{"smtp.comcast.net", 587, "starttls"}, "jane.doe@comcast.net", []string{"curated", "ispdb"}},
		{"btinternet.com", "btinternet", srv{"mail.btinternet.com", 993, "tls"}, srv{"mail.btinternet.com", 465, "tls"}, "jane.doe@btinternet.com", []string{"curated", "ispdb"}},
		{"charter.net", "charter", srv{"mobile.charter.net", 993, "tls"}, srv{"mobile.charter.net", 587, "tls"}, "jane.doe@charter.net", []string{"curated", "ispdb"}},
		{"rambler.ru", "rambler", srv{"imap.rambler.ru", 993, "tls"}, srv{"smtp.rambler.ru", 465, "tls"}, "jane.doe@rambler.ru", []string{"curated", "ispdb"}},
		// ISPDB only: an ISP, a university on Microsoft 365 with its own SMTP relay,
		// a university on Google, one whose host names carry the domain.
		{"bluewin.ch", "bluewin.ch", srv{"imaps.bluewin.ch", 993, "tls"}, srv{"smtpauths.bluewin.ch", 465, "tls"}, "jane.doe@bluewin.ch", []string{"ispdb"}},
		{"arcor.de", "vodafonemail.de", srv{"imap.vodafonemail.de", 993, "tls"}, srv{"smtp.vodafonemail.de", 465, "tls"}, "jane.doe@arcor.de", []string{"ispdb"}},
		{"alice.it", "alice.it", srv{"in.alice.it", 143, "starttls"}, srv{"out.alice.it", 587, "starttls"}, "jane.doe@alice.it", []string{"ispdb"}},
		{"mit.edu", "mit.edu", srv{"outlook.office365.com", 993, "tls"}, srv{"outgoing.mit.edu", 465, "tls"}, "jane.doe@mit.edu", []string{"ispdb"}},
		{"umich.edu", "umich.edu", srv{"imap.gmail.com", 993, "tls"}, srv{"smtp.gmail.com", 465, "tls"}, "jane.doe@umich.edu", []string{"ispdb"}},
		{"inbox.eu", "inbox.lv/inbox.eu", srv{"mail.inbox.eu", 993, "tls"}, srv{"mail.inbox.eu", 465, "tls"}, "jane.doe@inbox.eu", []string{"ispdb"}},
		// Curated only: not in the ISPDB.
		{"proton.me", "proton-bridge", srv{"127.0.0.1", 1143, "starttls"}, srv{"127.0.0.1", 1025, "starttls"}, "jane.doe@proton.me", []string{"curated"}},
		{"mailbox.org", "mailboxorg", srv{"imap.mailbox.org", 993, "tls"}, srv{"smtp.mailbox.org", 465, "tls"}, "jane.doe@mailbox.org", []string{"curated"}},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			t.Parallel()
			p := db.ByDomain(tt.domain)
			if p == nil {
				t.Fatalf("ByDomain(%s) = nil, want %s", tt.domain, tt.id)
			}
			if p.ID != tt.id {
				t.Errorf("ByDomain(%s) = %s, want %s", tt.domain, p.ID, tt.id)
			}
			addr := detect.Address{Local: "jane.doe", Domain: tt.domain}
			cands := p.Candidates(addr, "knowledge")
			for _, want := range []struct {
				proto detect.Protocol
				s     srv
			}{{detect.IMAP, tt.imap}, {detect.SMTP, tt.smtp}} {
				i := slices.IndexFunc(cands, func(c detect.Candidate) bool { return c.Protocol == want.proto })
				if i < 0 {
					t.Errorf("no %s candidate", want.proto)
					continue
				}
				c := cands[i]
				if got := (srv{c.Host, c.Port, c.Security}); got != want.s {
					t.Errorf("first %s candidate = %v, want %v", want.proto, got, want.s)
				}
				if want.proto == detect.IMAP && c.Username != tt.user {
					t.Errorf("IMAP user name = %q, want %q", c.Username, tt.user)
				}
			}
			if got := p.Provenance.Sources(); !slices.Equal(got, tt.sources) {
				t.Errorf("provenance %v, want %v", got, tt.sources)
			}
		})
	}
}

func TestOAuth2Knowledge(t *testing.T) {
	t.Parallel()
	db := load(t)
	tests := []struct {
		domain  string
		proto   detect.Protocol
		scopes  []string
		issuer  string
		oauthOK bool
	}{
		{"gmail.com", detect.IMAP, []string{"https://mail.google.com/"}, "https://accounts.google.com", true},
		{"outlook.com", detect.IMAP, []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"}, "https://login.microsoftonline.com/common/v2.0", true},
		{"hotmail.de", detect.SMTP, []string{"https://outlook.office.com/SMTP.Send", "offline_access"}, "https://login.microsoftonline.com/common/v2.0", true},
		{"onmicrosoft.com", detect.POP3, []string{"https://outlook.office.com/POP.AccessAsUser.All", "offline_access"}, "https://login.microsoftonline.com/common/v2.0", true},
		// From the ISPDB's own <oAuth2> elements.
		{"yahoo.com", detect.IMAP, []string{"mail-w"}, "https://login.yahoo.com", true},
		{"mail.ru", detect.IMAP, []string{"mail.imap"}, "https://o2.mail.ru", true},
		{"yandex.ru", detect.SMTP, []string{"mail:imap_full", "mail:smtp"}, "https://oauth.yandex.com", true},
		// The ISPDB names Microsoft's server for MIT without Microsoft's endpoints:
		// the block of the curated provider running that server applies.
		{"mit.edu", detect.IMAP, []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"}, "https://login.microsoftonline.com/common/v2.0", true},
		{"web.de", detect.IMAP, nil, "", false},
	}
	for _, tt := range tests {
		p := db.ByDomain(tt.domain)
		if p == nil {
			t.Errorf("%s: not recognised", tt.domain)
			continue
		}
		if p.Notes.OAuth2 != tt.oauthOK {
			t.Errorf("%s: notes.oauth2 = %v, want %v", tt.domain, p.Notes.OAuth2, tt.oauthOK)
		}
		if !tt.oauthOK {
			if p.OAuth2 != nil {
				t.Errorf("%s: unexpected oauth2 block %+v", tt.domain, p.OAuth2)
			}
			continue
		}
		if p.OAuth2 == nil {
			t.Errorf("%s: no oauth2 block", tt.domain)
			continue
		}
		if got := p.OAuth2.Scopes.For(tt.proto); !slices.Equal(got, tt.scopes) {
			t.Errorf("%s: %s scopes %v, want %v", tt.domain, tt.proto, got, tt.scopes)
		}
		if p.OAuth2.Issuer != tt.issuer {
			t.Errorf("%s: issuer %s, want %s", tt.domain, p.OAuth2.Issuer, tt.issuer)
		}
	}
	// Outlook.com's and MIT's IMAP servers take only OAuth2 according to the ISPDB;
	// MIT's entry, derived from it alone, says so per server.
	mit := db.ByDomain("mit.edu")
	for _, s := range mit.Servers {
		if got, want := s.OAuth2Only(), s.Protocol == detect.IMAP; got != want {
			t.Errorf("mit.edu %s %s: OAuth2Only = %v, want %v", s.Protocol, s.Host, got, want)
		}
	}
}

// TestLookupByMXDomain checks Thunderbird's MX lookup done offline.
func TestLookupByMXDomain(t *testing.T) {
	t.Parallel()
	db := load(t)
	tests := []struct{ mx, id, domain string }{
		{"contoso-com.mail.protection.outlook.com.", "microsoft365", "mail.protection.outlook.com"},
		{"mx00.kundenserver.de", "1und1.de", "kundenserver.de"},
		{"mx.zoho.in", "zoho.in", "zoho.in"},
		{"mx.example.invalid", "", ""},
	}
	for _, tt := range tests {
		p, d := db.ByMXDomain(tt.mx)
		if name(p) != name(byID(db, tt.id)) || d != tt.domain {
			t.Errorf("ByMXDomain(%s) = %s, %q; want %s, %q", tt.mx, name(p), d, tt.id, tt.domain)
		}
	}
}

// TestGeneratorReproducible re-runs the generator on the snapshot and compares its
// output with the committed ispdb.json byte for byte.
func TestGeneratorReproducible(t *testing.T) {
	t.Parallel()
	dir, err := generate.FindSnapshot(".")
	if errors.Is(err, generate.ErrNoSnapshot) {
		t.Skip("no ISPDB snapshot here (shared/data/ispdb or $ISPDB_DIR): the committed ispdb.json is used as is")
	}
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	st, err := generate.Run(dir, knowledge.Snapshot, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), knowledge.EmbeddedData()) {
		t.Fatalf("ispdb.json differs from what the generator makes of %s; run `make providers`", dir)
	}
	if st.Entries != 163 || st.Domains < 960 {
		t.Errorf("snapshot: %d entries, %d domains; want 163 and at least 960", st.Entries, st.Domains)
	}
}

func TestEmbeddedDataAttribution(t *testing.T) {
	t.Parallel()
	d, err := knowledge.DecodeData(knowledge.EmbeddedData())
	if err != nil {
		t.Fatal(err)
	}
	s := d.Source
	if s.Commit != knowledge.Snapshot.Commit || s.Date != knowledge.Snapshot.Date || s.License != "MPL-2.0" ||
		!strings.Contains(s.Attribution, "Mozilla Public License 2.0") || !strings.Contains(s.Repository, "thunderbird/autoconfig") {
		t.Errorf("source header = %+v", s)
	}
	if bytes.Contains(knowledge.EmbeddedData(), []byte("<clientConfig")) {
		t.Error("the data file holds XML from the ISPDB")
	}
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := knowledge.Load(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkByDomain(b *testing.B) {
	db := load(b)
	domains := []string{"gmail.com", "hotmail.co.jp", "bluewin.ch", "not-known.example"}
	for i := 0; b.Loop(); i++ {
		db.ByDomain(domains[i%len(domains)])
	}
}

func byID(db *detect.ProviderDB, id string) *detect.Provider {
	for i := range db.Providers {
		if db.Providers[i].ID == id {
			return &db.Providers[i]
		}
	}
	return nil
}

func name(p *detect.Provider) string {
	if p == nil {
		return "<nil>"
	}
	return p.ID
}
