package i18n

import (
	"strconv"
	"strings"

	"github.com/mailsetup/mailsetup/detect"
)

// This file renders the engine's typed results in a language: a diagnosis from its Kind
// (and its notices), a trust decision from its reason, a report's warnings from their
// notices. The English catalog says exactly what the engine says (TestEnglishIsTheEngine),
// so the window, the sheet and the JSON report agree word for word in English.

// Words are a diagnosis's title, explanation and fix in one language.
type Words struct {
	Title       string
	Explanation string
	Fix         string
}

// KindWords are the words for a kind alone (an unknown kind gets the protocol-error words,
// as detect.WordsFor does).
func (l *Lang) KindWords(k detect.Kind) Words {
	key := "kind." + string(k)
	if !l.has(key + ".title") {
		key = "kind." + string(detect.KindProtocol)
	}
	return Words{Title: l.T(key + ".title"), Explanation: l.T(key + ".explanation"), Fix: l.T(key + ".fix")}
}

// Diagnosis renders a probe's diagnosis: the kind's words plus the sentences the engine
// added to the explanation (a server code, why a server is not trusted).
func (l *Lang) Diagnosis(d *detect.Diagnosis) Words {
	if d == nil {
		return l.KindWords(detect.KindOK)
	}
	w := l.KindWords(d.Kind)
	for _, n := range d.Notices {
		w.Explanation += " " + l.Notice(n)
	}
	return w
}

// TrustReason says why a server is or is not trusted with a login (a trust.Reason).
func (l *Lang) TrustReason(reason string) string {
	if key := "trust." + reason; l.has(key) {
		return l.T(key)
	}
	return l.T("trust.outside_domain")
}

// Notice renders one notice; a free-text provider note without a translation, or a
// notice this version does not know, is shown as the English text it carries.
func (l *Lang) Notice(n detect.Notice) string {
	a := n.Args
	switch n.Key {
	case detect.NoticeEnableInWeb:
		return l.providerText("note."+a["provider_id"]+".enable_in_web", a["text"])
	case detect.NoticeProviderOther:
		return l.providerText("note."+a["provider_id"]+".other."+a["index"], a["text"])
	case detect.NoticeTrustReason:
		why := l.TrustReason(a["reason"])
		if a["via"] == "" {
			return why
		}
		return l.T("notice.trust_reason", "why", why, "via", a["via"])
	case detect.NoticeOAuthFailed:
		return l.T("notice.oauth_failed", "words", l.OAuthError(a["error"], a["words"]))
	case detect.NoticeCertFailed:
		return l.T("notice.cert_failed", "host", a["host"], "problem", l.CertProblem(a["problem"]), "sha256", a["sha256"])
	}
	key := "notice." + string(n.Key)
	if !l.has(key) {
		return a["text"]
	}
	args := make([]any, 0, 2*len(a))
	for k, v := range a {
		if n, err := strconv.Atoi(v); err == nil && (k == "hour" || k == "day") {
			v = l.Int(n) // quantities, written the language's way (ports and codes stay as they are)
		}
		args = append(args, k, v)
	}
	if c, ok := a["count"]; ok {
		if count, err := strconv.Atoi(c); err == nil {
			return l.N(key, count, args...)
		}
	}
	return l.T(key, args...)
}

// Notices renders a list of notices; when they do not pair with the English sentences
// (a report from an older version has none), the English sentences are shown.
func (l *Lang) Notices(ns []detect.Notice, english []string) []string {
	if len(ns) != len(english) {
		return english
	}
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = l.Notice(n)
	}
	return out
}

func (l *Lang) providerText(key, english string) string {
	if l.has(key) && l.T(key) != "" {
		return l.T(key)
	}
	return english
}

// CertProblem names a certificate problem (detect.CertInfo.Problem).
func (l *Lang) CertProblem(p string) string {
	if key := "cert.problem." + p; l.has(key) {
		return l.T(key)
	}
	return strings.ReplaceAll(p, "_", " ")
}

// OAuthError says why signing in did not work, from the oauth.Kind; English keeps the
// engine's own words, which may name details (the domain, the server's message).
func (l *Lang) OAuthError(kind, english string) string {
	if l.code == English && english != "" {
		return english
	}
	if key := "oauth.error." + kind; l.has(key) {
		return l.T(key)
	}
	if english != "" {
		return english
	}
	return l.T("oauth.error.protocol_error")
}

// Security names a security mode the way mail programs' menus do in the language.
func (l *Lang) Security(s detect.Security) string {
	switch s {
	case detect.SecurityTLS:
		return "SSL/TLS"
	case detect.SecurityStartTLS:
		return "STARTTLS"
	}
	return l.T("security.none")
}

// Auth names a login method the way mail programs' menus do in the language.
func (l *Lang) Auth(a string) string {
	switch a {
	case "PLAIN", "LOGIN", "USER", "", "password-cleartext":
		return l.T("auth.normal")
	case "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "APOP":
		return l.T("auth.encrypted_mech", "mech", a)
	case "password-encrypted":
		return l.T("auth.encrypted")
	case detect.AuthNone:
		return l.T("auth.none")
	case detect.AuthOAuth2:
		return l.T("auth.oauth2")
	case detect.AuthPOPBeforeSMTP:
		return l.T("auth.pop_before_smtp")
	case "any":
		return l.T("auth.any")
	}
	return a
}

// Source names a discovery source (detect.Source*) for people.
func (l *Lang) Source(src string) string {
	switch src {
	case detect.SourceProviders:
		return l.T("source.providers")
	case detect.SourceISPDB:
		return l.T("source.ispdb")
	case detect.SourceAutoconfig:
		return l.T("source.autoconfig")
	case detect.SourceAutodiscover:
		return l.T("source.autodiscover")
	case detect.SourceSRV:
		return l.T("source.srv")
	case detect.SourceMX:
		return l.T("source.mx")
	case detect.SourceGuess:
		return l.T("source.guess")
	}
	return src
}

// Port25 names a port-25 verdict.
func (l *Lang) Port25(v detect.Port25Verdict) string {
	switch v {
	case detect.Port25Open:
		return l.T("network.port25_open")
	case detect.Port25Blocked:
		return l.T("network.port25_blocked")
	case detect.Port25Intercepted:
		return l.T("network.port25_intercepted")
	}
	return l.T("network.unknown")
}
