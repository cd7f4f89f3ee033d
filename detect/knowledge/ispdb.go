package knowledge

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/detect/knowledge/clientconfig"
)

// ispdbJSON is the project's own data derived from the ISPDB snapshot by ./gen.
//
//go:embed ispdb.json
var ispdbJSON []byte

// Snapshot identifies the ISPDB snapshot the generator reads by default.
var Snapshot = detect.ISPDBSnapshot{Date: "2026-03-12", Commit: "c6ad79659b5fc321d1593ec4c277815b83e5dec5"}

// Source describes where derived data came from; ispdb.json carries it as its header.
type Source struct {
	Name       string `json:"name"`
	Repository string `json:"repository"`
	Path       string `json:"path"`
	Commit     string `json:"commit"`
	Date       string `json:"date"`
	License    string `json:"license"`
	// Attribution is the line of credit the licence asks derived data to keep.
	Attribution string `json:"attribution"`
	// Entries and Domains count what the snapshot held.
	Entries int `json:"entries"`
	Domains int `json:"domains"`
}

// Data is the content of ispdb.json: the source and one provider per ISPDB entry
// (per domain where the entry's host names depend on the domain).
type Data struct {
	Source    Source            `json:"source"`
	Providers []detect.Provider `json:"providers"`

	// snapshot is Source's commit and date, shared by the providers' provenance.
	snapshot *detect.ISPDBSnapshot
}

// NewSource returns the Source header for a snapshot.
func NewSource(snap detect.ISPDBSnapshot, entries, domains int) Source {
	return Source{
		Name:       "Thunderbird ISPDB",
		Repository: "https://github.com/thunderbird/autoconfig",
		Path:       "ispdb/",
		Commit:     snap.Commit,
		Date:       snap.Date,
		License:    "MPL-2.0",
		Attribution: "Server settings derived from the ISPDB of Mozilla Thunderbird " +
			"(https://github.com/thunderbird/autoconfig), Mozilla Public License 2.0 " +
			"(https://mozilla.org/MPL/2.0/); the source documents are not included.",
		Entries: entries,
		Domains: domains,
	}
}

// Encode writes data deterministically: sorted providers, one provider per line, so
// a new snapshot shows as a readable diff.
func (d *Data) Encode(w io.Writer) error {
	slices.SortFunc(d.Providers, func(a, b detect.Provider) int { return strings.Compare(a.ID, b.ID) })
	var buf, line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	// next encodes v as one line without its trailing newline.
	next := func(v any) ([]byte, error) {
		line.Reset()
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(line.Bytes(), []byte("\n")), nil
	}
	src, err := next(d.Source)
	if err != nil {
		return fmt.Errorf("ispdb data: %w", err)
	}
	buf.WriteString(`{"source":`)
	buf.Write(src)
	buf.WriteString(",\n\"providers\":[\n")
	for i, p := range d.Providers {
		b, err := next(p)
		if err != nil {
			return fmt.Errorf("ispdb data: %s: %w", p.ID, err)
		}
		buf.Write(b)
		if i < len(d.Providers)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("]}\n")
	_, err = w.Write(buf.Bytes())
	return err
}

// DecodeData parses ispdb.json and sets each provider's provenance.
func DecodeData(b []byte) (*Data, error) {
	var d Data
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("ispdb data: %w", err)
	}
	if d.Source.Commit == "" || d.Source.Date == "" {
		return nil, errors.New("ispdb data: no source commit and date")
	}
	snap := &detect.ISPDBSnapshot{Date: d.Source.Date, Commit: d.Source.Commit}
	d.snapshot = snap
	for i := range d.Providers {
		id := d.Providers[i].ID
		entry, _, _ := strings.Cut(id, "/")
		d.Providers[i].Provenance = detect.Provenance{ISPDB: snap, ISPDBEntries: []string{entry}}
	}
	return &d, nil
}

// Embedded returns the ISPDB-derived knowledge compiled into the program, validated
// and indexed, with its snapshot in ISPDB.
func Embedded() (*detect.ProviderDB, error) {
	db, err := embedded()
	if err != nil {
		return nil, err
	}
	if err := db.Validate(); err != nil {
		return nil, fmt.Errorf("ispdb data: %w", err)
	}
	return db, nil
}

// embedded decodes and indexes the embedded data without validating it; Load leaves
// validation to Merge, which checks the merged result once.
func embedded() (*detect.ProviderDB, error) {
	d, err := DecodeData(ispdbJSON)
	if err != nil {
		return nil, err
	}
	if len(d.Providers) == 0 {
		return nil, errors.New("ispdb data: no providers")
	}
	db := &detect.ProviderDB{Providers: d.Providers, ISPDB: d.snapshot}
	db.Index()
	return db, nil
}

