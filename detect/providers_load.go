package detect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"
)

// knownAuth are the mechanism names providers.yaml may use.
var knownAuth = map[string]bool{
	"PLAIN": true, "LOGIN": true, "CRAM-MD5": true, "XOAUTH2": true, "OAUTHBEARER": true,
	"SCRAM-SHA-1": true, "SCRAM-SHA-256": true, "NTLM": true, "GSSAPI": true, "APOP": true, "USER": true,
}

// LoadProviders parses providers.yaml strictly (an unknown field is an error) and
// validates every provider.
func LoadProviders(data []byte) (*ProviderDB, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var db ProviderDB
	if err := dec.Decode(&db); err != nil {
		return nil, fmt.Errorf("providers: %w", err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("providers: more than one YAML document")
	}
	if err := db.Validate(); err != nil {
		return nil, err
	}
	for i := range db.Providers {
		db.Providers[i].Provenance = Provenance{Curated: true}
	}
	db.Index()
	return &db, nil
}

// Index builds the lookup maps of ByDomain and ByServer; call it after the last change
// to Providers and before sharing the value between goroutines. The first provider
// that names a server host keeps it, as the scan without an index would.
func (db *ProviderDB) Index() {
	db.byDomain = make(map[string]int, len(db.Providers)*2)
	db.byServer = make(map[string]int, len(db.Providers)*2)
	for i, p := range db.Providers {
		for _, d := range p.Domains {
			if _, ok := db.byDomain[d]; !ok {
				db.byDomain[d] = i
			}
		}
		for _, s := range p.Servers {
			if _, ok := db.byServer[s.Host]; !ok {
				db.byServer[s.Host] = i
			}
		}
	}
}

// Validate checks every provider and reference host and returns all problems found.
func (db *ProviderDB) Validate() error {
	ids := map[string]bool{}
	domains := map[string]string{}
	var errs []error
	for i, p := range db.Providers {
		where := fmt.Sprintf("providers[%d] (%s)", i, p.ID)
		bad := func(f string, a ...any) {
			errs = append(errs, fmt.Errorf("providers: %s: %s", where, fmt.Sprintf(f, a...)))
		}
		switch {
		case p.ID == "":
			bad("id is empty")
		case ids[p.ID]:
			bad("id is used twice")
		}
		ids[p.ID] = true
		if p.Name == "" {
			bad("name is empty")
		}
		if err := checkUsername(p.Username); err != nil {
			bad("username %q: %v", p.Username, err)
		}
		for _, d := range p.Domains {
			if err := checkDomain(d); err != nil {
				bad("domain %q: %v", d, err)
			}
			if other, ok := domains[d]; ok {
				bad("domain %q is also claimed by %s", d, other)
			}
			domains[d] = p.ID
		}
		for _, s := range append(append([]string(nil), p.MXSuffixes...), p.BannerSuffixes...) {
			if err := checkDomain(strings.TrimPrefix(s, ".")); err != nil {
				bad("mx suffix %q: %v", s, err)
			}
		}
		if !p.Relay && len(p.Domains) == 0 && len(p.MXSuffixes) == 0 {
			bad("no domains and no MX suffixes: nothing would ever match it")
		}
		var smtp, incoming bool
		for j, s := range p.Servers {
			sw := fmt.Sprintf("servers[%d]", j)
			switch s.Protocol {
			case SMTP:
				smtp = true
			case IMAP, POP3:
				incoming = true
			default:
				bad("%s: protocol %q: want smtp, imap or pop3", sw, s.Protocol)
			}
			if s.Security != SecurityTLS && s.Security != SecurityStartTLS && s.Security != SecurityNone {
				bad("%s: security %q: want tls, starttls or none", sw, s.Security)
			}
			if s.Port < 1 || s.Port > 65535 {
				bad("%s: port %d out of range", sw, s.Port)
			}
			if !validHostname(s.Host) {
				bad("%s: host %q is not a lower-case host name", sw, s.Host)
			}
			for _, a := range s.Auth {
				if !knownAuth[a] {
					bad("%s: auth %q is not a known mechanism", sw, a)
				}
			}
			if s.Username != "" {
				if err := checkUsername(s.Username); err != nil {
					bad("%s: username %q: %v", sw, s.Username, err)
				}
			}
			switch s.Restriction {
			case "", RestrictionClientIP, RestrictionPOPBeforeSMTP:
			default:
				bad("%s: restriction %q: want %s or %s", sw, s.Restriction, RestrictionClientIP, RestrictionPOPBeforeSMTP)
			}
		}
		if !smtp {
			bad("no smtp server")
		}
		if !incoming && !p.Relay {
			bad("no imap or pop3 server (mark outgoing-only services relay: true)")
		}
		if u := p.Notes.AppPasswordURL; u != "" {
			if !isHTTPSURL(u) {
				bad("app_password_url %q: want an https URL", u)
			}
		}
		if u := p.Notes.EnableURL; u != "" && !isHTTPSURL(u) {
			bad("enable_url %q: want an https URL", u)
		}
		if o := p.OAuth2; o != nil {
			for _, u := range []string{o.Issuer, o.AuthURL, o.TokenURL} {
				if !isHTTPSURL(u) {
					bad("oauth2: %q: want an https URL", u)
				}
			}
			if o.DeviceURL != "" && !isHTTPSURL(o.DeviceURL) {
				bad("oauth2: device_url %q: want an https URL", o.DeviceURL)
			}
			if o.Source != "" && !isHTTPSURL(o.Source) {
				bad("oauth2: source %q: want an https URL", o.Source)
			}
			if len(o.Scopes.IMAP)+len(o.Scopes.POP3)+len(o.Scopes.SMTP) == 0 {
				bad("oauth2: no scopes")
			}
			if !p.Notes.OAuth2 {
				bad("oauth2 block without notes.oauth2: true")
			}
		}
		for j, o := range p.Overrides {
			ow := fmt.Sprintf("overrides[%d]", j)
			switch o.Field {
			case FieldHost, FieldPort, FieldSecurity, FieldUsername:
			default:
				bad("%s: field %q: want host, port, security or username", ow, o.Field)
			}
			if o.Protocol != SMTP && o.Protocol != IMAP && o.Protocol != POP3 {
				bad("%s: protocol %q: want smtp, imap or pop3", ow, o.Protocol)
			}
			if o.Ours == "" || o.ISPDB == "" || o.Reason == "" {
				bad("%s: ours, ispdb and reason are all required", ow)
			}
			if !isHTTPSURL(o.Source) {
				bad("%s: source %q: want an https URL", ow, o.Source)
			}
		}
		if p.Notes.MaxMessageMB < 0 || p.Notes.MaxRecipients < 0 || p.Notes.SendPerDay < 0 || p.Notes.SendPerHour < 0 || p.Notes.MaxConnections < 0 {
			bad("negative limit in notes")
		}
	}
	for i, r := range db.ReferenceHosts {
		if !validHostname(r.Host) || len(r.Ports) == 0 {
			errs = append(errs, fmt.Errorf("providers: reference_hosts[%d] (%s): want a host name and ports", i, r.Host))
		}
	}
	return errors.Join(errs...)
}

// checkDomain accepts a lower-case ASCII (punycode) domain with a dot.
func checkDomain(d string) error {
	if d != strings.ToLower(d) {
		return errors.New("not lower case")
	}
	if !strings.Contains(d, ".") || !validHostname(d) {
		return errors.New("not an ASCII domain name (use punycode)")
	}
	return nil
}

// isHTTPSURL accepts an absolute https URL with a host.
func isHTTPSURL(u string) bool {
	pu, err := url.Parse(u)
	return err == nil && pu.Scheme == "https" && pu.Host != ""
}

// usernamePlaceholders are the clientConfig placeholders a login name template may use.
var usernamePlaceholders = strings.NewReplacer("%EMAILADDRESS%", "", "%EMAILLOCALPART%", "", "%EMAILDOMAIN%", "")

// checkUsername accepts "address", "localpart" or a template built from clientConfig
// placeholders and plain characters, with at least one placeholder.
func checkUsername(u string) error {
	if u == "address" || u == "localpart" {
		return nil
	}
	rest := usernamePlaceholders.Replace(u)
	if rest == u {
		return errors.New("want address, localpart or a template with %EMAILADDRESS%, %EMAILLOCALPART% or %EMAILDOMAIN%")
	}
	for _, r := range rest {
		if r <= ' ' || r == '%' || r == 0x7f {
			return errors.New("template holds an unknown placeholder or a control character")
		}
	}
	return nil
}
