package knowledge_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/knowledge"
	"github.com/mailsetup/mailsetup/detect/knowledge/clientconfig"
)

var snap = &detect.ISPDBSnapshot{Date: "2026-03-12", Commit: "c6ad"}

func srv(proto detect.Protocol, host string, port int, sec detect.Security, auth ...string) detect.ProviderServer {
	return detect.ProviderServer{Protocol: proto, Host: host, Port: port, Security: sec, Auth: auth}
}

func fromISPDB(p detect.Provider) detect.Provider {
	p.Provenance = detect.Provenance{ISPDB: snap, ISPDBEntries: []string{p.ID}}
	return p
}

func mergeInputs() (curated, ispdb *detect.ProviderDB) {
	oauth := &detect.ProviderOAuth2{Issuer: "https://login.a.test", AuthURL: "https://login.a.test/auth", TokenURL: "https://login.a.test/token",
		Scopes: detect.OAuth2Scopes{IMAP: []string{"imap"}}}
	curated = &detect.ProviderDB{
		Providers: []detect.Provider{
			{ID: "a", Name: "A", Domains: []string{"a.test"}, Username: "address",
				Servers: []detect.ProviderServer{srv("smtp", "smtp.a.test", 465, "tls", "PLAIN"), srv("imap", "imap.a.test", 993, "tls", "XOAUTH2", "PLAIN")},
				Notes:   detect.ProviderNotes{MaxMessageMB: 20, OAuth2: true}, OAuth2: oauth},
			{ID: "x", Name: "X", Domains: []string{"x.test"}, Username: "address",
				Servers: []detect.ProviderServer{srv("smtp", "smtp.x.test", 465, "tls"), srv("imap", "imap.x.test", 993, "tls")}},
			{ID: "y", Name: "Y", Domains: []string{"y.test"}, Username: "address",
				Servers: []detect.ProviderServer{srv("smtp", "smtp.y.test", 465, "tls"), srv("imap", "imap.y.test", 993, "tls")}},
		},
		ReferenceHosts: []detect.ReferenceHost{{Host: "smtp.a.test", Ports: []int{465}}},
	}
	ispdb = &detect.ProviderDB{ISPDB: snap, Providers: []detect.Provider{
		// The same provider as a, under more names, with POP3 that a does not list.
		fromISPDB(detect.Provider{ID: "a.test", Name: "A (ISPDB)", Domains: []string{"a.test", "a2.test"}, Username: "localpart",
			Servers: []detect.ProviderServer{srv("imap", "imap.a.test", 993, "tls", "PLAIN"), srv("pop3", "pop.a.test", 995, "tls", "USER"), srv("smtp", "smtp.a.test", 465, "tls", "PLAIN")},
			Notes:   detect.ProviderNotes{EnableInWeb: "Turn it on.", EnableURL: "https://a.test/settings"}}),
		// Claims domains of two curated providers and one of its own.
		fromISPDB(detect.Provider{ID: "xy", Name: "XY", Domains: []string{"x.test", "y.test", "z.test"}, Username: "address",
			Servers: []detect.ProviderServer{srv("imap", "imap.z.test", 993, "tls"), srv("smtp", "smtp.z.test", 465, "tls")}}),
		// Unknown to the curated file; logs in with OAuth2 on a's server.
		fromISPDB(detect.Provider{ID: "u.test", Name: "University", Domains: []string{"u.test"}, Username: "address",
			Servers: []detect.ProviderServer{srv("imap", "imap.a.test", 993, "tls", "XOAUTH2"), srv("smtp", "smtp.u.test", 587, "starttls", "PLAIN")},
			Notes:   detect.ProviderNotes{OAuth2: true}}),
	}}
	return curated, ispdb
}

