package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// fakeIssuer is a scripted token endpoint that checks PKCE the way RFC 7636 §4.6 says.
type fakeIssuer struct {
	srv       *httptest.Server
	mu        sync.Mutex
	challenge string        // code_challenge seen by the "browser"
	tokenErr  string        // an OAuth2 error the token endpoint answers with
	polls     []time.Time   // device token requests
	device    []string      // scripted device answers: "pending", "slow_down", "access_denied", "ok"
	interval  int           // device interval
	expiresIn int           // device expires_in
	hold      chan struct{} // when set, the token endpoint waits on it
}

func newFakeIssuer(t *testing.T) *fakeIssuer {
	f := &fakeIssuer{interval: 1, expiresIn: 60}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIssuer) issuer() Issuer {
	return Issuer{ID: "fake", Name: "Fake", IssuerURL: f.srv.URL, AuthURL: f.srv.URL + "/authorize", TokenURL: f.srv.URL + "/token",
		DeviceURL: f.srv.URL + "/device", Scopes: map[Protocol][]string{IMAP: {"mail"}}}
}

func jsonReply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeIssuer) serve(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/device":
		jsonReply(w, 200, map[string]any{"device_code": "dev-code", "user_code": "ABCD-EFGH", "verification_uri": f.srv.URL + "/activate",
			"verification_uri_complete": f.srv.URL + "/activate?user_code=ABCD-EFGH", "interval": f.interval, "expires_in": f.expiresIn})
	case "/token":
		if r.Form.Get("grant_type") == "urn:ietf:params:oauth:grant-type:device_code" {
			f.polls = append(f.polls, time.Now())
			next := "pending"
			if len(f.device) > 0 {
				next, f.device = f.device[0], f.device[1:]
			}
			switch next {
			case "ok":
				jsonReply(w, 200, map[string]any{"access_token": "device-access", "token_type": "Bearer", "expires_in": 3600})
			case "pending":
				jsonReply(w, 400, map[string]any{"error": "authorization_pending"})
			default:
				jsonReply(w, 400, map[string]any{"error": next})
			}
			return
		}
		if f.hold != nil {
			f.mu.Unlock()
			<-f.hold
			f.mu.Lock()
		}
		if f.tokenErr != "" {
			jsonReply(w, 400, map[string]any{"error": f.tokenErr, "error_description": "the code was already used"})
			return
		}
		sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
		if r.Form.Get("code") != "good-code" || base64.RawURLEncoding.EncodeToString(sum[:]) != f.challenge || f.challenge == "" {
			jsonReply(w, 400, map[string]any{"error": "invalid_grant", "error_description": "PKCE verification failed"})
			return
		}
		if r.Form.Get("client_id") != "cid" || r.Form.Get("redirect_uri") == "" {
			jsonReply(w, 401, map[string]any{"error": "invalid_client"})
			return
		}
		jsonReply(w, 200, map[string]any{"access_token": "browser-access", "refresh_token": "browser-refresh", "token_type": "Bearer", "expires_in": 3600})
	default:
		http.NotFound(w, r)
	}
}

// browser plays the user's browser for the fake issuer: it checks the authorization
// URL and sends the answer the test wants to the loopback redirect.
type browser struct {
	f        *fakeIssuer
	t        *testing.T
	answer   func(state string) url.Values // nil: do not answer
	redirect chan string                   // receives the redirect URI
	page     chan string                   // receives the page the loopback listener showed
	// lastState is the state of the last authorization URL, guarded by f.mu.
	lastState string
}

