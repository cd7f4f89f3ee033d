package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// SignIn describes one sign-in with an issuer.
type SignIn struct {
	Issuer Issuer
	Client Registration
	// Scopes to request; empty means Issuer.ScopesFor() (every protocol).
	Scopes []string
	// LoginHint is the address being set up; the issuer preselects that account.
	LoginHint string
	// OpenBrowser shows the authorization URL to the user: the window opens the
	// browser with it, the command line prints it. Needed by SignInBrowser.
	OpenBrowser func(url string) error
	// ShowCode shows the device flow's user code and address. Needed by SignInDevice.
	ShowCode func(DeviceCode) error
}

// DeviceCode is what the user needs to approve a device sign-in on another device.
type DeviceCode struct {
	UserCode        string
	VerificationURI string
	// VerificationURIComplete already carries the code, if the issuer gave one.
	VerificationURIComplete string
	Expires                 time.Time
}

func (s SignIn) config(redirect string) *oauth2.Config {
	ep := s.Issuer.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	if s.Client.BasicAuth && s.Client.ClientSecret != "" {
		ep.AuthStyle = oauth2.AuthStyleInHeader
	}
	scopes := s.Scopes
	if len(scopes) == 0 {
		scopes = s.Issuer.ScopesFor()
	}
	return &oauth2.Config{
		ClientID:     s.Client.ClientID,
		ClientSecret: s.Client.ClientSecret,
		Endpoint:     ep,
		RedirectURL:  redirect,
		Scopes:       scopes,
	}
}

// answer is one request that reached the loopback redirect.
type answer struct {
	state, code, errCode, errDesc, iss string
	// reply receives the flow's outcome; the handler renders the page from it.
	reply chan error
}

// SignInBrowser runs the authorization code grant with PKCE S256 (RFC 7636) through
// the user's own browser: it listens on a random port of 127.0.0.1 (RFC 8252 §7.3),
// hands the authorization URL to OpenBrowser, accepts exactly one answer on the
// redirect, checks its state, exchanges the code with the PKCE verifier, shows a
// short page in the browser and closes the listener. It returns when the token
// arrives, the issuer refuses, or ctx ends (KindCancelled).
func (o *Options) SignInBrowser(ctx context.Context, s SignIn) (*oauth2.Token, error) {
	const step = "authorize"
	if s.OpenBrowser == nil {
		return nil, &Error{Kind: KindBrowser, Step: step, Err: errors.New("no way to open a browser")}
	}
	if s.Client.ClientID == "" {
		return nil, &Error{Kind: KindNoClient, Step: step, Err: errors.New("no client ID")}
	}
	if err := s.Issuer.validate(o.AllowLoopbackHTTP, true, false); err != nil {
		return nil, &Error{Kind: KindBadIssuer, Step: step, Err: err}
	}

	host := s.Issuer.loopbackHost()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, &Error{Kind: KindBrowser, Step: "listen", Err: fmt.Errorf("loopback listener: %w", err)}
	}
	port := ln.Addr().(*net.TCPAddr).Port
	listeners := []net.Listener{ln}
	if host == "localhost" {
		// "localhost" may resolve to ::1 first in the browser; listen there too when
		// the same port is free.
		if ln6, err := net.Listen("tcp", "[::1]:"+strconv.Itoa(port)); err == nil {
			listeners = append(listeners, ln6)
		}
	}
	redirect := "http://" + host + ":" + strconv.Itoa(port)

	state := rand.Text()
	verifier := oauth2.GenerateVerifier()
	cfg := s.config(redirect)
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if s.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", s.LoginHint))
	}
	authURL := cfg.AuthCodeURL(state, opts...)

	answers := make(chan answer, 1)
	var once sync.Once
	closeListeners := func() {
		for _, l := range listeners {
			l.Close()
		}
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler:           callbackHandler(s.Issuer.displayName(), answers, &once, closeListeners),
	}
	for _, l := range listeners {
		go func() { _ = srv.Serve(l) }()
	}
	defer func() {
		closeListeners()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()

	if err := s.OpenBrowser(authURL); err != nil {
		return nil, &Error{Kind: KindBrowser, Step: step, Err: fmt.Errorf("open browser: %w", err)}
	}

	var a answer
	select {
	case <-ctx.Done():
		return nil, &Error{Kind: KindCancelled, Step: step, Err: ctx.Err()}
	case a = <-answers:
	}
	tok, err := o.finish(ctx, s, cfg, a, state, verifier)
	a.reply <- err
	return tok, err
}

