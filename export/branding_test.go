package export

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"howett.net/plist"
)

// TestBranding: a consultant's name, organisation, contact line and logo appear on the
// settings sheet and in the Apple profile's description, escaped, and only when given.
func TestBranding(t *testing.T) {
	t.Parallel()
	var logo bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{200, 30, 30, 255})
	if err := png.Encode(&logo, img); err != nil {
		t.Fatal(err)
	}
	opts := Options{Organization: "Acme IT", PreparedBy: "Ana Consultant", Contact: "+1 555 0100 <help@acme.test>", Logo: logo.Bytes()}
	acc, err := FromReport(sampleReport(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var sheet bytes.Buffer
	if _, err := Write("sheet", acc, opts, &sheet); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<img src="data:image/png;base64,`, "Prepared by Ana Consultant, Acme IT.", "Contact: &#43;1 555 0100 &lt;help@acme.test&gt;."} {
		if !strings.Contains(sheet.String(), want) {
			t.Errorf("sheet lacks %q", want)
		}
	}
	var prof bytes.Buffer
	if _, err := Write("apple", acc, opts, &prof); err != nil {
		t.Fatal(err)
	}
	var p appleProfile
	if _, err := plist.Unmarshal(prof.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if want := "Prepared by Ana Consultant, Acme IT. Contact: +1 555 0100 <help@acme.test>."; !strings.HasSuffix(p.PayloadDescription, want) || p.PayloadOrganization != "Acme IT" {
		t.Errorf("profile description %q organisation %q", p.PayloadDescription, p.PayloadOrganization)
	}

	plain, _ := FromReport(sampleReport(), Options{})
	sheet.Reset()
	if _, err := Write("sheet", plain, Options{}, &sheet); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sheet.String(), "<img") || strings.Contains(sheet.String(), "Prepared by") {
		t.Error("branding on a sheet without branding")
	}
}

func TestLogoType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "image/png"},
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), "image/jpeg"},
		{"text", []byte("<svg onload=alert(1)>"), ""},
		{"too large", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, MaxLogoBytes)...), ""},
	}
	for _, tt := range tests {
		got, err := LogoType(tt.data)
		var inv *InvalidError
		if got != tt.want || (tt.want == "") != errors.As(err, &inv) {
			t.Errorf("%s: LogoType = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := FromReport(sampleReport(), Options{Logo: []byte("not an image")}); err == nil {
		t.Error("FromReport took a logo that is no image")
	}
}
