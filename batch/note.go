package batch

import (
	"errors"
	"strconv"
	"strings"

	"github.com/mailsetup/mailsetup/detect"
)

// NoteKey names one of the sentences a row's Reason, Differs or Problem is made of.
type NoteKey string

// Note is one English sentence of a row (Result.Reason, a part of Result.Differs,
// Client.Problem) in structured form: its key and the values it names, so a window in
// another language says the same thing in its own words. Protocols are written upper
// case ("IMAP"), lists of them or of hosts joined by ", ", ports in decimal; "kind" is a
// detect.Kind and "security" a detect.Security.
type Note struct {
	Key  NoteKey
	Args map[string]string
}

// The notes, with the values each names.
const (
	// NoteNotChecked: a loaded row no check has reached yet (a window's own).
	NoteNotChecked NoteKey = "not_checked"
	// NoteWaiting: the row waits for a check to start.
	NoteWaiting NoteKey = "waiting"
	// NoteWaitingFor: the row waits for its group's whole check; "domain" is checked.
	NoteWaitingFor NoteKey = "waiting_for"
	// NoteDiscovering: looking for the servers of "domain".
	NoteDiscovering NoteKey = "discovering"
	// NoteProbing: the whole check tries every port, encryption and login.
	NoteProbing NoteKey = "probing"
	// NoteVerifying: logging in on the settings found for "domain".
	NoteVerifying NoteKey = "verifying"
	// NoteTaking: no password, so the settings found for "domain" are taken.
	NoteTaking NoteKey = "taking"
	// NoteCancelled: the check ended before the row was done.
	NoteCancelled NoteKey = "cancelled"

	// NoteSettings: verified; the settings are the report's Recommended.
	NoteSettings NoteKey = "settings"
	// NoteNoPassword: settings found (the report's Recommended), no login tested.
	NoteNoPassword NoteKey = "no_password"
	// NotePasswordRefused: every server tried ("protocols") refused the password.
	NotePasswordRefused NoteKey = "password_refused"
	// NoteUntrusted: no trusted source names "hosts", so no login was made.
	NoteUntrusted NoteKey = "untrusted"
	// NoteNoSetting, NoteNoIncoming, NoteNoOutgoing: nothing works (in one direction);
	// the most telling failure is "kind" at "protocol" "host":"port" (no "kind": no
	// server was found).
	NoteNoSetting  NoteKey = "no_setting"
	NoteNoIncoming NoteKey = "no_incoming"
	NoteNoOutgoing NoteKey = "no_outgoing"
	// NoteNoIncomingRefused, NoteNoOutgoingRefused: the password works for "worked" but
	// "refused" refused it, so one direction has no setting.
	NoteNoIncomingRefused NoteKey = "no_incoming_refused"
	NoteNoOutgoingRefused NoteKey = "no_outgoing_refused"
	// NoteNotVerified: settings found, but the login was not proven.
	NoteNotVerified NoteKey = "not_verified"
	// NoteBadAddress, NoteFailed: the engine refused its input; "error" is its English.
	NoteBadAddress NoteKey = "bad_address"
	NoteFailed     NoteKey = "failed"

	// NoteRefusedHere (Differs): "protocol" "host":"port" refused this mailbox's login.
	NoteRefusedHere NoteKey = "refused_here"
	// NoteUses (Differs): this mailbox uses "protocol" "host":"port" "security"; the
	// others "other_protocol" "other_host":"other_port".
	NoteUses NoteKey = "uses"
	// NoteLogsInAs (Differs): this mailbox logs in to "protocol" as "username".
	NoteLogsInAs NoteKey = "logs_in_as"

	// NoteColumns (Problem): the row has "columns" columns.
	NoteColumns NoteKey = "columns"
	// NoteNotAddress (Problem): the first column is not an email address.
	NoteNotAddress NoteKey = "not_address"
	// NoteControlChars (Problem): the name contains control characters.
	NoteControlChars NoteKey = "control_characters"
	// NoteListedTwice (Problem): the address is listed on "line" already.
	NoteListedTwice NoteKey = "listed_twice"
)

func note(key NoteKey, args ...string) Note {
	n := Note{Key: key, Args: map[string]string{}}
	for i := 0; i+1 < len(args); i += 2 {
		n.Args[args[i]] = args[i+1]
	}
	return n
}

// errorNote is the note of an engine error.
func errorNote(err error) Note {
	if errors.Is(err, detect.ErrBadAddress) {
		return note(NoteBadAddress, "error", err.Error())
	}
	return note(NoteFailed, "error", err.Error())
}

// failureNote is the note of a direction without setting, its failure in its args
// (failureWords says the same in English).
func failureNote(key NoteKey, rep *detect.Report, dir func(detect.Protocol) bool) Note {
	best := mostTelling(rep, dir)
	if best == nil {
		return note(key)
	}
	return note(key, "kind", string(best.Diagnosis.Kind), "protocol", upper(best.Protocol), "host", best.Host, "port", strconv.Itoa(best.Port))
}

func upper(p detect.Protocol) string { return strings.ToUpper(string(p)) }