func TestMergePrecedence(t *testing.T) {
	t.Parallel()
	curated, ispdb := mergeInputs()
	c0, i0 := deepCopy(t, curated), deepCopy(t, ispdb)
	db, err := knowledge.Merge(curated, ispdb)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(curated, c0) || !reflect.DeepEqual(ispdb, i0) {
		t.Error("Merge changed its inputs")
	}
	if db.ISPDB != snap || len(db.ReferenceHosts) != 1 {
		t.Errorf("snapshot %v, reference hosts %v", db.ISPDB, db.ReferenceHosts)
	}

	// Rule 1 and 2: a keeps its own servers, notes and user-name format, gains a2.test,
	// the POP3 server it lacked (with the ISPDB's user-name format), and the enable note.
	a := db.ByDomain("a2.test")
	if a == nil || a.ID != "a" {
		t.Fatalf("ByDomain(a2.test) = %v, want a", a)
	}
	if got := a.Provenance.String(); got != "curated + ISPDB snapshot 2026-03-12" {
		t.Errorf("a provenance = %q", got)
	}
	if !slices.Equal(a.Provenance.ISPDBEntries, []string{"a.test"}) {
		t.Errorf("a ISPDB entries = %v", a.Provenance.ISPDBEntries)
	}
	if a.Username != "address" || a.Notes.MaxMessageMB != 20 || a.OAuth2.Issuer != "https://login.a.test" {
		t.Errorf("curated facts of a lost: %+v", a)
	}
	pop := slices.IndexFunc(a.Servers, func(s detect.ProviderServer) bool { return s.Protocol == detect.POP3 })
	if pop < 0 || a.Servers[pop].Host != "pop.a.test" || a.Servers[pop].Username != "localpart" {
		t.Errorf("a servers = %+v, want pop.a.test with user name localpart added", a.Servers)
	}
	if got := a.LoginNameFor(a.Servers[pop], detect.Address{Local: "jo", Domain: "a.test"}); got != "jo" {
		t.Errorf("POP3 login = %q, want jo", got)
	}
	if len(a.Servers) != 3 {
		t.Errorf("a has %d servers, want 3 (the ISPDB's IMAP and SMTP do not add to ours)", len(a.Servers))
	}
	if a.Notes.EnableInWeb != "Turn it on." || a.Notes.EnableURL != "https://a.test/settings" {
		t.Errorf("enable notes = %q %q", a.Notes.EnableInWeb, a.Notes.EnableURL)
	}

	// Rule 3: xy claims two curated providers' domains; only z.test stays its own.
	for d, want := range map[string]string{"x.test": "x", "y.test": "y", "z.test": "xy"} {
		if p := db.ByDomain(d); p == nil || p.ID != want {
			t.Errorf("ByDomain(%s) = %v, want %s", d, p, want)
		}
	}
	if xy := db.ByDomain("z.test"); !slices.Equal(xy.Domains, []string{"z.test"}) || xy.Provenance.Curated {
		t.Errorf("xy = %+v", xy)
	}
	if x := db.ByDomain("x.test"); x.Provenance.ISPDB != nil {
		t.Errorf("x gained ISPDB provenance from a provider it was not merged with")
	}

	// Rule 4: u logs in with OAuth2 on a's IMAP server and takes a's OAuth2 block.
	u := db.ByDomain("u.test")
	if u == nil || u.OAuth2 == nil || u.OAuth2.Issuer != "https://login.a.test" {
		t.Errorf("u.test OAuth2 = %+v, want a's block", u)
	}
	if got := u.Provenance.Sources(); !slices.Equal(got, []string{"ispdb"}) {
		t.Errorf("u provenance %v", got)
	}
	// The first provider to name a server keeps it, curated first.
	if p := db.ByServer("imap.a.test"); p == nil || p.ID != "a" {
		t.Errorf("ByServer(imap.a.test) = %v, want a", p)
	}
}

func TestMergeRejectsInvalid(t *testing.T) {
	t.Parallel()
	curated, ispdb := mergeInputs()
	ispdb.Providers = append(ispdb.Providers, fromISPDB(detect.Provider{ID: "bad", Name: "Bad", Domains: []string{"bad.test"}, Username: "address",
		Servers: []detect.ProviderServer{srv("smtp", "smtp.bad.test", 0, "tls")}}))
	if _, err := knowledge.Merge(curated, ispdb); err == nil || !strings.Contains(err.Error(), "port 0") {
		t.Errorf("Merge = %v, want the bad port named", err)
	}
}

