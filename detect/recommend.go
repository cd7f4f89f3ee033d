package detect

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// maxAlternatives caps the alternatives a recommendation lists.
const maxAlternatives = 8

// Setting.Auth values besides mechanism names.
const (
	// AuthOAuth2: verified by signing in with OAuth2 (XOAUTH2 or OAUTHBEARER).
	AuthOAuth2 = "oauth2"
	// AuthNone: the server relays for this network without a login.
	AuthNone = "none"
	// AuthPOPBeforeSMTP: the server relays for a while after a POP3 login.
	AuthPOPBeforeSMTP = "pop-before-smtp"
)

// challengeMechs are mechanisms that prove the password without revealing it.
var challengeMechs = map[string]bool{"CRAM-MD5": true, "SCRAM-SHA-1": true, "SCRAM-SHA-256": true}

// outgoingRank orders working outgoing settings: implicit TLS 465 > STARTTLS 587 >
// STARTTLS 2525 > STARTTLS 25 > other encrypted ports > challenge-response on plain >
// plain with consent > relay by network address. Lower is better; -1 means unusable.
func outgoingRank(r ProbeResult) int {
	switch {
	case r.Security == SecurityTLS && r.Port == 465:
		return 0
	case r.Security == SecurityStartTLS && r.Port == 587:
		return 1
	case r.Security == SecurityStartTLS && r.Port == 2525:
		return 2
	case r.Security == SecurityStartTLS && r.Port == 25:
		return 3
	case r.Security == SecurityTLS:
		return 4
	case r.Security == SecurityStartTLS:
		return 5
	case r.Verified && challengeMechs[r.AuthUsed]:
		return 6
	case r.Verified:
		return 7 // clear-text login, which only happens with the user's consent
	case r.Relay == RelayAccepted:
		return 8
	case r.Relay == RelayAfterPOP3:
		return 9
	case hasChallenge(r.AuthMechanisms):
		return 6
	default:
		return 7
	}
}

// incomingRank orders working incoming settings: IMAP 993 > IMAP 143 STARTTLS > POP3 995 >
// POP3 110 STLS > clear-text variants; preferPOP3 swaps the protocols.
func incomingRank(r ProbeResult, preferPOP3 bool) int {
	proto := 0
	if (r.Protocol == POP3) != preferPOP3 {
		proto = 1
	}
	sec := 0
	switch r.Security {
	case SecurityTLS:
		sec = 0
	case SecurityStartTLS:
		sec = 1
	default:
		sec = 4
		if r.Verified && challengeMechs[r.AuthUsed] || !r.Verified && hasChallenge(r.AuthMechanisms) {
			sec = 3
		}
	}
	if sec >= 3 {
		return 10 + sec*2 + proto // any clear-text connection ranks below every encrypted one
	}
	return proto*2 + sec
}

func hasChallenge(mechs []string) bool {
	for _, m := range mechs {
		if challengeMechs[strings.ToUpper(m)] {
			return true
		}
	}
	return false
}

// usable reports whether a probe result can be recommended. With a password only
// verified logins (or relay by address) count; without one, reachable cells do.
func usable(r ProbeResult, withPassword bool) bool {
	if r.Status != StatusOK {
		return false
	}
	if withPassword {
		return r.Verified || r.Relay == RelayAccepted || r.Relay == RelayAfterPOP3
	}
	return true
}

