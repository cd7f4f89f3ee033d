package detect

import (
	"strings"
)

// This file holds the provider knowledge-base schema (providers.yaml and the data derived
// from Thunderbird's ISPDB, merged by detect/knowledge) and lookups. Loading, validation
// and the index live in providers_load.go.

// ProviderDB is the parsed provider knowledge base.
type ProviderDB struct {
	Providers []Provider `yaml:"providers" json:"providers"`
	// ReferenceHosts are well-known mail hosts used to compare ports in the network check.
	ReferenceHosts []ReferenceHost `yaml:"reference_hosts" json:"reference_hosts,omitempty"`
	// ISPDB names the ISPDB snapshot merged into this knowledge base; nil when none is.
	ISPDB *ISPDBSnapshot `yaml:"-" json:"-"`

	// byDomain and byServer index Providers; Index builds them, lookups fall back to a scan.
	byDomain map[string]int
	byServer map[string]int
}

// ISPDBSnapshot identifies the snapshot of Thunderbird's ISPDB that facts came from.
type ISPDBSnapshot struct {
	// Date is the day of the snapshot's commit (YYYY-MM-DD).
	Date string `json:"date"`
	// Commit is the git commit of github.com/thunderbird/autoconfig the snapshot was taken at.
	Commit string `json:"commit"`
}

// ReferenceHost is a well-known server the network check compares ports against.
type ReferenceHost struct {
	Host string `yaml:"host" json:"host"`
	// Ports this host is known to answer on (e.g. 25, 465, 587).
	Ports []int `yaml:"ports" json:"ports"`
	// STARTTLS25 says the host is known to offer STARTTLS on port 25.
	STARTTLS25 bool `yaml:"starttls_25" json:"starttls_25,omitempty"`
	// BannerSuffix is the domain its SMTP banner names (for interception checks).
	BannerSuffix string `yaml:"banner_suffix" json:"banner_suffix,omitempty"`
}

// Provider is one mail provider's settings and notes.
type Provider struct {
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
	// Domains are the address domains the provider hosts (lower-case ASCII).
	Domains []string `yaml:"domains" json:"domains,omitempty"`
	// MXSuffixes match MX host names of custom domains hosted by the provider.
	MXSuffixes []string `yaml:"mx_suffixes" json:"mx_suffixes,omitempty"`
	// BannerSuffixes are other domains the provider's SMTP greetings name (Microsoft's
	// servers greet as *.outlook.office365.com); the network check accepts them.
	BannerSuffixes []string         `yaml:"banner_suffixes" json:"banner_suffixes,omitempty"`
	Servers        []ProviderServer `yaml:"servers" json:"servers"`
	// Username is the login name format: "address" (full address), "localpart", or a
	// clientConfig template such as "%EMAILLOCALPART%.%EMAILDOMAIN%".
	Username string `yaml:"username" json:"username"`
	// Relay marks an outgoing-only relay service (SendGrid, SES …) with no mailboxes.
	Relay bool          `yaml:"relay" json:"relay,omitempty"`
	Notes ProviderNotes `yaml:"notes" json:"notes"`
	// OAuth2 describes the provider's authorization server, when it offers OAuth2 logins.
	OAuth2 *ProviderOAuth2 `yaml:"oauth2" json:"oauth2,omitempty"`
	// Overrides record where this entry knowingly differs from the ISPDB, and why.
	Overrides []Override `yaml:"overrides" json:"overrides,omitempty"`
	// Provenance says where the facts came from; the loaders set it, never the files.
	Provenance Provenance `yaml:"-" json:"-"`
}

// ProviderServer is one server endpoint of a provider.
type ProviderServer struct {
	Protocol Protocol `yaml:"protocol" json:"protocol"`
	Host     string   `yaml:"host" json:"host"`
	Port     int      `yaml:"port" json:"port"`
	Security Security `yaml:"security" json:"security"`
	// Auth lists the mechanisms known to work, e.g. [PLAIN, LOGIN] or [XOAUTH2]; a server
	// whose only mechanisms are OAuth2 ones refuses passwords (see OAuth2Only).
	Auth []string `yaml:"auth" json:"auth,omitempty"`
	// Username overrides the provider's login name format for this server ("" = the
	// provider's); iCloud, for one, wants the local part for IMAP and the address for SMTP.
	Username string `yaml:"username" json:"username,omitempty"`
	// Restriction says the server admits senders without a login: RestrictionClientIP
	// (only from the provider's own network) or RestrictionPOPBeforeSMTP.
	Restriction string `yaml:"restriction" json:"restriction,omitempty"`
}

// Server restrictions (clientConfig's client-IP-address and smtp-after-pop).
const (
	RestrictionClientIP      = "client-ip"
	RestrictionPOPBeforeSMTP = "pop-before-smtp"
)

