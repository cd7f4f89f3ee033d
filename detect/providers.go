package detect

import "strings"

// This file holds the provider knowledge-base schema (providers.yaml) and lookups. Loading,
// validation and lookup live in providers_load.go.

// ProviderDB is the parsed provider knowledge base.
type ProviderDB struct {
	Providers []Provider `yaml:"providers"`
	// ReferenceHosts are well-known mail hosts used to compare ports in the network check.
	ReferenceHosts []ReferenceHost `yaml:"reference_hosts"`
}

// ReferenceHost is a well-known server the network check compares ports against.
type ReferenceHost struct {
	Host string `yaml:"host"`
	// Ports this host is known to answer on (e.g. 25, 465, 587).
	Ports []int `yaml:"ports"`
	// STARTTLS25 says the host is known to offer STARTTLS on port 25.
	STARTTLS25 bool `yaml:"starttls_25"`
	// BannerSuffix is the domain its SMTP banner names (for interception checks).
	BannerSuffix string `yaml:"banner_suffix"`
}

// Provider is one mail provider's settings and notes.
type Provider struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// Domains are the address domains the provider hosts (lower-case ASCII).
	Domains []string `yaml:"domains"`
	// MXSuffixes match MX host names of custom domains hosted by the provider.
	MXSuffixes []string `yaml:"mx_suffixes"`
	// BannerSuffixes are other domains the provider's SMTP greetings name (Microsoft's
	// servers greet as *.outlook.office365.com); the network check accepts them.
	BannerSuffixes []string         `yaml:"banner_suffixes"`
	Servers        []ProviderServer `yaml:"servers"`
	// Username is "address" (full address) or "localpart".
	Username string `yaml:"username"`
	// Relay marks an outgoing-only relay service (SendGrid, SES …) with no mailboxes.
	Relay bool          `yaml:"relay"`
	Notes ProviderNotes `yaml:"notes"`
}

// ProviderServer is one server endpoint of a provider.
type ProviderServer struct {
	Protocol Protocol `yaml:"protocol"`
	Host     string   `yaml:"host"`
	Port     int      `yaml:"port"`
	Security Security `yaml:"security"`
	// Auth lists the mechanisms known to work, e.g. [PLAIN, LOGIN] or [XOAUTH2].
	Auth []string `yaml:"auth"`
}

// ProviderNotes are the facts a user needs before the settings work.
type ProviderNotes struct {
	AppPassword    bool     `yaml:"app_password" json:"app_password"`
	AppPasswordURL string   `yaml:"app_password_url" json:"app_password_url,omitempty"`
	EnableInWeb    string   `yaml:"enable_in_web" json:"enable_in_web,omitempty"`
	MaxMessageMB   int      `yaml:"max_message_mb" json:"max_message_mb,omitempty"`
	MaxRecipients  int      `yaml:"max_recipients" json:"max_recipients,omitempty"`
	SendPerHour    int      `yaml:"send_per_hour" json:"send_per_hour,omitempty"`
	SendPerDay     int      `yaml:"send_per_day" json:"send_per_day,omitempty"`
	MaxConnections int      `yaml:"max_connections" json:"max_connections,omitempty"`
	BlockedExt     []string `yaml:"blocked_extensions" json:"blocked_extensions,omitempty"`
	OAuth2         bool     `yaml:"oauth2" json:"oauth2"`
	// Other is free text a user should read (one sentence each).
	Other []string `yaml:"other" json:"other,omitempty"`
}

// ByDomain returns the provider hosting the address domain (ASCII, lower case), or nil.
func (db *ProviderDB) ByDomain(domain string) *Provider {
	if db == nil {
		return nil
	}
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
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

// LoginName returns the user name the provider expects for addr.
func (p *Provider) LoginName(addr Address) string {
	if p.Username == "localpart" {
		return addr.Local
	}
	return addr.String()
}

// Candidates returns the provider's servers as discovery candidates for addr.
func (p *Provider) Candidates(addr Address, source string) []Candidate {
	out := make([]Candidate, 0, len(p.Servers))
	for _, s := range p.Servers {
		out = append(out, Candidate{
			Protocol: s.Protocol, Host: s.Host, Port: s.Port, Security: s.Security,
			Username: p.LoginName(addr), Auth: strings.Join(s.Auth, " "), Source: source,
		})
	}
	return out
}

// ByServer returns the provider that runs host as one of its servers, or nil.
func (db *ProviderDB) ByServer(host string) *Provider {
	if db == nil {
		return nil
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
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
