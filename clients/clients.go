// Package clients holds what every reader of a mail program's settings returns: the
// accounts a program (or a file the user opened) uses now, with their incoming and
// outgoing settings and the exact keys they were read from, so a fix can change only
// those keys. Passwords are never read.
package clients

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/mailsetup/mailsetup/detect"
)

// Client names the program or file format an account was read from.
type Client string

// The sources accounts come from.
const (
	Thunderbird  Client = "thunderbird"
	Outlook      Client = "outlook"
	Apple        Client = "apple"
	ClientConfig Client = "clientconfig"
	OutlookPRF   Client = "outlook-prf"
	Report       Client = "report"
	Manual       Client = "manual"
)

// Field names one part of a setting that a source stores under its own key.
type Field string

// The fields of a detect.Setting a source may hold.
const (
	FieldHost     Field = "host"
	FieldPort     Field = "port"
	FieldSecurity Field = "security"
	FieldAuth     Field = "auth"
	FieldUsername Field = "username"
	FieldProtocol Field = "protocol"
)

// Origin says where one setting was read: the file (or registry key) and, per field,
// the key that holds it there. A field without a key took the source's default.
type Origin struct {
	File string           `json:"file"`
	Keys map[Field]string `json:"keys,omitempty"`
}

// Account is one mail account as a program or file holds it now.
type Account struct {
	Client Client `json:"client"`
	// Name is the account's name as the program shows it.
	Name string `json:"name"`
	// Address is the sender address (may be empty when the source does not say).
	Address string `json:"address"`
	// Incoming and Outgoing are the current settings; nil when the source has none.
	Incoming *detect.Setting `json:"incoming"`
	Outgoing *detect.Setting `json:"outgoing"`
	// InOrigin and OutOrigin say where each setting was read.
	InOrigin  Origin `json:"incoming_origin"`
	OutOrigin Origin `json:"outgoing_origin"`
	// Profile is the Thunderbird profile folder the account lives in (empty otherwise).
	Profile string `json:"profile,omitempty"`
	// Notes are facts the reader wants the user to know (an OAuth2 account, an
	// assumed default, a signature that could not be checked).
	Notes []string `json:"notes,omitempty"`
}

// Label names the account for people: its address, else its name, else its server.
func (a Account) Label() string {
	switch {
	case a.Address != "" && a.Name != "" && !strings.Contains(a.Name, a.Address):
		return a.Name + " <" + a.Address + ">"
	case a.Address != "" && a.Name != "":
		return a.Name
	case a.Address != "":
		return a.Address
	case a.Name != "":
		return a.Name
	case a.Incoming != nil:
		return a.Incoming.Host
	case a.Outgoing != nil:
		return a.Outgoing.Host
	}
	return string(a.Client) + " account"
}

// ErrBadSetting is wrapped by every rejection of a setting read from a source.
var ErrBadSetting = errors.New("clients: unusable setting")

// ErrNoAccounts says a source held no mail account.
var ErrNoAccounts = errors.New("clients: no mail account found")

// Validate checks a setting read from a source: a protocol, a host name without
// control characters or spaces, a port in range, a security mode and a user name
// without control characters. It lower-cases the host in place.
func Validate(s *detect.Setting) error {
	if s == nil {
		return nil
	}
	switch s.Protocol {
	case detect.SMTP, detect.IMAP, detect.POP3:
	default:
		return fmt.Errorf("%w: protocol %q", ErrBadSetting, s.Protocol)
	}
	h := strings.TrimSuffix(strings.TrimSpace(s.Host), ".")
	if h == "" || len(h) > 253 {
		return fmt.Errorf("%w: host name %q", ErrBadSetting, s.Host)
	}
	for _, r := range h {
		if unicode.IsControl(r) || unicode.IsSpace(r) || strings.ContainsRune(`/\@"'<>`, r) {
			return fmt.Errorf("%w: host name %q has a forbidden character", ErrBadSetting, s.Host)
		}
	}
	s.Host = strings.ToLower(h)
	if s.Port < 1 || s.Port > 65535 {
		return fmt.Errorf("%w: port %d", ErrBadSetting, s.Port)
	}
	switch s.Security {
	case detect.SecurityTLS, detect.SecurityStartTLS, detect.SecurityNone:
	default:
		return fmt.Errorf("%w: security %q", ErrBadSetting, s.Security)
	}
	for _, r := range s.Username {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: user name has a control character", ErrBadSetting)
		}
	}
	if len(s.Username) > 320 {
		return fmt.Errorf("%w: user name too long", ErrBadSetting)
	}
	return nil
}

// ValidateAccount validates both settings of a and its address (when given).
func ValidateAccount(a *Account) error {
	if a.Incoming == nil && a.Outgoing == nil {
		return fmt.Errorf("%w: %s has neither an incoming nor an outgoing server", ErrBadSetting, a.Label())
	}
	if err := Validate(a.Incoming); err != nil {
		return fmt.Errorf("%s incoming: %w", a.Label(), err)
	}
	if err := Validate(a.Outgoing); err != nil {
		return fmt.Errorf("%s outgoing: %w", a.Label(), err)
	}
	if a.Incoming != nil && a.Incoming.Protocol == detect.SMTP {
		return fmt.Errorf("%w: %s: incoming server is SMTP", ErrBadSetting, a.Label())
	}
	if a.Outgoing != nil && a.Outgoing.Protocol != detect.SMTP {
		return fmt.Errorf("%w: %s: outgoing server is not SMTP", ErrBadSetting, a.Label())
	}
	for _, r := range a.Address + a.Name {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: %s: control character in the name or address", ErrBadSetting, a.Label())
		}
	}
	if a.Address != "" {
		addr, err := detect.ParseAddress(a.Address)
		if err != nil {
			return fmt.Errorf("%s: %w", a.Label(), err)
		}
		a.Address = addr.String()
	}
	return nil
}

// DefaultPort is the port a mail program uses when a source names none.
func DefaultPort(p detect.Protocol, sec detect.Security) int {
	tls := sec == detect.SecurityTLS
	switch p {
	case detect.SMTP:
		if tls {
			return 465
		}
		return 587
	case detect.IMAP:
		if tls {
			return 993
		}
		return 143
	default:
		if tls {
			return 995
		}
		return 110
	}
}

// ByAddress returns the accounts whose address (or, when none, user name) equals addr,
// case-insensitively.
func ByAddress(accts []Account, addr string) []Account {
	var out []Account
	for _, a := range accts {
		if strings.EqualFold(a.Address, addr) ||
			a.Address == "" && a.Incoming != nil && strings.EqualFold(a.Incoming.Username, addr) {
			out = append(out, a)
		}
	}
	return out
}