// ProviderNotes are the facts a user needs before the settings work.
type ProviderNotes struct {
	AppPassword    bool   `yaml:"app_password" json:"app_password"`
	AppPasswordURL string `yaml:"app_password_url" json:"app_password_url,omitempty"`
	EnableInWeb    string `yaml:"enable_in_web" json:"enable_in_web,omitempty"`
	// EnableURL is the provider's page where mail-program access is turned on.
	EnableURL      string   `yaml:"enable_url" json:"enable_url,omitempty"`
	MaxMessageMB   int      `yaml:"max_message_mb" json:"max_message_mb,omitempty"`
	MaxRecipients  int      `yaml:"max_recipients" json:"max_recipients,omitempty"`
	SendPerHour    int      `yaml:"send_per_hour" json:"send_per_hour,omitempty"`
	SendPerDay     int      `yaml:"send_per_day" json:"send_per_day,omitempty"`
	MaxConnections int      `yaml:"max_connections" json:"max_connections,omitempty"`
	BlockedExt     []string `yaml:"blocked_extensions" json:"blocked_extensions,omitempty"`
	// OAuth2 says the provider accepts OAuth2 logins (details in Provider.OAuth2).
	OAuth2 bool `yaml:"oauth2" json:"oauth2"`
	// Other is free text a user should read (one sentence each).
	Other []string `yaml:"other" json:"other,omitempty"`
}

// ProviderOAuth2 is a provider's OAuth2 authorization server and the scopes mail needs.
type ProviderOAuth2 struct {
	// Issuer identifies the authorization server as an https URL (the OpenID Connect
	// issuer where the provider publishes one, so metadata can be discovered from it).
	Issuer   string `yaml:"issuer" json:"issuer"`
	AuthURL  string `yaml:"auth_url" json:"auth_url"`
	TokenURL string `yaml:"token_url" json:"token_url"`
	// DeviceURL is the device-authorization endpoint (RFC 8628); empty when the provider
	// offers none or does not allow mail scopes in that flow.
	DeviceURL string       `yaml:"device_url" json:"device_url,omitempty"`
	Scopes    OAuth2Scopes `yaml:"scopes" json:"scopes"`
	// Source is where these facts are documented (a URL).
	Source string `yaml:"source" json:"source,omitempty"`
}

// OAuth2Scopes are the scopes to ask for, per protocol, refresh scopes included.
type OAuth2Scopes struct {
	IMAP []string `yaml:"imap" json:"imap,omitempty"`
	POP3 []string `yaml:"pop3" json:"pop3,omitempty"`
	SMTP []string `yaml:"smtp" json:"smtp,omitempty"`
}

// For returns the scopes for protocol p (nil when OAuth2 is not known to work for it).
func (s OAuth2Scopes) For(p Protocol) []string {
	switch p {
	case IMAP:
		return s.IMAP
	case POP3:
		return s.POP3
	case SMTP:
		return s.SMTP
	}
	return nil
}

// Override records one place where providers.yaml knowingly differs from the ISPDB.
type Override struct {
	// Field is what differs: "host", "port", "security" or "username".
	Field    string   `yaml:"field" json:"field"`
	Protocol Protocol `yaml:"protocol" json:"protocol"`
	// Ours is our value and ISPDB the ISPDB's, both as the agreement check spells them.
	Ours  string `yaml:"ours" json:"ours"`
	ISPDB string `yaml:"ispdb" json:"ispdb"`
	// Reason says in one sentence why ours is right; Source is a URL that shows it.
	Reason string `yaml:"reason" json:"reason"`
	Source string `yaml:"source" json:"source"`
}

// Override fields the agreement check compares.
const (
	FieldHost     = "host"
	FieldPort     = "port"
	FieldSecurity = "security"
	FieldUsername = "username"
)

// Provenance says where a provider's facts came from.
type Provenance struct {
	// Curated is true when providers.yaml describes the provider.
	Curated bool `json:"curated"`
	// ISPDB is the snapshot the provider's server facts were derived from, or nil.
	ISPDB *ISPDBSnapshot `json:"ispdb,omitempty"`
	// ISPDBEntries are the ISPDB entries (file names without .xml) it was derived from.
	ISPDBEntries []string `json:"ispdb_entries,omitempty"`
}

// Provenance source names, for reports and the trust model.
const (
	ProvenanceCurated = "curated"
	ProvenanceISPDB   = "ispdb"
)

// Sources names the kinds of facts behind the provider: "curated", "ispdb" or both.
func (p Provenance) Sources() []string {
	var out []string
	if p.Curated {
		out = append(out, ProvenanceCurated)
	}
	if p.ISPDB != nil {
		out = append(out, ProvenanceISPDB)
	}
	return out
}

