package oauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"

	"golang.org/x/oauth2"
)

// Kind is the typed class of a sign-in failure; front ends key their words on it.
type Kind string

// Kinds of sign-in failure.
const (
	// KindCancelled: the caller's context ended (the user pressed Cancel).
	KindCancelled Kind = "cancelled"
	// KindDenied: the user declined on the issuer's page, or the issuer refused
	// (OAuth2 error access_denied).
	KindDenied Kind = "access_denied"
	// KindStateMismatch: the answer on the loopback redirect did not carry the state
	// this flow sent; it was not accepted.
	KindStateMismatch Kind = "state_mismatch"
	// KindIssuerDown: the issuer could not be reached or answered with a server error.
	KindIssuerDown Kind = "issuer_down"
	// KindIssuerUntrusted: the issuer's TLS certificate was not trusted.
	KindIssuerUntrusted Kind = "issuer_untrusted"
	// KindInvalidGrant: the issuer rejected the authorization code, refresh token
	// or device code (OAuth2 invalid_grant).
	KindInvalidGrant Kind = "invalid_grant"
	// KindExpired: the device code expired before the user approved it.
	KindExpired Kind = "expired"
	// KindInvalidClient: the issuer does not know this client or refused its secret
	// (invalid_client, unauthorized_client).
	KindInvalidClient Kind = "invalid_client"
	// KindInvalidScope: the issuer refused the requested scopes.
	KindInvalidScope Kind = "invalid_scope"
	// KindBadIssuer: the issuer's facts or metadata are unusable (not https, issuer
	// mismatch, missing endpoint, malformed document).
	KindBadIssuer Kind = "bad_issuer"
	// KindNoClient: no client registration was found; see RegistrationNeededError.
	KindNoClient Kind = "no_client"
	// KindBrowser: the browser could not be opened or the loopback listener failed.
	KindBrowser Kind = "browser"
	// KindProtocol: any other error the issuer reported; Code holds its OAuth2 error.
	KindProtocol Kind = "protocol_error"
)

// Error is the typed failure of a discovery, registration or sign-in step. Its text
// never contains a token, code or secret.
type Error struct {
	Kind Kind
	// Step names what was being done: "discovery", "registration", "authorize",
	// "callback", "token", "device authorization", "device token".
	Step string
	// Code is the OAuth2 error code the issuer sent ("invalid_grant"), if any.
	Code string
	// Description is the issuer's error_description, clipped and stripped of
	// control characters, if any.
	Description string
	// Err is the underlying error.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("oauth ")
	b.WriteString(e.Step)
	b.WriteString(": ")
	b.WriteString(string(e.Kind))
	if e.Code != "" && e.Code != string(e.Kind) {
		b.WriteString(" (" + e.Code + ")")
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	// A RetrieveError's text can carry the issuer's response body; it is left out.
	var re *oauth2.RetrieveError
	if e.Err != nil && !errors.As(e.Err, &re) && e.Description == "" {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of err, or "" when err is nil or not from this package.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var r *RegistrationNeededError
	if errors.As(err, &r) {
		return KindNoClient
	}
	return ""
}

// classify turns an error from an HTTP exchange with the issuer into an *Error.
// ctx is the caller's context: when it has ended the failure is a cancellation,
// whatever the transport reported.
func classify(ctx context.Context, step string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	out := &Error{Kind: KindProtocol, Step: step, Err: err}
	if ctx.Err() != nil {
		out.Kind = KindCancelled
		return out
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		out.Code = cleanText(re.ErrorCode, 64)
		out.Description = cleanText(re.ErrorDescription, 200)
		out.Kind = kindForCode(re.ErrorCode)
		if re.ErrorCode == "" {
			if re.Response != nil && re.Response.StatusCode >= 500 {
				out.Kind = KindIssuerDown
			}
			if re.Response != nil {
				out.Description = fmt.Sprintf("HTTP status %d", re.Response.StatusCode)
			}
		}
		return out
	}
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verify           *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify) {
		out.Kind = KindIssuerUntrusted
		return out
	}
	var (
		opErr  *net.OpError
		dnsErr *net.DNSError
		urlErr *url.Error
	)
	switch {
	case errors.As(err, &opErr), errors.As(err, &dnsErr), errors.Is(err, context.DeadlineExceeded):
		out.Kind = KindIssuerDown
	case errors.As(err, &urlErr) && (urlErr.Timeout() || errors.Is(urlErr.Err, errBadRedirect)):
		out.Kind = KindIssuerDown
		if errors.Is(urlErr.Err, errBadRedirect) {
			out.Kind = KindBadIssuer
		}
	case errors.As(err, &urlErr):
		// EOF, reset and the like while talking to the issuer.
		out.Kind = KindIssuerDown
	}
	return out
}

// kindForCode maps an OAuth2 error code (RFC 6749 §4.1.2.1, §5.2; RFC 8628 §3.5).
func kindForCode(code string) Kind {
	switch code {
	case "access_denied":
		return KindDenied
	case "invalid_grant":
		return KindInvalidGrant
	case "expired_token":
		return KindExpired
	case "invalid_client", "unauthorized_client":
		return KindInvalidClient
	case "invalid_scope":
		return KindInvalidScope
	case "server_error", "temporarily_unavailable":
		return KindIssuerDown
	default:
		return KindProtocol
	}
}

// cleanText clips s to max runes and drops control characters, so issuer-supplied
// text cannot forge lines in a report.
func cleanText(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) {
			r = ' '
		}
		if n == max {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// clip shortens a value quoted in an error message.
func clip(s string) string { return cleanText(s, 120) }
