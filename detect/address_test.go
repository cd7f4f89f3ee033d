package detect

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, wantWire, wantDisplay string
		bad                       bool
	}{
		{in: "me@example.com", wantWire: "me@example.com", wantDisplay: "me@example.com"},
		{in: "  Me.Name+tag@Example.COM ", wantWire: "Me.Name+tag@example.com", wantDisplay: "Me.Name+tag@example.com"},
		{in: "user@bücher.de", wantWire: "user@xn--bcher-kva.de", wantDisplay: "user@bücher.de"},
		{in: "ivan@почта.рф", wantWire: "ivan@xn--80a1acny.xn--p1ai", wantDisplay: "ivan@почта.рф"},
		{in: "me@example.com.", wantWire: "me@example.com", wantDisplay: "me@example.com"},
		{in: "", bad: true},
		{in: "plainname", bad: true},
		{in: "@example.com", bad: true},
		{in: "me@", bad: true},
		{in: "me@localhost", bad: true},
		{in: "me@@example.com", bad: true},
		{in: "Me <me@example.com>", bad: true},
		{in: "me@exa mple.com", bad: true},
		{in: "me@-example.com", bad: true},
		{in: "me@example..com", bad: true},
		{in: ".me@example.com", bad: true},
		{in: "me..you@example.com", bad: true},
		{in: "me@exam_ple.com", bad: true},
		{in: "a@" + string(make([]byte, 300)), bad: true},
	}
	for _, tt := range tests {
		got, err := ParseAddress(tt.in)
		if tt.bad {
			if err == nil || !errors.Is(err, ErrBadAddress) {
				t.Errorf("ParseAddress(%q) = %v, %v; want ErrBadAddress", tt.in, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAddress(%q): %v", tt.in, err)
			continue
		}
		if got.String() != tt.wantWire || got.Display() != tt.wantDisplay {
			t.Errorf("ParseAddress(%q) = %q / %q, want %q / %q", tt.in, got.String(), got.Display(), tt.wantWire, tt.wantDisplay)
		}
	}
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"me@example.com", "user@bücher.de", "@", "a@b", "x@-.", "\x00@\xff.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		if err != nil {
			return
		}
		// A parsed address parses again to itself.
		b, err := ParseAddress(a.String())
		if err != nil || b != a {
			t.Fatalf("round trip of %q: %+v, %v (first %+v)", s, b, err, a)
		}
	})
}

// Every refusal says what is wrong as a typed problem, so a front end words it without
// reading the English.
func TestParseAddressProblem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in     string
		want   AddressProblem
		domain string
	}{
		{"", AddressEmpty, ""},
		{"   ", AddressEmpty, ""},
		{"plainname", AddressForm, ""},
		{"@example.com", AddressForm, ""},
		{"me@", AddressForm, ""},
		{"Me <me@example.com>", AddressText, ""},
		{"me@exa mple.com", AddressText, ""},
		{"me\xff@example.com", AddressText, ""},
		{strings.Repeat("a", 65) + "@example.com", AddressTooLong, ""},
		{".me@example.com", AddressLocal, ""},
		{"me..you@example.com", AddressLocal, ""},
		{"me@localhost", AddressNoDot, "localhost"},
		{"me@-example.com", AddressDomain, ""},
		{"me@example..com", AddressDomain, ""},
	} {
		_, err := ParseAddress(tc.in)
		var ae *AddressError
		if !errors.As(err, &ae) || !errors.Is(err, ErrBadAddress) {
			t.Errorf("%q: %v is not an *AddressError wrapping ErrBadAddress", tc.in, err)
			continue
		}
		if ae.Problem != tc.want || ae.Domain != tc.domain {
			t.Errorf("%q: problem %q domain %q, want %q %q", tc.in, ae.Problem, ae.Domain, tc.want, tc.domain)
		}
	}
}