func (b *browser) open(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" || q.Get("client_id") != "cid" ||
		q.Get("login_hint") != "alice@example.test" || q.Get("scope") != "mail" || len(q.Get("state")) < 20 {
		b.t.Errorf("authorization URL lacks PKCE S256, code, client, hint, scope or a long state: %s", raw)
	}
	ru, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || ru.Scheme != "http" || ru.Hostname() != "127.0.0.1" || ru.Port() == "" || ru.Path != "" {
		b.t.Errorf("redirect_uri %q is not http://127.0.0.1:PORT", q.Get("redirect_uri"))
	}
	b.f.mu.Lock()
	b.f.challenge = q.Get("code_challenge")
	b.lastState = q.Get("state")
	b.f.mu.Unlock()
	if b.redirect != nil {
		b.redirect <- q.Get("redirect_uri")
	}
	if b.answer == nil {
		return nil
	}
	go func() {
		resp, err := http.Get(q.Get("redirect_uri") + "/?" + b.answer(q.Get("state")).Encode())
		if err != nil {
			b.page <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		b.page <- string(body)
	}()
	return nil
}

func TestSignInBrowser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		answer   func(state string) url.Values
		tokenErr string
		stopIss  bool
		wantKind Kind
		wantPage string
	}{
		{name: "success", answer: func(s string) url.Values { return url.Values{"code": {"good-code"}, "state": {s}} },
			wantPage: "Signed in with Fake"},
		{name: "state mismatch", answer: func(s string) url.Values { return url.Values{"code": {"good-code"}, "state": {s + "x"}} },
			wantKind: KindStateMismatch, wantPage: "does not belong"},
		{name: "missing state", answer: func(s string) url.Values { return url.Values{"code": {"good-code"}} },
			wantKind: KindStateMismatch, wantPage: "does not belong"},
		{name: "user declined", answer: func(s string) url.Values {
			return url.Values{"error": {"access_denied"}, "error_description": {"The user said no"}, "state": {s}}
		}, wantKind: KindDenied, wantPage: "declined"},
		{name: "invalid grant", answer: func(s string) url.Values { return url.Values{"code": {"good-code"}, "state": {s}} },
			tokenErr: "invalid_grant", wantKind: KindInvalidGrant, wantPage: "one-time code"},
		{name: "wrong code fails pkce check", answer: func(s string) url.Values { return url.Values{"code": {"other"}, "state": {s}} },
			wantKind: KindInvalidGrant},
		{name: "mix-up: another issuer answers", answer: func(s string) url.Values {
			return url.Values{"code": {"good-code"}, "state": {s}, "iss": {"https://evil.example"}}
		}, wantKind: KindBadIssuer},
		{name: "issuer down at the token step", answer: func(s string) url.Values { return url.Values{"code": {"good-code"}, "state": {s}} },
			stopIss: true, wantKind: KindIssuerDown, wantPage: "could not be reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeIssuer(t)
			f.tokenErr = tt.tokenErr
			iss := f.issuer()
			if tt.stopIss {
				f.srv.Close()
			}
			b := &browser{f: f, t: t, answer: tt.answer, page: make(chan string, 1)}
			o := &Options{AllowLoopbackHTTP: true}
			tok, err := o.SignInBrowser(context.Background(), SignIn{
				Issuer: iss, Client: Registration{ClientID: "cid"}, LoginHint: "alice@example.test", OpenBrowser: b.open,
			})
			page := <-b.page
			if tt.wantKind == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tok.AccessToken != "browser-access" || tok.RefreshToken != "browser-refresh" {
					t.Errorf("token = %+v", tok)
				}
			} else if KindOf(err) != tt.wantKind {
				t.Fatalf("err = %v (kind %q), want kind %q", err, KindOf(err), tt.wantKind)
			}
			if tt.wantPage != "" && !strings.Contains(page, tt.wantPage) {
				t.Errorf("page = %q, want it to say %q", page, tt.wantPage)
			}
			for _, secret := range []string{"good-code", "browser-access", "browser-refresh"} {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("error text %q reveals %q", err, secret)
				}
				if strings.Contains(page, secret) {
					t.Errorf("page reveals %q", secret)
				}
			}
		})
	}
}

