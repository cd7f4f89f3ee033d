package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Source says where a client registration came from.
type Source string

// The places a client registration is looked up, in order.
const (
	SourceExplicit Source = "explicit"    // a flag or the window's advanced options
	SourceConfig   Source = "config file" // ConfigDir/mailsetup/oauth.json
	SourceEnv      Source = "environment" // MAILSETUP_OAUTH_CLIENT_ID[_<ISSUER>]
	SourceBuild    Source = "build"       // set with -ldflags -X at build time
	SourceDynamic  Source = "dynamic"     // RFC 7591 dynamic registration
)

// Registration is the client identity the flows present to an issuer. It lives in
// memory only; dynamic registrations are not saved.
type Registration struct {
	ClientID string
	// ClientSecret is the installed-application secret some issuers (Google) demand;
	// empty for public clients.
	ClientSecret string
	// Source says where it came from; Where names the file or variable.
	Source Source
	Where  string
	// BasicAuth sends the secret with HTTP Basic authentication instead of in the
	// form body (a dynamic registration may ask for client_secret_basic).
	BasicAuth bool
}

// buildClients is the build-time default, set by a distributor with
//
//	go build -ldflags "-X 'github.com/mailsetup/mailsetup/detect/oauth.buildClients=google=ID:SECRET,microsoft=ID'"
//
// a comma-separated list of ISSUER=CLIENT_ID[:CLIENT_SECRET] entries, where ISSUER is
// an Issuer's ID. Empty in this repository: the project ships no client ID.
var buildClients string

// ConfigFileName is the file, under the user's configuration directory, that holds
// client registrations per issuer.
const ConfigFileName = "mailsetup/oauth.json"

// configFile is the format of oauth.json:
//
//	{"clients": {"google": {"client_id": "…", "client_secret": "…"},
//	             "https://login.example.net": {"client_id": "…"}}}
//
// Keys are an Issuer's ID or its issuer URL.
type configFile struct {
	Clients map[string]struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	} `json:"clients"`
}

// EnvClientID and EnvClientSecret are the environment variables read for a client
// registration; each is read first with the suffix "_<ISSUER>" (the Issuer's ID in
// upper case, other characters than letters and digits as "_"), then without.
const (
	EnvClientID     = "MAILSETUP_OAUTH_CLIENT_ID"
	EnvClientSecret = "MAILSETUP_OAUTH_CLIENT_SECRET"
)

// ResolveClient finds the client registration for iss, in this order: explicit (a
// flag or the window's option; used when its ClientID is set), the config file, the
// environment, the build-time default, and RFC 7591 dynamic registration when the
// issuer has a registration endpoint. With none it returns a
// *RegistrationNeededError that says what to register and where.
func (o *Options) ResolveClient(ctx context.Context, iss Issuer, explicit Registration) (Registration, error) {
	if explicit.ClientID != "" {
		explicit.Source = SourceExplicit
		return explicit, nil
	}
	var tried []string
	key := iss.key()

	path, cerr := o.configPath()
	if cerr == nil {
		reg, ok, err := readConfig(path, key, iss.IssuerURL)
		if err != nil {
			return Registration{}, &Error{Kind: KindNoClient, Step: "registration", Err: err}
		}
		if ok {
			return reg, nil
		}
		tried = append(tried, path)
	}

	for _, suffix := range []string{"_" + envSuffix(key), ""} {
		if suffix == "_" {
			continue
		}
		if id := o.getenv(EnvClientID + suffix); id != "" {
			return Registration{ClientID: id, ClientSecret: o.getenv(EnvClientSecret + suffix), Source: SourceEnv, Where: EnvClientID + suffix}, nil
		}
		tried = append(tried, EnvClientID+suffix)
	}

	if reg, ok := parseBuildClients(buildClients, key); ok {
		return reg, nil
	}
	tried = append(tried, "build default")

	if iss.RegistrationURL != "" {
		reg, err := o.register(ctx, iss)
		if err != nil {
			return Registration{}, err
		}
		return reg, nil
	}
	return Registration{}, &RegistrationNeededError{Issuer: iss, ConfigPath: path, Tried: tried}
}

func (o *Options) configPath() (string, error) {
	dir := o.ConfigDir
	if dir == "" {
		d, err := os.UserConfigDir()
		if err != nil {
			return "", err
		}
		dir = d
	}
	return filepath.Join(dir, filepath.FromSlash(ConfigFileName)), nil
}

