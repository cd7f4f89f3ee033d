// Package oauthtest runs a real OAuth2 / OpenID Connect authorization server for
// tests: zitadel/oidc's OpenID Provider (pkg/op) over HTTPS on loopback, with an
// in-memory storage, a sign-in page a test "browser" fills in, a device approval
// page, RFC 7662 introspection for a mail server, and RFC 7591 registration. Import
// it only from _test.go files.
package oauthtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/mailsetup/mailsetup/detect/detecttest"
)

// User is someone who can sign in on the issuer's page.
type User struct {
	Username, Password string
	// Email is what introspection reports; Dovecot takes it as the login name.
	Email string
}

// Config shapes a Server; the zero value of each field has a working default.
type Config struct {
	Users []User
	// Scopes are the custom scopes clients may ask for besides OpenID's (e.g. "mail").
	Scopes []string
	// TokenTTL is the access tokens' lifetime (default 1 h).
	TokenTTL time.Duration
	// PollInterval is the device grant's polling interval (default 1 s; whole seconds).
	PollInterval time.Duration
	// DeviceLifetime is how long a device code is good (default 5 min).
	DeviceLifetime time.Duration
	// Registration serves RFC 7591 dynamic registration and names it in the metadata.
	Registration bool
}

// Server is a running issuer.
type Server struct {
	// URL is the issuer identifier, https://127.0.0.1:PORT.
	URL string
	// CA signed the server's certificate; CAFile is it as PEM, for Dovecot.
	CA     *detecttest.CA
	CAFile string
	// ClientID is the public native client registered for the tests: loopback
	// redirects on any port, code with PKCE, refresh tokens and the device grant.
	ClientID string
	// ResourceID and ResourceSecret authenticate a mail server at the
	// introspection endpoint.
	ResourceID, ResourceSecret string

	provider *op.Provider
	store    *storage
	srv      *httptest.Server
	stopOnce sync.Once
}

// Start starts an issuer on 127.0.0.1 with a certificate from a new test CA whose
// PEM is written to a temporary file; it stops when the test ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.DeviceLifetime == 0 {
		cfg.DeviceLifetime = 5 * time.Minute
	}
	store, err := newStorage(cfg.TokenTTL)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfg.Users {
		u := cfg.Users[i]
		store.users[u.Username] = &u
	}
	s := &Server{store: store, ClientID: "mailsetup-test", ResourceID: "mail-server", ResourceSecret: rand.Text()}
	store.clients[s.ClientID] = &client{
		id:           s.ClientID,
		redirectURIs: []string{"http://127.0.0.1", "http://localhost"},
		appType:      op.ApplicationTypeNative,
		authMethod:   oidc.AuthMethodNone,
		grants:       []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeDeviceCode},
		scopes:       cfg.Scopes,
	}
	store.clients[s.ResourceID] = &client{
		id: s.ResourceID, secret: s.ResourceSecret, appType: op.ApplicationTypeWeb, authMethod: oidc.AuthMethodBasic,
	}

	s.CA = detecttest.NewCA(t, "oauthtest CA")
	cert := s.CA.Leaf(t, detecttest.CertOpts{}, "127.0.0.1", "localhost")
	s.CAFile = t.TempDir() + "/issuer-ca.pem"
	if err := os.WriteFile(s.CAFile, s.CA.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}

	mux := http.NewServeMux()
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.TLS = detecttest.ServerTLS(cert)
	s.srv.Config.ErrorLog = nil
	s.srv.StartTLS()
	t.Cleanup(s.Stop)
	s.URL = "https://" + s.srv.Listener.Addr().String()

	key := sha256.Sum256([]byte(rand.Text()))
	s.provider, err = op.NewProvider(&op.Config{
		CryptoKey:             key,
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedUILocales:    []language.Tag{language.English},
		SupportedScopes:       append([]string{oidc.ScopeOpenID, oidc.ScopeEmail, oidc.ScopeProfile, oidc.ScopeOfflineAccess}, cfg.Scopes...),
		DeviceAuthorization: op.DeviceAuthorizationConfig{
			Lifetime:     cfg.DeviceLifetime,
			PollInterval: cfg.PollInterval,
			UserFormPath: "/device",
			UserCode:     op.UserCodeBase20,
		},
	}, store, op.StaticIssuer(s.URL), op.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatalf("oauthtest: new provider: %v", err)
	}
	interceptor := op.NewIssuerInterceptor(s.provider.IssuerFromRequest)
	mux.Handle("/login", interceptor.HandlerFunc(s.login))
	mux.HandleFunc("/device", s.device)
	if cfg.Registration {
		mux.HandleFunc("/register", func(w http.ResponseWriter, r *http.Request) { s.register(w, r, cfg.Scopes) })
		mux.HandleFunc("/.well-known/openid-configuration", s.metadataWithRegistration)
	}
	mux.Handle("/", s.provider)
	return s
}

