package detect

import (
	"strings"

	"github.com/mailsetup/mailsetup/detect/oauth"
	"github.com/mailsetup/mailsetup/detect/trust"
)

// This file holds the report: the data every front end (CLI, GUI, export) reads.
// Field names and JSON tags are a public contract (`mailsetup probe --json`).

// Protocol is a mail protocol the engine probes.
type Protocol string

// Protocols the engine knows.
const (
	SMTP Protocol = "smtp"
	IMAP Protocol = "imap"
	POP3 Protocol = "pop3"
)

// Security is how a connection is protected.
type Security string

// Security modes: implicit TLS, STARTTLS/STLS upgrade, or none.
const (
	SecurityTLS      Security = "tls"
	SecurityStartTLS Security = "starttls"
	SecurityNone     Security = "none"
)

// Status is the outcome of one probe (one protocol/host/port/security cell).
type Status string

// Probe statuses, exactly as they appear in the JSON report.
const (
	StatusOK               Status = "ok"
	StatusAuthFailed       Status = "auth_failed"
	StatusAuthUnavailable  Status = "auth_unavailable"
	StatusPlaintextRefused Status = "plaintext_refused"
	StatusTLSFailed        Status = "tls_failed"
	StatusCertInvalid      Status = "cert_invalid"
	StatusTimeout          Status = "timeout"
	StatusRefused          Status = "refused"
	StatusUnreachable      Status = "unreachable"
	StatusProtocolError    Status = "protocol_error"
	StatusDNSFailed        Status = "dns_failed"
	StatusSkipped          Status = "skipped"
	// StatusUntrustedHost: the server was reached without credentials; it gets a login
	// only after the user confirms it (--trust-host, the window's dialog).
	StatusUntrustedHost Status = "untrusted_host"
)

// Report is everything one run of the engine found.
type Report struct {
	Address      string           `json:"address"`
	Domain       string           `json:"domain"`
	Discovery    []SourceResult   `json:"discovery"`
	Probes       []ProbeResult    `json:"probes"`
	Network      Network          `json:"network"`
	Recommended  Recommendation   `json:"recommended"`
	Warnings     []string         `json:"warnings"`
	Provider     *ProviderSummary `json:"provider,omitempty"`
	SendTest     *SendTestResult  `json:"send_test,omitempty"`
	FailedLogins map[string]int   `json:"failed_logins,omitempty"`
	// Hosts says, for every server the sources named, whether it may receive a login and why.
	Hosts []HostTrust `json:"hosts"`
	// OAuth is the OAuth2 sign-in: the provider one can sign in with, whether that is
	// needed, and what happened (never the token); nil when the provider offers none.
	OAuth *OAuthReport `json:"oauth,omitempty"`
	Meta  ReportMeta   `json:"meta"`
	// Notices are the warnings in structured form, one per warning at the same index
	// (detect/notice.go), for front ends that speak other languages.
	Notices []Notice `json:"notices,omitempty"`
	// ran says Run or VerifyLogin made this report in this process (a report read from
	// a file has not: its sources' word cannot be taken again for another address).
	ran bool
}

// ReportMeta says when and how the report was made.
type ReportMeta struct {
	Version      string `json:"version,omitempty"`
	StartedAt    string `json:"started_at,omitempty"`
	ElapsedMS    int64  `json:"elapsed_ms"`
	PasswordUsed bool   `json:"password_used"`
	Plaintext    bool   `json:"allow_plaintext"`
}

// SourceResult is the outcome of one discovery source.
type SourceResult struct {
	Source    string      `json:"source"`
	Found     bool        `json:"found"`
	Detail    string      `json:"detail"`
	Error     string      `json:"error"`
	ElapsedMS int64       `json:"elapsed_ms"`
	Servers   []Candidate `json:"servers,omitempty"`
	// OAuth2 is the sign-in service the source's document names (clientConfig <oAuth2>).
	OAuth2 *OAuth2Hint `json:"oauth2,omitempty"`
}

// OAuth2Hint is a document's word on the authorization server: the issuer's host name,
// its endpoints and the scopes to ask for.
type OAuth2Hint struct {
	Issuer   string   `json:"issuer"`
	AuthURL  string   `json:"auth_url"`
	TokenURL string   `json:"token_url"`
	Scopes   []string `json:"scopes"`
	// origin is the document's trust origin: only a trusted document's hint is used.
	origin trust.Origin
}