// FromClientConfig turns one clientConfig document (the ISPDB entry named entry) into
// providers of the project's schema. An entry whose host names hold %EMAILDOMAIN%
// gives one provider per domain, with the host names expanded, named entry/domain.
// source is the URL of the document, cited in the OAuth2 block.
func FromClientConfig(entry string, c *clientconfig.Config, source string) []detect.Provider {
	p := detect.Provider{ID: entry, Name: c.DisplayName, Domains: slices.Clone(c.Domains)}
	if p.Name == "" {
		p.Name = entry
	}
	var templated bool
	servers := append(slices.Clone(c.Incoming), c.Outgoing...)
	for _, s := range servers {
		templated = templated || strings.Contains(s.Hostname, "%EMAILDOMAIN%")
		ps := detect.ProviderServer{
			Protocol: detect.Protocol(s.Type), Host: s.Hostname, Port: s.Port,
			Security: security(s.SocketType), Username: usernameFormat(s.Username),
		}
		ps.Restriction = restriction(s.Restriction)
		for _, a := range s.Authentication {
			if a == clientconfig.AuthOAuth2 {
				p.Notes.OAuth2 = true
			}
			if r := restriction(a); r != "" {
				ps.Restriction = r
			}
			for _, m := range mechanisms(ps.Protocol, a) {
				if !slices.Contains(ps.Auth, m) {
					ps.Auth = append(ps.Auth, m)
				}
			}
		}
		p.Servers = append(p.Servers, ps)
	}
	// The provider's format is its first server's; servers that differ keep their own.
	p.Username = p.Servers[0].Username
	for i := range p.Servers {
		if p.Servers[i].Username == p.Username {
			p.Servers[i].Username = ""
		}
	}
	if o := c.OAuth2; o != nil {
		oa := &detect.ProviderOAuth2{Issuer: "https://" + o.Issuer, AuthURL: o.AuthURL, TokenURL: o.TokenURL, Source: source}
		// Scopes go to the protocols whose servers list OAuth2; a document that names an
		// authorization server but lists only passwords (Yandex) gets them for all.
		anyOAuth := slices.ContainsFunc(p.Servers, func(s detect.ProviderServer) bool { return slices.Contains(s.Auth, "XOAUTH2") })
		for _, s := range p.Servers {
			if anyOAuth && !slices.Contains(s.Auth, "XOAUTH2") {
				continue
			}
			switch s.Protocol {
			case detect.IMAP:
				oa.Scopes.IMAP = slices.Clone(o.Scope)
			case detect.POP3:
				oa.Scopes.POP3 = slices.Clone(o.Scope)
			case detect.SMTP:
				oa.Scopes.SMTP = slices.Clone(o.Scope)
			}
		}
		p.OAuth2 = oa
		p.Notes.OAuth2 = true
	}
	if e := c.Enable; e != nil {
		p.Notes.EnableInWeb = strings.Join(e.Instructions, " ")
		if strings.HasPrefix(e.VisitURL, "https://") {
			p.Notes.EnableURL = e.VisitURL
		}
	}
	if !templated {
		if strings.Contains(p.Name, "%") {
			p.Name = entry
		}
		return []detect.Provider{p}
	}
	out := make([]detect.Provider, 0, len(p.Domains))
	for _, d := range p.Domains {
		q := p
		q.ID = entry + "/" + d
		q.Name = strings.ReplaceAll(p.Name, "%EMAILDOMAIN%", d)
		q.Domains = []string{d}
		q.Servers = slices.Clone(p.Servers)
		for i := range q.Servers {
			q.Servers[i].Host = strings.ReplaceAll(q.Servers[i].Host, "%EMAILDOMAIN%", d)
		}
		out = append(out, q)
	}
	return out
}

// security maps a clientConfig socketType to the engine's Security.
func security(socketType string) detect.Security {
	switch socketType {
	case clientconfig.SocketSSL:
		return detect.SecurityTLS
	case clientconfig.SocketSTARTTLS:
		return detect.SecurityStartTLS
	}
	return detect.SecurityNone
}

// restriction maps clientConfig's client-IP-address and smtp-after-pop to the schema's
// restrictions, anything else to "".
func restriction(method string) string {
	switch method {
	case clientconfig.AuthClientIP:
		return detect.RestrictionClientIP
	case clientconfig.AuthSMTPAfter:
		return detect.RestrictionPOPBeforeSMTP
	}
	return ""
}

// usernameFormat maps a clientConfig username template to the schema's format; a
// server without one is taken to want the full address, as most do.
func usernameFormat(t string) string {
	switch t {
	case "%EMAILADDRESS%", "":
		return "address"
	case "%EMAILLOCALPART%":
		return "localpart"
	}
	return t
}

// mechanisms maps a clientConfig authentication method to the SASL mechanisms (or
// POP3 commands) that carry it on protocol p, as Thunderbird uses them.
func mechanisms(p detect.Protocol, method string) []string {
	switch method {
	case clientconfig.AuthCleartext:
		if p == detect.POP3 {
			return []string{"USER", "PLAIN"}
		}
		return []string{"PLAIN", "LOGIN"}
	case clientconfig.AuthEncrypted:
		if p == detect.POP3 {
			return []string{"APOP", "CRAM-MD5"}
		}
		return []string{"CRAM-MD5"}
	case clientconfig.AuthOAuth2:
		return []string{"XOAUTH2"}
	case clientconfig.AuthNTLM:
		return []string{"NTLM"}
	case clientconfig.AuthGSSAPI:
		return []string{"GSSAPI"}
	}
	return nil
}

// EmbeddedData returns the bytes of the embedded ispdb.json (for the reproducibility
// test and for tools that show the attribution).
func EmbeddedData() []byte { return slices.Clone(ispdbJSON) }