// Stop shuts the issuer down; later requests are refused ("issuer down").
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

// Advance moves the issuer's clock forward: tokens whose lifetime has passed are
// reported inactive by introspection from then on.
func (s *Server) Advance(d time.Duration) {
	s.store.mu.Lock()
	s.store.offset += d
	s.store.mu.Unlock()
}

// IntrospectionURL is the RFC 7662 endpoint with the resource server's credentials
// as user information, the form Dovecot's oauth2 passdb takes for Basic auth.
func (s *Server) IntrospectionURL() string {
	u, _ := url.Parse(s.URL + "/oauth/introspect")
	u.User = url.UserPassword(s.ResourceID, s.ResourceSecret)
	return u.String()
}

// MetadataURL is the OpenID Connect discovery document's address.
func (s *Server) MetadataURL() string { return s.URL + "/.well-known/openid-configuration" }

// HTTPClient trusts the issuer's CA (and nothing else).
func (s *Server) HTTPClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(s.CA.Cert)
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, Proxy: nil},
	}
}

// metadataWithRegistration serves the provider's discovery document with
// registration_endpoint added (zitadel's OP has no RFC 7591 endpoint of its own).
func (s *Server) metadataWithRegistration(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	s.provider.ServeHTTP(rec, r)
	var m map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &m) != nil {
		http.Error(w, "metadata unavailable", http.StatusInternalServerError)
		return
	}
	m["registration_endpoint"] = s.URL + "/register"
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(m)
}

