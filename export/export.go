// Package export writes proven mail settings in the formats mail programs import:
// an Apple configuration profile, a Thunderbird clientConfig and user.js, an Outlook
// Autodiscover file and the .reg that points Outlook at it, a printable settings sheet
// and plain text. Output is deterministic: exporting twice gives the same bytes.
package export

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mailsetup/mailsetup/detect"
)

// Formats are the export formats, in the order the CLI and GUI list them.
var Formats = []string{"apple", "thunderbird", "thunderbird-prefs", "outlook", "outlook-reg", "sheet", "text"}

// Extensions are the usual file name endings per format.
var Extensions = map[string]string{
	"apple": ".mobileconfig", "thunderbird": ".xml", "thunderbird-prefs": ".js", "outlook": ".xml",
	"outlook-reg": ".reg", "sheet": ".html", "text": ".txt",
}

// ErrNoSettings says the report has no recommended incoming or outgoing setting.
var ErrNoSettings = errors.New("export: the report has no working incoming and outgoing setting to export")

// Options shape an export.
type Options struct {
	// DisplayName is the account holder's name (From: display name); default the local part.
	DisplayName string
	// Organization names who prepared the profile (Apple PayloadOrganization, sheet footer).
	Organization string
	// VerifiedAt says when the settings were verified; the caller supplies it so output stays deterministic.
	VerifiedAt string
	// IncludePassword puts Password into the Apple profile only (never into other formats).
	IncludePassword bool
	Password        string
	// OutlookXMLPath is where the .reg tells Outlook to find the Autodiscover XML.
	OutlookXMLPath string
}

// Account is the exported account: the verified settings and what a user must know.
type Account struct {
	Address      string
	Local        string
	Domain       string
	DisplayName  string
	Organization string
	Incoming     detect.Setting
	Outgoing     detect.Setting
	Provider     *detect.ProviderSummary
	Port25       string
	Warnings     []string
	VerifiedAt   string
}

// FromReport builds the account from a probe report.
func FromReport(r *detect.Report, opts Options) (Account, error) {
	if r == nil || r.Recommended.Incoming == nil || r.Recommended.Outgoing == nil {
		return Account{}, ErrNoSettings
	}
	addr, err := detect.ParseAddress(r.Address)
	if err != nil {
		return Account{}, fmt.Errorf("export: report address: %w", err)
	}
	a := Account{
		Address: addr.String(), Local: addr.Local, Domain: addr.Domain,
		DisplayName: opts.DisplayName, Organization: opts.Organization,
		Incoming: *r.Recommended.Incoming, Outgoing: *r.Recommended.Outgoing,
		Provider: r.Provider, Port25: r.Network.Port25, Warnings: append([]string(nil), r.Warnings...),
		VerifiedAt: opts.VerifiedAt,
	}
	if a.DisplayName == "" {
		a.DisplayName = addr.Local
	}
	if a.Incoming.Username == "" {
		a.Incoming.Username = a.Address
	}
	if a.Outgoing.Username == "" && a.Outgoing.Auth != "none" {
		a.Outgoing.Username = a.Address
	}
	return a, nil
}

// Write writes acc in format to w and returns warnings for the user (e.g. a password
// was included). An unknown format is an error naming the valid ones.
func Write(format string, acc Account, opts Options, w io.Writer) ([]string, error) {
	switch format {
	case "apple":
		return writeApple(acc, opts, w)
	case "thunderbird":
		return nil, writeClientConfig(acc, w)
	case "thunderbird-prefs":
		return nil, writeUserJS(acc, w)
	case "outlook":
		return nil, writeAutodiscover(acc, w)
	case "outlook-reg":
		return nil, writeReg(acc, opts, w)
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
	return s.Auth != "none" && s.Auth != "pop-before-smtp"
}

// encryptedAuth reports whether the mechanism hides the password (CRAM-MD5, SCRAM, APOP).
func encryptedAuth(s detect.Setting) bool {
	switch strings.ToUpper(s.Auth) {
	case "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "APOP":
		return true
	}
	return false
}

// noteLines are the provider notes and the report's warnings, each once, in report order.
func noteLines(a Account) []string {
	var out []string
	if a.Provider != nil {
		out = append(out, detect.ProviderWarnings(a.Provider.Name, a.Provider.Notes)...)
	}
	seen := map[string]bool{}
	var uniq []string
	for _, s := range append(out, a.Warnings...) {
		if !seen[s] {
			seen[s] = true
			uniq = append(uniq, s)
		}
	}
	return uniq
}
