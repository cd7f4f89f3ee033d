package mailsetup_test

import (
	"testing"

	"github.com/mailsetup/mailsetup"
	"github.com/mailsetup/mailsetup/detect"
)

func TestEmbeddedProviders(t *testing.T) {
	t.Parallel()
	db, err := detect.LoadProviders(mailsetup.ProvidersYAML)
	if err != nil {
		t.Fatalf("providers.yaml: %v", err)
	}
	if n := len(db.Providers); n < 40 {
		t.Fatalf("%d providers, want at least 40", n)
	}
	byDomain := []struct{ domain, id string }{
		{"gmail.com", "gmail"}, {"googlemail.com", "gmail"},
		{"outlook.com", "outlook"}, {"hotmail.com", "outlook"}, {"live.com", "outlook"},
		{"yahoo.com", "yahoo"}, {"aol.com", "aol"}, {"icloud.com", "icloud"}, {"me.com", "icloud"},
		{"yandex.ru", "yandex"}, {"ya.ru", "yandex"},
		{"mail.ru", "mailru"}, {"inbox.ru", "mailru"}, {"bk.ru", "mailru"}, {"list.ru", "mailru"},
		{"rambler.ru", "rambler"}, {"ro.ru", "rambler"}, {"lenta.ru", "rambler"}, {"autorambler.ru", "rambler"}, {"myrambler.ru", "rambler"},
		{"gmx.net", "gmx"}, {"web.de", "webde"}, {"zoho.com", "zoho"}, {"fastmail.com", "fastmail"},
		{"proton.me", "proton-bridge"}, {"comcast.net", "comcast"}, {"earthlink.net", "earthlink"},
		{"att.net", "att"}, {"sbcglobal.net", "att"}, {"pacbell.net", "att"}, {"cox.net", "yahoo"},
		{"gmx.com", "gmx-com"}, {"gmx.de", "gmx"}, {"zoho.eu", "zoho-eu"}, {"rr.com", "spectrum-twc"},
	}
	for _, tt := range byDomain {
		p := db.ByDomain(tt.domain)
		if got := id(p); got != tt.id {
			t.Errorf("ByDomain(%q) = %s, want %s", tt.domain, got, tt.id)
		}
	}
	byMX := []struct{ mx, id string }{
		{"aspmx.l.google.com.", "google-workspace"},
		{"contoso-com.mail.protection.outlook.com", "microsoft365"},
		{"in1-smtp.messagingengine.com", "fastmail"},
		{"mx.zoho.eu", "zoho-eu"},
		{"mx.zoho.com", "zoho"},
	}
	for _, tt := range byMX {
		p := db.ByMX(tt.mx)
		if got := id(p); got != tt.id {
			t.Errorf("ByMX(%q) = %s, want %s", tt.mx, got, tt.id)
		}
	}
	for _, id := range []string{"sendgrid", "mailgun", "postmark", "amazon-ses"} {
		var found bool
		for _, p := range db.Providers {
			if p.ID != id {
				continue
			}
			found = true
			if !p.Relay {
				t.Errorf("%s is not marked relay", id)
			}
			has2525 := false
			for _, s := range p.Servers {
				has2525 = has2525 || s.Port == 2525
			}
			if !has2525 && id != "amazon-ses" {
				t.Errorf("%s lacks port 2525", id)
			}
		}
		if !found {
			t.Errorf("relay %s missing", id)
		}
	}
	if yandex := db.ByDomain("yandex.ru"); yandex.LoginName(detect.Address{Local: "ivan", Domain: "yandex.ru"}) != "ivan" {
		t.Error("Yandex must log in with the local part")
	}
	if len(db.ReferenceHosts) == 0 {
		t.Error("no reference hosts for the network check")
	}
}

// id names a lookup's result for test messages.
func id(p *detect.Provider) string {
	if p == nil {
		return "<nil>"
	}
	return p.ID
}
