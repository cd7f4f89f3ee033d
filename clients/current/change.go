package current

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mailsetup/mailsetup/clients"
	"github.com/mailsetup/mailsetup/detect"
)

// Role says which side of an account a setting serves.
type Role string

// The two roles.
const (
	Incoming Role = "incoming"
	Outgoing Role = "outgoing"
)

// Verdict is the plain-words judgement of one current setting on this network.
type Verdict struct {
	// Works is true when the setting worked in this run (logged in, or reachable when
	// no password was given, or accepted mail without login for a no-login setting).
	Works bool `json:"works"`
	// Verified is true when a real login proved it.
	Verified bool `json:"verified"`
	// Kind is the engine's typed outcome of the probe of this setting.
	Kind detect.Kind `json:"kind"`
	// BlockedHere is true when this network, not the server, stops the setting.
	BlockedHere bool `json:"blocked_here"`
	// Sentence is the verdict in one sentence: "Works: …" or "Fails here because …".
	Sentence string `json:"sentence"`
	// Advice is the engine's plain-words fix for the failure kind.
	Advice string `json:"advice,omitempty"`
	// Notice is Sentence in structured form, for front ends in other languages: key
	// verdict_works, verdict_relay, verdict_pop_before_smtp, verdict_reachable,
	// verdict_unproven, verdict_intercepted, verdict_port25_blocked,
	// verdict_port_blocked (args port, and other_port when the server answers there) or
	// verdict_fails (the probe's diagnosis says why).
	Notice detect.Notice `json:"notice"`
}

// Judge decides whether cur works on this network from its own probe (p), the
// network check (n) and the other probes of the same run (to tell a blocking network
// from a silent server). withPassword says whether logins were tried.
func Judge(cur detect.Setting, p detect.ProbeResult, n detect.Network, others []detect.ProbeResult, withPassword bool) Verdict {
	kind := detect.KindProtocol
	if p.Diagnosis != nil {
		kind = p.Diagnosis.Kind
	}
	v := Verdict{Kind: kind}
	if p.Status == detect.StatusOK {
		switch {
		case p.Verified:
			v.Works, v.Verified = true, true
			v.Sentence = "Works: we logged in with exactly these settings on this network."
			v.Notice.Key = "verdict_works"
		case p.Relay == detect.RelayAccepted && cur.Auth == detect.AuthNone:
			v.Works = true
			v.Sentence = "Works on this network only: the server accepts mail from here without a login."
			v.Notice.Key = "verdict_relay"
		case p.Relay == detect.RelayAfterPOP3:
			v.Works = true
			v.Sentence = "Works after checking mail: the server relays only shortly after a POP3 login (POP before SMTP)."
			v.Notice.Key = "verdict_pop_before_smtp"
		case !withPassword:
			v.Works = true
			v.Sentence = "Reachable: the server answered and the encryption checked out; without your password the login was not tested."
			v.Notice.Key = "verdict_reachable"
		default:
			v.Sentence = "The server answered, but no login was proven: " + lowerFirst(detect.WordsFor(kind).Explanation)
			v.Notice.Key = "verdict_unproven"
		}
		return v
	}
	w := detect.WordsFor(kind)
	v.Advice = w.Fix
	port := strconv.Itoa(p.Port)
	silent := kind == detect.KindTimeout || kind == detect.KindPort25Blocked || kind == detect.KindUnreachable
	switch {
	case p.Port == 25 && p.Protocol == detect.SMTP && n.Port25 == detect.Port25Intercepted:
		v.BlockedHere = true
		v.Kind = detect.KindPort25Blocked
		v.Sentence = "Fails here because something on this network intercepts port 25 and answers in the server's place; never send a password there."
		v.Notice.Key = "verdict_intercepted"
	case p.Port == 25 && p.Protocol == detect.SMTP && (kind == detect.KindPort25Blocked || silent && n.Port25 == detect.Port25Blocked):
		v.BlockedHere = true
		v.Kind = detect.KindPort25Blocked
		v.Sentence = "Fails here because this network blocks outgoing port 25, as many ISPs, hotels and public networks do" + answersElsewhere(p, others) + "."
		v.Notice = portNotice("verdict_port25_blocked", p, others)
		v.Advice = detect.WordsFor(detect.KindPort25Blocked).Fix
	case silent && (n.Outbound[port] == detect.PortFiltered || answersOnOtherPort(p, others)):
		v.BlockedHere = true
		v.Sentence = "Fails here because this network silently blocks port " + port + answersElsewhere(p, others) + "."
		v.Notice = portNotice("verdict_port_blocked", p, others)
	default:
		v.Notice.Key = "verdict_fails"
		v.Sentence = "Fails here because " + lowerFirst(strings.TrimSuffix(w.Title, ".")) + ": " + lowerFirst(w.Explanation)
		if p.Diagnosis != nil && p.Diagnosis.Explanation != w.Explanation {
			v.Sentence = "Fails here because " + lowerFirst(strings.TrimSuffix(w.Title, ".")) + ": " + lowerFirst(p.Diagnosis.Explanation)
		}
	}
	return v
}

