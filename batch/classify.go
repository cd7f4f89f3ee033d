package batch

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mailsetup/mailsetup/detect"
)

// classify turns a client's report into its row: verified, found without a login test,
// or what needs attention, in one line. ref is the report whose matrix the client
// shared (nil for a whole check of its own), to tell how this mailbox differs.
func classify(i int, rep *detect.Report, ref *detect.Report) Result {
	r := Result{Index: i, Address: rep.Address, Report: rep}
	rec := rep.Recommended
	in, out := rec.Incoming, rec.Outgoing
	switch {
	case in != nil && out != nil && in.Verified && (out.Verified || !needsLogin(*out)):
		r.State, r.Reason, r.Note = StateVerified, SettingsLine(rep), note(NoteSettings)
		r.Differs, r.DiffersNotes = differs(rep, ref)
	case in != nil && out != nil && !rep.Meta.PasswordUsed:
		r.State, r.Reason, r.Note = StateUnverified, "no password given, so the login was not tested: "+SettingsLine(rep), note(NoteNoPassword)
	default:
		r.State = StateAttention
		r.Reason, r.Note = attention(rep)
	}
	return r
}

// needsLogin reports whether a setting logs in at all (not relay by address, not POP
// before SMTP).
func needsLogin(s detect.Setting) bool { return s.Auth != "none" && s.Auth != "pop-before-smtp" }

// SettingsLine names the recommended settings in one line: "IMAP imap.example.com:993
// SSL/TLS · SMTP smtp.example.com:465 SSL/TLS".
func SettingsLine(rep *detect.Report) string {
	var parts []string
	for _, s := range []*detect.Setting{rep.Recommended.Incoming, rep.Recommended.Outgoing} {
		if s != nil {
			parts = append(parts, settingWords(*s))
		}
	}
	return strings.Join(parts, " · ")
}

func settingWords(s detect.Setting) string {
	return fmt.Sprintf("%s %s:%d %s", strings.ToUpper(string(s.Protocol)), s.Host, s.Port, detect.SecurityWords(s.Security))
}

// attention says in one line what keeps a client's settings from working, and the same
// as a note.
func attention(rep *detect.Report) (string, Note) {
	rec := rep.Recommended
	var refused, worked []string
	untrusted := map[string]bool{}
	for _, p := range rep.Probes {
		switch {
		case p.Verified:
			worked = appendOnce(worked, strings.ToUpper(string(p.Protocol)))
		case p.LoginAttempts > 0 && p.Status == detect.StatusAuthFailed:
			refused = appendOnce(refused, strings.ToUpper(string(p.Protocol)))
		case p.Status == detect.StatusUntrustedHost:
			untrusted[p.Host] = true
		}
	}
	switch {
	case len(worked) == 0 && len(refused) > 0:
		return "password refused by every server tried (" + strings.Join(refused, ", ") +
				"): a wrong password, or mail access is off for this mailbox",
			note(NotePasswordRefused, "protocols", strings.Join(refused, ", "))
	case len(worked) == 0 && len(untrusted) > 0:
		hosts := make([]string, 0, len(untrusted))
		for h := range untrusted {
			hosts = append(hosts, h)
		}
		slices.Sort(hosts)
		return "not logged in: no trusted source names " + strings.Join(hosts, ", ") + "; confirm them if they are the provider's",
			note(NoteUntrusted, "hosts", strings.Join(hosts, ", "))
	case rec.Incoming == nil && rec.Outgoing == nil:
		return "no working setting: " + failureWords(rep, nil), failureNote(NoteNoSetting, rep, nil)
	case rec.Incoming == nil:
		if len(refused) > 0 && len(worked) > 0 {
			return "the password works for " + strings.Join(worked, ", ") + ", but " + strings.Join(refused, ", ") + " refused it; no incoming setting",
				note(NoteNoIncomingRefused, "worked", strings.Join(worked, ", "), "refused", strings.Join(refused, ", "))
		}
		incoming := func(p detect.Protocol) bool { return p != detect.SMTP }
		return "no working incoming setting: " + failureWords(rep, incoming), failureNote(NoteNoIncoming, rep, incoming)
	case rec.Outgoing == nil:
		if len(refused) > 0 && len(worked) > 0 {
			return "the password works for " + strings.Join(worked, ", ") + ", but " + strings.Join(refused, ", ") + " refused it; no outgoing setting",
				note(NoteNoOutgoingRefused, "worked", strings.Join(worked, ", "), "refused", strings.Join(refused, ", "))
		}
		outgoing := func(p detect.Protocol) bool { return p == detect.SMTP }
		return "no working outgoing setting: " + failureWords(rep, outgoing), failureNote(NoteNoOutgoing, rep, outgoing)
	}
	return "login not verified", note(NoteNotVerified)
}