// readConfig looks up key, then issuerURL, in the config file. A missing file is no
// error; an unreadable or malformed one is, so a typo is not silently ignored.
func readConfig(path, key, issuerURL string) (Registration, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Registration{}, false, nil
	}
	if err != nil {
		return Registration{}, false, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return Registration{}, false, fmt.Errorf("read %s: %w", path, err)
	}
	var c configFile
	if err := json.Unmarshal(data, &c); err != nil {
		return Registration{}, false, fmt.Errorf("read %s: %w", path, err)
	}
	for _, k := range []string{key, strings.TrimSuffix(issuerURL, "/")} {
		if k == "" {
			continue
		}
		if e, ok := c.Clients[k]; ok && e.ClientID != "" {
			return Registration{ClientID: e.ClientID, ClientSecret: e.ClientSecret, Source: SourceConfig, Where: path}, true, nil
		}
	}
	return Registration{}, false, nil
}

// envSuffix turns an issuer key into an environment variable suffix.
func envSuffix(key string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(key) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// parseBuildClients reads the -ldflags default for key.
func parseBuildClients(s, key string) (Registration, bool) {
	if key == "" {
		return Registration{}, false
	}
	for _, entry := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(entry), "=")
		if !ok || name != key {
			continue
		}
		id, secret, _ := strings.Cut(value, ":")
		if id != "" {
			return Registration{ClientID: id, ClientSecret: secret, Source: SourceBuild, Where: "-ldflags"}, true
		}
	}
	return Registration{}, false
}

