package detect

import (
	"strings"
	"testing"
)

const minimalProviders = `
providers:
  - id: ex
    name: Example
    domains: [example.test]
    username: address
    servers:
      - {protocol: smtp, host: smtp.example.test, port: 465, security: tls, auth: [PLAIN]}
      - {protocol: imap, host: imap.example.test, port: 993, security: tls}
`

func TestLoadProvidersValid(t *testing.T) {
	t.Parallel()
	db, err := LoadProviders([]byte(minimalProviders))
	if err != nil {
		t.Fatal(err)
	}
	p := db.ByDomain("EXAMPLE.test.")
	if p == nil || p.ID != "ex" {
		t.Fatalf("ByDomain = %+v", p)
	}
	a := Address{Local: "Me", Domain: "example.test"}
	c := p.Candidates(a, "providers")
	if len(c) != 2 || c[0].Username != "Me@example.test" || c[0].Auth != "PLAIN" || c[0].Source != "providers" {
		t.Fatalf("Candidates = %+v", c)
	}
}

const minimalOAuth = minimalProviders + `    notes: {oauth2: true}
    oauth2:
      issuer: https://login.example.test
      auth_url: https://login.example.test/auth
      token_url: https://login.example.test/token
      scopes: {imap: [mail]}
`

const minimalOverride = minimalProviders + `    overrides:
      - {field: host, protocol: imap, ours: imap.example.test, ispdb: mail.example.test, reason: r, source: "https://s.test/"}
`

