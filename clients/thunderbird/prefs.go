package thunderbird

// This file reads Mozilla preference files (prefs.js, user.js). It follows the grammar
// of Mozilla's own parser (modules/libpref/parser): `user_pref|pref|sticky_pref|lockPref
// ( "name" , value ) ;` with single- or double-quoted strings (escapes \" \' \\ \n \r
// \xNN \uNNNN, where \x00 and \u0000 are refused and \u surrogates must pair), 32-bit
// integers with an optional sign, true/false, and #, // and /* */ comments. A NUL byte
// ends the file. On a syntax error the parser skips to the next ';' and goes on, as
// Mozilla does, and reports the error with its line.

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
)

// Kind is the type of a preference value.
type Kind int

// Preference value types.
const (
	String Kind = iota + 1
	Int
	Bool
)

// Value is one preference value.
type Value struct {
	Kind Kind
	Str  string
	Int  int
	Bool bool
}

// Pref is one preference as a file sets it, with the line it starts on.
type Pref struct {
	Name  string
	Value Value
	Line  int
	// User is true for user_pref (prefs.js, user.js); false for the default-pref forms.
	User bool
}

// ParseError is one syntax error in a preference file.
type ParseError struct {
	Line int
	Msg  string
}

func (e ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Prefs maps preference names to values; later settings win, as in Mozilla.
type Prefs map[string]Value

// Str returns the string value of name, or "" when it is unset or not a string.
func (p Prefs) Str(name string) string {
	if v, ok := p[name]; ok && v.Kind == String {
		return v.Str
	}
	return ""
}

// IntOr returns the integer value of name, or def when unset or not an integer.
func (p Prefs) IntOr(name string, def int) int {
	if v, ok := p[name]; ok && v.Kind == Int {
		return v.Int
	}
	return def
}

// Has reports whether name is set (to any type).
func (p Prefs) Has(name string) bool { _, ok := p[name]; return ok }

// ParsePrefs parses a preference file. It returns every preference it could read, in
// file order, and the syntax errors it recovered from.
func ParsePrefs(data []byte) ([]Pref, []ParseError) {
	p := &prefParser{buf: data, line: 1}
	return p.parse()
}

// Merge applies prefs in order to m (later wins) and returns m.
func Merge(m Prefs, prefs []Pref) Prefs {
	if m == nil {
		m = Prefs{}
	}
	for _, p := range prefs {
		m[p.Name] = p.Value
	}
	return m
}

type tokKind int

const (
	tEOF tokKind = iota
	tPunct
	tKeyword
	tString
	tInt
	tError
)

type token struct {
	kind tokKind
	b    byte   // tPunct
	s    string // tKeyword, tString value, tError message
	n    uint64 // tInt
	line int    // tError: the line of the error
}

type prefParser struct {
	buf  []byte
	i    int
	line int
	errs []ParseError
}

func (p *prefParser) get() byte {
	if p.i >= len(p.buf) {
		p.i++ // so unget stays symmetric at EOF
		return 0
	}
	c := p.buf[p.i]
	p.i++
	return c
}

func (p *prefParser) unget() { p.i-- }

func (p *prefParser) peek() byte {
	if p.i >= len(p.buf) {
		return 0
	}
	return p.buf[p.i]
}

func isKeywordChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// next returns the next token, skipping white space and comments.
func (p *prefParser) next() token {
	for {
		c := p.get()
		switch {
		case c == 0:
			p.unget()
			return token{kind: tEOF}
		case c == '(' || c == ')' || c == '+' || c == ',' || c == '-' || c == ';':
			return token{kind: tPunct, b: c}
		case c == ' ' || c == '\t' || c == '\v' || c == '\f':
		case c == '\n':
			p.line++
		case c == '\r':
			p.line++
			if p.peek() == '\n' {
				p.i++
			}
		case isKeywordChar(c):
			start := p.i - 1
			for isKeywordChar(p.peek()) {
				p.i++
			}
			return token{kind: tKeyword, s: string(p.buf[start:p.i])}
		case c == '"' || c == '\'':
			return p.stringToken(c)
		case c == '/':
			switch p.get() {
			case '/':
				p.lineComment()
			case '*':
				if !p.blockComment() {
					return token{kind: tError, s: "unterminated /* comment", line: p.line}
				}
			default:
				p.unget()
				return token{kind: tError, s: "expected '/' or '*' after '/'", line: p.line}
			}
		case c == '#':
			p.lineComment()
		case c >= '0' && c <= '9':
			n := uint64(c - '0')
			over := false
			for {
				d := p.peek()
				if d >= '0' && d <= '9' {
					p.i++
					n = n*10 + uint64(d-'0')
					if n > math.MaxUint32 {
						over = true
						n = math.MaxUint32 + 1
					}
					continue
				}
				if isKeywordChar(d) {
					return token{kind: tError, s: "unexpected character in integer literal", line: p.line}
				}
				break
			}
			if over {
				return token{kind: tError, s: "integer literal overflowed", line: p.line}
			}
			return token{kind: tInt, n: n}
		default:
			return token{kind: tError, s: "unexpected character", line: p.line}
		}
	}
}

func (p *prefParser) lineComment() {
	for {
		switch p.get() {
		case 0:
			p.unget()
			return
		case '\n':
			p.line++
			return
		case '\r':
			p.line++
			if p.peek() == '\n' {
				p.i++
			}
			return
		}
	}
}

func (p *prefParser) blockComment() bool {
	for {
		switch p.get() {
		case 0:
			p.unget()
			return false
		case '*':
			if p.peek() == '/' {
				p.i++
				return true
			}
		case '\n':
			p.line++
		case '\r':
			p.line++
			if p.peek() == '\n' {
				p.i++
			}
		}
	}
}

func hexVal(c byte) (uint16, bool) {
	switch {
	case c >= '0' && c <= '9':
		return uint16(c - '0'), true
	case c >= 'a' && c <= 'f':
		return uint16(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return uint16(c-'A') + 10, true
	}
	return 0, false
}

func (p *prefParser) hexDigits(n int) (uint16, bool) {
	var v uint16
	for k := 0; k < n; k++ {
		d, ok := hexVal(p.peek())
		if !ok {
			return 0, false
		}
		p.i++
		v = v<<4 | d
	}
	return v, true
}

// stringToken reads a quoted string; the first error inside it is reported once the
// string has been read to its end, so recovery resumes after it.
func (p *prefParser) stringToken(quote byte) token {
	var out []byte
	var errMsg string
	errLine := 0
	fail := func(msg string) {
		if errMsg == "" {
			errMsg, errLine = msg, p.line
		}
	}
	for {
		c := p.get()
		switch {
		case c == quote:
			if errMsg != "" {
				return token{kind: tError, s: errMsg, line: errLine}
			}
			return token{kind: tString, s: string(out)}
		case c == 0:
			p.unget()
			fail("unterminated string literal")
			return token{kind: tError, s: errMsg, line: errLine}
		case c == '\n':
			p.line++
			out = append(out, c)
		case c == '\r':
			p.line++
			out = append(out, c)
			if p.peek() == '\n' {
				p.i++
				out = append(out, '\n')
			}
		case c == '\\':
			e := p.get()
			switch e {
			case '"', '\'', '\\':
				out = append(out, e)
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 'x':
				v, ok := p.hexDigits(2)
				switch {
				case !ok:
					fail(`malformed \x escape sequence`)
				case v == 0:
					fail(`\x00 is not allowed`)
				default:
					out = append(out, byte(v))
				}
			case 'u':
				v, ok := p.hexDigits(4)
				if !ok {
					fail(`malformed \u escape sequence`)
					continue
				}
				switch {
				case v == 0:
					fail(`\u0000 is not allowed`)
				case v&0xfc00 == 0xd800:
					lo, ok := uint16(0), false
					if p.peek() == '\\' && p.i+1 < len(p.buf) && p.buf[p.i+1] == 'u' {
						p.i += 2
						lo, ok = p.hexDigits(4)
					}
					if !ok || lo&0xfc00 != 0xdc00 {
						fail("expected low surrogate after high surrogate")
						continue
					}
					out = append(out, string(utf16.DecodeRune(rune(v), rune(lo)))...)
				case v&0xfc00 == 0xdc00:
					fail("expected high surrogate before low surrogate")
				default:
					out = append(out, string(rune(v))...)
				}
			default:
				if e == '\n' || e == '\r' || e == 0 {
					p.unget()
				}
				fail(`unexpected escape sequence character after '\'`)
			}
		default:
			out = append(out, c)
		}
	}
}

// recover reports an error and skips past the next ';' (or to EOF), returning the
// token after it.
func (p *prefParser) recover(t token, msg string) token {
	line := p.line
	if t.kind == tError {
		msg, line = t.s, t.line
	}
	p.errs = append(p.errs, ParseError{Line: line, Msg: msg})
	for {
		switch {
		case t.kind == tPunct && t.b == ';':
			return p.next()
		case t.kind == tEOF:
			return t
		}
		t = p.next()
	}
}

func (p *prefParser) parse() ([]Pref, []ParseError) {
	// A NUL byte ends the file, as in Mozilla's parser.
	for i, c := range p.buf {
		if c == 0 {
			p.buf = p.buf[:i]
			break
		}
	}
	var out []Pref
	t := p.next()
	for t.kind != tEOF {
		if t.kind != tKeyword || !(t.s == "user_pref" || t.s == "pref" || t.s == "sticky_pref" || t.s == "lockPref") {
			t = p.recover(t, "expected pref specifier at start of pref definition")
			continue
		}
		user := t.s == "user_pref"
		line := p.line
		if t = p.next(); t.kind != tPunct || t.b != '(' {
			t = p.recover(t, "expected '(' after pref specifier")
			continue
		}
		name := p.next()
		if name.kind != tString {
			t = p.recover(name, "expected pref name after '('")
			continue
		}
		if t = p.next(); t.kind != tPunct || t.b != ',' {
			t = p.recover(t, "expected ',' after pref name")
			continue
		}
		v, bad := p.value()
		if bad != nil {
			t = p.recover(*bad, "expected pref value after ','")
			continue
		}
		t = p.next()
		if !user { // default-pref forms may carry ", sticky" / ", locked"
			for t.kind == tPunct && t.b == ',' {
				a := p.next()
				if a.kind != tKeyword || a.s != "sticky" && a.s != "locked" {
					t = a
					break
				}
				t = p.next()
			}
		}
		if t.kind != tPunct || t.b != ')' {
			t = p.recover(t, "expected ')' after pref value")
			continue
		}
		if t = p.next(); t.kind != tPunct || t.b != ';' {
			t = p.recover(t, "expected ';' after ')'")
			continue
		}
		out = append(out, Pref{Name: name.s, Value: v, Line: line, User: user})
		t = p.next()
	}
	return out, p.errs
}

// value reads a pref value; on failure it returns the offending token.
func (p *prefParser) value() (Value, *token) {
	t := p.next()
	switch {
	case t.kind == tKeyword && t.s == "true":
		return Value{Kind: Bool, Bool: true}, nil
	case t.kind == tKeyword && t.s == "false":
		return Value{Kind: Bool}, nil
	case t.kind == tString:
		return Value{Kind: String, Str: t.s}, nil
	case t.kind == tInt:
		if t.n > math.MaxInt32 {
			e := token{kind: tError, s: "integer literal overflowed", line: p.line}
			return Value{}, &e
		}
		return Value{Kind: Int, Int: int(t.n)}, nil
	case t.kind == tPunct && (t.b == '-' || t.b == '+'):
		n := p.next()
		if n.kind != tInt {
			e := token{kind: tError, s: "expected integer literal after '" + string(t.b) + "'", line: p.line}
			if n.kind == tError {
				e = n
			}
			return Value{}, &e
		}
		limit := uint64(math.MaxInt32)
		if t.b == '-' {
			limit++
		}
		if n.n > limit {
			e := token{kind: tError, s: "integer literal overflowed", line: p.line}
			return Value{}, &e
		}
		v := int(n.n)
		if t.b == '-' {
			v = -v
		}
		return Value{Kind: Int, Int: v}, nil
	}
	return Value{}, &t
}

// Quote writes s as a double-quoted pref string literal that ParsePrefs reads back
// unchanged (control characters and quotes escaped).
func Quote(s string) string {
	b := []byte{'"'}
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r < 0x20 || r == 0x7f:
			b = append(b, `\x`...)
			b = append(b, strconv.FormatInt(int64(r)|0x100, 16)[1:]...)
		default:
			b = append(b, string(r)...)
		}
	}
	return string(append(b, '"'))
}