// recommend picks the best outgoing and incoming settings among the probe results. A
// clear-text setting is never recommended for a service in encrypted (protocol|host: it
// offers TLS, even with a certificate problem, or a trusted source says it does): less
// encryption than exists is never the answer.
// proof says a login was to be proven (a password or a sign-in was given): then only
// verified settings count.
func recommend(probes []ProbeResult, preferPOP3 bool, login *Login, proof bool, encrypted map[string]bool) Recommendation {
	withPassword := proof
	type ranked struct {
		r     ProbeResult
		rank  int
		index int
	}
	var out, in []ranked
	for i, r := range probes {
		if !usable(r, withPassword) || r.Security == SecurityNone && encrypted[string(r.Protocol)+"|"+strings.ToLower(r.Host)] {
			continue
		}
		if r.Protocol == SMTP {
			out = append(out, ranked{r, outgoingRank(r), i})
		} else {
			in = append(in, ranked{r, incomingRank(r, preferPOP3), i})
		}
	}
	less := func(s []ranked) func(i, j int) bool {
		return func(i, j int) bool {
			if s[i].r.Verified != s[j].r.Verified {
				return s[i].r.Verified
			}
			if s[i].rank != s[j].rank {
				return s[i].rank < s[j].rank
			}
			return s[i].index < s[j].index // the matrix lists hosts in source priority
		}
	}
	sort.SliceStable(out, less(out))
	sort.SliceStable(in, less(in))

	rec := Recommendation{Alternatives: []Setting{}}
	if len(out) > 0 {
		s := settingOf(out[0].r, login)
		rec.Outgoing = &s
		rec.Reasons = append(rec.Reasons, reasonFor(out[0].r))
	}
	if len(in) > 0 {
		s := settingOf(in[0].r, login)
		rec.Incoming = &s
		rec.Reasons = append(rec.Reasons, reasonFor(in[0].r))
	}
	for _, l := range [][]ranked{out, in} {
		for i := 1; i < len(l) && len(rec.Alternatives) < maxAlternatives; i++ {
			rec.Alternatives = append(rec.Alternatives, settingOf(l[i].r, login))
		}
	}
	return rec
}

// settingOf turns a probe result into a setting a mail program can use.
func settingOf(r ProbeResult, login *Login) Setting {
	s := Setting{Protocol: r.Protocol, Host: r.Host, Port: r.Port, Security: r.Security, Verified: r.Verified}
	switch {
	case r.Verified && (r.AuthUsed == "XOAUTH2" || r.AuthUsed == "OAUTHBEARER"):
		s.Auth, s.Username = AuthOAuth2, r.UsernameUsed
	case r.Verified:
		s.Auth, s.Username = r.AuthUsed, r.UsernameUsed
	case r.Relay == RelayAccepted:
		s.Auth = AuthNone
	case r.Relay == RelayAfterPOP3:
		s.Auth = AuthPOPBeforeSMTP
	default:
		s.Auth = bestOffered(r.AuthMechanisms)
		if len(login.Usernames) > 0 {
			s.Username = login.Usernames[0]
		} else {
			s.Username = login.From
		}
	}
	return s
}

// bestOffered names the mechanism a mail program would most likely use.
func bestOffered(mechs []string) string {
	for _, want := range []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN", "USER"} {
		for _, m := range mechs {
			if strings.EqualFold(m, want) {
				return want
			}
		}
	}
	if len(mechs) > 0 {
		return strings.ToUpper(mechs[0])
	}
	return ""
}

func reasonFor(r ProbeResult) string {
	verb := "reachable (login not tested)"
	if r.Verified {
		verb = "verified by a real login"
	} else if r.Relay == RelayAccepted {
		verb = "accepts mail from this network without login"
	} else if r.Relay == RelayAfterPOP3 {
		verb = "accepts mail after a POP3 login (POP before SMTP)"
	}
	return fmt.Sprintf("%s %s:%d %s: %s", strings.ToUpper(string(r.Protocol)), r.Host, r.Port, SecurityWords(r.Security), verb)
}

// SecurityWords names a security mode the way mail programs' menus do.
func SecurityWords(s Security) string {
	switch s {
	case SecurityTLS:
		return "SSL/TLS"
	case SecurityStartTLS:
		return "STARTTLS"
	default:
		return "None"
	}
}