// answersOnOtherPort reports whether the same server answered on another port in this run.
func answersOnOtherPort(p detect.ProbeResult, others []detect.ProbeResult) bool {
	return answeredPort(p, others) != 0
}

func answeredPort(p detect.ProbeResult, others []detect.ProbeResult) int {
	best := 0
	for _, o := range others {
		if o.Protocol == p.Protocol && strings.EqualFold(o.Host, p.Host) && o.Port != p.Port && (o.Status == detect.StatusOK || o.Banner != "" || o.TLSVersion != "") {
			if best == 0 || o.Status == detect.StatusOK && o.Port < best {
				best = o.Port
			}
		}
	}
	return best
}

// portNotice is a blocked-port verdict's notice: the port, and the port on which the
// same server answers in this run, if any.
func portNotice(key string, p detect.ProbeResult, others []detect.ProbeResult) detect.Notice {
	n := detect.Notice{Key: detect.NoticeKey(key), Args: map[string]string{"port": strconv.Itoa(p.Port)}}
	if port := answeredPort(p, others); port != 0 {
		n.Args["other_port"] = strconv.Itoa(port)
	}
	return n
}

func answersElsewhere(p detect.ProbeResult, others []detect.ProbeResult) string {
	if port := answeredPort(p, others); port != 0 {
		return fmt.Sprintf("; the server itself answers on port %d", port)
	}
	return ""
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// ProbeSummary is the compact record of the probe that proves a change.
type ProbeSummary struct {
	Protocol  detect.Protocol `json:"protocol"`
	Host      string          `json:"host"`
	Port      int             `json:"port"`
	Security  detect.Security `json:"security"`
	Status    detect.Status   `json:"status"`
	Verified  bool            `json:"verified"`
	AuthUsed  string          `json:"auth_used,omitempty"`
	ElapsedMS int64           `json:"elapsed_ms"`
}

func summary(p detect.ProbeResult) ProbeSummary {
	return ProbeSummary{Protocol: p.Protocol, Host: p.Host, Port: p.Port, Security: p.Security, Status: p.Status,
		Verified: p.Verified, AuthUsed: p.AuthUsed, ElapsedMS: p.ElapsedMS}
}

// Change is the smallest change to a current setting that worked in this run.
type Change struct {
	Role Role           `json:"role"`
	From detect.Setting `json:"from"`
	To   detect.Setting `json:"to"`
	// Fields are the parts that change (the rest stays as it is).
	Fields []clients.Field `json:"fields"`
	// Tier is "port", "security", "port+security" or "host".
	Tier string `json:"tier"`
	// Verified is true when a login proved To in this run (false: reachable only).
	Verified bool         `json:"verified"`
	Proof    ProbeSummary `json:"proof"`
	// Sentence says the change in plain words.
	Sentence string `json:"sentence"`
}

// level is how protected a mode is: STARTTLS and TLS both refuse to go on without
// encryption (the engine and the mail programs insist on it), so they count alike.
func level(s detect.Security) int {
	if s == detect.SecurityNone {
		return 0
	}
	return 1
}

// preference orders working settings like the engine's recommendation: for sending
// 465 TLS, 587 STARTTLS, 2525, 25, other encrypted ports, then clear text; for
// receiving TLS, STARTTLS, clear text.
func preference(p detect.ProbeResult) int {
	if p.Protocol == detect.SMTP {
		switch {
		case p.Security == detect.SecurityTLS && p.Port == 465:
			return 0
		case p.Security == detect.SecurityStartTLS && p.Port == 587:
			return 1
		case p.Security == detect.SecurityStartTLS && p.Port == 2525:
			return 2
		case p.Security == detect.SecurityStartTLS && p.Port == 25:
			return 3
		case p.Security == detect.SecurityTLS:
			return 4
		case p.Security == detect.SecurityStartTLS:
			return 5
		}
		return 6
	}
	switch p.Security {
	case detect.SecurityTLS:
		return 0
	case detect.SecurityStartTLS:
		return 1
	}
	return 3
}

// usableFor reports whether probe p proves (or, without a password, shows reachable)
// a setting that could replace cur.
func usableFor(cur detect.Setting, p detect.ProbeResult, withPassword bool) bool {
	if p.Status != detect.StatusOK || p.Protocol != cur.Protocol {
		return false
	}
	switch {
	case p.Verified:
		return true
	case cur.Auth == detect.AuthNone && p.Relay == detect.RelayAccepted:
		return true
	case !withPassword:
		return true
	}
	return false
}

var cleartextMechs = map[string]bool{"PLAIN": true, "LOGIN": true, "USER": true}
var challengeMechs = map[string]bool{"CRAM-MD5": true, "SCRAM-SHA-1": true, "SCRAM-SHA-256": true, "APOP": true}

func offers(mechs []string, set map[string]bool) bool {
	for _, m := range mechs {
		if set[strings.ToUpper(m)] {
			return true
		}
	}
	return false
}

// authFor keeps the current login method when the new server offers it, else takes
// the kind of method that proved the login there.
func authFor(cur detect.Setting, p detect.ProbeResult) string {
	switch cur.Auth {
	case "password-cleartext":
		if len(p.AuthMechanisms) == 0 || offers(p.AuthMechanisms, cleartextMechs) || !p.Verified {
			return cur.Auth
		}
		if challengeMechs[strings.ToUpper(p.AuthUsed)] {
			return "password-encrypted"
		}
	case "password-encrypted":
		if len(p.AuthMechanisms) == 0 || offers(p.AuthMechanisms, challengeMechs) || !p.Verified {
			return cur.Auth
		}
		if cleartextMechs[strings.ToUpper(p.AuthUsed)] {
			return "password-cleartext"
		}
	}
	return cur.Auth
}

// SmallestChange picks, among the probes of this run, the working setting that
// differs least from cur: only the port, then only the security, then port and
// security, then the host; never less encryption than cur has, nor clear text on a
// server where an encrypted setting worked. Within a tier the engine's preference
// decides (587 STARTTLS before 2525 for sending). It returns nil when nothing proven
// can replace cur.
func SmallestChange(role Role, cur detect.Setting, probes []detect.ProbeResult, withPassword bool) *Change {
	encryptedWorks := map[string]bool{}
	for _, p := range probes {
		if usableFor(cur, p, withPassword) && level(p.Security) == 1 {
			encryptedWorks[strings.ToLower(p.Host)] = true
		}
	}
	type cand struct {
		p     detect.ProbeResult
		tier  int
		index int
	}
	var cands []cand
	for i, p := range probes {
		if !usableFor(cur, p, withPassword) {
			continue
		}
		sameHost := strings.EqualFold(p.Host, cur.Host)
		if sameHost && p.Port == cur.Port && p.Security == cur.Security {
			continue // the current setting itself
		}
		floor := level(cur.Security)
		if encryptedWorks[strings.ToLower(p.Host)] {
			floor = 1
		}
		if level(p.Security) < floor {
			continue
		}
		tier := 3
		switch {
		case sameHost && p.Security == cur.Security:
			tier = 0
		case sameHost && p.Port == cur.Port:
			tier = 1
		case sameHost:
			tier = 2
		}
		cands = append(cands, cand{p, tier, i})
	}
	if len(cands) == 0 {
		return nil
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.tier != b.tier {
			return a.tier < b.tier
		}
		if a.p.Verified != b.p.Verified {
			return a.p.Verified
		}
		if pa, pb := preference(a.p), preference(b.p); pa != pb {
			return pa < pb
		}
		return a.index < b.index
	})
	best := cands[0].p
	to := cur
	to.Host, to.Port, to.Security = best.Host, best.Port, best.Security
	to.Auth = authFor(cur, best)
	if best.Verified && best.UsernameUsed != "" && best.UsernameUsed != cur.Username {
		to.Username = best.UsernameUsed
	}
	to.Verified = best.Verified
	c := &Change{Role: role, From: cur, To: to, Verified: best.Verified, Proof: summary(best),
		Tier: []string{"port", "security", "port+security", "host"}[cands[0].tier]}
	for _, f := range []struct {
		field   clients.Field
		changed bool
	}{
		{clients.FieldHost, !strings.EqualFold(cur.Host, to.Host)},
		{clients.FieldPort, cur.Port != to.Port},
		{clients.FieldSecurity, cur.Security != to.Security},
		{clients.FieldAuth, cur.Auth != to.Auth},
		{clients.FieldUsername, cur.Username != to.Username},
	} {
		if f.changed {
			c.Fields = append(c.Fields, f.field)
		}
	}
	c.Sentence = changeSentence(c)
	return c
}

func changeSentence(c *Change) string {
	var parts []string
	for _, f := range c.Fields {
		switch f {
		case clients.FieldHost:
			parts = append(parts, fmt.Sprintf("the server from %s to %s", c.From.Host, c.To.Host))
		case clients.FieldPort:
			parts = append(parts, fmt.Sprintf("the port from %d to %d", c.From.Port, c.To.Port))
		case clients.FieldSecurity:
			parts = append(parts, fmt.Sprintf("the security from %s to %s", detect.SecurityWords(c.From.Security), detect.SecurityWords(c.To.Security)))
		case clients.FieldAuth:
			parts = append(parts, fmt.Sprintf("the login method to %s", c.To.Auth))
		case clients.FieldUsername:
			parts = append(parts, fmt.Sprintf("the user name to %q", c.To.Username))
		}
	}
	proof := "proven here by a real login"
	if !c.Verified {
		proof = "the server answers there and the encryption checked out (login not tested)"
	}
	keep := ""
	if len(c.Fields) == 1 && c.Fields[0] == clients.FieldPort {
		keep = fmt.Sprintf(", keep %s", detect.SecurityWords(c.To.Security))
	}
	return fmt.Sprintf("Change %s%s: %s.", strings.Join(parts, " and "), keep, proof)
}
