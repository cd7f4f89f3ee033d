package detect

import (
	"fmt"
	"strconv"
	"strings"
)

// This file gives every English sentence the engine builds from data (the report's
// warnings, the network advice, the additions to a diagnosis) a structured twin: a
// Notice names the sentence by key and carries its values, so a front end that speaks
// another language renders it from its own catalog (i18n, key "notice.<key>") with the
// values in whatever order its grammar needs. The English sentences stay as they are
// for the JSON report and the command line.

// NoticeKey names one kind of sentence; keys are part of the JSON contract.
type NoticeKey string

// Notice keys. Args names the values each carries; "count" is a number that selects the
// plural form, every other value is shown as it is.
const (
	// Provider notes. Args: provider; url; count (MB, recipients, connections);
	// hour, day; extensions; provider_id, text (and index for other) for free text.
	NoticeAppPassword      NoticeKey = "provider_app_password"
	NoticeAppPasswordURL   NoticeKey = "provider_app_password_url"
	NoticeEnableInWeb      NoticeKey = "provider_enable_in_web"
	NoticeMaxMessage       NoticeKey = "provider_max_message"
	NoticeMaxRecipients    NoticeKey = "provider_max_recipients"
	NoticeSendPerHour      NoticeKey = "provider_send_per_hour"
	NoticeSendPerDay       NoticeKey = "provider_send_per_day"
	NoticeSendPerHourDay   NoticeKey = "provider_send_per_hour_day"
	NoticeMaxConnections   NoticeKey = "provider_max_connections"
	NoticeBlockedExt       NoticeKey = "provider_blocked_extensions"
	NoticeProviderOther    NoticeKey = "provider_other"
	NoticePort25Blocked    NoticeKey = "port25_blocked"
	NoticePort25Intercept  NoticeKey = "port25_intercepted"
	NoticeFailedLogins     NoticeKey = "failed_logins"        // host, count
	NoticeFailedLoginsCap  NoticeKey = "failed_logins_capped" // host, count
	NoticeNoPassword       NoticeKey = "no_password"
	NoticeOAuthNeeded      NoticeKey = "oauth_needed" // provider
	NoticeOAuthFailed      NoticeKey = "oauth_failed" // error (an oauth.Kind), words (English)
	NoticePOPBeforeSMTP    NoticeKey = "pop_before_smtp"
	NoticeRelayByNetwork   NoticeKey = "relay_by_network"
	NoticeOutgoingClear    NoticeKey = "outgoing_plaintext"
	NoticeNoOutgoing       NoticeKey = "no_outgoing"
	NoticeNoIncoming       NoticeKey = "no_incoming"
	NoticeCertFailed       NoticeKey = "cert_failed"     // host, problem, sha256
	NoticeUntrustedHosts   NoticeKey = "untrusted_hosts" // hosts, flags, count
	NoticeNetPort25Blocked NoticeKey = "network_port25_blocked"
	NoticeNetPort25Home    NoticeKey = "network_port25_no_login"
	NoticeNetPort25Interc  NoticeKey = "network_port25_intercepted"
	NoticeNetCaptive       NoticeKey = "network_captive_portal"
	NoticeNetWebOnly       NoticeKey = "network_web_only"
	// Additions to a diagnosis's explanation. Args: code (and enhanced); reason (a
	// trust.Reason) and via.
	NoticeServerCode         NoticeKey = "server_code"
	NoticeServerCodeEnhanced NoticeKey = "server_code_enhanced"
	NoticeTrustReason        NoticeKey = "trust_reason"
)

// Notice is one sentence in structured form: the English sentence beside it (in
// Report.Warnings, Network.Advice or a diagnosis's explanation) says the same.
type Notice struct {
	Key  NoticeKey         `json:"key"`
	Args map[string]string `json:"args,omitempty"`
}

// sentences collects English sentences and, at the same index, their notices.
type sentences struct {
	text    []string
	notices []Notice
}