// failureWords is the diagnosis title of the most telling failure in one direction.
func failureWords(rep *detect.Report, dir func(detect.Protocol) bool) string {
	best := mostTelling(rep, dir)
	if best == nil {
		return "no server found for this domain"
	}
	return fmt.Sprintf("%s (%s %s:%d)", strings.TrimSuffix(best.Diagnosis.Title, "."), strings.ToUpper(string(best.Protocol)), best.Host, best.Port)
}

// mostTelling is the most telling failure in one direction (dir nil: both), or nil.
func mostTelling(rep *detect.Report, dir func(detect.Protocol) bool) *detect.ProbeResult {
	if dir == nil {
		return detect.MostTelling(rep.Probes, nil)
	}
	return detect.MostTelling(rep.Probes, func(p detect.ProbeResult) bool { return dir(p.Protocol) })
}

// differs says how a verified mailbox differs from the one whose matrix it shared: a
// service that refused this mailbox alone, another setting, another user name form;
// in one line and as one note per part of it.
func differs(rep, ref *detect.Report) (string, []Note) {
	if ref == nil {
		return "", nil
	}
	var notes []string
	var structured []Note
	add := func(s string, n Note) {
		if !slices.Contains(notes, s) {
			notes = append(notes, s)
			structured = append(structured, n)
		}
	}
	for _, p := range rep.Probes {
		if p.LoginAttempts > 0 && p.Status == detect.StatusAuthFailed && !p.Verified {
			add(fmt.Sprintf("%s %s:%d refused this mailbox's login", strings.ToUpper(string(p.Protocol)), p.Host, p.Port),
				note(NoteRefusedHere, "protocol", upper(p.Protocol), "host", p.Host, "port", strconv.Itoa(p.Port)))
		}
	}
	own, other := rep.Recommended, ref.Recommended
	for _, pair := range [][2]*detect.Setting{{own.Incoming, other.Incoming}, {own.Outgoing, other.Outgoing}} {
		a, b := pair[0], pair[1]
		if a == nil || b == nil || !b.Verified {
			continue
		}
		if a.Protocol != b.Protocol || !strings.EqualFold(a.Host, b.Host) || a.Port != b.Port || a.Security != b.Security {
			add("uses "+settingWords(*a)+" (the others: "+strings.Join(strings.Fields(settingWords(*b))[:2], " ")+")",
				note(NoteUses, "protocol", upper(a.Protocol), "host", a.Host, "port", strconv.Itoa(a.Port), "security", string(a.Security),
					"other_protocol", upper(b.Protocol), "other_host", b.Host, "other_port", strconv.Itoa(b.Port)))
		}
		if form(a.Username, rep.Address) != form(b.Username, ref.Address) {
			add(fmt.Sprintf("logs in to %s as %q", strings.ToUpper(string(a.Protocol)), a.Username),
				note(NoteLogsInAs, "protocol", upper(a.Protocol), "username", a.Username))
		}
	}
	return strings.Join(notes, "; "), structured
}

// form names a user name's form relative to its address.
func form(user, address string) string {
	switch {
	case strings.EqualFold(user, address):
		return "address"
	case strings.HasPrefix(address, user+"@"):
		return "local part"
	}
	return "other"
}

func appendOnce(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}
