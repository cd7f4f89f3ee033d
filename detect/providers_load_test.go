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
	}
	for _, tt := range tests {
		_, err := LoadProviders([]byte(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to mention %q", tt.name, err, tt.want)
		}
		if err != nil && tt.name != "unknown field" && tt.name != "two documents" && !strings.Contains(err.Error(), "providers[") {
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
