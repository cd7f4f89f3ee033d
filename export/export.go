// Package export writes proven mail settings in the formats mail programs import:
// an Apple configuration profile (optionally signed), a Thunderbird clientConfig and
// user.js, Outlook's Autodiscover file with the .reg that points Outlook at it, an
// Outlook profile file (.prf) with the .cmd that imports it, a settings sheet for the
// new Outlook for Windows, a printable settings sheet and plain text. Output is
// deterministic: exporting twice gives the same bytes (a signed profile excepted).
package export

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/mailsetup/mailsetup/detect"
	"github.com/mailsetup/mailsetup/i18n"
)

// Formats are the export formats, in the order the CLI and GUI list them.
var Formats = []string{"apple", "thunderbird", "thunderbird-prefs", "outlook-prf", "outlook-prf-cmd",
	"outlook", "outlook-reg", "outlook-new", "sheet", "text"}

// Extensions are the usual file name endings per format.
var Extensions = map[string]string{
	"apple": ".mobileconfig", "thunderbird": ".xml", "thunderbird-prefs": ".js",
	"outlook-prf": ".prf", "outlook-prf-cmd": ".cmd", "outlook": ".xml", "outlook-reg": ".reg",
	"outlook-new": ".html", "sheet": ".html", "text": ".txt",
}

// Labels name each format for people (the window's export buttons).
var Labels = map[string]string{
	"apple": "Apple Mail profile", "thunderbird": "Thunderbird (autoconfig)", "thunderbird-prefs": "Thunderbird (user.js)",
	"outlook-prf": "Outlook profile (.prf)", "outlook-prf-cmd": "Outlook .prf installer (.cmd)",
	"outlook": "Outlook Autodiscover XML", "outlook-reg": "Outlook .reg (local XML)",
	"outlook-new": "New Outlook sheet", "sheet": "Settings sheet", "text": "Text",
}

// ErrNoSettings says the report has no recommended incoming or outgoing setting.
var ErrNoSettings = errors.New("export: the report has no working incoming and outgoing setting to export")

// InvalidError says a report holds a value no mail program can be given (e.g. a report
// read with --in that was edited by hand).
type InvalidError struct {
	Field  string
	Value  string
	Reason string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("export: report %s %q: %s", e.Field, e.Value, e.Reason)
}

// Options shape an export.
type Options struct {
	// DisplayName is the account holder's name (From: display name); default the local part.
	DisplayName string
	// Organization names who prepared the profile (Apple PayloadOrganization, sheet footer).
	Organization string
	// VerifiedAt says when the settings were verified; the caller supplies it so output stays deterministic.
	VerifiedAt string
	// OutlookXMLPath is where the .reg tells Outlook to find the Autodiscover XML.
	OutlookXMLPath string
	// Signer, when set, signs the Apple profile (CMS SignedData) so devices show who made it.
	Signer *Signer
	// PreparedBy names the person who prepared the settings (a consultant's branding:
	// the settings sheet's footer and the Apple profile's description).
	PreparedBy string
	// Contact is one line saying how to reach whoever prepared the settings.
	Contact string
	// Logo is a PNG, JPEG or GIF image (at most MaxLogoBytes) for the settings sheet's header.
	Logo []byte
	// Language is the language of the settings sheet and the text export (an i18n code:
	// en, ru, de, fr, es, pt-BR); empty or unknown means English. The files for mail
	// programs are the same in every language.
	Language string
}

// MaxLogoBytes caps a branding logo: it is embedded in every settings sheet.
const MaxLogoBytes = 512 << 10

// LogoType returns the MIME type of a branding logo, or an error when it is not a PNG,
// JPEG or GIF image or is larger than MaxLogoBytes.
func LogoType(logo []byte) (string, error) {
	if len(logo) > MaxLogoBytes {
		return "", &InvalidError{Field: "logo", Value: fmt.Sprintf("%d bytes", len(logo)), Reason: fmt.Sprintf("larger than %d KiB", MaxLogoBytes>>10)}
	}
	switch t := http.DetectContentType(logo); t {
	case "image/png", "image/jpeg", "image/gif":
		return t, nil
	}
	return "", &InvalidError{Field: "logo", Value: fmt.Sprintf("%d bytes", len(logo)), Reason: "not a PNG, JPEG or GIF image"}
}

// Account is the exported account: the verified settings and what a user must know.
type Account struct {
	Address       string
	Local         string
	Domain        string
	DomainUnicode string
	DisplayName   string
	Organization  string
	// PreparedBy, Contact and Logo are the branding of Options, checked.
	PreparedBy string
	Contact    string
	Logo       []byte
	Incoming   detect.Setting
	Outgoing   detect.Setting
	// IncomingOffered and OutgoingOffered are the login mechanisms the server offered on
	// the recommended port (nil when the report does not say).
	IncomingOffered []string
	OutgoingOffered []string
	Provider        *detect.ProviderSummary
	Port25          detect.Port25Verdict
	Warnings        []string
	// Notices are the warnings in structured form (detect.Report.Notices), so the sheet
	// and the text can say them in another language.
	Notices    []detect.Notice
	VerifiedAt string
	// Language is Options.Language.
	Language string
}