// The listener takes one answer and closes; requests that are not an answer do not
// use it up.
func TestSignInBrowserOneAnswer(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	f.hold = make(chan struct{})
	b := &browser{f: f, t: t, redirect: make(chan string, 1)}
	o := &Options{AllowLoopbackHTTP: true}
	done := make(chan error, 1)
	go func() {
		_, err := o.SignInBrowser(context.Background(), SignIn{Issuer: f.issuer(), Client: Registration{ClientID: "cid"},
			LoginHint: "alice@example.test", OpenBrowser: b.open})
		done <- err
	}()
	redirect := <-b.redirect
	// A favicon request and a bare visit are not answers.
	for _, p := range []string{"/favicon.ico", "/"} {
		resp, err := http.Get(redirect + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
		}
	}
	// The answer: its state is read from the authorization URL the browser saw.
	first := make(chan *http.Response, 1)
	go func() {
		resp, err := http.Get(redirect + "/?code=good-code&state=" + url.QueryEscape(stateOf(t, b)))
		if err != nil {
			t.Error(err)
			first <- nil
			return
		}
		first <- resp
	}()
	// While the code is being exchanged (the token endpoint is held), the port is closed.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(redirect, "http://"), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the loopback listener still accepts connections after the answer")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(f.hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if resp := <-first; resp != nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "Signed in") {
			t.Errorf("answer page = %d %q", resp.StatusCode, body)
		}
	}
}

// stateOf returns the state of the authorization URL the browser was given.
func stateOf(t *testing.T, b *browser) string {
	t.Helper()
	b.f.mu.Lock()
	defer b.f.mu.Unlock()
	return b.lastState
}