// warnings collects what the user must know: provider notes, network caveats, login
// caps; each English sentence has its notice beside it (notice.go).
func warnings(rep *Report, p *Provider, o *Options) sentences {
	w := sentences{text: []string{}, notices: []Notice{}}
	if p != nil {
		w.addAll(providerSentences(p.ID, p.Name, p.Notes))
	}
	if rep.Network.Port25 == Port25Blocked {
		w.add("This network blocks outgoing port 25; we did not wait for it. Ports 587 (STARTTLS) and 465 (TLS) work on almost every network.", NoticePort25Blocked)
	}
	if rep.Network.Port25 == Port25Intercepted {
		w.add("Something on this network intercepts port 25 and answers in the server's place: never send a password there.", NoticePort25Intercept)
	}
	hosts := make([]string, 0, len(rep.FailedLogins))
	for host := range rep.FailedLogins {
		hosts = append(hosts, host)
	}
	sort.Strings(hosts)
	for _, host := range hosts {
		n := rep.FailedLogins[host]
		s := fmt.Sprintf("%s rejected the password for %d user name(s) we tried", host, n)
		if n >= MaxFailedLogins {
			w.add(s+"; we stopped trying there so the account is not locked.", NoticeFailedLoginsCap, "host", host, "count", strconv.Itoa(n))
		} else {
			w.add(s+".", NoticeFailedLogins, "host", host, "count", strconv.Itoa(n))
		}
	}
	signedIn := rep.OAuth != nil && rep.OAuth.SignedIn
	if o.Password == "" && !signedIn {
		w.add("No password given: the recommendation is unverified (servers reached, logins not tested).", NoticeNoPassword)
	}
	if a := rep.OAuth; a != nil && a.Needed && !a.SignedIn {
		w.add(fmt.Sprintf("%s accepts only a sign-in on its own page for mail programs (OAuth2), not your password here: sign in with %s (in the window, or mailsetup probe --oauth browser).", a.Provider, a.Provider),
			NoticeOAuthNeeded, "provider", a.Provider)
	}
	if a := rep.OAuth; a != nil && a.Error != "" {
		w.add("Signing in did not work: "+a.ErrorWords, NoticeOAuthFailed, "error", a.Error, "words", a.ErrorWords)
	}
	if rep.Recommended.Outgoing != nil && rep.Recommended.Outgoing.Security == SecurityNone {
		if rep.Recommended.Outgoing.Auth == AuthPOPBeforeSMTP {
			w.add("Sending works only shortly after checking mail by POP3 (POP before SMTP): let your mail program check mail before it sends.", NoticePOPBeforeSMTP)
		} else if rep.Recommended.Outgoing.Auth == AuthNone {
			w.add("Sending works only because this network is trusted by the server; it will stop on other networks.", NoticeRelayByNetwork)
		} else if !challengeMechs[rep.Recommended.Outgoing.Auth] {
			w.add("The outgoing setting sends your password unencrypted (you allowed it).", NoticeOutgoingClear)
		}
	}
	if rep.Recommended.Outgoing == nil {
		w.add("No working outgoing (SMTP) setting was found.", NoticeNoOutgoing)
		w.addAll(certWarnings(rep.Probes, func(p Protocol) bool { return p == SMTP }))
	}
	if rep.Recommended.Incoming == nil {
		w.add("No working incoming (IMAP or POP3) setting was found.", NoticeNoIncoming)
		w.addAll(certWarnings(rep.Probes, func(p Protocol) bool { return p != SMTP }))
	}
	if s, n := untrustedHostsWarning(rep); s != "" {
		w.text, w.notices = append(w.text, s), append(w.notices, n)
	}
	return w
}

// certWarnings explains, for a direction with no working setting, the encrypted cells
// that stopped at a certificate problem: that is the answer, never a switch to no
// encryption; the one way on is accepting that exact certificate for that server.
func certWarnings(probes []ProbeResult, dir func(Protocol) bool) sentences {
	var w sentences
	seen := map[string]bool{}
	for _, p := range probes {
		if !dir(p.Protocol) || p.Status != StatusCertInvalid || p.Cert == nil || seen[p.Host+p.Cert.SHA256] {
			continue
		}
		seen[p.Host+p.Cert.SHA256] = true
		w.add(fmt.Sprintf("%s offers encryption, but its certificate failed the check (%s), so we neither logged in there nor fell back to an unencrypted connection. "+
			"Only if your provider confirms this exact certificate, accept it for this server: --accept-cert %s=%s.",
			p.Host, strings.ReplaceAll(p.Cert.Problem, "_", " "), p.Host, p.Cert.SHA256),
			NoticeCertFailed, "host", p.Host, "problem", p.Cert.Problem, "sha256", p.Cert.SHA256)
	}
	return w
}

// ProviderWarnings turns provider notes into sentences (ProviderNotices gives them as
// notices).
func ProviderWarnings(name string, n ProviderNotes) []string {
	return providerSentences("", name, n).text
}