// finish checks one answer and exchanges its code.
func (o *Options) finish(ctx context.Context, s SignIn, cfg *oauth2.Config, a answer, state, verifier string) (*oauth2.Token, error) {
	if subtle.ConstantTimeCompare([]byte(a.state), []byte(state)) != 1 {
		return nil, &Error{Kind: KindStateMismatch, Step: "callback", Description: "the answer's state is not the one this sign-in sent; it was not accepted"}
	}
	// RFC 9207: when the issuer names itself in the answer it must be this issuer.
	if a.iss != "" && s.Issuer.IssuerURL != "" && strings.TrimSuffix(a.iss, "/") != strings.TrimSuffix(s.Issuer.IssuerURL, "/") {
		return nil, &Error{Kind: KindBadIssuer, Step: "callback", Description: fmt.Sprintf("the answer comes from issuer %q, not %q", clip(a.iss), clip(s.Issuer.IssuerURL))}
	}
	if a.errCode != "" {
		return nil, &Error{Kind: kindForCode(a.errCode), Step: "authorize", Code: cleanText(a.errCode, 64), Description: cleanText(a.errDesc, 200)}
	}
	if a.code == "" {
		return nil, &Error{Kind: KindProtocol, Step: "callback", Description: "the answer has neither a code nor an error"}
	}
	cctx, cancel := context.WithTimeout(o.oauth2Context(ctx), o.stepTimeout())
	defer cancel()
	tok, err := cfg.Exchange(cctx, a.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, classify(ctx, "token", err)
	}
	if err := checkToken(tok); err != nil {
		return nil, &Error{Kind: KindProtocol, Step: "token", Err: err}
	}
	return tok, nil
}

// checkToken refuses answers that carry no usable bearer token.
func checkToken(tok *oauth2.Token) error {
	if tok == nil || tok.AccessToken == "" {
		return errors.New("the issuer's answer has no access token")
	}
	if !strings.EqualFold(tok.Type(), "bearer") {
		return fmt.Errorf("token type %q is not bearer", clip(tok.Type()))
	}
	return nil
}

// callbackHandler serves the loopback redirect. Only requests to "/" that carry a
// state, code or error count as the answer; the first one closes the listeners, and
// later ones are told the sign-in is over.
func callbackHandler(issuer string, answers chan<- answer, once *sync.Once, closeListeners func()) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		h.Set("Content-Type", "text/html; charset=utf-8")
		q := r.URL.Query()
		if r.URL.Path != "/" || (q.Get("state") == "" && q.Get("code") == "" && q.Get("error") == "") {
			w.WriteHeader(http.StatusNotFound)
			renderPage(w, issuer, errNotAnAnswer)
			return
		}
		first := false
		once.Do(func() { first = true })
		if !first {
			w.WriteHeader(http.StatusGone)
			renderPage(w, issuer, errAlreadyAnswered)
			return
		}
		closeListeners()
		a := answer{
			state: q.Get("state"), code: q.Get("code"), iss: q.Get("iss"),
			errCode: q.Get("error"), errDesc: q.Get("error_description"),
			reply: make(chan error, 1),
		}
		answers <- a
		var err error
		select {
		case err = <-a.reply:
		case <-r.Context().Done():
			return
		case <-time.After(time.Minute):
			err = errors.New("the sign-in took too long")
		}
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
		}
		renderPage(w, issuer, err)
	})
}

