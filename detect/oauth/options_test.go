package oauth

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
)

// A request that carried a body (a token, device or registration request) is never sent
// on to wherever a redirect points, whatever the host: it holds the code, the PKCE
// verifier, a refresh token or the client secret.
func TestRedirectNeverResendsABody(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	var got atomic.Value
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		b, _ := io.ReadAll(r.Body)
		got.Store(string(b))
	}))
	defer elsewhere.Close()
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound, http.StatusSeeOther} {
		token := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+"/token", code)
		}))
		client := (&Options{AllowLoopbackHTTP: true}).httpClient()
		form := url.Values{"client_secret": {"THE-SECRET"}, "code_verifier": {"THE-VERIFIER"}}
		resp, err := client.PostForm(token.URL+"/token", form)
		if err == nil {
			resp.Body.Close()
			t.Errorf("HTTP %d: the POST was followed (%d)", code, resp.StatusCode)
		}
		token.Close()
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the other server got %d requests (last body %q)", n, got.Load())
	}
}

func TestCheckRedirect(t *testing.T) {
	t.Parallel()
	req := func(method, raw string) *http.Request {
		r, err := http.NewRequest(method, raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		name      string
		first, to string
		method    string
		hops      int
		ok        bool
	}{
		{"GET on the same host", "https://login.example.com/.well-known/openid-configuration", "https://login.example.com/v2/.well-known/openid-configuration", http.MethodGet, 1, true},
		{"GET, host case differs", "https://login.example.com/a", "https://LOGIN.example.com/b", http.MethodGet, 1, true},
		{"GET to another host", "https://login.example.com/a", "https://login.evil.test/a", http.MethodGet, 1, false},
		{"GET to a subdomain", "https://example.com/a", "https://x.example.com/a", http.MethodGet, 1, false},
		{"GET downgraded to http", "https://login.example.com/a", "http://login.example.com/a", http.MethodGet, 1, false},
		{"POST on the same host", "https://login.example.com/token", "https://login.example.com/token2", http.MethodPost, 1, false},
		{"the fourth redirect", "https://login.example.com/a", "https://login.example.com/b", http.MethodGet, 3, false},
	} {
		var via []*http.Request
		for range tc.hops {
			via = append(via, req(tc.method, tc.first))
		}
		err := CheckRedirect(false)(req(http.MethodGet, tc.to), via)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok %v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, errBadRedirect) {
			t.Errorf("%s: %v does not say the redirect was refused", tc.name, err)
		}
	}
}