// FromReport builds the account from a probe report, refusing values that no mail
// program can be given (host names, ports, security modes, control characters).
func FromReport(r *detect.Report, opts Options) (Account, error) {
	if r == nil || r.Recommended.Incoming == nil || r.Recommended.Outgoing == nil {
		return Account{}, ErrNoSettings
	}
	addr, err := detect.ParseAddress(r.Address)
	if err != nil {
		return Account{}, fmt.Errorf("export: report address: %w", err)
	}
	if err := checkText("address", addr.String()); err != nil {
		return Account{}, err
	}
	a := Account{
		Address: addr.String(), Local: addr.Local, Domain: addr.Domain, DomainUnicode: addr.DomainUnicode,
		DisplayName: cleanLabel(opts.DisplayName), Organization: cleanLabel(opts.Organization),
		Incoming: *r.Recommended.Incoming, Outgoing: *r.Recommended.Outgoing,
		Provider: r.Provider, Port25: r.Network.Port25, VerifiedAt: cleanLabel(opts.VerifiedAt),
		Language: opts.Language,
	}
	for _, w := range r.Warnings {
		a.Warnings = append(a.Warnings, cleanLabel(w))
	}
	a.PreparedBy, a.Contact = cleanLabel(opts.PreparedBy), cleanLabel(opts.Contact)
	if len(opts.Logo) > 0 {
		if _, err := LogoType(opts.Logo); err != nil {
			return Account{}, err
		}
		a.Logo = opts.Logo
	}
	if len(r.Notices) == len(r.Warnings) {
		a.Notices = r.Notices
	}
	if a.Provider != nil {
		p := *a.Provider
		p.Name = cleanLabel(p.Name)
		a.Provider = &p
	}
	if a.DisplayName == "" {
		a.DisplayName = addr.Local
	}
	if a.Incoming.Username == "" {
		a.Incoming.Username = a.Address
	}
	if a.Outgoing.Username == "" && passwordAuth(a.Outgoing) {
		a.Outgoing.Username = a.Incoming.Username
	}
	if err := checkSetting("incoming", &a.Incoming, []detect.Protocol{detect.IMAP, detect.POP3}); err != nil {
		return Account{}, err
	}
	if err := checkSetting("outgoing", &a.Outgoing, []detect.Protocol{detect.SMTP}); err != nil {
		return Account{}, err
	}
	if !passwordAuth(a.Incoming) {
		return Account{}, &InvalidError{Field: "incoming auth", Value: a.Incoming.Auth, Reason: "an incoming server always needs a login"}
	}
	if a.Outgoing.Auth == detect.AuthPOPBeforeSMTP && a.Incoming.Protocol != detect.POP3 {
		return Account{}, &InvalidError{Field: "outgoing auth", Value: a.Outgoing.Auth, Reason: "POP before SMTP needs a POP3 incoming server"}
	}
	a.IncomingOffered = offeredFor(r, a.Incoming)
	a.OutgoingOffered = offeredFor(r, a.Outgoing)
	return a, nil
}

// checkSetting normalises one setting (host to ASCII) and refuses what no client accepts.
func checkSetting(role string, s *detect.Setting, protos []detect.Protocol) error {
	if !slices.Contains(protos, s.Protocol) {
		return &InvalidError{Field: role + " protocol", Value: string(s.Protocol), Reason: "not a protocol for this role"}
	}
	host, err := cleanHost(s.Host)
	if err != nil {
		return &InvalidError{Field: role + " host", Value: s.Host, Reason: err.Error()}
	}
	s.Host = host
	if s.Port < 1 || s.Port > 65535 {
		return &InvalidError{Field: role + " port", Value: fmt.Sprint(s.Port), Reason: "ports run from 1 to 65535"}
	}
	switch s.Security {
	case detect.SecurityTLS, detect.SecurityStartTLS, detect.SecurityNone:
	default:
		return &InvalidError{Field: role + " security", Value: string(s.Security), Reason: "want tls, starttls or none"}
	}
	if err := checkText(role+" user name", s.Username); err != nil {
		return err
	}
	if err := checkText(role+" auth", s.Auth); err != nil {
		return err
	}
	if len(s.Username) > 320 {
		return &InvalidError{Field: role + " user name", Value: s.Username[:40], Reason: "longer than 320 bytes"}
	}
	if len(s.Auth) > 64 {
		return &InvalidError{Field: role + " auth", Value: s.Auth[:40], Reason: "longer than 64 bytes"}
	}
	return nil
}

// cleanHost returns the ASCII host name, or an error when it is neither a DNS name nor an IP address.
func cleanHost(h string) (string, error) {
	h = strings.TrimSuffix(strings.TrimSpace(h), ".")
	if h == "" {
		return "", errors.New("empty host name")
	}
	if ip, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return ip.String(), nil
	}
	ascii, err := idna.Lookup.ToASCII(h)
	if err != nil {
		return "", fmt.Errorf("not a host name: %w", err)
	}
	ascii = strings.ToLower(ascii)
	if len(ascii) > 253 {
		return "", errors.New("host name longer than 253 characters")
	}
	for _, label := range strings.Split(ascii, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return "", errors.New("not a host name")
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", errors.New("not a host name")
			}
		}
	}
	return ascii, nil
}