// add appends one sentence and its notice; args are name, value pairs.
func (s *sentences) add(text string, key NoticeKey, args ...string) {
	s.text = append(s.text, text)
	s.notices = append(s.notices, notice(key, args...))
}

func (s *sentences) addAll(o sentences) {
	s.text = append(s.text, o.text...)
	s.notices = append(s.notices, o.notices...)
}

func notice(key NoticeKey, args ...string) Notice {
	n := Notice{Key: key}
	if len(args) > 1 {
		n.Args = make(map[string]string, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			n.Args[args[i]] = args[i+1]
		}
	}
	return n
}

// ProviderNotices are ProviderWarnings as notices, one per sentence; id is the
// provider's ID, which keys the translations of its free-text notes.
func ProviderNotices(id, name string, n ProviderNotes) []Notice {
	return providerSentences(id, name, n).notices
}

// NetworkNotices are Network.Advice as notices, one per sentence.
func NetworkNotices(n Network) []Notice {
	return networkSentences(n).notices
}

// providerSentences turns provider notes into sentences.
func providerSentences(id, name string, n ProviderNotes) sentences {
	var w sentences
	if n.AppPassword {
		s := name + " needs an app password when two-step verification is on"
		if n.AppPasswordURL != "" {
			w.add(s+": create one at "+n.AppPasswordURL+".", NoticeAppPasswordURL, "provider", name, "url", n.AppPasswordURL)
		} else {
			w.add(s+".", NoticeAppPassword, "provider", name)
		}
	}
	if n.EnableInWeb != "" {
		w.add(n.EnableInWeb, NoticeEnableInWeb, "provider", name, "provider_id", id, "text", n.EnableInWeb)
	}
	if n.MaxMessageMB > 0 {
		w.add(fmt.Sprintf("%s accepts messages up to %s MB.", name, thousands(n.MaxMessageMB)), NoticeMaxMessage, "provider", name, "count", strconv.Itoa(n.MaxMessageMB))
	}
	if n.MaxRecipients > 0 {
		w.add(fmt.Sprintf("%s allows at most %s recipients per message.", name, thousands(n.MaxRecipients)), NoticeMaxRecipients, "provider", name, "count", strconv.Itoa(n.MaxRecipients))
	}
	switch hour, day := strconv.Itoa(n.SendPerHour), strconv.Itoa(n.SendPerDay); {
	case n.SendPerHour > 0 && n.SendPerDay > 0:
		w.add(fmt.Sprintf("%s limits sending to about %s per hour, %s per day.", name, thousands(n.SendPerHour), thousands(n.SendPerDay)), NoticeSendPerHourDay, "provider", name, "hour", hour, "day", day)
	case n.SendPerHour > 0:
		w.add(fmt.Sprintf("%s limits sending to about %s per hour.", name, thousands(n.SendPerHour)), NoticeSendPerHour, "provider", name, "count", hour)
	case n.SendPerDay > 0:
		w.add(fmt.Sprintf("%s limits sending to about %s per day.", name, thousands(n.SendPerDay)), NoticeSendPerDay, "provider", name, "count", day)
	}
	if n.MaxConnections > 0 {
		w.add(fmt.Sprintf("%s allows %s simultaneous connections.", name, thousands(n.MaxConnections)), NoticeMaxConnections, "provider", name, "count", strconv.Itoa(n.MaxConnections))
	}
	if len(n.BlockedExt) > 0 {
		ext := strings.Join(n.BlockedExt, " ")
		w.add(fmt.Sprintf("%s blocks attachments of these types: %s.", name, ext), NoticeBlockedExt, "provider", name, "extensions", ext)
	}
	for i, o := range n.Other {
		w.add(o, NoticeProviderOther, "provider", name, "provider_id", id, "index", strconv.Itoa(i), "text", o)
	}
	return w
}

// thousands writes a quantity the English way, with a comma every three digits (10,000),
// as the i18n catalog's English does.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
