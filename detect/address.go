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

// ParseAddress validates s as a bare email address (no display name) and normalises its domain.
func ParseAddress(s string) (Address, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Address{}, fmt.Errorf("%w: empty", ErrBadAddress)
	}
	if !utf8.ValidString(s) {
		return Address{}, fmt.Errorf("%w: not valid UTF-8 text", ErrBadAddress)
	}
	if len(s) > 254 {
		return Address{}, fmt.Errorf("%w: longer than 254 characters", ErrBadAddress)
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return Address{}, fmt.Errorf("%w: %q needs the form name@domain", ErrBadAddress, s)
	}
	local, domain := s[:at], s[at+1:]
	if strings.ContainsAny(s, " \t\r\n<>,;\"()[]\\") {
		return Address{}, fmt.Errorf("%w: %q contains characters an address cannot have", ErrBadAddress, s)
	}
	if len(local) > 64 {
		return Address{}, fmt.Errorf("%w: the part before @ is longer than 64 characters", ErrBadAddress)
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return Address{}, fmt.Errorf("%w: %q has a misplaced dot before @", ErrBadAddress, s)
	}
	ascii, err := idnaProfile.ToASCII(strings.TrimSuffix(domain, "."))
	if err != nil {
		return Address{}, fmt.Errorf("%w: domain %q: %v", ErrBadAddress, domain, err)
	}
	ascii = strings.ToLower(ascii)
	if !strings.Contains(ascii, ".") {
		return Address{}, fmt.Errorf("%w: domain %q has no dot", ErrBadAddress, domain)
	}
	for _, label := range strings.Split(ascii, ".") {
		if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return Address{}, fmt.Errorf("%w: domain %q is not a valid host name", ErrBadAddress, domain)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return Address{}, fmt.Errorf("%w: domain %q is not a valid host name", ErrBadAddress, domain)
			}
		}
	}
	uni, err := idna.ToUnicode(ascii)
	if err != nil {
		uni = ascii
	}
	// net/mail checks the local part's syntax (dot-atom, or UTF-8 per RFC 6532).
	if _, err := mail.ParseAddress(local + "@" + ascii); err != nil {
		return Address{}, fmt.Errorf("%w: %q: %v", ErrBadAddress, s, err)
	}
	return Address{Local: local, Domain: ascii, DomainUnicode: uni}, nil
}