// checkText refuses values with control characters or invalid UTF-8, which no client
// format can carry faithfully (a NUL ends a Mozilla prefs file, a line break a .prf line).
func checkText(field, v string) error {
	if !utf8.ValidString(v) {
		return &InvalidError{Field: field, Value: v, Reason: "not valid UTF-8"}
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return &InvalidError{Field: field, Value: v, Reason: "contains control characters"}
	}
	return nil
}

// cleanLabel turns control characters and invalid UTF-8 in a label into spaces.
func cleanLabel(s string) string {
	s = strings.ToValidUTF8(s, " ")
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

// offeredFor returns the mechanisms the matching probe saw, or nil when the report has
// no such probe (the client value then rests on the verified mechanism alone).
func offeredFor(r *detect.Report, s detect.Setting) []string {
	for _, p := range r.Probes {
		if p.Protocol == s.Protocol && strings.EqualFold(p.Host, s.Host) && p.Port == s.Port && p.Security == s.Security && p.Status == detect.StatusOK {
			out := []string{}
			for _, m := range p.AuthMechanisms {
				out = append(out, normMech(m))
			}
			return out
		}
	}
	return nil
}

// Write writes acc in format to w and returns warnings for the user (e.g. a login the
// client does differently). An unknown format is an error naming the valid ones; a
// login the client cannot do is an *UnsupportedError.
func Write(format string, acc Account, opts Options, w io.Writer) ([]string, error) {
	switch format {
	case "apple":
		return writeApple(acc, opts, w)
	case "thunderbird":
		return writeClientConfig(acc, w)
	case "thunderbird-prefs":
		return writeUserJS(acc, w)
	case "outlook":
		return writeAutodiscover(acc, w)
	case "outlook-reg":
		return writeReg(acc, opts, w)
	case "outlook-prf":
		return writePRF(acc, w)
	case "outlook-prf-cmd":
		return writePRFCmd(acc, w)
	case "outlook-new":
		return writeNewOutlook(acc, w)
	case "sheet":
		return nil, writeSheet(acc, w)
	case "text":
		return nil, writeText(acc, w)
	}
	return nil, fmt.Errorf("export: unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// derivedUUID makes a stable RFC 4122 UUID (version 5 layout) from the given parts, so
// the same account always gets the same identifiers.
func derivedUUID(parts ...string) string {
	h := sha256.Sum256([]byte("mailsetup\x00" + strings.Join(parts, "\x00")))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// securityWords names a security mode for people.
func securityWords(s detect.Security) string { return detect.SecurityWords(s) }

// passwordAuth reports whether the setting logs in with a password at all.
func passwordAuth(s detect.Setting) bool {
	return s.Auth != detect.AuthNone && s.Auth != detect.AuthPOPBeforeSMTP
}

// samePassword reports whether one password serves both servers: proven when both
// logins were verified (a run uses one password), assumed when the user names match.
func samePassword(a Account) bool {
	if !passwordAuth(a.Outgoing) || !passwordAuth(a.Incoming) {
		return false
	}
	return a.Incoming.Verified && a.Outgoing.Verified || a.Outgoing.Username == a.Incoming.Username
}

// noteLines are the provider notes and the report's warnings in l's language, each
// once, in report order.
func noteLines(a Account, l *i18n.Lang) []string {
	var out []string
	if a.Provider != nil {
		out = append(out, l.Notices(detect.ProviderNotices(a.Provider.ID, a.Provider.Name, a.Provider.Notes),
			detect.ProviderWarnings(a.Provider.Name, a.Provider.Notes))...)
	}
	seen := map[string]bool{}
	var uniq []string
	for _, s := range append(out, l.Notices(a.Notices, a.Warnings)...) {
		s = cleanLabel(s)
		if s != "" && !seen[s] {
			seen[s] = true
			uniq = append(uniq, s)
		}
	}
	return uniq
}

// loginNotes collects the choice notes of both servers for the user, each once.
func loginNotes(choices ...loginChoice) []string {
	var out []string
	for _, c := range choices {
		if c.Note != "" && !slices.Contains(out, c.Note) {
			out = append(out, c.Note)
		}
	}
	return out
}

// bothLogins asks the table for a client's value for each server.
func bothLogins(c client, format string, a Account) (in, out loginChoice, err error) {
	if in, err = chooseLogin(c, format, a.Incoming, a.IncomingOffered); err != nil {
		return in, out, err
	}
	out, err = chooseLogin(c, format, a.Outgoing, a.OutgoingOffered)
	return in, out, err
}

// clearTextWarning says when a chosen login sends the password over an unencrypted connection.
func clearTextWarning(role string, s detect.Setting, ch loginChoice) string {
	if ch.Row != nil && ch.Row.RevealsPassword && s.Security == detect.SecurityNone {
		return fmt.Sprintf("The %s server login sends the password unencrypted (%s port %d has no TLS).", role, s.Host, s.Port)
	}
	return ""
}