// register implements RFC 7591 for native public clients with loopback redirects.
func (s *Server) register(w http.ResponseWriter, r *http.Request, scopes []string) {
	fail := func(code, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost {
		fail("invalid_request", "POST only")
		return
	}
	var req struct {
		RedirectURIs []string `json:"redirect_uris"`
		GrantTypes   []string `json:"grant_types"`
		AuthMethod   string   `json:"token_endpoint_auth_method"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		fail("invalid_client_metadata", "not JSON")
		return
	}
	for _, ru := range req.RedirectURIs {
		if _, ok := op.HTTPLoopbackOrLocalhost(ru); !ok {
			fail("invalid_redirect_uri", "only loopback redirects are registered here")
			return
		}
	}
	if req.AuthMethod != "" && req.AuthMethod != "none" {
		fail("invalid_client_metadata", "only public clients are registered here")
		return
	}
	grants := []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	if slices.Contains(req.GrantTypes, string(oidc.GrantTypeDeviceCode)) {
		grants = append(grants, oidc.GrantTypeDeviceCode)
	}
	c := &client{id: "dyn-" + rand.Text(), redirectURIs: req.RedirectURIs, appType: op.ApplicationTypeNative,
		authMethod: oidc.AuthMethodNone, grants: grants, scopes: scopes}
	s.store.mu.Lock()
	s.store.clients[c.id] = c
	s.store.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{
		"client_id": c.id, "client_id_issued_at": time.Now().Unix(), "token_endpoint_auth_method": "none",
		"redirect_uris": c.redirectURIs, "grant_types": grants,
	})
}

var pages = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><title>Sign in to the test issuer</title></head><body>
<h1>Sign in</h1>{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="id" value="{{.ID}}">
<label>User <input name="username" value="{{.Hint}}"></label>
<label>Password <input type="password" name="password"></label>
<button name="action" value="signin">Sign in</button>
<button name="action" value="cancel">Cancel</button>
</form></body></html>
{{define "device"}}<!doctype html>
<html><head><title>Approve a device</title></head><body>
<h1>Approve a device</h1>{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
<form method="post" action="/device">
<label>Code <input name="user_code" value="{{.UserCode}}"></label>
<label>User <input name="username"></label>
<label>Password <input type="password" name="password"></label>
<button name="action" value="approve">Approve</button>
<button name="action" value="deny">Deny</button>
</form></body></html>{{end}}`))

// login is the issuer's sign-in page: GET shows the form, POST signs in (and sends
// the browser back through the OP) or cancels (access_denied to the client).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodGet {
		id := r.Form.Get("authRequestID")
		a, err := s.store.AuthRequestByID(r.Context(), id)
		if err != nil {
			http.Error(w, "unknown sign-in", http.StatusBadRequest)
			return
		}
		pages.Execute(w, map[string]string{"ID": id, "Hint": a.(*authRequest).loginHint})
		return
	}
	id := r.PostForm.Get("id")
	a, err := s.store.AuthRequestByID(r.Context(), id)
	if err != nil {
		http.Error(w, "unknown sign-in", http.StatusBadRequest)
		return
	}
	if r.PostForm.Get("action") == "cancel" {
		op.AuthRequestError(w, r, a, oidc.ErrAccessDenied().WithDescription("The user cancelled the sign-in."), s.provider)
		return
	}
	u, ok := s.store.checkPassword(r.PostForm.Get("username"), r.PostForm.Get("password"))
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		pages.Execute(w, map[string]string{"ID": id, "Error": "Wrong user or password."})
		return
	}
	s.store.mu.Lock()
	ar := a.(*authRequest)
	ar.subject, ar.done, ar.authTime = u.Username, true, time.Now()
	s.store.mu.Unlock()
	http.Redirect(w, r, op.AuthCallbackURL(s.provider)(r.Context(), id), http.StatusFound)
}

// device is the page where a user enters a device flow's code and approves or denies it.
func (s *Server) device(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodGet {
		pages.ExecuteTemplate(w, "device", map[string]string{"UserCode": r.Form.Get("user_code")})
		return
	}
	u, ok := s.store.checkPassword(r.PostForm.Get("username"), r.PostForm.Get("password"))
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		pages.ExecuteTemplate(w, "device", map[string]string{"UserCode": r.PostForm.Get("user_code"), "Error": "Wrong user or password."})
		return
	}
	approve := r.PostForm.Get("action") == "approve"
	if err := s.store.decideDevice(r.PostForm.Get("user_code"), u.Username, approve); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		pages.ExecuteTemplate(w, "device", map[string]string{"Error": err.Error()})
		return
	}
	fmt.Fprintf(w, "<!doctype html><p>Device %s.</p>", map[bool]string{true: "approved", false: "denied"}[approve])
}

// Browser plays the user's web browser against the issuer: an http.Client with a
// cookie jar that trusts the issuer's CA and follows redirects, down to the
// application's loopback redirect.
type Browser struct {
	s    *Server
	HTTP *http.Client
	// BeforeApp, when set, sees the issuer's redirect to the application (the one
	// carrying code and state, or error) before the browser follows it. It may
	// change the URL; returning false stops the browser there, as if it were closed.
	BeforeApp func(u *url.URL) bool
}

// Visit is what the browser ended on.
type Visit struct {
	// AppURL is the redirect to the application the issuer sent, if any.
	AppURL *url.URL
	// Status and Body are the last page's.
	Status int
	Body   string
}

// NewBrowser returns a browser for this issuer.
func (s *Server) NewBrowser() *Browser {
	b := &Browser{s: s}
	jar, _ := cookiejar.New(nil)
	b.HTTP = s.HTTPClient()
	b.HTTP.Jar = jar
	b.HTTP.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 10 {
			return errors.New("too many redirects")
		}
		if req.URL.Scheme+"://"+req.URL.Host != s.URL && b.BeforeApp != nil {
			if !b.BeforeApp(req.URL) {
				return http.ErrUseLastResponse
			}
		}
		return nil
	}
	return b
}

