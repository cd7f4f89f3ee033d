package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// metadataServer serves documents by path; "{{ISSUER}}" in a document is replaced by
// the server's URL.
func metadataServer(t *testing.T, tlsOn bool, docs map[string]string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		switch doc {
		case "500":
			http.Error(w, "down", http.StatusInternalServerError)
			return
		case "html":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>welcome</html>"))
			return
		case "huge":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"issuer":"` + strings.Repeat("x", maxMetadata) + `"}`))
			return
		}
		if strings.HasPrefix(doc, "redirect:") {
			http.Redirect(w, r, strings.TrimPrefix(doc, "redirect:"), http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(strings.ReplaceAll(doc, "{{ISSUER}}", srv.URL)))
	})
	if tlsOn {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv
}

func doc(issuerSuffix string, extra map[string]string) string {
	m := map[string]string{
		"issuer":                 "{{ISSUER}}" + issuerSuffix,
		"authorization_endpoint": "{{ISSUER}}/authorize",
		"token_endpoint":         "{{ISSUER}}/token",
	}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestDiscover(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		tls      bool
		allow    bool
		docs     map[string]string
		path     string // appended to the server URL to make the issuer
		wantKind Kind
		want     Issuer // endpoints relative to the server URL, "{{ISSUER}}" replaced
	}{
		{
			name: "rfc 8414 first, path inserted", tls: true, path: "/tenant",
			docs: map[string]string{"/.well-known/oauth-authorization-server/tenant": doc("/tenant", map[string]string{
				"device_authorization_endpoint": "{{ISSUER}}/device", "registration_endpoint": "{{ISSUER}}/register"})},
			want: Issuer{IssuerURL: "{{ISSUER}}/tenant", AuthURL: "{{ISSUER}}/authorize", TokenURL: "{{ISSUER}}/token",
				DeviceURL: "{{ISSUER}}/device", RegistrationURL: "{{ISSUER}}/register"},
		},
		{
			name: "openid fallback", tls: true,
			docs: map[string]string{"/.well-known/openid-configuration": doc("", nil)},
			want: Issuer{IssuerURL: "{{ISSUER}}", AuthURL: "{{ISSUER}}/authorize", TokenURL: "{{ISSUER}}/token"},
		},
		{
			name: "html instead of metadata falls back", tls: true,
			docs: map[string]string{"/.well-known/oauth-authorization-server": "html", "/.well-known/openid-configuration": doc("", nil)},
			want: Issuer{IssuerURL: "{{ISSUER}}", AuthURL: "{{ISSUER}}/authorize", TokenURL: "{{ISSUER}}/token"},
		},
		{
			name: "loopback http when allowed", allow: true,
			docs: map[string]string{"/.well-known/openid-configuration": doc("", nil)},
			want: Issuer{IssuerURL: "{{ISSUER}}", AuthURL: "{{ISSUER}}/authorize", TokenURL: "{{ISSUER}}/token"},
		},
		{
			name: "http refused without the test switch", wantKind: KindBadIssuer,
			docs: map[string]string{"/.well-known/openid-configuration": doc("", nil)},
		},
		{
			name: "issuer mismatch", tls: true, wantKind: KindBadIssuer,
			docs: map[string]string{"/.well-known/openid-configuration": `{"issuer":"https://evil.example","authorization_endpoint":"https://evil.example/a","token_endpoint":"https://evil.example/t"}`},
		},
		{
			name: "endpoint not https", tls: true, wantKind: KindBadIssuer,
			docs: map[string]string{"/.well-known/openid-configuration": doc("", map[string]string{"token_endpoint": "http://example.com/token"})},
		},
		{
			name: "no endpoints", tls: true, wantKind: KindBadIssuer,
			docs: map[string]string{"/.well-known/openid-configuration": `{"issuer":"{{ISSUER}}","token_endpoint":"{{ISSUER}}/t"}`},
		},
		{
			name: "too large", tls: true, wantKind: KindBadIssuer,
			docs: map[string]string{"/.well-known/oauth-authorization-server": "huge"},
		},
		{
			name: "server error", tls: true, wantKind: KindIssuerDown,
			docs: map[string]string{"/.well-known/oauth-authorization-server": "500"},
		},
		{
			name: "nothing there", tls: true, wantKind: KindBadIssuer,
			docs: map[string]string{},
		},
		{
			name: "redirect to http refused", tls: true, wantKind: KindBadIssuer,
			docs: map[string]string{"/.well-known/oauth-authorization-server": "redirect:http://example.com/meta"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := metadataServer(t, tt.tls, tt.docs)
			o := &Options{AllowLoopbackHTTP: tt.allow}
			if tt.tls {
				c := srv.Client()
				c.CheckRedirect = o.httpClient().CheckRedirect
				o.HTTPClient = c
			}
			got, err := o.Discover(context.Background(), srv.URL+tt.path)
			if tt.wantKind != "" {
				if KindOf(err) != tt.wantKind {
					t.Fatalf("err = %v (kind %q), want kind %q", err, KindOf(err), tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			for _, f := range []*string{&want.IssuerURL, &want.AuthURL, &want.TokenURL, &want.DeviceURL, &want.RegistrationURL} {
				*f = strings.ReplaceAll(*f, "{{ISSUER}}", srv.URL)
			}
			got.ID, got.Name = "", ""
			if got.IssuerURL != want.IssuerURL || got.AuthURL != want.AuthURL || got.TokenURL != want.TokenURL ||
				got.DeviceURL != want.DeviceURL || got.RegistrationURL != want.RegistrationURL {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestDiscoverConfig(t *testing.T) {
	t.Parallel()
	srv := metadataServer(t, true, map[string]string{
		"/.well-known/openid-configuration":        doc("", nil),
		"/other/.well-known/openid-configuration":  doc("", nil), // names an issuer whose document is elsewhere
		"/tenant/.well-known/openid-configuration": doc("/tenant", nil),
	})
	o := &Options{HTTPClient: srv.Client()}
	tests := []struct {
		path     string
		wantKind Kind
		wantIss  string
	}{
		{"/.well-known/openid-configuration", "", srv.URL},
		{"/tenant/.well-known/openid-configuration", "", srv.URL + "/tenant"},
		{"/other/.well-known/openid-configuration", KindBadIssuer, ""},
		{"/missing/.well-known/openid-configuration", KindBadIssuer, ""},
	}
	for _, tt := range tests {
		got, err := o.DiscoverConfig(context.Background(), srv.URL+tt.path)
		if KindOf(err) != tt.wantKind {
			t.Errorf("%s: err = %v, want kind %q", tt.path, err, tt.wantKind)
			continue
		}
		if err == nil && got.IssuerURL != tt.wantIss {
			t.Errorf("%s: issuer = %q, want %q", tt.path, got.IssuerURL, tt.wantIss)
		}
	}
}

func TestDiscoverCancelled(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	t.Cleanup(func() { close(block); srv.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&Options{AllowLoopbackHTTP: true}).Discover(ctx, srv.URL)
	if KindOf(err) != KindCancelled {
		t.Errorf("err = %v, want kind cancelled", err)
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url   string
		allow bool
		ok    bool
	}{
		{"https://accounts.google.com/o/oauth2/v2/auth", false, true},
		{"http://accounts.google.com/auth", false, false},
		{"http://accounts.google.com/auth", true, false},
		{"http://127.0.0.1:8080/token", true, true},
		{"http://[::1]:8080/token", true, true},
		{"http://127.0.0.1:8080/token", false, false},
		{"https://user:pw@example.com/token", false, false},
		{"https://example.com/token#frag", false, false},
		{"/relative", false, false},
		{"javascript:alert(1)", true, false},
	}
	for _, tt := range tests {
		err := checkURL("x", tt.url, tt.allow)
		if (err == nil) != tt.ok {
			t.Errorf("checkURL(%q, allow=%v) = %v, want ok=%v", tt.url, tt.allow, err, tt.ok)
		}
	}
}

func TestScopesForAndMerge(t *testing.T) {
	t.Parallel()
	ms := Issuer{
		Scopes: map[Protocol][]string{
			IMAP: {"https://outlook.office.com/IMAP.AccessAsUser.All"},
			POP3: {"https://outlook.office.com/POP.AccessAsUser.All"},
			SMTP: {"https://outlook.office.com/SMTP.Send"},
		},
		ExtraScopes: []string{"offline_access"},
	}
	tests := []struct {
		protocols []Protocol
		want      string
	}{
		{nil, "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/POP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access"},
		{[]Protocol{SMTP, IMAP}, "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access"},
		{[]Protocol{POP3}, "https://outlook.office.com/POP.AccessAsUser.All offline_access"},
	}
	for _, tt := range tests {
		if got := strings.Join(ms.ScopesFor(tt.protocols...), " "); got != tt.want {
			t.Errorf("ScopesFor(%v) = %q, want %q", tt.protocols, got, tt.want)
		}
	}
	google := Issuer{Scopes: map[Protocol][]string{IMAP: {"https://mail.google.com/"}, SMTP: {"https://mail.google.com/"}}}
	if got := strings.Join(google.ScopesFor(), " "); got != "https://mail.google.com/" {
		t.Errorf("duplicate scopes not joined: %q", got)
	}
	kb := Issuer{ID: "example", Name: "Example", AuthURL: "https://kb.example/auth", Scopes: google.Scopes}
	disc := Issuer{ID: "login.example", IssuerURL: "https://login.example", AuthURL: "https://login.example/a", TokenURL: "https://login.example/t", DeviceURL: "https://login.example/d"}
	m := kb.Merge(disc)
	if m.ID != "example" || m.AuthURL != "https://kb.example/auth" || m.TokenURL != disc.TokenURL || m.DeviceURL != disc.DeviceURL || m.IssuerURL != disc.IssuerURL || len(m.Scopes) != 2 {
		t.Errorf("Merge = %+v: the knowledge base's facts must win, discovery fills the gaps", m)
	}
}
