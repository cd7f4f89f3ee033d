package trust

import "testing"

func TestDecide(t *testing.T) {
	t.Parallel()
	gmail := Policy{Domain: "gmail.com", KnownProvider: true, KnowledgeHosts: []string{"smtp.gmail.com", "imap.gmail.com"}}
	custom := Policy{Domain: "example.co.uk"}
	hosted := Policy{Domain: "shop.example", KnowledgeHosts: []string{"smtp.gmail.com"}}
	confirmed := Policy{Domain: "gmail.com", KnownProvider: true, UserHosts: []string{"SMTP.Other.Example."}}
	tests := []struct {
		name   string
		p      Policy
		host   string
		claims []Claim
		want   bool
		reason Reason
	}{
		{"knowledge host of a known provider", gmail, "smtp.gmail.com", []Claim{{Origin: OriginKnowledge}}, true, ReasonKnowledge},
		{"known provider: spoofed HTTP document", gmail, "smtp.attacker.example",
			[]Claim{{Host: "smtp.attacker.example", Origin: OriginAutoconfigHTTP, Via: "http://autoconfig.gmail.com/mail/config-v1.1.xml"}}, false, ReasonKnownProvider},
		{"known provider: even an in-domain name from another source", gmail, "mail.gmail.com", []Claim{{Origin: OriginGuess}}, false, ReasonKnownProvider},
		{"known provider: even its own HTTPS document", gmail, "smtp.elsewhere.example", []Claim{{Origin: OriginAutoconfigHTTPS}}, false, ReasonKnownProvider},
		{"known provider: online database", gmail, "smtp.new-gmail.example", []Claim{{Origin: OriginOnlineDB}}, true, ReasonOnlineDB},
		{"user confirmed beats everything", confirmed, "smtp.other.example", []Claim{{Origin: OriginAutoconfigHTTP}}, true, ReasonUserConfirmed},
		{"user claim (own mail program)", gmail, "smtp.mine.example", []Claim{{Origin: OriginUser}}, true, ReasonUserConfirmed},
		{"own registrable domain under a two-label suffix", custom, "mail.example.co.uk", []Claim{{Origin: OriginSRV}}, true, ReasonOwnDomain},
		{"another domain under the same public suffix", custom, "mail.attacker.co.uk", []Claim{{Origin: OriginSRV}}, false, ReasonSRVOutside},
		{"the public suffix itself", custom, "co.uk", []Claim{{Origin: OriginGuess}}, false, ReasonOutsideDomain},
		{"own HTTPS autoconfig naming a hoster", custom, "mail.hoster.example", []Claim{{Origin: OriginAutoconfigHTTPS, Via: "https://autoconfig.example.co.uk/"}}, true, ReasonOwnAutoconfig},
		{"plain HTTP document naming a hoster", custom, "mail.hoster.example", []Claim{{Origin: OriginAutoconfigHTTP}}, false, ReasonPlainHTTP},
		{"plain HTTP wins the explanation over SRV", custom, "mail.hoster.example", []Claim{{Origin: OriginSRV}, {Origin: OriginAutoconfigHTTP}}, false, ReasonPlainHTTP},
		{"an HTTPS claim trusts despite an HTTP one", custom, "mail.hoster.example", []Claim{{Origin: OriginAutoconfigHTTP}, {Origin: OriginAutoconfigHTTPS}}, true, ReasonOwnAutoconfig},
		{"redirected document", custom, "mail.hoster.example", []Claim{{Origin: OriginAutoconfigRedirect}}, false, ReasonRedirect},
		{"MX-derived document of another domain", custom, "mail.hoster.example", []Claim{{Origin: OriginAutoconfigOther}}, false, ReasonOtherDomainDoc},
		{"knowledge of the MX provider", hosted, "smtp.gmail.com", []Claim{{Origin: OriginKnowledgeMX}}, true, ReasonKnowledge},
		{"IP literal", custom, "192.168.1.1", []Claim{{Origin: OriginAutoconfigHTTPS}}, false, ReasonNotAHostName},
		{"IPv6 literal", custom, "::1", nil, false, ReasonNotAHostName},
		{"single label", custom, "router", []Claim{{Origin: OriginAutoconfigHTTPS}}, false, ReasonNotAHostName},
		{"numeric labels", custom, "10.0.0.1.", nil, false, ReasonNotAHostName},
		{"no claim at all", custom, "mail.unrelated.example", nil, false, ReasonNoClaim},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.p.Decide(tt.host, tt.claims)
			if got.Trusted != tt.want || got.Reason != tt.reason {
				t.Errorf("Decide(%q) = trusted %v reason %s, want %v %s", tt.host, got.Trusted, got.Reason, tt.want, tt.reason)
			}
		})
	}
}

func TestRegistrable(t *testing.T) {
	t.Parallel()
	tests := []struct{ host, want string }{
		{"mail.example.com", "example.com"},
		{"mx1.mail.example.co.uk", "example.co.uk"},
		{"smtp.example.com.au", "example.com.au"},
		{"a.b.example.co.za", "example.co.za"},
		{"mail.example.org.uk", "example.org.uk"},
		{"co.uk", "co.uk"},
		{"Example.COM.", "example.com"},
		{"127.0.0.1", "127.0.0.1"},
	}
	for _, tt := range tests {
		if got := Registrable(tt.host); got != tt.want {
			t.Errorf("Registrable(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}

func TestIsPublicSuffix(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{"co.uk": true, "com": true, "com.au": true, "example.co.uk": false, "github.io": true, "": false} {
		if got := IsPublicSuffix(name); got != want {
			t.Errorf("IsPublicSuffix(%q) = %v, want %v", name, got, want)
		}
	}
}

func FuzzDecide(f *testing.F) {
	f.Add("mail.example.co.uk", "example.co.uk")
	f.Add("10.0.0.1", "example.com")
	f.Fuzz(func(t *testing.T, host, domain string) {
		d := Policy{Domain: domain}.Decide(host, []Claim{{Origin: OriginAutoconfigHTTP}})
		if d.Trusted && !SameRegistrable(host, domain) {
			t.Fatalf("%q trusted for %q by a plain-HTTP claim", host, domain)
		}
	})
}