func TestDisagreements(t *testing.T) {
	t.Parallel()
	base := func() detect.Provider {
		return detect.Provider{ID: "ours", Name: "Ours", Domains: []string{"d.test"}, Username: "address", Servers: []detect.ProviderServer{
			srv("imap", "imap.d.test", 993, "tls"), srv("imap", "imap.d.test", 143, "starttls"),
			srv("smtp", "smtp.d.test", 465, "tls"), srv("smtp", "smtp.d.test", 587, "starttls"),
		}}
	}
	theirs := func() detect.Provider {
		p := base()
		p.ID = "d.test"
		p.Servers = []detect.ProviderServer{srv("imap", "imap.d.test", 993, "tls"), srv("imap", "imap.d.test", 143, "starttls"),
			srv("smtp", "smtp.d.test", 465, "tls"), srv("pop3", "pop.d.test", 995, "tls")}
		return p
	}
	type d struct {
		field string
		proto detect.Protocol
		ours  string
		ispdb string
	}
	tests := []struct {
		name        string
		ours, their func(*detect.Provider)
		want        []d
	}{
		{"agree (our extra port and their extra protocol are fine)", nil, nil, nil},
		{"our host unknown to the ISPDB", func(p *detect.Provider) {
			p.Servers[2].Host, p.Servers[3].Host = "mail.d.test", "mail.d.test"
		}, nil, []d{{"host", "smtp", "mail.d.test", "smtp.d.test"}}},
		{"their preferred host missing from ours", nil, func(p *detect.Provider) {
			p.Servers = append([]detect.ProviderServer{srv("imap", "imap2.d.test", 993, "tls")}, p.Servers...)
		}, []d{{"host", "imap", "imap.d.test", "imap2.d.test"}}},
		{"same port, other security", func(p *detect.Provider) { p.Servers[2].Security = "starttls" }, nil,
			[]d{{"security", "smtp", "smtp.d.test:465/starttls", "smtp.d.test:465/tls"}}},
		{"their preferred port missing", func(p *detect.Provider) { p.Servers = slices.Delete(p.Servers, 2, 3) }, nil,
			[]d{{"port", "smtp", "smtp.d.test:587/starttls", "smtp.d.test:465/tls"}}},
		{"their alternative port missing is fine", func(p *detect.Provider) { p.Servers = slices.Delete(p.Servers, 1, 2) }, nil, nil},
		{"user name", nil, func(p *detect.Provider) { p.Username = "localpart" },
			[]d{{"username", "imap", "address", "localpart"}, {"username", "smtp", "address", "localpart"}}},
		{"per-server user name agrees", func(p *detect.Provider) { p.Servers[0].Username = "localpart"; p.Servers[1].Username = "localpart" },
			func(p *detect.Provider) { p.Servers[0].Username = "localpart"; p.Servers[1].Username = "localpart" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, th := base(), fromISPDB(theirs())
			if tt.ours != nil {
				tt.ours(&o)
			}
			if tt.their != nil {
				tt.their(&th)
			}
			cur := &detect.ProviderDB{Providers: []detect.Provider{o}}
			isp := &detect.ProviderDB{Providers: []detect.Provider{th}}
			isp.Index()
			var got []d
			for _, x := range knowledge.Disagreements(cur, isp) {
				if x.Provider != "ours" || x.Entry != "d.test" || !slices.Equal(x.Domains, []string{"d.test"}) {
					t.Errorf("disagreement names %s/%s/%v", x.Provider, x.Entry, x.Domains)
				}
				got = append(got, d{x.Field, x.Protocol, x.Ours, x.ISPDB})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Disagreements = %v, want %v", got, tt.want)
			}
			// An override with the same four values justifies each.
			for _, w := range tt.want {
				o.Overrides = append(o.Overrides, detect.Override{Field: w.field, Protocol: w.proto, Ours: w.ours, ISPDB: w.ispdb, Reason: "r", Source: "https://s.test/"})
			}
			for _, x := range knowledge.Disagreements(&detect.ProviderDB{Providers: []detect.Provider{o}}, isp) {
				if x.Override(&o) == nil {
					t.Errorf("no override found for %s", x)
				}
			}
		})
	}
}

