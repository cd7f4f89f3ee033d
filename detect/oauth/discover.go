package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxMetadata caps a metadata document; real ones are a few KiB.
const maxMetadata = 256 << 10

// metadata is the part of RFC 8414 / OpenID Connect Discovery 1.0 metadata the
// flows use.
type metadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	DeviceEndpoint        string `json:"device_authorization_endpoint"`
	RegistrationEndpoint  string `json:"registration_endpoint"`
}

// Discover reads the issuer's metadata, trying RFC 8414's
// /.well-known/oauth-authorization-server and then OpenID Connect's
// /.well-known/openid-configuration, and returns the Issuer it describes. The
// document's "issuer" must equal issuerURL (RFC 8414 §3.3, OpenID Discovery §4.3).
// Scopes are not part of metadata: merge the result with the knowledge base's facts.
func (o *Options) Discover(ctx context.Context, issuerURL string) (Issuer, error) {
	issuerURL = strings.TrimSuffix(issuerURL, "/")
	if err := checkURL("issuer", issuerURL, o.AllowLoopbackHTTP); err != nil {
		return Issuer{}, &Error{Kind: KindBadIssuer, Step: "discovery", Err: err}
	}
	u, _ := url.Parse(issuerURL)
	if u.RawQuery != "" {
		return Issuer{}, &Error{Kind: KindBadIssuer, Step: "discovery", Err: fmt.Errorf("issuer %q has a query", clip(issuerURL))}
	}
	var firstErr error
	for _, metaURL := range wellKnownURLs(u) {
		iss, err := o.discoverAt(ctx, metaURL, issuerURL)
		if err == nil {
			return iss, nil
		}
		// A missing document means "try the other well-known name"; anything else
		// (unreachable, cancelled, mismatch) is the answer.
		var nf *notFoundError
		if !errors.As(err, &nf) {
			return Issuer{}, err
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return Issuer{}, &Error{Kind: KindBadIssuer, Step: "discovery", Err: firstErr}
}

// DiscoverConfig reads a metadata document from its full URL, as named by a
// server's OAUTHBEARER failure ("openid-configuration"), and checks that the document's
// issuer is the one whose well-known URL this is. It does not decide whether the
// issuer may be trusted with the user's sign-in: that is the caller's decision.
func (o *Options) DiscoverConfig(ctx context.Context, configURL string) (Issuer, error) {
	if err := checkURL("openid-configuration", configURL, o.AllowLoopbackHTTP); err != nil {
		return Issuer{}, &Error{Kind: KindBadIssuer, Step: "discovery", Err: err}
	}
	iss, err := o.discoverAt(ctx, configURL, "")
	var nf *notFoundError
	if errors.As(err, &nf) {
		return Issuer{}, &Error{Kind: KindBadIssuer, Step: "discovery", Err: err}
	}
	return iss, err
}

// wellKnownURLs returns the RFC 8414 URL (well-known segment inserted before the
// issuer's path) and the OpenID URL (appended to it).
func wellKnownURLs(issuer *url.URL) []string {
	path := strings.TrimSuffix(issuer.EscapedPath(), "/")
	base := issuer.Scheme + "://" + issuer.Host
	return []string{
		base + "/.well-known/oauth-authorization-server" + path,
		base + path + "/.well-known/openid-configuration",
	}
}

// issuerMatches reports whether metaURL is one of issuer's well-known URLs.
func issuerMatches(issuer, metaURL string) bool {
	u, err := url.Parse(issuer)
	if err != nil || u.RawQuery != "" || u.Fragment != "" || u.Host == "" {
		return false
	}
	for _, w := range wellKnownURLs(u) {
		if w == metaURL {
			return true
		}
	}
	return false
}

// notFoundError says there is no metadata document at a URL (not found, another
// client error, or not JSON), so the other well-known name is worth a try.
type notFoundError struct{ url, why string }

func (e *notFoundError) Error() string { return "no metadata at " + clip(e.url) + ": " + e.why }

// discoverAt fetches one metadata document. want is the issuer the caller asked for
// ("" when starting from the document's URL).
func (o *Options) discoverAt(ctx context.Context, metaURL, want string) (Issuer, error) {
	cctx, cancel := context.WithTimeout(ctx, o.stepTimeout())
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, metaURL, nil)
	if err != nil {
		return Issuer{}, &Error{Kind: KindBadIssuer, Step: "discovery", Err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := o.httpClient().Do(req)
	if err != nil {
		return Issuer{}, classify(ctx, "discovery", fmt.Errorf("get %s: %w", metaURL, err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 500:
		return Issuer{}, &Error{Kind: KindIssuerDown, Step: "discovery", Description: fmt.Sprintf("HTTP status %d from %s", resp.StatusCode, clip(metaURL))}
	case resp.StatusCode != http.StatusOK:
		return Issuer{}, &notFoundError{url: metaURL, why: fmt.Sprintf("HTTP status %d", resp.StatusCode)}
	}
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct != "" && ct != "application/json" {
		return Issuer{}, &notFoundError{url: metaURL, why: "content type " + clip(ct) + ", not JSON"}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadata+1))
	if err != nil {
		return Issuer{}, classify(ctx, "discovery", fmt.Errorf("read %s: %w", metaURL, err))
	}
	if len(body) > maxMetadata {
		return Issuer{}, &Error{Kind: KindBadIssuer, Step: "discovery", Description: fmt.Sprintf("%s is larger than %d KiB", clip(metaURL), maxMetadata>>10)}
	}
	var m metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return Issuer{}, &Error{Kind: KindBadIssuer, Step: "discovery", Err: fmt.Errorf("decode %s: %w", metaURL, err)}
	}
	if want != "" && strings.TrimSuffix(m.Issuer, "/") != want {
		return Issuer{}, &Error{Kind: KindBadIssuer, Step: "discovery", Description: fmt.Sprintf("metadata at %s names issuer %q, not %q", clip(metaURL), clip(m.Issuer), clip(want))}
	}
	if want == "" && !issuerMatches(m.Issuer, metaURL) {
		return Issuer{}, &Error{Kind: KindBadIssuer, Step: "discovery", Description: fmt.Sprintf("metadata at %s names issuer %q, whose metadata is not at that address", clip(metaURL), clip(m.Issuer))}
	}
	if err := checkURL("issuer", m.Issuer, o.AllowLoopbackHTTP); err != nil {
		return Issuer{}, &Error{Kind: KindBadIssuer, Step: "discovery", Err: err}
	}
	iss := Issuer{
		IssuerURL:       m.Issuer,
		AuthURL:         m.AuthorizationEndpoint,
		TokenURL:        m.TokenEndpoint,
		DeviceURL:       m.DeviceEndpoint,
		RegistrationURL: m.RegistrationEndpoint,
	}
	if u, err := url.Parse(m.Issuer); err == nil {
		iss.ID, iss.Name = u.Hostname(), u.Hostname()
	}
	if err := iss.validate(o.AllowLoopbackHTTP, false, false); err != nil {
		return Issuer{}, &Error{Kind: KindBadIssuer, Step: "discovery", Err: err}
	}
	if iss.AuthURL == "" && iss.DeviceURL == "" {
		return Issuer{}, &Error{Kind: KindBadIssuer, Step: "discovery", Description: "metadata names neither an authorization nor a device endpoint"}
	}
	return iss, nil
}

// Merge returns i with every empty endpoint field filled from d (typically the
// result of Discover); the knowledge base's facts win where both are set.
func (i Issuer) Merge(d Issuer) Issuer {
	fill := func(dst *string, src string) {
		if *dst == "" {
			*dst = src
		}
	}
	fill(&i.ID, d.ID)
	fill(&i.Name, d.Name)
	fill(&i.IssuerURL, d.IssuerURL)
	fill(&i.AuthURL, d.AuthURL)
	fill(&i.TokenURL, d.TokenURL)
	fill(&i.DeviceURL, d.DeviceURL)
	fill(&i.RegistrationURL, d.RegistrationURL)
	fill(&i.LoopbackHost, d.LoopbackHost)
	fill(&i.ConsoleURL, d.ConsoleURL)
	if len(i.Scopes) == 0 {
		i.Scopes = d.Scopes
	}
	if len(i.ExtraScopes) == 0 {
		i.ExtraScopes = d.ExtraScopes
	}
	return i
}
