package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Options holds what the package needs from the outside world; its zero value works.
type Options struct {
	// HTTPClient talks to issuers. Nil means a client with a 30 s timeout that follows
	// at most 3 redirects, to https only.
	HTTPClient *http.Client
	// AllowLoopbackHTTP accepts http:// issuer and endpoint URLs whose host is a
	// loopback address (tests and local issuers); otherwise only https is used.
	AllowLoopbackHTTP bool
	// Getenv reads environment variables; nil means os.Getenv.
	Getenv func(string) string
	// ConfigDir is the user's configuration directory holding mailsetup/oauth.json;
	// empty means os.UserConfigDir().
	ConfigDir string
	// StepTimeout caps each request to the issuer; zero means 20 s.
	StepTimeout time.Duration
}

// errBadRedirect marks a redirect the default client refused to follow.
var errBadRedirect = errors.New("oauth: redirect refused")

func (o *Options) httpClient() *http.Client {
	if o.HTTPClient != nil {
		return o.HTTPClient
	}
	return &http.Client{Timeout: 30 * time.Second, CheckRedirect: CheckRedirect(o.AllowLoopbackHTTP)}
}

// CheckRedirect is the one redirect rule for every request to an issuer (an
// http.Client's CheckRedirect): at most 3 redirects, https only (http to a loopback
// address when allowLoopbackHTTP, for tests), never away from the host first asked, and
// never for a request that carried a body — a token, device or registration request
// would send the code, PKCE verifier, refresh token or client secret again to wherever
// the answer points.
func CheckRedirect(allowLoopbackHTTP bool) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first := via[0]
		switch {
		case len(via) >= 3:
			return fmt.Errorf("%w: more than 3 redirects", errBadRedirect)
		case first.Method != http.MethodGet:
			return fmt.Errorf("%w: a %s request is not sent on (to %s)", errBadRedirect, first.Method, req.URL.Redacted())
		case !strings.EqualFold(req.URL.Hostname(), first.URL.Hostname()):
			return fmt.Errorf("%w: to another host (%s)", errBadRedirect, req.URL.Redacted())
		}
		if err := checkURL("redirect", req.URL.String(), allowLoopbackHTTP); err != nil {
			return fmt.Errorf("%w: %v", errBadRedirect, err)
		}
		return nil
	}
}

func (o *Options) getenv(name string) string {
	if o.Getenv != nil {
		return o.Getenv(name)
	}
	return os.Getenv(name)
}

func (o *Options) stepTimeout() time.Duration {
	if o.StepTimeout > 0 {
		return o.StepTimeout
	}
	return 20 * time.Second
}

// oauth2Context hands golang.org/x/oauth2 the HTTP client through the context, as
// that library expects.
func (o *Options) oauth2Context(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, o.httpClient())
}