// SignIn opens authURL, fills in the sign-in form with username and password and
// follows the redirects to the application's loopback listener.
func (b *Browser) SignIn(ctx context.Context, authURL, username, password string) (Visit, error) {
	return b.form(ctx, authURL, url.Values{"username": {username}, "password": {password}, "action": {"signin"}})
}

// Cancel opens authURL and presses Cancel on the sign-in page.
func (b *Browser) Cancel(ctx context.Context, authURL string) (Visit, error) {
	return b.form(ctx, authURL, url.Values{"action": {"cancel"}})
}

func (b *Browser) form(ctx context.Context, authURL string, fill url.Values) (Visit, error) {
	var v Visit
	page, final, err := b.get(ctx, authURL)
	if err != nil {
		return v, fmt.Errorf("open authorization URL: %w", err)
	}
	action, fields, err := parseForm(page)
	if err != nil {
		return v, fmt.Errorf("sign-in page at %s: %w", final, err)
	}
	for k, vs := range fill {
		fields[k] = vs
	}
	target, err := final.Parse(action)
	if err != nil {
		return v, err
	}
	return b.post(ctx, target.String(), fields)
}

func (b *Browser) get(ctx context.Context, u string) (string, *url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", nil, err
	}
	resp, err := b.HTTP.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", nil, fmt.Errorf("GET %s: status %d: %s", resp.Request.URL, resp.StatusCode, bytes.TrimSpace(body))
	}
	return string(body), resp.Request.URL, err
}

func (b *Browser) post(ctx context.Context, u string, form url.Values) (Visit, error) {
	var v Visit
	var app *url.URL
	prev := b.HTTP.CheckRedirect
	client := *b.HTTP
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme+"://"+req.URL.Host != b.s.URL {
			app = req.URL
		}
		return prev(req, via)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return v, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if app == nil && resp.StatusCode/100 == 3 {
		// Stopped by BeforeApp: the Location is the application redirect.
		app, _ = resp.Location()
	}
	return Visit{AppURL: app, Status: resp.StatusCode, Body: string(body)}, nil
}

// Follow makes the browser load u, as when a test lets a stopped redirect through
// after changing it.
func (b *Browser) Follow(ctx context.Context, u *url.URL) (Visit, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Visit{}, err
	}
	resp, err := b.HTTP.Do(req)
	if err != nil {
		return Visit{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return Visit{AppURL: u, Status: resp.StatusCode, Body: string(body)}, nil
}

// ApproveDevice plays the user on another device: it opens the verification URI,
// enters userCode and the user's credentials, and approves (or denies) the request.
func (b *Browser) ApproveDevice(ctx context.Context, verificationURI, userCode, username, password string, approve bool) error {
	page, final, err := b.get(ctx, verificationURI)
	if err != nil {
		return fmt.Errorf("open verification URI: %w", err)
	}
	action, fields, err := parseForm(page)
	if err != nil {
		return fmt.Errorf("device page: %w", err)
	}
	fields.Set("user_code", userCode)
	fields.Set("username", username)
	fields.Set("password", password)
	fields.Set("action", map[bool]string{true: "approve", false: "deny"}[approve])
	target, err := final.Parse(action)
	if err != nil {
		return err
	}
	v, err := b.post(ctx, target.String(), fields)
	if err != nil {
		return err
	}
	if v.Status != http.StatusOK {
		return fmt.Errorf("device page answered %d: %s", v.Status, v.Body)
	}
	return nil
}

// Introspect asks the issuer's RFC 7662 endpoint, as a mail server would, whether token
// is active, and returns the user's e-mail address or "".
func (s *Server) Introspect(token string) string {
	form := url.Values{"token": {token}}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/oauth/introspect", strings.NewReader(form.Encode()))
	if err != nil {
		return ""
	}
	req.SetBasicAuth(s.ResourceID, s.ResourceSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var ans struct {
		Active bool   `json:"active"`
		Email  string `json:"email"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&ans) != nil || !ans.Active {
		return ""
	}
	return ans.Email
}
