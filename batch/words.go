package batch

import (
	"strconv"
	"strings"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/i18n"
)

// This file says the batch's notes and settings in a language (the window's table and
// the summary the export writes); the English catalog says them word for word as
// Result.Reason and Result.Differs do.

// NoteWords says one of the notes in tr's language; rep is the row's report (its
// recommended settings), english what to show for a note this version does not know.
func NoteWords(tr *i18n.Lang, n Note, rep *detect.Report, english string) string {
	a := n.Args
	switch n.Key {
	case NoteNotChecked:
		return tr.T("batch.reason_not_checked")
	case NoteWaiting:
		return tr.T("batch.reason_waiting")
	case NoteWaitingFor:
		return tr.T("batch.reason_waiting_for", "domain", a["domain"])
	case NoteDiscovering:
		return tr.T("batch.reason_discovering", "domain", a["domain"])
	case NoteProbing:
		return tr.T("batch.reason_probing")
	case NoteVerifying:
		return tr.T("batch.reason_verifying", "domain", a["domain"])
	case NoteTaking:
		return tr.T("batch.reason_taking", "domain", a["domain"])
	case NoteCancelled:
		return tr.T("batch.reason_cancelled")
	case NoteSettings:
		if rep != nil {
			return SettingsWords(tr, rep)
		}
	case NoteNoPassword:
		if rep != nil {
			return tr.T("batch.reason_no_password", "settings", SettingsWords(tr, rep))
		}
	case NotePasswordRefused:
		return tr.T("batch.reason_password_refused", "protocols", a["protocols"])
	case NoteUntrusted:
		return tr.T("batch.reason_untrusted", "hosts", a["hosts"])
	case NoteNoSetting:
		return tr.T("batch.reason_no_setting", "failure", failureNoteWords(tr, a))
	case NoteNoIncoming:
		return tr.T("batch.reason_no_incoming", "failure", failureNoteWords(tr, a))
	case NoteNoOutgoing:
		return tr.T("batch.reason_no_outgoing", "failure", failureNoteWords(tr, a))
	case NoteNoIncomingRefused:
		return tr.T("batch.reason_no_incoming_refused", "worked", a["worked"], "refused", a["refused"])
	case NoteNoOutgoingRefused:
		return tr.T("batch.reason_no_outgoing_refused", "worked", a["worked"], "refused", a["refused"])
	case NoteNotVerified:
		return tr.T("batch.reason_not_verified")
	case NoteBadAddress:
		return tr.T("checking.bad_address", "error", a["error"])
	case NoteFailed:
		return tr.T("checking.failed", "error", a["error"])
	case NoteRefusedHere:
		return tr.T("batch.differs_refused", "protocol", a["protocol"], "host", a["host"], "port", a["port"])
	case NoteUses:
		return tr.T("batch.differs_uses", "protocol", a["protocol"], "host", a["host"], "port", a["port"],
			"security", tr.Security(detect.Security(a["security"])),
			"other_protocol", a["other_protocol"], "other_host", a["other_host"], "other_port", a["other_port"])
	case NoteLogsInAs:
		return tr.T("batch.differs_logs_in_as", "protocol", a["protocol"], "username", a["username"])
	case NoteColumns:
		if n, err := strconv.Atoi(a["columns"]); err == nil {
			return tr.N("batch.problem_columns", n)
		}
	case NoteNotAddress:
		return tr.T("batch.problem_not_address")
	case NoteControlChars:
		return tr.T("batch.problem_control_characters")
	case NoteListedTwice:
		return tr.T("batch.problem_listed_twice", "line", a["line"])
	}
	return english
}

// failureNoteWords names the most telling failure a note carries: its diagnosis title
// and where it happened.
func failureNoteWords(tr *i18n.Lang, a map[string]string) string {
	if a["kind"] == "" {
		return tr.T("batch.failure_none")
	}
	title := strings.TrimSuffix(tr.KindWords(detect.Kind(a["kind"])).Title, ".")
	return tr.T("batch.failure", "title", title, "protocol", a["protocol"], "host", a["host"], "port", a["port"])
}

// SettingsWords names a report's recommended settings in one line, in tr's language.
func SettingsWords(tr *i18n.Lang, rep *detect.Report) string {
	var parts []string
	for _, set := range []*detect.Setting{rep.Recommended.Incoming, rep.Recommended.Outgoing} {
		if set != nil {
			parts = append(parts, SettingWords(tr, *set))
		}
	}
	return strings.Join(parts, " · ")
}

// SettingWords names one setting ("IMAP imap.example.com:993 SSL/TLS") in tr's language.
func SettingWords(tr *i18n.Lang, s detect.Setting) string {
	return tr.T("batch.setting", "protocol", strings.ToUpper(string(s.Protocol)), "host", s.Host, "port", s.Port, "security", tr.Security(s.Security))
}

// ReasonWords says a row's reason (Result.Reason) in tr's language, from its note;
// a row of the list that cannot be checked names its line.
func ReasonWords(tr *i18n.Lang, c Client, r Result) string {
	if c.Problem != "" {
		return tr.T("batch.reason_line", "line", c.Line, "problem", NoteWords(tr, c.ProblemNote, nil, c.Problem))
	}
	return NoteWords(tr, r.Note, r.Report, r.Reason)
}

// DiffersWords says how a row differs from the others of its domain
// (Result.Differs) in tr's language.
func DiffersWords(tr *i18n.Lang, r Result) string {
	if len(r.DiffersNotes) == 0 {
		return r.Differs
	}
	parts := make([]string, len(r.DiffersNotes))
	for i, n := range r.DiffersNotes {
		parts[i] = NoteWords(tr, n, r.Report, r.Differs)
	}
	return strings.Join(parts, "; ")
}