func TestSignInBrowserCancel(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	b := &browser{f: f, t: t, redirect: make(chan string, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := (&Options{AllowLoopbackHTTP: true}).SignInBrowser(ctx, SignIn{Issuer: f.issuer(), Client: Registration{ClientID: "cid"},
			LoginHint: "alice@example.test", OpenBrowser: b.open})
		done <- err
	}()
	redirect := <-b.redirect
	start := time.Now()
	cancel()
	err := <-done
	if KindOf(err) != KindCancelled {
		t.Fatalf("err = %v, want cancelled", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("cancel took %v, want it prompt", d)
	}
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(redirect, "http://"), time.Second); err == nil {
		c.Close()
		t.Error("the loopback listener is still open after cancel")
	}
}

func TestSignInBrowserRefusesBadSetup(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	open := func(string) error { return nil }
	tests := []struct {
		name string
		o    Options
		s    SignIn
		want Kind
	}{
		{"http issuer without the test switch", Options{}, SignIn{Issuer: f.issuer(), Client: Registration{ClientID: "cid"}, OpenBrowser: open}, KindBadIssuer},
		{"no client", Options{AllowLoopbackHTTP: true}, SignIn{Issuer: f.issuer(), OpenBrowser: open}, KindNoClient},
		{"no browser", Options{AllowLoopbackHTTP: true}, SignIn{Issuer: f.issuer(), Client: Registration{ClientID: "cid"}}, KindBrowser},
		{"browser fails", Options{AllowLoopbackHTTP: true}, SignIn{Issuer: f.issuer(), Client: Registration{ClientID: "cid"},
			OpenBrowser: func(string) error { return errors.New("no display") }}, KindBrowser},
	}
	for _, tt := range tests {
		_, err := tt.o.SignInBrowser(context.Background(), tt.s)
		if KindOf(err) != tt.want {
			t.Errorf("%s: err = %v, want kind %q", tt.name, err, tt.want)
		}
	}
}

func TestSignInDevice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		script    []string
		interval  int
		expiresIn int
		wantKind  Kind
		// wantGaps are the minimum gaps between consecutive polls.
		wantGaps []time.Duration
	}{
		{name: "pending then ok", script: []string{"pending", "ok"}, interval: 1, expiresIn: 60,
			wantGaps: []time.Duration{time.Second}},
		{name: "slow_down adds 5 s", script: []string{"slow_down", "ok"}, interval: 1, expiresIn: 60,
			wantGaps: []time.Duration{6 * time.Second}},
		{name: "declined", script: []string{"pending", "access_denied"}, interval: 1, expiresIn: 60, wantKind: KindDenied},
		{name: "issuer says expired", script: []string{"expired_token"}, interval: 1, expiresIn: 60, wantKind: KindExpired},
		{name: "expires_in passes", script: nil, interval: 1, expiresIn: 2, wantKind: KindExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeIssuer(t)
			f.device, f.interval, f.expiresIn = tt.script, tt.interval, tt.expiresIn
			var shown DeviceCode
			start := time.Now()
			tok, err := (&Options{AllowLoopbackHTTP: true}).SignInDevice(context.Background(), SignIn{
				Issuer: f.issuer(), Client: Registration{ClientID: "cid"},
				ShowCode: func(c DeviceCode) error { shown = c; return nil },
			})
			if shown.UserCode != "ABCD-EFGH" || !strings.HasSuffix(shown.VerificationURI, "/activate") ||
				!strings.Contains(shown.VerificationURIComplete, "user_code=ABCD-EFGH") || shown.Expires.Before(start) {
				t.Errorf("shown = %+v", shown)
			}
			if tt.wantKind != "" {
				if KindOf(err) != tt.wantKind {
					t.Fatalf("err = %v (kind %q), want %q", err, KindOf(err), tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "device-access" {
				t.Errorf("token = %+v", tok)
			}
			f.mu.Lock()
			polls := f.polls
			f.mu.Unlock()
			if len(polls) == 0 || polls[0].Sub(start) < time.Duration(tt.interval)*time.Second-50*time.Millisecond {
				t.Errorf("first poll after %v, want ≥ the interval", polls[0].Sub(start))
			}
			for i, want := range tt.wantGaps {
				if got := polls[i+1].Sub(polls[i]); got < want-50*time.Millisecond {
					t.Errorf("gap %d = %v, want ≥ %v", i, got, want)
				}
			}
		})
	}
}

func TestSignInDeviceCancelAndDown(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(300 * time.Millisecond); cancel() }()
	start := time.Now()
	_, err := (&Options{AllowLoopbackHTTP: true}).SignInDevice(ctx, SignIn{Issuer: f.issuer(), Client: Registration{ClientID: "cid"},
		ShowCode: func(DeviceCode) error { return nil }})
	if KindOf(err) != KindCancelled {
		t.Errorf("err = %v, want cancelled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("cancel took %v", d)
	}

	down := newFakeIssuer(t)
	iss := down.issuer()
	down.srv.Close()
	_, err = (&Options{AllowLoopbackHTTP: true}).SignInDevice(context.Background(), SignIn{Issuer: iss, Client: Registration{ClientID: "cid"},
		ShowCode: func(DeviceCode) error { return nil }})
	if KindOf(err) != KindIssuerDown {
		t.Errorf("err = %v, want issuer_down", err)
	}

	noDevice := f.issuer()
	noDevice.DeviceURL = ""
	_, err = (&Options{AllowLoopbackHTTP: true}).SignInDevice(context.Background(), SignIn{Issuer: noDevice, Client: Registration{ClientID: "cid"},
		ShowCode: func(DeviceCode) error { return nil }})
	if KindOf(err) != KindBadIssuer {
		t.Errorf("no device endpoint: err = %v, want bad_issuer", err)
	}
}

// An issuer's error body never reaches the error text, and descriptions are clipped
// and stripped of control characters.
func TestErrorTextIsClean(t *testing.T) {
	t.Parallel()
	re := &oauth2.RetrieveError{Response: &http.Response{StatusCode: 400}, Body: []byte(`{"error":"invalid_grant","access_token":"LEAKED"}`),
		ErrorCode: "invalid_grant", ErrorDescription: "bad\r\nInjected: line" + strings.Repeat("x", 500)}
	e := classify(context.Background(), "token", re)
	if e.Kind != KindInvalidGrant || strings.Contains(e.Error(), "LEAKED") || strings.ContainsAny(e.Error(), "\r\n") || len(e.Description) > 210 {
		t.Errorf("error = %q (kind %q)", e.Error(), e.Kind)
	}
	re5 := &oauth2.RetrieveError{Response: &http.Response{StatusCode: 503, Status: "503"}, Body: []byte("LEAKED")}
	if e := classify(context.Background(), "token", re5); e.Kind != KindIssuerDown || strings.Contains(e.Error(), "LEAKED") {
		t.Errorf("503: %q (kind %q), want issuer_down without the body", e.Error(), e.Kind)
	}
}