// String describes the provenance for people, e.g. "curated + ISPDB snapshot 2026-03-12".
func (p Provenance) String() string {
	var parts []string
	if p.Curated {
		parts = append(parts, "curated")
	}
	if p.ISPDB != nil {
		parts = append(parts, "ISPDB snapshot "+p.ISPDB.Date)
	}
	if len(parts) == 0 {
		return "unknown"
	}
	return strings.Join(parts, " + ")
}

// ByDomain returns the provider hosting the address domain (ASCII, lower case), or nil.
func (db *ProviderDB) ByDomain(domain string) *Provider {
	if db == nil {
		return nil
	}
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if db.byDomain != nil {
		if i, ok := db.byDomain[domain]; ok {
			return &db.Providers[i]
		}
		return nil
	}
	for i := range db.Providers {
		for _, d := range db.Providers[i].Domains {
			if d == domain {
				return &db.Providers[i]
			}
		}
	}
	return nil
}

// ByMX returns the provider whose MX suffix matches mxHost (e.g. "aspmx.l.google.com"), or nil.
func (db *ProviderDB) ByMX(mxHost string) *Provider {
	if db == nil {
		return nil
	}
	mxHost = strings.ToLower(strings.TrimSuffix(mxHost, "."))
	for i := range db.Providers {
		for _, s := range db.Providers[i].MXSuffixes {
			s = strings.ToLower(strings.TrimPrefix(s, "."))
			if mxHost == s || strings.HasSuffix(mxHost, "."+s) {
				return &db.Providers[i]
			}
		}
	}
	return nil
}

// ByMXDomain returns the provider that lists a parent domain of mxHost among its
// address domains (the longest such parent with at least two labels), and that domain.
// It is Thunderbird's MX lookup done offline: the ISPDB lists MX domains such as
// mail.protection.outlook.com for this purpose. It returns nil, "" when none matches.
func (db *ProviderDB) ByMXDomain(mxHost string) (*Provider, string) {
	if db == nil {
		return nil, ""
	}
	labels := strings.Split(strings.ToLower(strings.TrimSuffix(mxHost, ".")), ".")
	for i := 1; i+2 <= len(labels); i++ {
		d := strings.Join(labels[i:], ".")
		if p := db.ByDomain(d); p != nil {
			return p, d
		}
	}
	return nil, ""
}

// LoginName returns the user name the provider expects for addr.
func (p *Provider) LoginName(addr Address) string {
	return ExpandUsername(p.Username, addr)
}

// LoginNameFor returns the user name server s of the provider expects for addr.
func (p *Provider) LoginNameFor(s ProviderServer, addr Address) string {
	if s.Username != "" {
		return ExpandUsername(s.Username, addr)
	}
	return p.LoginName(addr)
}

// ExpandUsername turns a login name format ("address", "localpart" or a clientConfig
// template with %EMAILADDRESS%, %EMAILLOCALPART%, %EMAILDOMAIN%) into the name for addr.
func ExpandUsername(format string, addr Address) string {
	switch format {
	case "localpart":
		return addr.Local
	case "address", "":
		return addr.String()
	}
	return strings.NewReplacer("%EMAILADDRESS%", addr.String(), "%EMAILLOCALPART%", addr.Local,
		"%EMAILDOMAIN%", addr.Domain).Replace(format)
}

// Candidates returns the provider's servers as discovery candidates for addr.
func (p *Provider) Candidates(addr Address, source string) []Candidate {
	out := make([]Candidate, 0, len(p.Servers))
	for _, s := range p.Servers {
		out = append(out, Candidate{
			Protocol: s.Protocol, Host: s.Host, Port: s.Port, Security: s.Security,
			Username: p.LoginNameFor(s, addr), Auth: strings.Join(s.Auth, " "), Source: source,
		})
	}
	return out
}

// oauth2Mechs are the SASL mechanisms that carry an OAuth2 token instead of a password.
var oauth2Mechs = map[string]bool{"XOAUTH2": true, "OAUTHBEARER": true}

// OAuth2Only reports whether the server is known to accept only OAuth2 logins.
func (s ProviderServer) OAuth2Only() bool {
	if len(s.Auth) == 0 {
		return false
	}
	for _, a := range s.Auth {
		if !oauth2Mechs[a] {
			return false
		}
	}
	return true
}

// ByServer returns the provider that runs host as one of its servers, or nil.
func (db *ProviderDB) ByServer(host string) *Provider {
	if db == nil {
		return nil
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if db.byServer != nil {
		if i, ok := db.byServer[host]; ok {
			return &db.Providers[i]
		}
		return nil
	}
	for i := range db.Providers {
		for _, s := range db.Providers[i].Servers {
			if s.Host == host {
				return &db.Providers[i]
			}
		}
	}
	return nil
}

// Summary returns the part of the provider a report carries.
func (p *Provider) Summary() *ProviderSummary {
	return &ProviderSummary{ID: p.ID, Name: p.Name, Notes: p.Notes}
}