// register performs RFC 7591 dynamic registration of a native public client with
// loopback redirect URIs (and the device grant when the issuer offers it).
func (o *Options) register(ctx context.Context, iss Issuer) (Registration, error) {
	const step = "registration"
	if err := checkURL("registration endpoint", iss.RegistrationURL, o.AllowLoopbackHTTP); err != nil {
		return Registration{}, &Error{Kind: KindBadIssuer, Step: step, Err: err}
	}
	grants := []string{"authorization_code", "refresh_token"}
	if iss.DeviceURL != "" {
		grants = append(grants, "urn:ietf:params:oauth:grant-type:device_code")
	}
	body, _ := json.Marshal(map[string]any{
		"client_name":                "Mail Setup Assistant",
		"application_type":           "native",
		"redirect_uris":              []string{"http://" + iss.loopbackHost()},
		"grant_types":                grants,
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
		"scope":                      strings.Join(iss.ScopesFor(), " "),
	})
	cctx, cancel := context.WithTimeout(ctx, o.stepTimeout())
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodPost, iss.RegistrationURL, bytes.NewReader(body))
	if err != nil {
		return Registration{}, &Error{Kind: KindBadIssuer, Step: step, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := o.httpClient().Do(req)
	if err != nil {
		return Registration{}, classify(ctx, step, fmt.Errorf("post %s: %w", iss.RegistrationURL, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return Registration{}, classify(ctx, step, fmt.Errorf("read registration: %w", err))
	}
	var r struct {
		ClientID         string `json:"client_id"`
		ClientSecret     string `json:"client_secret"`
		AuthMethod       string `json:"token_endpoint_auth_method"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	_ = json.Unmarshal(data, &r)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		kind := KindProtocol
		if resp.StatusCode >= 500 {
			kind = KindIssuerDown
		}
		desc := cleanText(r.ErrorDescription, 200)
		if desc == "" {
			desc = fmt.Sprintf("HTTP status %d", resp.StatusCode)
		}
		return Registration{}, &Error{Kind: kind, Step: step, Code: cleanText(r.Error, 64), Description: desc}
	}
	if r.ClientID == "" {
		return Registration{}, &Error{Kind: KindProtocol, Step: step, Description: "the registration answer has no client_id"}
	}
	host := iss.RegistrationURL
	if u, err := url.Parse(iss.RegistrationURL); err == nil {
		host = u.Host
	}
	return Registration{
		ClientID:     r.ClientID,
		ClientSecret: r.ClientSecret,
		Source:       SourceDynamic,
		Where:        host,
		BasicAuth:    r.AuthMethod == "client_secret_basic",
	}, nil
}

// RegistrationNeededError says that no client registration was found for an issuer,
// what to register there and where to put it. Its text is meant for the user.
type RegistrationNeededError struct {
	Issuer Issuer
	// ConfigPath is the oauth.json this run looked in ("" when the configuration
	// directory is unknown).
	ConfigPath string
	// Tried lists the places looked in, in order.
	Tried []string
}

func (e *RegistrationNeededError) Error() string {
	var b strings.Builder
	iss := e.Issuer
	name := iss.displayName()
	fmt.Fprintf(&b, "No OAuth2 client is set up for %s, and this program ships none of its own. ", name)
	b.WriteString(e.HowTo())
	key := iss.key()
	b.WriteString(" Then give its client ID")
	if e.needsSecret() {
		b.WriteString(" and secret")
	}
	b.WriteString(" in one of these ways: the --oauth-client-id")
	if e.needsSecret() {
		b.WriteString(" and --oauth-client-secret options")
	} else {
		b.WriteString(" option")
	}
	b.WriteString(" (or the window's advanced options)")
	if e.ConfigPath != "" {
		fmt.Fprintf(&b, `; the file %s as {"clients": {%q: {"client_id": "…"`, e.ConfigPath, key)
		if e.needsSecret() {
			b.WriteString(`, "client_secret": "…"`)
		}
		b.WriteString("}}}")
	}
	if key != "" {
		if e.needsSecret() {
			fmt.Fprintf(&b, "; the environment variables %s_%s and %s_%s", EnvClientID, envSuffix(key), EnvClientSecret, envSuffix(key))
		} else {
			fmt.Fprintf(&b, "; the environment variable %s_%s", EnvClientID, envSuffix(key))
		}
	}
	b.WriteString(".")
	return b.String()
}

// needsSecret reports whether the issuer's installed-app clients come with a secret
// the token endpoint demands (Google's do).
func (e *RegistrationNeededError) needsSecret() bool { return family(e.Issuer) == "google" }

// HowTo says, in the user's words, what to register at the issuer and where.
func (e *RegistrationNeededError) HowTo() string {
	iss := e.Issuer
	scopes := strings.Join(iss.ScopesFor(), " ")
	switch family(iss) {
	case "google":
		console := iss.ConsoleURL
		if console == "" {
			console = "https://console.cloud.google.com/apis/credentials"
		}
		return fmt.Sprintf("Create one in the Google Cloud console (%s): Create credentials → OAuth client ID → "+
			"application type \"Desktop app\"; its redirect is http://127.0.0.1 on any port, nothing to enter. "+
			"On the OAuth consent screen add the scope %s, and while the app is in testing add the address "+
			"as a test user.", console, scopes)
	case "microsoft":
		console := iss.ConsoleURL
		if console == "" {
			console = "https://entra.microsoft.com (App registrations)"
		}
		return fmt.Sprintf("Register an application in Microsoft Entra (%s): New registration, supported account "+
			"types \"Accounts in any organizational directory and personal Microsoft accounts\"; under "+
			"Authentication add the platform \"Mobile and desktop applications\" with the redirect URI "+
			"http://localhost and turn \"Allow public client flows\" on (the device sign-in needs it); it is "+
			"a public client, with no secret. Under API permissions add the delegated permissions %s.", console, scopes)
	default:
		where := iss.ConsoleURL
		if where == "" {
			where = iss.IssuerURL
		}
		if where == "" {
			where = iss.AuthURL
		}
		s := fmt.Sprintf("Register a native (public) client with %s at %s, with the redirect URI http://%s "+
			"(any port, RFC 8252)", iss.displayName(), where, iss.loopbackHost())
		if iss.DeviceURL != "" {
			s += " and the device authorization grant"
		}
		if scopes != "" {
			s += ", allowed the scopes " + scopes
		}
		return s + "."
	}
}

// family recognises the two issuers whose registration steps differ from the
// generic ones, by the host of their endpoints.
func family(iss Issuer) string {
	for _, raw := range []string{iss.IssuerURL, iss.AuthURL, iss.TokenURL} {
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		h := strings.ToLower(u.Hostname())
		switch {
		case h == "accounts.google.com" || h == "oauth2.googleapis.com":
			return "google"
		case h == "login.microsoftonline.com" || h == "login.live.com" || strings.HasSuffix(h, ".microsoftonline.com"):
			return "microsoft"
		}
	}
	switch iss.ID {
	case "google", "microsoft":
		return iss.ID
	}
	return ""
}