func TestFromClientConfig(t *testing.T) {
	t.Parallel()
	c := &clientconfig.Config{
		DisplayName: "Mail of %EMAILDOMAIN%",
		Domains:     []string{"one.test", "two.test"},
		Incoming: []clientconfig.Server{
			{Type: "imap", Hostname: "mail.%EMAILDOMAIN%", Port: 993, SocketType: "SSL", Username: "%EMAILLOCALPART%", Authentication: []string{"OAuth2", "password-cleartext"}},
			{Type: "pop3", Hostname: "pop.%EMAILDOMAIN%", Port: 110, SocketType: "STARTTLS", Username: "%EMAILLOCALPART%", Authentication: []string{"password-cleartext", "password-encrypted"}},
		},
		Outgoing: []clientconfig.Server{
			{Type: "smtp", Hostname: "smtp.shared.test", Port: 25, SocketType: "plain", Username: "%EMAILADDRESS%", Authentication: []string{"client-IP-address"}},
			{Type: "smtp", Hostname: "smtp.shared.test", Port: 587, SocketType: "STARTTLS", Username: "%EMAILLOCALPART%.%EMAILDOMAIN%", Authentication: []string{"password-encrypted"}, Restriction: "smtp-after-pop"},
		},
		OAuth2: &clientconfig.OAuth2{Issuer: "login.shared.test", Scope: []string{"mail"}, AuthURL: "https://login.shared.test/a", TokenURL: "https://login.shared.test/t"},
		Enable: &clientconfig.Enable{VisitURL: "http://shared.test/enable", Instructions: []string{"Enable IMAP."}},
	}
	got := knowledge.FromClientConfig("entry", c, "https://example.test/entry.xml")
	if len(got) != 2 {
		t.Fatalf("%d providers, want one per domain (host names hold the domain)", len(got))
	}
	two := got[1]
	if two.ID != "entry/two.test" || two.Name != "Mail of two.test" || !slices.Equal(two.Domains, []string{"two.test"}) {
		t.Errorf("second provider = %s %q %v", two.ID, two.Name, two.Domains)
	}
	want := []detect.ProviderServer{
		{Protocol: "imap", Host: "mail.two.test", Port: 993, Security: "tls", Auth: []string{"XOAUTH2", "PLAIN", "LOGIN"}},
		{Protocol: "pop3", Host: "pop.two.test", Port: 110, Security: "starttls", Auth: []string{"USER", "PLAIN", "APOP", "CRAM-MD5"}},
		{Protocol: "smtp", Host: "smtp.shared.test", Port: 25, Security: "none", Username: "address", Restriction: detect.RestrictionClientIP},
		{Protocol: "smtp", Host: "smtp.shared.test", Port: 587, Security: "starttls", Auth: []string{"CRAM-MD5"}, Username: "%EMAILLOCALPART%.%EMAILDOMAIN%", Restriction: detect.RestrictionPOPBeforeSMTP},
	}
	if !reflect.DeepEqual(two.Servers, want) {
		t.Errorf("servers =\n%+v\nwant\n%+v", two.Servers, want)
	}
	if two.Username != "localpart" {
		t.Errorf("provider user name %q, want the first server's (localpart)", two.Username)
	}
	if u := two.LoginNameFor(two.Servers[3], detect.Address{Local: "jo", Domain: "two.test"}); u != "jo.two.test" {
		t.Errorf("templated login = %q", u)
	}
	o := two.OAuth2
	if o == nil || o.Issuer != "https://login.shared.test" || !slices.Equal(o.Scopes.IMAP, []string{"mail"}) || o.Scopes.POP3 != nil || o.Scopes.SMTP != nil || o.Source != "https://example.test/entry.xml" {
		t.Errorf("OAuth2 = %+v, want scopes only for IMAP, the one protocol that lists OAuth2", o)
	}
	if !two.Notes.OAuth2 || two.Notes.EnableInWeb != "Enable IMAP." || two.Notes.EnableURL != "" {
		t.Errorf("notes = %+v (an http enable URL must be dropped)", two.Notes)
	}
	if two.Servers[0].OAuth2Only() {
		t.Error("a server that also takes passwords is not OAuth2-only")
	}
	db := &detect.ProviderDB{Providers: got}
	if err := db.Validate(); err != nil {
		t.Errorf("derived providers do not validate: %v", err)
	}
}

func TestFromClientConfigOAuth2WithoutOAuthServers(t *testing.T) {
	t.Parallel()
	c := &clientconfig.Config{Domains: []string{"y.test"},
		Incoming: []clientconfig.Server{{Type: "imap", Hostname: "imap.y.test", Port: 993, SocketType: "SSL", Authentication: []string{"password-cleartext"}}},
		Outgoing: []clientconfig.Server{{Type: "smtp", Hostname: "smtp.y.test", Port: 465, SocketType: "SSL"}},
		OAuth2:   &clientconfig.OAuth2{Issuer: "oauth.y.test", Scope: []string{"mail:imap", "mail:smtp"}, AuthURL: "https://oauth.y.test/a", TokenURL: "https://oauth.y.test/t"},
	}
	p := knowledge.FromClientConfig("y.test", c, "")[0]
	if p.OAuth2 == nil || len(p.OAuth2.Scopes.IMAP) != 2 || len(p.OAuth2.Scopes.SMTP) != 2 || !p.Notes.OAuth2 {
		t.Errorf("OAuth2 = %+v; a document naming an authorization server gives its scopes to every protocol", p.OAuth2)
	}
	if p.Name != "y.test" || p.Username != "address" {
		t.Errorf("name %q user name %q: want the entry name and, with no template, the address", p.Name, p.Username)
	}
}

func deepCopy(t *testing.T, db *detect.ProviderDB) *detect.ProviderDB {
	t.Helper()
	out := &detect.ProviderDB{ISPDB: db.ISPDB, ReferenceHosts: slices.Clone(db.ReferenceHosts)}
	for _, p := range db.Providers {
		q := p
		q.Domains = slices.Clone(p.Domains)
		q.Servers = nil
		for _, s := range p.Servers {
			s.Auth = slices.Clone(s.Auth)
			q.Servers = append(q.Servers, s)
		}
		if p.OAuth2 != nil {
			o := *p.OAuth2
			o.Scopes.IMAP = slices.Clone(o.Scopes.IMAP)
			q.OAuth2 = &o
		}
		q.Provenance.ISPDBEntries = slices.Clone(p.Provenance.ISPDBEntries)
		out.Providers = append(out.Providers, q)
	}
	return out
}
