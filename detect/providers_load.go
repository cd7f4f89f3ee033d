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
	if err := db.validate(); err != nil {
		return nil, err
	}
	return &db, nil
}

func (db *ProviderDB) validate() error {
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
		if p.Username != "address" && p.Username != "localpart" {
			bad("username %q: want address or localpart", p.Username)
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
		}
		if !smtp {
			bad("no smtp server")
		}
		if !incoming && !p.Relay {
			bad("no imap or pop3 server (mark outgoing-only services relay: true)")
		}
		if u := p.Notes.AppPasswordURL; u != "" {
			if pu, err := url.Parse(u); err != nil || pu.Scheme != "https" || pu.Host == "" {
				bad("app_password_url %q: want an https URL", u)
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