var (
	errNotAnAnswer     = errors.New("this address only takes the answer of a sign-in")
	errAlreadyAnswered = errors.New("this sign-in has already received its answer")
)

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} — Mail Setup Assistant</title>
<style>body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;color:#222}
h1{font-size:1.4em}.ok{color:#1a7f37}.bad{color:#b42318}</style></head>
<body><h1 class="{{.Class}}">{{.Title}}</h1><p>{{.Text}}</p></body></html>
`))

// renderPage writes the friendly page the browser shows after the redirect.
func renderPage(w http.ResponseWriter, issuer string, err error) {
	data := struct{ Title, Class, Text string }{
		Title: "Signed in with " + issuer,
		Class: "ok",
		Text:  "You can close this tab and go back to Mail Setup Assistant, which now checks your mail servers.",
	}
	if err != nil {
		data.Title, data.Class = "Sign-in did not finish", "bad"
		data.Text = pageWords(err) + " You can close this tab and go back to Mail Setup Assistant."
	}
	_ = page.Execute(w, data)
}

// pageWords explains a failed answer in the browser, without any code or token.
func pageWords(err error) string {
	switch KindOf(err) {
	case KindDenied:
		return "The sign-in was declined, so Mail Setup Assistant did not get access."
	case KindStateMismatch:
		return "This answer does not belong to the sign-in Mail Setup Assistant started, so it was ignored for your safety."
	case KindIssuerDown, KindIssuerUntrusted:
		return "The sign-in service could not be reached to finish the sign-in."
	case KindInvalidGrant:
		return "The sign-in service did not accept the sign-in's one-time code; please try again."
	case "":
		return err.Error() + "."
	default:
		return "The sign-in service reported a problem (" + string(KindOf(err)) + ")."
	}
}

// SignInDevice runs the device authorization grant (RFC 8628): it asks the issuer
// for a user code, hands it to ShowCode, and polls the token endpoint at the
// interval the issuer asked for (5 s more after each slow_down) until the user
// approves, declines (KindDenied), the code expires (KindExpired) or ctx ends
// (KindCancelled).
func (o *Options) SignInDevice(ctx context.Context, s SignIn) (*oauth2.Token, error) {
	const step = "device authorization"
	if s.ShowCode == nil {
		return nil, &Error{Kind: KindBrowser, Step: step, Err: errors.New("no way to show the code")}
	}
	if s.Client.ClientID == "" {
		return nil, &Error{Kind: KindNoClient, Step: step, Err: errors.New("no client ID")}
	}
	if err := s.Issuer.validate(o.AllowLoopbackHTTP, false, true); err != nil {
		return nil, &Error{Kind: KindBadIssuer, Step: step, Err: err}
	}
	cfg := s.config("")
	octx := o.oauth2Context(ctx)
	actx, cancel := context.WithTimeout(octx, o.stepTimeout())
	da, err := cfg.DeviceAuth(actx)
	cancel()
	if err != nil {
		return nil, classify(ctx, step, err)
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, &Error{Kind: KindProtocol, Step: step, Description: "the answer lacks device_code, user_code or verification_uri"}
	}
	if err := checkURL("verification_uri", da.VerificationURI, o.AllowLoopbackHTTP); err != nil {
		return nil, &Error{Kind: KindBadIssuer, Step: step, Err: err}
	}
	complete := da.VerificationURIComplete
	if complete != "" && checkURL("verification_uri_complete", complete, o.AllowLoopbackHTTP) != nil {
		complete = ""
	}
	if err := s.ShowCode(DeviceCode{UserCode: da.UserCode, VerificationURI: da.VerificationURI, VerificationURIComplete: complete, Expires: da.Expiry}); err != nil {
		return nil, &Error{Kind: KindBrowser, Step: step, Err: fmt.Errorf("show code: %w", err)}
	}
	tok, err := cfg.DeviceAccessToken(octx, da)
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) && !da.Expiry.IsZero() && !time.Now().Before(da.Expiry) {
			return nil, &Error{Kind: KindExpired, Step: "device token", Description: "the code expired before the sign-in was approved"}
		}
		return nil, classify(ctx, "device token", err)
	}
	if err := checkToken(tok); err != nil {
		return nil, &Error{Kind: KindProtocol, Step: "device token", Err: err}
	}
	return tok, nil
}