// Candidate is one server a discovery source proposes.
type Candidate struct {
	Protocol Protocol `json:"protocol"`
	Host     string   `json:"host"`
	Port     int      `json:"port"`
	Security Security `json:"security"`
	// Username is the login name the source proposes, placeholders already expanded.
	Username string `json:"username,omitempty"`
	// Auth is the source's authentication hint (clientConfig words: password-cleartext, …).
	Auth   string `json:"auth,omitempty"`
	Source string `json:"source"`
	// Via says exactly where the source found it: the document's final URL, the DNS record.
	Via string `json:"via,omitempty"`
	// origin classifies the source for the trust decision.
	origin trust.Origin
}

// HostTrust is the trust decision on one server: whether it may receive a login (a
// password or a verifier of it), why, and which sources named it.
type HostTrust struct {
	Host    string `json:"host"`
	Trusted bool   `json:"trusted"`
	// Reason is a trust.Reason: user_confirmed, knowledge, own_domain, own_https_autoconfig,
	// online_database, or why not (plain_http_document, srv_outside_domain …).
	Reason string `json:"reason"`
	// Why is the reason in plain words.
	Why string `json:"why"`
	// Via is the document URL or DNS record the reason rests on.
	Via string `json:"via,omitempty"`
	// Sources are the discovery sources that named the host.
	Sources []string `json:"sources"`
}

// CertInfo summarises a server certificate.
type CertInfo struct {
	Subject  string   `json:"subject"`
	SANs     []string `json:"sans"`
	Issuer   string   `json:"issuer"`
	NotAfter string   `json:"not_after"`
	// Problem is empty for a valid certificate, else one of the CertProblem values.
	Problem string `json:"problem"`
	// SHA256 is the hex fingerprint of the leaf certificate.
	SHA256 string `json:"sha256,omitempty"`
}

// Diagnosis is the plain-words explanation of a probe outcome.
type Diagnosis struct {
	Kind        Kind   `json:"kind"`
	Title       string `json:"title"`
	Explanation string `json:"explanation"`
	Fix         string `json:"fix"`
	// Notices are the sentences added to the kind's explanation (a server code, why a
	// server is not trusted), in structured form and in the same order.
	Notices []Notice `json:"notices,omitempty"`
}

// ProbeResult is what one probe observed, also when it failed.
type ProbeResult struct {
	Protocol       Protocol   `json:"protocol"`
	Host           string     `json:"host"`
	Port           int        `json:"port"`
	Security       Security   `json:"security"`
	Status         Status     `json:"status"`
	AuthMechanisms []string   `json:"auth_mechanisms"`
	AuthUsed       string     `json:"auth_used"`
	UsernameUsed   string     `json:"username_used"`
	TLSVersion     string     `json:"tls_version"`
	Cert           *CertInfo  `json:"cert"`
	Banner         string     `json:"banner"`
	ElapsedMS      int64      `json:"elapsed_ms"`
	Diagnosis      *Diagnosis `json:"diagnosis"`
	Transcript     []string   `json:"transcript"`
	// Capabilities are the extensions the server listed (after TLS when TLS was used).
	Capabilities []string `json:"capabilities,omitempty"`
	// MaxSize is the SMTP SIZE limit in bytes, 0 when not announced.
	MaxSize int64 `json:"max_size,omitempty"`
	// Verified is true when a real login succeeded on this connection.
	Verified bool `json:"verified"`
	// Relay says what the server does with mail for an outside address without AUTH.
	Relay Relay `json:"relay,omitempty"`
	// LoginAttempts counts logins tried on this connection (successful or not).
	LoginAttempts int `json:"login_attempts,omitempty"`
	// Source names the discovery source that proposed the host.
	Source string `json:"source,omitempty"`
	// Error is the wrapped Go error text, for support staff.
	Error string `json:"error,omitempty"`
	// OAuthError is the server's decoded rejection of a sign-in token (RFC 7628 §3.2.2).
	OAuthError *oauth.Failure `json:"oauth_error,omitempty"`
}

