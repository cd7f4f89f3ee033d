package locale

import (
	"slices"
	"testing"
)

func TestLocales(t *testing.T) {
	for _, tt := range []struct {
		language, all, messages, lang string
		want                          []string
	}{
		{"", "", "", "ru_RU.UTF-8", []string{"ru_RU.UTF-8"}},
		{"", "de_DE.UTF-8", "", "ru_RU.UTF-8", []string{"de_DE.UTF-8"}},
		{"", "", "fr_FR.UTF-8", "ru_RU.UTF-8", []string{"fr_FR.UTF-8"}},
		{"pt_BR:es", "", "", "en_US.UTF-8", []string{"pt_BR", "es", "en_US.UTF-8"}},
		{"pt_BR", "C", "", "", []string{"C"}},
		{"", "", "", "", nil},
	} {
		t.Setenv("LANGUAGE", tt.language)
		t.Setenv("LC_ALL", tt.all)
		t.Setenv("LC_MESSAGES", tt.messages)
		t.Setenv("LANG", tt.lang)
		if got := Locales(); !slices.Equal(got, tt.want) {
			t.Errorf("LANGUAGE=%q LC_ALL=%q LC_MESSAGES=%q LANG=%q: %q, want %q", tt.language, tt.all, tt.messages, tt.lang, got, tt.want)
		}
	}
}
