package detect

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Address is a validated email address, normalised once at the boundary.
type Address struct {
	// Local is the part before @, as typed (case kept).
	Local string
	// Domain is the lower-case ASCII (punycode) domain used on the wire.
	Domain string
	// DomainUnicode is the domain for display.
	DomainUnicode string
}

// String returns the wire form local@ascii-domain.
func (a Address) String() string { return a.Local + "@" + a.Domain }

// Display returns local@unicode-domain for people.
func (a Address) Display() string { return a.Local + "@" + a.DomainUnicode }

var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false), idna.VerifyDNSLength(true))

// AddressProblem says what makes a text not an email address.
type AddressProblem string

// The problems ParseAddress reports.
const (
	AddressEmpty   AddressProblem = "empty"
	AddressForm    AddressProblem = "form"     // not name@domain
	AddressText    AddressProblem = "text"     // not UTF-8, or a character no address has
	AddressTooLong AddressProblem = "too_long" // the address or its local part
	AddressLocal   AddressProblem = "local"    // the part before @
	AddressNoDot   AddressProblem = "no_dot"   // the domain has no dot
	AddressDomain  AddressProblem = "domain"   // not a valid (internationalised) host name
)

// AddressError is ParseAddress's error: the problem and, for AddressNoDot, the domain
// as typed; it wraps ErrBadAddress.
type AddressError struct {
	Problem AddressProblem
	Domain  string
	detail  string
}

func (e *AddressError) Error() string { return ErrBadAddress.Error() + ": " + e.detail }

// Unwrap makes errors.Is(err, ErrBadAddress) hold.
func (e *AddressError) Unwrap() error { return ErrBadAddress }

func badAddress(p AddressProblem, detail string) error {
	return &AddressError{Problem: p, detail: detail}
}

// ParseAddress validates s as a bare email address (no display name) and normalises its
// domain; its error is an *AddressError.
func ParseAddress(s string) (Address, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Address{}, badAddress(AddressEmpty, "empty")
	}
	if !utf8.ValidString(s) {
		return Address{}, badAddress(AddressText, "not valid UTF-8 text")
	}
	if len(s) > 254 {
		return Address{}, badAddress(AddressTooLong, "longer than 254 characters")
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return Address{}, badAddress(AddressForm, fmt.Sprintf("%q needs the form name@domain", s))
	}
	local, domain := s[:at], s[at+1:]
	if strings.ContainsAny(s, " \t\r\n<>,;\"()[]\\") {
		return Address{}, badAddress(AddressText, fmt.Sprintf("%q contains characters an address cannot have", s))
	}
	if len(local) > 64 {
		return Address{}, badAddress(AddressTooLong, "the part before @ is longer than 64 characters")
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return Address{}, badAddress(AddressLocal, fmt.Sprintf("%q has a misplaced dot before @", s))
	}
	ascii, err := idnaProfile.ToASCII(strings.TrimSuffix(domain, "."))
	if err != nil {
		return Address{}, badAddress(AddressDomain, fmt.Sprintf("domain %q: %v", domain, err))
	}
	ascii = strings.ToLower(ascii)
	if !strings.Contains(ascii, ".") {
		return Address{}, &AddressError{Problem: AddressNoDot, Domain: domain, detail: fmt.Sprintf("domain %q has no dot", domain)}
	}
	for _, label := range strings.Split(ascii, ".") {
		if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return Address{}, badAddress(AddressDomain, fmt.Sprintf("domain %q is not a valid host name", domain))
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return Address{}, badAddress(AddressDomain, fmt.Sprintf("domain %q is not a valid host name", domain))
			}
		}
	}
	uni, err := idna.ToUnicode(ascii)
	if err != nil {
		uni = ascii
	}
	// net/mail checks the local part's syntax (dot-atom, or UTF-8 per RFC 6532).
	if _, err := mail.ParseAddress(local + "@" + ascii); err != nil {
		return Address{}, badAddress(AddressLocal, fmt.Sprintf("%q: %v", s, err))
	}
	return Address{Local: local, Domain: ascii, DomainUnicode: uni}, nil
}