// Network is what the engine knows about the network in front of it.
type Network struct {
	Port25         Port25Verdict        `json:"port25"`
	Port25Evidence []string             `json:"port25_evidence"`
	Outbound       map[string]PortState `json:"outbound"`
	CaptivePortal  *bool                `json:"captive_portal"`
	IPv6           string               `json:"ipv6"`
	LocalAddresses []string             `json:"local_addresses"`
	DNSServers     []string             `json:"dns_servers"`
	PublicIP       string               `json:"public_ip"`
	PublicName     string               `json:"public_name,omitempty"`
	Gateway        string               `json:"gateway,omitempty"`
	DNSWorks       string               `json:"dns_works,omitempty"`
	ElapsedMS      int64                `json:"elapsed_ms"`
	Advice         []string             `json:"advice,omitempty"`
}

// Setting is one recommended server setting.
type Setting struct {
	Protocol Protocol `json:"protocol"`
	Host     string   `json:"host"`
	Port     int      `json:"port"`
	Security Security `json:"security"`
	Auth     string   `json:"auth"`
	Username string   `json:"username"`
	Verified bool     `json:"verified"`
}

// Recommendation is the best outgoing and incoming setting, with alternatives.
type Recommendation struct {
	Outgoing     *Setting  `json:"outgoing"`
	Incoming     *Setting  `json:"incoming"`
	Alternatives []Setting `json:"alternatives"`
	Reasons      []string  `json:"reasons,omitempty"`
}

// ProviderSummary is the provider knowledge the report carries for exports and the GUI.
type ProviderSummary struct {
	ID    string        `json:"id"`
	Name  string        `json:"name"`
	Notes ProviderNotes `json:"notes"`
}

// SendTestResult is the outcome of the end-to-end send-and-find check.
type SendTestResult struct {
	MessageID string `json:"message_id"`
	Sent      bool   `json:"sent"`
	Found     bool   `json:"found"`
	RoundTrip int64  `json:"round_trip_ms"`
	StuckAt   string `json:"stuck_at,omitempty"`
	Error     string `json:"error,omitempty"`
}

// tellingRank orders statuses by how much a result tells a person, most first: a
// working setting, the server's own answer to the login, why nothing was tried there,
// the certificate, encryption refused, … down to a name that does not exist.
var tellingRank = map[Status]int{
	StatusOK: 0, StatusAuthFailed: 1, StatusUntrustedHost: 2, StatusCertInvalid: 3, StatusPlaintextRefused: 4,
	StatusAuthUnavailable: 5, StatusTLSFailed: 6, StatusProtocolError: 7, StatusTimeout: 8, StatusSkipped: 9,
	StatusUnreachable: 10, StatusRefused: 11, StatusDNSFailed: 12,
}

// Telling ranks a result by how much it tells a person (lower tells more; a verified
// login tells most). The window's cells, its "what went wrong" and a batch row's reason
// all pick results by it.
func Telling(p ProbeResult) int {
	if p.Verified {
		return -1
	}
	if r, ok := tellingRank[p.Status]; ok {
		return r
	}
	return len(tellingRank)
}

// MostTelling is the most telling failure among probes that keep accepts (nil: all):
// a result with a diagnosis and a status other than ok; nil when there is none. Of
// equally telling ones the first wins.
func MostTelling(probes []ProbeResult, keep func(ProbeResult) bool) *ProbeResult {
	var best *ProbeResult
	for i := range probes {
		p := &probes[i]
		if p.Status == StatusOK || p.Diagnosis == nil || keep != nil && !keep(*p) {
			continue
		}
		if best == nil || Telling(*p) < Telling(*best) {
			best = p
		}
	}
	return best
}

// Unvetted lists the servers a source named that were not trusted with a login and
// that a probe reached without one (status untrusted_host), in the report's order:
// the servers a user may confirm (--trust-host, the window's dialog).
func (r *Report) Unvetted() []HostTrust {
	var out []HostTrust
	for _, h := range r.Hosts {
		if h.Trusted {
			continue
		}
		for _, p := range r.Probes {
			if strings.EqualFold(p.Host, h.Host) && p.Status == StatusUntrustedHost {
				out = append(out, h)
				break
			}
		}
	}
	return out
}
