package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if body != "" {
		p := filepath.Join(dir, filepath.FromSlash(ConfigFileName))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestResolveClient(t *testing.T) {
	t.Parallel()
	google := Issuer{ID: "google", Name: "Google", IssuerURL: "https://accounts.google.com",
		AuthURL: "https://accounts.google.com/o/oauth2/v2/auth", TokenURL: "https://oauth2.googleapis.com/token",
		Scopes: map[Protocol][]string{IMAP: {"https://mail.google.com/"}}}
	other := Issuer{ID: "mail-example", IssuerURL: "https://login.example.net", AuthURL: "https://login.example.net/a", TokenURL: "https://login.example.net/t"}
	tests := []struct {
		name     string
		iss      Issuer
		explicit Registration
		config   string
		env      map[string]string
		want     Registration
		wantErr  string // substring of the error; "" for success
	}{
		{
			name: "explicit wins", iss: google, explicit: Registration{ClientID: "flag-id", ClientSecret: "flag-secret"},
			config: `{"clients":{"google":{"client_id":"file-id"}}}`, env: map[string]string{"MAILSETUP_OAUTH_CLIENT_ID": "env-id"},
			want: Registration{ClientID: "flag-id", ClientSecret: "flag-secret", Source: SourceExplicit},
		},
		{
			name: "config by id", iss: google, config: `{"clients":{"google":{"client_id":"file-id","client_secret":"file-secret"}}}`,
			env:  map[string]string{"MAILSETUP_OAUTH_CLIENT_ID": "env-id"},
			want: Registration{ClientID: "file-id", ClientSecret: "file-secret", Source: SourceConfig},
		},
		{
			name: "config by issuer url", iss: other, config: `{"clients":{"https://login.example.net":{"client_id":"url-id"}}}`,
			want: Registration{ClientID: "url-id", Source: SourceConfig},
		},
		{
			name: "malformed config is an error", iss: google, config: `{"clients":`,
			env: map[string]string{"MAILSETUP_OAUTH_CLIENT_ID": "env-id"}, wantErr: "oauth.json",
		},
		{
			name: "env per issuer before generic", iss: other,
			env: map[string]string{
				"MAILSETUP_OAUTH_CLIENT_ID": "generic", "MAILSETUP_OAUTH_CLIENT_SECRET": "generic-secret",
				"MAILSETUP_OAUTH_CLIENT_ID_MAIL_EXAMPLE": "specific", "MAILSETUP_OAUTH_CLIENT_SECRET_MAIL_EXAMPLE": "specific-secret",
			},
			want: Registration{ClientID: "specific", ClientSecret: "specific-secret", Source: SourceEnv, Where: "MAILSETUP_OAUTH_CLIENT_ID_MAIL_EXAMPLE"},
		},
		{
			name: "env generic", iss: google, config: `{"clients":{"microsoft":{"client_id":"ms"}}}`,
			env:  map[string]string{"MAILSETUP_OAUTH_CLIENT_ID": "generic"},
			want: Registration{ClientID: "generic", Source: SourceEnv, Where: "MAILSETUP_OAUTH_CLIENT_ID"},
		},
		{
			name: "google needs registration", iss: google,
			wantErr: "Desktop app",
		},
		{
			name: "microsoft needs registration",
			iss: Issuer{ID: "microsoft", Name: "Microsoft", AuthURL: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
				TokenURL: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
				Scopes:   map[Protocol][]string{IMAP: {"https://outlook.office.com/IMAP.AccessAsUser.All"}}, ExtraScopes: []string{"offline_access"}},
			wantErr: "Mobile and desktop applications",
		},
		{
			name: "other needs registration", iss: other,
			wantErr: "Register a native (public) client with mail-example at https://login.example.net, with the redirect URI http://127.0.0.1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeConfig(t, tt.config)
			o := &Options{ConfigDir: dir, Getenv: func(k string) string { return tt.env[k] }}
			got, err := o.ResolveClient(context.Background(), tt.iss, tt.explicit)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.Where == "" {
				got.Where = ""
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// The registration-needed words name every place a client ID may be put, and the
// scopes; they are the "never a bare failure" promise.
func TestRegistrationNeededWords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ms := Issuer{ID: "microsoft", Name: "Microsoft", AuthURL: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
		TokenURL: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
		Scopes: map[Protocol][]string{
			IMAP: {"https://outlook.office.com/IMAP.AccessAsUser.All"}, POP3: {"https://outlook.office.com/POP.AccessAsUser.All"},
			SMTP: {"https://outlook.office.com/SMTP.Send"}}, ExtraScopes: []string{"offline_access"}}
	_, err := (&Options{ConfigDir: dir, Getenv: func(string) string { return "" }}).ResolveClient(context.Background(), ms, Registration{})
	if KindOf(err) != KindNoClient {
		t.Fatalf("kind = %q, want no_client", KindOf(err))
	}
	msg := err.Error()
	for _, want := range []string{
		"Microsoft Entra", "http://localhost", "Allow public client flows", "IMAP.AccessAsUser.All", "POP.AccessAsUser.All",
		"SMTP.Send", "offline_access", "--oauth-client-id", filepath.Join(dir, "mailsetup", "oauth.json"),
		`{"clients": {"microsoft": {"client_id": "…"}}}`, "MAILSETUP_OAUTH_CLIENT_ID_MICROSOFT",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "--oauth-client-secret") || strings.Contains(msg, "CLIENT_SECRET") {
		t.Errorf("a Microsoft public client needs no secret, the message asks for one:\n%s", msg)
	}
	var rn *RegistrationNeededError
	google := Issuer{ID: "google", IssuerURL: "https://accounts.google.com", AuthURL: "https://accounts.google.com/a", TokenURL: "https://oauth2.googleapis.com/token",
		Scopes: map[Protocol][]string{IMAP: {"https://mail.google.com/"}}}
	_, err = (&Options{ConfigDir: dir, Getenv: func(string) string { return "" }}).ResolveClient(context.Background(), google, Registration{})
	if !asRegistrationNeeded(err, &rn) {
		t.Fatalf("err = %v, want *RegistrationNeededError", err)
	}
	for _, want := range []string{"console.cloud.google.com", "Desktop app", "https://mail.google.com/", "--oauth-client-secret", "MAILSETUP_OAUTH_CLIENT_SECRET_GOOGLE", "test user"} {
		if !strings.Contains(rn.Error(), want) {
			t.Errorf("Google message lacks %q:\n%s", want, rn.Error())
		}
	}
}

func asRegistrationNeeded(err error, target **RegistrationNeededError) bool {
	r, ok := err.(*RegistrationNeededError)
	if ok {
		*target = r
	}
	return ok
}

func TestResolveClientBuildDefault(t *testing.T) {
	// Not parallel: buildClients is the package variable -ldflags sets.
	old := buildClients
	buildClients = "google=built-id.apps.googleusercontent.com:GOCSPX-built, microsoft=0000-guid"
	t.Cleanup(func() { buildClients = old })
	o := &Options{ConfigDir: t.TempDir(), Getenv: func(string) string { return "" }}
	tests := []struct {
		id   string
		want Registration
	}{
		{"google", Registration{ClientID: "built-id.apps.googleusercontent.com", ClientSecret: "GOCSPX-built", Source: SourceBuild, Where: "-ldflags"}},
		{"microsoft", Registration{ClientID: "0000-guid", Source: SourceBuild, Where: "-ldflags"}},
	}
	for _, tt := range tests {
		got, err := o.ResolveClient(context.Background(), Issuer{ID: tt.id}, Registration{})
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.id, got, tt.want)
		}
	}
	if _, err := o.ResolveClient(context.Background(), Issuer{ID: "yahoo"}, Registration{}); KindOf(err) != KindNoClient {
		t.Errorf("yahoo: err = %v, want no_client", err)
	}
}

func TestDynamicRegistration(t *testing.T) {
	t.Parallel()
	var got map[string]any
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/register":
			if r.Header.Get("Content-Type") != "application/json" {
				http.Error(w, "json please", http.StatusBadRequest)
				return
			}
			json.NewDecoder(r.Body).Decode(&got)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"client_id":"dyn-123","token_endpoint_auth_method":"none"}`))
		case "/register-refuses":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_redirect_uri","error_description":"loopback not allowed"}`))
		}
	}))
	t.Cleanup(srv.Close)
	o := &Options{HTTPClient: srv.Client(), ConfigDir: t.TempDir(), Getenv: func(string) string { return "" }}
	iss := Issuer{ID: "dyn", IssuerURL: srv.URL, AuthURL: srv.URL + "/a", TokenURL: srv.URL + "/t", DeviceURL: srv.URL + "/d",
		RegistrationURL: srv.URL + "/register", Scopes: map[Protocol][]string{IMAP: {"mail"}}}
	reg, err := o.ResolveClient(context.Background(), iss, Registration{})
	if err != nil {
		t.Fatal(err)
	}
	if reg.ClientID != "dyn-123" || reg.Source != SourceDynamic || reg.ClientSecret != "" {
		t.Errorf("registration = %+v, want dyn-123 from dynamic registration", reg)
	}
	wantFields := map[string]string{
		"application_type": "native", "token_endpoint_auth_method": "none", "scope": "mail",
		"redirect_uris": "[http://127.0.0.1]", "grant_types": "[authorization_code refresh_token urn:ietf:params:oauth:grant-type:device_code]",
	}
	for k, want := range wantFields {
		if g := strings.Trim(strings.ReplaceAll(jsonString(got[k]), ",", " "), `"`); g != want {
			t.Errorf("request %s = %s, want %s", k, g, want)
		}
	}
	iss.RegistrationURL = srv.URL + "/register-refuses"
	_, err = o.ResolveClient(context.Background(), iss, Registration{})
	var e *Error
	if !asError(err, &e) || e.Kind != KindProtocol || e.Code != "invalid_redirect_uri" || e.Description != "loopback not allowed" {
		t.Errorf("err = %#v, want protocol_error invalid_redirect_uri", err)
	}
}

func jsonString(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = jsonString(p)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case string:
		return x
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}
