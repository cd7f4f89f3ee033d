package outlook

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/mailsetup/mailsetup/clients"
)

// Registry value types, as Windows numbers them (hex(N) in a .reg file).
const (
	RegSZ       = 1
	RegExpandSZ = 2
	RegBinary   = 3
	RegDword    = 4
	RegMultiSZ  = 7
	RegQword    = 11
)

// Value is one registry value: its type and raw bytes as the registry stores them
// (strings as UTF-16LE with a terminating NUL).
type Value struct {
	Type uint32
	Data []byte
}

// Key is one registry key with its values by name ("" is the default value).
type Key struct {
	Path   string
	Values map[string]Value
}

// ErrNotReg says the data is not a .reg export.
var ErrNotReg = errors.New("outlook: not a .reg file (no REGEDIT4 or \"Windows Registry Editor Version 5.00\" header)")

// maxRegFile caps a .reg file; an exported Outlook profile is a few hundred KiB.
const maxRegFile = 64 << 20

// ParseReg reads a registry export: REGEDIT4 (ANSI, hex(2) strings in the ANSI code
// page) or "Windows Registry Editor Version 5.00" (UTF-16LE with a byte-order mark,
// or UTF-8), with "name"="string", dword:, hex:, hex(N): values, @ for the default
// value, backslash line continuations and ; comments. Deletions ([-KEY], "name"=-)
// are skipped: they hold no settings.
func ParseReg(data []byte) ([]Key, error) {
	if len(data) > maxRegFile {
		return nil, fmt.Errorf("outlook: .reg file too large (%d bytes)", len(data))
	}
	text, unicodeFile, err := regText(data)
	if err != nil {
		return nil, err
	}
	lines := joinContinuations(strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n"))
	var keys []Key
	var cur *Key
	for n, line := range lines {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[-"):
			cur = nil
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			keys = append(keys, Key{Path: line[1 : len(line)-1], Values: map[string]Value{}})
			cur = &keys[len(keys)-1]
		case cur == nil:
			// values outside a key (or under a deleted one) are ignored, as regedit does
		default:
			name, rest, err := valueName(line)
			if err != nil {
				return nil, fmt.Errorf("outlook: .reg line %d: %w", n+1, err)
			}
			if rest == "-" {
				continue
			}
			v, err := parseRegValue(rest, unicodeFile)
			if err != nil {
				return nil, fmt.Errorf("outlook: .reg line %d (%s): %w", n+1, name, err)
			}
			cur.Values[name] = v
		}
	}
	return keys, nil
}

// regText decodes the file and checks its header; unicodeFile tells how hex(2)/hex(7)
// strings are encoded (UTF-16LE in version 5 files, ANSI in REGEDIT4).
func regText(data []byte) (string, bool, error) {
	var text string
	switch {
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}):
		b := data[2:]
		if len(b)%2 == 1 {
			b = b[:len(b)-1]
		}
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		text = string(utf16.Decode(u))
	case bytes.HasPrefix(data, []byte{0xef, 0xbb, 0xbf}):
		text = string(data[3:])
	default:
		if utf8.Valid(data) {
			text = string(data)
		} else {
			text = latin1(data)
		}
	}
	first, _, _ := strings.Cut(strings.TrimLeft(text, " \t\r\n"), "\n")
	first = strings.TrimSpace(first)
	switch {
	case first == "Windows Registry Editor Version 5.00":
		return text, true, nil
	case first == "REGEDIT4":
		return text, false, nil
	}
	return "", false, ErrNotReg
}

