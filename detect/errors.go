package detect

import (
	"errors"
	"fmt"
)

// The sentinel errors of the engine, in one place. Every error a probe ends with wraps
// one of them or is classified by type (net, tls, x509, smtp, imap) in Classify.

// Bad input (Run returns these).
var (
	// ErrBadAddress is wrapped by every address validation error.
	ErrBadAddress = errors.New("detect: bad email address")
	// ErrBadOption is wrapped by Run's errors for an option it cannot use (a user name with
	// control characters, a trusted host that is not a server name).
	ErrBadOption = errors.New("detect: bad option")
)

// Classes of failure (each maps to a Kind in Classify).
var (
	// ErrProtocol marks a reply the engine could not understand.
	ErrProtocol = errors.New("detect: protocol error")
	// ErrLimit marks a server answer that broke one of the engine's safety limits.
	ErrLimit = errors.New("detect: safety limit exceeded")
	// ErrNoStartTLS says the server did not offer STARTTLS/STLS where it was required.
	ErrNoStartTLS = errors.New("detect: server does not offer STARTTLS")
	// ErrPlaintextRefused says the engine refused to send a password in clear text.
	ErrPlaintextRefused = errors.New("detect: refusing to send a password over an unprotected connection")
	// ErrEncryptionExists says a clear-text login was refused because the server offers TLS.
	ErrEncryptionExists = errors.New("detect: the server offers encryption; no login without it")
	// ErrTLSOutdated says the connection's TLS version is below 1.2.
	ErrTLSOutdated = errors.New("detect: TLS version below 1.2")
	// ErrNoMechanism says the server offers no authentication mechanism the engine can use.
	ErrNoMechanism = errors.New("detect: no usable authentication mechanism")
	// ErrLoginCap says the per-server cap of failed logins was reached.
	ErrLoginCap = errors.New("detect: failed-login cap reached for this server")
	// ErrLoginDisabled says the server forbids LOGIN on this connection (IMAP LOGINDISABLED).
	ErrLoginDisabled = errors.New("detect: server disables login on this connection")
	// ErrUntrustedHost says the engine withheld a login from a server the user has not confirmed.
	ErrUntrustedHost = errors.New("detect: server not trusted with a login")
	// ErrTokenInClear says a sign-in token was not sent over an unencrypted or untrusted
	// connection; unlike a password it is never sent there, whatever the consent.
	ErrTokenInClear = errors.New("detect: a sign-in token is sent only over a trusted encrypted connection")
)

// Specific causes, each wrapping one of the classes above.
var (
	// ErrLineTooLong says a server sent a line longer than maxLine.
	ErrLineTooLong = fmt.Errorf("%w: line longer than %d bytes", ErrProtocol, maxLine)
	// ErrReplyTooLarge says a server answer broke the reply limits.
	ErrReplyTooLarge = fmt.Errorf("%w: a server reply longer than %d lines or %d KiB", ErrLimit, maxReplyLines, maxReplyBytes>>10)
	// ErrSCRAMIterations says a server asked for more SCRAM iterations than the cap.
	ErrSCRAMIterations = fmt.Errorf("%w: the server asked for more than %d SCRAM iterations", ErrLimit, maxSCRAMIterations)
	// ErrTooManyServers says a document named more servers than the engine probes.
	ErrTooManyServers = fmt.Errorf("%w: the document names more servers than are probed", ErrLimit)
	// ErrRedirectDowngrade says an HTTPS fetch was redirected to plain HTTP, which is refused.
	ErrRedirectDowngrade = errors.New("detect: refused a redirect from https to plain http")
	// ErrNoIssuer says no source named an authorization server for the account.
	ErrNoIssuer = errors.New("detect: no OAuth2 sign-in service is known for this address")
)

// Why the engine itself stopped a probe (context cancel causes).
var (
	// ErrImplicitTLSPort is the cancel cause for a plain-text probe whose port was found to
	// speak TLS from the first byte (so no banner will ever come in clear text).
	ErrImplicitTLSPort = errors.New("detect: this port expects TLS from the first byte")
	// ErrSkippedPort25 is the cancel cause for port-25 probes on a network that blocks port 25.
	ErrSkippedPort25 = errors.New("detect: port 25 is blocked on this network")
)
