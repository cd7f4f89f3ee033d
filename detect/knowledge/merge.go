package knowledge

import (
	"fmt"
	"slices"

	"github.com/mailsetup/mailsetup"
	"github.com/mailsetup/mailsetup/detect"
)

// Load returns the knowledge base the program uses: providers.yaml merged with the
// embedded ISPDB-derived data, validated and indexed.
func Load() (*detect.ProviderDB, error) {
	curated, err := detect.LoadProviders(mailsetup.ProvidersYAML)
	if err != nil {
		return nil, fmt.Errorf("providers.yaml: %w", err)
	}
	ispdb, err := embedded()
	if err != nil {
		return nil, err
	}
	return Merge(curated, ispdb)
}

// Merge combines curated knowledge (providers.yaml) with ISPDB-derived knowledge. It is
// the one place that decides precedence:
//
//  1. A domain providers.yaml lists belongs to its curated provider, whose servers,
//     notes, OAuth2 block and overrides win (the agreement test makes sure every
//     server fact that differs from the ISPDB carries an override with its reason).
//  2. An ISPDB provider that claims domains of exactly one curated provider is the same
//     provider under more names: its other domains join the curated one, it fills in a
//     protocol the curated entry names no server for, an OAuth2 block it lacks, and
//     empty enable notes. The curated provider's provenance then names both sources.
//  3. Any other ISPDB provider stays a provider of its own for the domains no curated
//     provider claims (provenance: ISPDB only).
//  4. A provider that logs in with OAuth2 but has no OAuth2 block takes the block of the
//     curated provider that runs the same server (the ISPDB names Microsoft's servers
//     for many universities without repeating Microsoft's endpoints).
//  5. Reference hosts come from providers.yaml only.
//
// The inputs are not changed. The result is validated and indexed.
func Merge(curated, ispdb *detect.ProviderDB) (*detect.ProviderDB, error) {
	out := &detect.ProviderDB{
		ReferenceHosts: slices.Clone(curated.ReferenceHosts),
		ISPDB:          ispdb.ISPDB,
		Providers:      make([]detect.Provider, 0, len(curated.Providers)+len(ispdb.Providers)),
	}
	owner := map[string]int{}
	for _, c := range curated.Providers {
		c = clone(c)
		c.Provenance = detect.Provenance{Curated: true}
		for _, d := range c.Domains {
			owner[d] = len(out.Providers)
		}
		out.Providers = append(out.Providers, c)
	}
	nCurated := len(out.Providers)
	for _, i := range ispdb.Providers {
		var attached []int
		var rest []string
		for _, d := range i.Domains {
			if o, ok := owner[d]; ok {
				if !slices.Contains(attached, o) {
					attached = append(attached, o)
				}
			} else {
				rest = append(rest, d)
			}
		}
		switch {
		case len(attached) == 1:
			absorb(&out.Providers[attached[0]], i, rest)
		case len(rest) > 0:
			q := clone(i)
			q.Domains = rest
			out.Providers = append(out.Providers, q)
		}
	}
	for k := range out.Providers {
		p := &out.Providers[k]
		if p.OAuth2 != nil || !p.Notes.OAuth2 {
			continue
		}
		for _, s := range p.Servers {
			if !slices.Contains(s.Auth, "XOAUTH2") {
				continue
			}
			if j := slices.IndexFunc(out.Providers[:nCurated], func(c detect.Provider) bool {
				return c.OAuth2 != nil && slices.ContainsFunc(c.Servers, func(cs detect.ProviderServer) bool { return cs.Host == s.Host })
			}); j >= 0 {
				o := *out.Providers[j].OAuth2
				p.OAuth2 = &o
				break
			}
		}
	}
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("knowledge: merged data: %w", err)
	}
	out.Index()
	return out, nil
}

// absorb adds ISPDB provider i, whose unclaimed domains are rest, to curated provider c
// (rule 2 of Merge).
func absorb(c *detect.Provider, i detect.Provider, rest []string) {
	c.Domains = append(c.Domains, rest...)
	for _, proto := range []detect.Protocol{detect.IMAP, detect.POP3, detect.SMTP} {
		if slices.ContainsFunc(c.Servers, func(s detect.ProviderServer) bool { return s.Protocol == proto }) {
			continue
		}
		for _, s := range i.Servers {
			if s.Protocol != proto {
				continue
			}
			if s.Username == "" {
				s.Username = i.Username
			}
			if s.Username == c.Username {
				s.Username = ""
			}
			s.Auth = slices.Clone(s.Auth)
			c.Servers = append(c.Servers, s)
		}
	}
	if c.OAuth2 == nil && i.OAuth2 != nil {
		o := *i.OAuth2
		c.OAuth2 = &o
		c.Notes.OAuth2 = true
	}
	if c.Notes.EnableInWeb == "" && c.Notes.EnableURL == "" {
		c.Notes.EnableInWeb, c.Notes.EnableURL = i.Notes.EnableInWeb, i.Notes.EnableURL
	}
	c.Provenance.ISPDB = i.Provenance.ISPDB
	for _, e := range i.Provenance.ISPDBEntries {
		if !slices.Contains(c.Provenance.ISPDBEntries, e) {
			c.Provenance.ISPDBEntries = append(c.Provenance.ISPDBEntries, e)
		}
	}
}

// clone copies p deeply enough that changing the copy's slices leaves p alone.
func clone(p detect.Provider) detect.Provider {
	p.Domains = slices.Clone(p.Domains)
	p.Servers = slices.Clone(p.Servers)
	p.Overrides = slices.Clone(p.Overrides)
	p.Provenance.ISPDBEntries = slices.Clone(p.Provenance.ISPDBEntries)
	if p.OAuth2 != nil {
		o := *p.OAuth2
		p.OAuth2 = &o
	}
	return p
}