func TestLoadProvidersSchema(t *testing.T) {
	t.Parallel()
	yaml := strings.Replace(minimalOAuth, "security: tls}", "security: tls, username: '%EMAILLOCALPART%.%EMAILDOMAIN%'}", 1)
	yaml = strings.Replace(yaml, "auth: [PLAIN]}", "auth: [XOAUTH2], restriction: client-ip}", 1)
	db, err := LoadProviders([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	p := db.ByDomain("example.test")
	a := Address{Local: "jo", Domain: "example.test"}
	c := p.Candidates(a, "providers")
	if got, want := c[0].Username, "jo@example.test"; got != want {
		t.Errorf("SMTP user name = %q, want %q", got, want)
	}
	if got, want := c[1].Username, "jo.example.test"; got != want {
		t.Errorf("IMAP user name = %q, want %q (per-server template)", got, want)
	}
	if !p.Servers[0].OAuth2Only() || p.Servers[1].OAuth2Only() || p.Servers[0].Restriction != RestrictionClientIP {
		t.Errorf("servers = %+v", p.Servers)
	}
	if p.OAuth2 == nil || p.OAuth2.Scopes.For(IMAP)[0] != "mail" || p.OAuth2.Scopes.For(SMTP) != nil {
		t.Errorf("oauth2 = %+v", p.OAuth2)
	}
	if got := p.Provenance.String(); got != "curated" {
		t.Errorf("provenance = %q, want curated", got)
	}
	if _, err := LoadProviders([]byte(minimalOverride)); err != nil {
		t.Errorf("valid override refused: %v", err)
	}
}

func TestExpandUsername(t *testing.T) {
	t.Parallel()
	a := Address{Local: "Jo.Doe", Domain: "example.test"}
	for _, tt := range []struct{ format, want string }{
		{"address", "Jo.Doe@example.test"}, {"", "Jo.Doe@example.test"}, {"localpart", "Jo.Doe"},
		{"%EMAILADDRESS%", "Jo.Doe@example.test"}, {"%EMAILLOCALPART%.%EMAILDOMAIN%", "Jo.Doe.example.test"},
		{"mail/%EMAILLOCALPART%", "mail/Jo.Doe"},
	} {
		if got := ExpandUsername(tt.format, a); got != tt.want {
			t.Errorf("ExpandUsername(%q) = %q, want %q", tt.format, got, tt.want)
		}
	}
}

func TestProvenance(t *testing.T) {
	t.Parallel()
	snap := &ISPDBSnapshot{Date: "2026-03-12", Commit: "c6ad"}
	for _, tt := range []struct {
		p       Provenance
		str     string
		sources []string
	}{
		{Provenance{}, "unknown", nil},
		{Provenance{Curated: true}, "curated", []string{"curated"}},
		{Provenance{ISPDB: snap}, "ISPDB snapshot 2026-03-12", []string{"ispdb"}},
		{Provenance{Curated: true, ISPDB: snap}, "curated + ISPDB snapshot 2026-03-12", []string{"curated", "ispdb"}},
	} {
		if got := tt.p.String(); got != tt.str {
			t.Errorf("String() = %q, want %q", got, tt.str)
		}
		if got := tt.p.Sources(); strings.Join(got, ",") != strings.Join(tt.sources, ",") {
			t.Errorf("Sources() = %v, want %v", got, tt.sources)
		}
	}
}

// TestIndexMatchesScan checks that the index gives what the scan without it gives,
// including the first-provider-wins rule for shared servers.
func TestIndexMatchesScan(t *testing.T) {
	t.Parallel()
	scan := &ProviderDB{Providers: []Provider{
		{ID: "a", Domains: []string{"a.test", "shared.test"}, Servers: []ProviderServer{{Host: "mail.shared.test"}}},
		{ID: "b", Domains: []string{"b.test", "shared.test"}, Servers: []ProviderServer{{Host: "mail.shared.test"}, {Host: "mail.b.test"}}},
	}}
	indexed := &ProviderDB{Providers: scan.Providers}
	indexed.Index()
	for _, q := range []string{"a.test", "B.TEST.", "shared.test", "none.test", "mail.shared.test", "mail.b.test", ""} {
		if got, want := id(indexed.ByDomain(q)), id(scan.ByDomain(q)); got != want {
			t.Errorf("ByDomain(%q): indexed %s, scan %s", q, got, want)
		}
		if got, want := id(indexed.ByServer(q)), id(scan.ByServer(q)); got != want {
			t.Errorf("ByServer(%q): indexed %s, scan %s", q, got, want)
		}
	}
	if p, d := indexed.ByMXDomain("mx1.eu.shared.test."); id(p) != "a" || d != "shared.test" {
		t.Errorf("ByMXDomain = %s, %q; want a, shared.test", id(p), d)
	}
	if p, d := indexed.ByMXDomain("test"); p != nil || d != "" {
		t.Errorf("ByMXDomain(test) = %s, %q; want nothing", id(p), d)
	}
	var nilDB *ProviderDB
	if nilDB.ByDomain("a.test") != nil || nilDB.ByServer("x") != nil {
		t.Error("lookups on a nil knowledge base must return nil")
	}
	if p, _ := nilDB.ByMXDomain("mx.a.test"); p != nil {
		t.Error("ByMXDomain on nil must return nil")
	}
}

func id(p *Provider) string {
	if p == nil {
		return "<nil>"
	}
	return p.ID
}

func TestLoadProvidersRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown field", strings.Replace(minimalProviders, "name: Example", "name: Example\n    colour: blue", 1), "field colour not found"},
		{"duplicate id", minimalProviders + strings.Replace(strings.TrimPrefix(minimalProviders, "\nproviders:\n"), "example.test]", "other.test]", 1), "id is used twice"},
		{"duplicate domain", minimalProviders + strings.Replace(strings.TrimPrefix(minimalProviders, "\nproviders:\n"), "id: ex", "id: ex2", 1), `domain "example.test" is also claimed by ex`},
		{"bad port", strings.Replace(minimalProviders, "port: 465", "port: 70000", 1), "port 70000 out of range"},
		{"bad security", strings.Replace(minimalProviders, "security: tls, auth", "security: ssl, auth", 1), `security "ssl"`},
		{"bad protocol", strings.Replace(minimalProviders, "protocol: imap", "protocol: jmap", 1), `protocol "jmap"`},
		{"no incoming", strings.Replace(minimalProviders, "      - {protocol: imap, host: imap.example.test, port: 993, security: tls}\n", "", 1), "no imap or pop3 server"},
		{"no smtp", strings.Replace(minimalProviders, "      - {protocol: smtp, host: smtp.example.test, port: 465, security: tls, auth: [PLAIN]}\n", "", 1), "no smtp server"},
		{"non-ASCII domain", strings.Replace(minimalProviders, "[example.test]", "[bücher.test]", 1), "punycode"},
		{"upper-case domain", strings.Replace(minimalProviders, "[example.test]", "[Example.test]", 1), "not lower case"},
		{"bad username", strings.Replace(minimalProviders, "username: address", "username: email", 1), `username "email"`},
		{"unknown mechanism", strings.Replace(minimalProviders, "[PLAIN]", "[PASSWORD]", 1), `auth "PASSWORD"`},
		{"http app password url", strings.Replace(minimalProviders, "username: address", "username: address\n    notes: {app_password: true, app_password_url: 'http://x.test/'}", 1), "want an https URL"},
		{"two documents", minimalProviders + "---\nproviders: []\n", "more than one YAML document"},
		{"bad host", strings.Replace(minimalProviders, "smtp.example.test", "smtp example", 1), "not a lower-case host name"},
		{"unknown placeholder", strings.Replace(minimalProviders, "username: address", "username: '%EMAILUSER%'", 1), "want address, localpart or a template"},
		{"template with control character", strings.Replace(minimalProviders, "username: address", "username: \"%EMAILLOCALPART%\\t\"", 1), "control character"},
		{"bad server username", strings.Replace(minimalProviders, "security: tls}", "security: tls, username: login}", 1), `servers[1]: username "login"`},
		{"bad restriction", strings.Replace(minimalProviders, "auth: [PLAIN]}", "auth: [PLAIN], restriction: vpn}", 1), `restriction "vpn"`},
		{"http enable url", strings.Replace(minimalProviders, "username: address", "username: address\n    notes: {enable_url: 'http://x.test/'}", 1), "enable_url"},
		{"oauth2 http endpoint", strings.Replace(minimalOAuth, "https://login.example.test/token", "http://login.example.test/token", 1), "want an https URL"},
		{"oauth2 without scopes", strings.Replace(minimalOAuth, "scopes: {imap: [mail]}", "scopes: {}", 1), "oauth2: no scopes"},
		{"oauth2 without the note", strings.Replace(minimalOAuth, "notes: {oauth2: true}", "notes: {oauth2: false}", 1), "without notes.oauth2"},
		{"unknown oauth2 field", strings.Replace(minimalOAuth, "scopes:", "client_secret: x\n      scopes:", 1), "field client_secret not found"},
		{"override without reason", strings.Replace(minimalOverride, "reason: r, ", "", 1), "reason are all required"},
		{"override http source", strings.Replace(minimalOverride, "https://s.test/", "http://s.test/", 1), "want an https URL"},
		{"override field", strings.Replace(minimalOverride, "field: host", "field: colour", 1), `field "colour"`},
		{"override protocol", strings.Replace(minimalOverride, "protocol: imap", "protocol: jmap", 1), `protocol "jmap"`},
	}
	for _, tt := range tests {
		_, err := LoadProviders([]byte(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to mention %q", tt.name, err, tt.want)
		}
		if err != nil && !strings.Contains(tt.name, "unknown") && tt.name != "two documents" && !strings.Contains(err.Error(), "providers[") {
			t.Errorf("%s: error does not name the provider: %v", tt.name, err)
		}
	}
}

func FuzzLoadProviders(f *testing.F) {
	f.Add([]byte(minimalProviders))
	f.Add([]byte("providers: [{id: x}]"))
	f.Add([]byte("reference_hosts: [{host: a.b, ports: [25]}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := LoadProviders(data)
		if err != nil {
			return
		}
		for _, p := range db.Providers {
			for _, s := range p.Servers {
				if s.Port < 1 || s.Port > 65535 {
					t.Fatalf("invalid port accepted: %+v", s)
				}
			}
		}
	})
}