// latin1 decodes bytes as ISO-8859-1 (close enough to Windows-1252 for host names).
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// joinContinuations joins lines that end with a backslash with the next line.
func joinContinuations(lines []string) []string {
	var out []string
	var acc strings.Builder
	cont := false
	for _, l := range lines {
		t := strings.TrimRight(l, " \t\r")
		if cont {
			t = strings.TrimLeft(t, " \t")
		}
		if strings.HasSuffix(t, `\`) && isHexLine(acc.String()+t) {
			acc.WriteString(strings.TrimSuffix(t, `\`))
			cont = true
			continue
		}
		acc.WriteString(t)
		out = append(out, acc.String())
		acc.Reset()
		cont = false
	}
	if acc.Len() > 0 {
		out = append(out, acc.String())
	}
	return out
}

// isHexLine reports whether a value line is a hex value, the only kind regedit continues.
func isHexLine(s string) bool {
	_, rest, ok := strings.Cut(s, "=hex")
	return ok && (strings.HasPrefix(rest, ":") || strings.HasPrefix(rest, "("))
}

// valueName splits `"name"=rest` or `@=rest`.
func valueName(line string) (string, string, error) {
	if strings.HasPrefix(line, "@=") {
		return "", line[2:], nil
	}
	if !strings.HasPrefix(line, `"`) {
		return "", "", errors.New("expected a quoted value name")
	}
	name, n, err := regString(line)
	if err != nil {
		return "", "", err
	}
	rest := strings.TrimSpace(line[n:])
	if !strings.HasPrefix(rest, "=") {
		return "", "", errors.New("expected '=' after the value name")
	}
	return name, strings.TrimSpace(rest[1:]), nil
}

// regString reads a quoted string with \\ and \" escapes starting at s[0]; it returns
// the string and the number of bytes consumed.
func regString(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, errors.New("unterminated string")
}

func parseRegValue(rest string, unicodeFile bool) (Value, error) {
	switch {
	case strings.HasPrefix(rest, `"`):
		s, n, err := regString(rest)
		if err != nil {
			return Value{}, err
		}
		if strings.TrimSpace(rest[n:]) != "" {
			return Value{}, errors.New("text after the string")
		}
		return Value{Type: RegSZ, Data: utf16z(s)}, nil
	case strings.HasPrefix(strings.ToLower(rest), "dword:"):
		n, err := strconv.ParseUint(strings.TrimSpace(rest[6:]), 16, 32)
		if err != nil {
			return Value{}, fmt.Errorf("dword: %w", err)
		}
		d := make([]byte, 4)
		binary.LittleEndian.PutUint32(d, uint32(n))
		return Value{Type: RegDword, Data: d}, nil
	case strings.HasPrefix(strings.ToLower(rest), "hex"):
		typ := uint32(RegBinary)
		r := rest[3:]
		if strings.HasPrefix(r, "(") {
			end := strings.IndexByte(r, ')')
			if end < 0 {
				return Value{}, errors.New("unterminated hex(")
			}
			n, err := strconv.ParseUint(r[1:end], 16, 32)
			if err != nil {
				return Value{}, fmt.Errorf("hex type: %w", err)
			}
			typ = uint32(n)
			r = r[end+1:]
		}
		if !strings.HasPrefix(r, ":") {
			return Value{}, errors.New("expected ':' after hex")
		}
		var raw []byte
		for _, h := range strings.Split(r[1:], ",") {
			if h = strings.TrimSpace(h); h == "" {
				continue
			}
			b, err := hex.DecodeString(h)
			if err != nil || len(b) != 1 {
				return Value{}, fmt.Errorf("bad hex byte %q", h)
			}
			raw = append(raw, b[0])
		}
		if !unicodeFile && (typ == RegExpandSZ || typ == RegMultiSZ) {
			raw = utf16z(latin1(bytes.TrimRight(raw, "\x00")))
		}
		return Value{Type: typ, Data: raw}, nil
	}
	return Value{}, fmt.Errorf("unknown value form %q", clip(rest))
}

func clip(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

// utf16z encodes s as UTF-16LE with a terminating NUL, as the registry stores strings.
func utf16z(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u)+2)
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// String reads v as text: REG_SZ/REG_EXPAND_SZ, or a REG_BINARY holding UTF-16LE text
// (as Outlook stores most account strings). ok is false for other types or for bytes
// that are not text.
func (v Value) String() (string, bool) {
	switch v.Type {
	case RegSZ, RegExpandSZ, RegBinary:
	default:
		return "", false
	}
	b := v.Data
	if len(b)%2 == 1 {
		if v.Type != RegBinary {
			b = b[:len(b)-1]
		} else {
			return "", false
		}
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	for len(u) > 0 && u[len(u)-1] == 0 {
		u = u[:len(u)-1]
	}
	for _, c := range u {
		if c == 0 {
			return "", false // binary data, not a string
		}
	}
	return string(utf16.Decode(u)), true
}

// Uint reads v as a number: REG_DWORD, REG_QWORD, or a 4-byte REG_BINARY.
func (v Value) Uint() (uint64, bool) {
	switch {
	case (v.Type == RegDword || v.Type == RegBinary) && len(v.Data) == 4:
		return uint64(binary.LittleEndian.Uint32(v.Data)), true
	case v.Type == RegQword && len(v.Data) == 8:
		return binary.LittleEndian.Uint64(v.Data), true
	}
	return 0, false
}

// FromReg reads the Outlook accounts of a .reg export; source names the file.
func FromReg(data []byte, source string) ([]clients.Account, []string, error) {
	keys, err := ParseReg(data)
	if err != nil {
		return nil, nil, err
	}
	for _, k := range keys {
		for n := range k.Values {
			if isSecretValue(n) {
				delete(k.Values, n) // passwords are never kept, even encrypted
			}
		}
	}
	accts, problems := Accounts(keys, source)
	if len(accts) == 0 && len(problems) == 0 {
		return nil, nil, fmt.Errorf("outlook: %s: %w (no IMAP or POP3 account under ...\\Outlook\\Profiles\\*\\%s)", source, clients.ErrNoAccounts, AccountsKeyGUID)
	}
	return accts, problems, nil
}
