package thunderbird

import (
	"reflect"
	"strings"
	"testing"
)

func TestParsePrefs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want map[string]Value
		errs int
	}{
		{"kinds", `user_pref("a", "x"); user_pref("b", 42); user_pref("c", true); user_pref("d", false); user_pref("e", -7); user_pref("f", +8);`,
			map[string]Value{"a": {Kind: String, Str: "x"}, "b": {Kind: Int, Int: 42}, "c": {Kind: Bool, Bool: true},
				"d": {Kind: Bool}, "e": {Kind: Int, Int: -7}, "f": {Kind: Int, Int: 8}}, 0},
		{"escapes", `user_pref('s', "q\"s\'b\\n\nr\rx\x41u\u00e9");`,
			map[string]Value{"s": {Kind: String, Str: "q\"s'b\\n\nr\rxAué"}}, 0},
		{"surrogate pair", `user_pref("s", "\ud83d\ude00");`, map[string]Value{"s": {Kind: String, Str: "😀"}}, 0},
		{"single quotes and other quote inside", `user_pref('s', 'say "hi"');`, map[string]Value{"s": {Kind: String, Str: `say "hi"`}}, 0},
		{"comments", "# hash\n// line\n/* block\n */ user_pref(\"a\", 1); // tail", map[string]Value{"a": {Kind: Int, Int: 1}}, 0},
		{"multi-line string", "user_pref(\"a\", \"one\ntwo\");", map[string]Value{"a": {Kind: String, Str: "one\ntwo"}}, 0},
		{"default pref forms", `pref("a", 1, sticky); lockPref("b", "x"); sticky_pref("c", true);`,
			map[string]Value{"a": {Kind: Int, Int: 1}, "b": {Kind: String, Str: "x"}, "c": {Kind: Bool, Bool: true}}, 0},
		{"later wins", `user_pref("a", 1); user_pref("a", 2);`, map[string]Value{"a": {Kind: Int, Int: 2}}, 0},
		{"int range", `user_pref("max", 2147483647); user_pref("min", -2147483648); user_pref("over", 2147483648); user_pref("ok", 1);`,
			map[string]Value{"max": {Kind: Int, Int: 2147483647}, "min": {Kind: Int, Int: -2147483648}, "ok": {Kind: Int, Int: 1}}, 1},
		{"recovery after error", `user_pref("a" 1); user_pref("b", 2);`, map[string]Value{"b": {Kind: Int, Int: 2}}, 1},
		{"bad escapes rejected", `user_pref("a", "\x00"); user_pref("b", "\u0000"); user_pref("c", "\q"); user_pref("d", "\ud800"); user_pref("ok", "y");`,
			map[string]Value{"ok": {Kind: String, Str: "y"}}, 4},
		{"int followed by letters", `user_pref("a", 12abc); user_pref("b", 1);`, map[string]Value{"b": {Kind: Int, Int: 1}}, 1},
		{"unknown keyword", `foo("a", 1); user_pref("b", 1);`, map[string]Value{"b": {Kind: Int, Int: 1}}, 1},
		{"NUL ends the file", "user_pref(\"a\", 1);\x00user_pref(\"b\", 2);", map[string]Value{"a": {Kind: Int, Int: 1}}, 0},
		{"unterminated string", `user_pref("a", "oops`, map[string]Value{}, 1},
		{"unterminated comment", `user_pref("a", 1); /* never closed`, map[string]Value{"a": {Kind: Int, Int: 1}}, 1},
		{"CR line ends", "user_pref(\"a\", 1);\ruser_pref(\"b\", 2);\r\n", map[string]Value{"a": {Kind: Int, Int: 1}, "b": {Kind: Int, Int: 2}}, 0},
		{"user pref with attribute is an error", `user_pref("a", 1, locked); user_pref("b", 2);`, map[string]Value{"b": {Kind: Int, Int: 2}}, 1},
	}
	for _, tt := range tests {
		prefs, errs := ParsePrefs([]byte(tt.in))
		got := map[string]Value(Merge(nil, prefs))
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
		if len(errs) != tt.errs {
			t.Errorf("%s: %d errors %v, want %d", tt.name, len(errs), errs, tt.errs)
		}
	}
}

func TestParsePrefsErrorLines(t *testing.T) {
	t.Parallel()
	_, errs := ParsePrefs([]byte("user_pref(\"a\", 1);\n\nuser_pref(\"b\" 2);\n"))
	if len(errs) != 1 || errs[0].Line != 3 {
		t.Fatalf("errors %v, want one on line 3", errs)
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "new\nline", "tab\tand\x01", "ünï", "'single'"} {
		prefs, errs := ParsePrefs([]byte("user_pref(\"k\", " + Quote(s) + ");"))
		if len(errs) != 0 || len(prefs) != 1 || prefs[0].Value.Str != s {
			t.Errorf("Quote(%q) = %s: read back %v %v", s, Quote(s), prefs, errs)
		}
	}
}

func FuzzParsePrefs(f *testing.F) {
	f.Add([]byte(`user_pref("a", "b"); user_pref("c", 1);`))
	f.Add([]byte(`/* x */ pref("a", true, locked); # y`))
	f.Add([]byte(`user_pref("s", "\ud83d\ude00\x41");`))
	f.Fuzz(func(t *testing.T, data []byte) {
		prefs, _ := ParsePrefs(data)
		for _, p := range prefs {
			if p.Value.Kind == String && strings.ContainsRune(p.Value.Str, 0) {
				t.Fatalf("NUL in %q", p.Value.Str)
			}
		}
	})
}
