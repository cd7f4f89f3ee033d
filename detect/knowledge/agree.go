package knowledge

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mailsetup/mailsetup/detect"
)

// Disagreement is one setting on which a curated provider and an ISPDB entry that
// shares its domains differ.
type Disagreement struct {
	// Provider is the curated provider's ID, Entry the ISPDB provider's.
	Provider, Entry string
	// Domains are the address domains both claim.
	Domains  []string
	Field    string
	Protocol detect.Protocol
	// Ours and ISPDB are the two values, spelled as an Override spells them.
	Ours, ISPDB string
}

func (d Disagreement) String() string {
	return fmt.Sprintf("%s vs ISPDB %s (%s): %s %s: ours %q, ISPDB %q", d.Provider, d.Entry,
		strings.Join(d.Domains, ", "), d.Protocol, d.Field, d.Ours, d.ISPDB)
}

// Override returns the override of p that justifies d, or nil.
func (d Disagreement) Override(p *detect.Provider) *detect.Override {
	for i, o := range p.Overrides {
		if o.Field == d.Field && o.Protocol == d.Protocol && o.Ours == d.Ours && o.ISPDB == d.ISPDB {
			return &p.Overrides[i]
		}
	}
	return nil
}

// Disagreements compares every curated provider with each ISPDB provider that claims
// one of its domains, protocol by protocol, where both name servers for it:
//
//   - host: a host we use that the ISPDB does not, or the ISPDB's preferred (first) host
//     missing from ours;
//   - security: the same host and port with another security mode;
//   - port: the ISPDB's preferred (first) host and port, which we do not list (ours is
//     then our list for that host);
//   - username: another login name format on the same host.
//
// A protocol only one side names is not a disagreement: Merge fills it in.
func Disagreements(curated, ispdb *detect.ProviderDB) []Disagreement {
	var out []Disagreement
	for ci := range curated.Providers {
		c := &curated.Providers[ci]
		for _, pair := range sharing(c, ispdb) {
			for _, proto := range []detect.Protocol{detect.IMAP, detect.POP3, detect.SMTP} {
				for _, d := range compare(c, pair.p, proto) {
					d.Provider, d.Entry, d.Domains = c.ID, pair.p.ID, pair.domains
					if !slices.ContainsFunc(out, func(o Disagreement) bool {
						return o.Provider == d.Provider && o.Entry == d.Entry && o.Field == d.Field &&
							o.Protocol == d.Protocol && o.Ours == d.Ours && o.ISPDB == d.ISPDB
					}) {
						out = append(out, d)
					}
				}
			}
		}
	}
	return out
}

type shared struct {
	p       *detect.Provider
	domains []string
}

// sharing lists the ISPDB providers that claim domains of c, in ISPDB order.
func sharing(c *detect.Provider, ispdb *detect.ProviderDB) []shared {
	var out []shared
	for _, d := range c.Domains {
		p := ispdb.ByDomain(d)
		if p == nil {
			continue
		}
		i := slices.IndexFunc(out, func(s shared) bool { return s.p == p })
		if i < 0 {
			out = append(out, shared{p: p})
			i = len(out) - 1
		}
		out[i].domains = append(out[i].domains, d)
	}
	return out
}

// compare finds the disagreements of c and i on one protocol.
func compare(c, i *detect.Provider, proto detect.Protocol) []Disagreement {
	ours, theirs := serversOf(c, proto), serversOf(i, proto)
	if len(ours) == 0 || len(theirs) == 0 {
		return nil
	}
	var out []Disagreement
	add := func(field, o, t string) {
		out = append(out, Disagreement{Field: field, Protocol: proto, Ours: o, ISPDB: t})
	}
	ourHosts, theirHosts := hosts(ours), hosts(theirs)
	for _, h := range ourHosts {
		if !slices.Contains(theirHosts, h) {
			add(detect.FieldHost, h, theirHosts[0])
		}
	}
	if !slices.Contains(ourHosts, theirHosts[0]) && slices.Contains(theirHosts, ourHosts[0]) {
		// Otherwise the loop above has already reported this pair.
		add(detect.FieldHost, ourHosts[0], theirHosts[0])
	}
	for k, t := range theirs {
		if !slices.Contains(ourHosts, t.Host) {
			continue
		}
		j := slices.IndexFunc(ours, func(o detect.ProviderServer) bool { return o.Host == t.Host && o.Port == t.Port })
		if j < 0 && k > 0 {
			// An alternative the ISPDB lists after its preferred server (143 beside 993):
			// leaving it out is not an error, the engine tries the usual ports anyway.
			continue
		}
		if j < 0 {
			var list []string
			for _, o := range ours {
				if o.Host == t.Host {
					list = append(list, endpoint(o))
				}
			}
			add(detect.FieldPort, strings.Join(list, " "), endpoint(t))
			j = slices.IndexFunc(ours, func(o detect.ProviderServer) bool { return o.Host == t.Host })
		} else if ours[j].Security != t.Security {
			add(detect.FieldSecurity, endpoint(ours[j]), endpoint(t))
		}
		if uo, ut := usernameOf(c, ours[j]), usernameOf(i, t); uo != ut {
			add(detect.FieldUsername, uo, ut)
		}
	}
	return out
}

func serversOf(p *detect.Provider, proto detect.Protocol) []detect.ProviderServer {
	var out []detect.ProviderServer
	for _, s := range p.Servers {
		if s.Protocol == proto {
			out = append(out, s)
		}
	}
	return out
}

// hosts lists the distinct hosts of servers in order.
func hosts(servers []detect.ProviderServer) []string {
	var out []string
	for _, s := range servers {
		if !slices.Contains(out, s.Host) {
			out = append(out, s.Host)
		}
	}
	return out
}

// endpoint spells a server as host:port/security.
func endpoint(s detect.ProviderServer) string {
	return s.Host + ":" + strconv.Itoa(s.Port) + "/" + string(s.Security)
}

// usernameOf is the login name format server s of p expects.
func usernameOf(p *detect.Provider, s detect.ProviderServer) string {
	if s.Username != "" {
		return s.Username
	}
	return p.Username
}
