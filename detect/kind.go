package detect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-smtp"
)

// Kind is the typed class of a probe outcome; the GUI, CLI and exports key plain words on it.
type Kind string

// Kinds of outcome. Each has Words.
const (
	KindOK                   Kind = "ok"
	KindUnverified           Kind = "unverified"
	KindTimeout              Kind = "timeout"
	KindRefused              Kind = "refused"
	KindUnreachable          Kind = "unreachable"
	KindDNS                  Kind = "dns"
	KindTLSHandshake         Kind = "tls_handshake"
	KindCertExpired          Kind = "cert_expired"
	KindCertNameMismatch     Kind = "cert_name_mismatch"
	KindCertUnknownCA        Kind = "cert_unknown_authority"
	KindCertSelfSigned       Kind = "cert_self_signed"
	KindNoStartTLS           Kind = "no_starttls"
	KindAuthRejected         Kind = "auth_rejected"
	KindMechanismUnsupported Kind = "mechanism_unsupported"
	KindNoAuth               Kind = "no_auth_offered"
	KindPlaintextRefused     Kind = "plaintext_refused"
	KindServerTemporary      Kind = "server_temporary"
	KindServerPermanent      Kind = "server_permanent"
	KindProtocol             Kind = "protocol_error"
	KindLoginCap             Kind = "login_cap_reached"
	KindPort25Blocked        Kind = "port25_blocked"
	KindCanceled             Kind = "canceled"
	KindRelayOpen            Kind = "relay_by_ip"
	KindLoginDisabled        Kind = "login_disabled"
	KindImplicitTLSPort      Kind = "expects_tls"
	KindPOPBeforeSMTP        Kind = "pop_before_smtp"
	KindPlainPort            Kind = "expects_plain_start"
	// KindUntrustedHost: the server was named by a source the user's trust does not
	// reach, so no login (password or verifier) was sent; the user may confirm it.
	KindUntrustedHost Kind = "untrusted_host"
	// KindEncryptionExists: no login on a clear-text connection to a server that offers
	// TLS (implicit or STARTTLS), whatever the mechanism.
	KindEncryptionExists Kind = "encryption_exists"
	// KindTLSOutdated: the connection uses TLS 1.0 or 1.1, which no longer protects a
	// password; it counts as unencrypted for logins.
	KindTLSOutdated Kind = "tls_outdated"
	// KindLimitExceeded: the server's answer broke a safety limit (reply size, SCRAM
	// iteration count), so the engine stopped talking to it.
	KindLimitExceeded Kind = "limit_exceeded"
	// KindOAuthRejected: the server did not accept the sign-in token (expired, revoked,
	// missing a scope); the report carries its decoded reason.
	KindOAuthRejected Kind = "oauth_rejected"
)

// Failure is the one typed error that crosses from the engine into front ends.
type Failure struct {
	Kind Kind
	// Step names what was being done: "connect", "banner", "starttls", "auth" …
	Step string
	// Code is the server's reply code (SMTP 4xx/5xx), 0 when none.
	Code int
	// Enhanced is the server's enhanced status code ("5.7.8"), empty when none.
	Enhanced string
	Err      error
}

// Error is the wrapped error's text, which already names the step where the engine
// wrapped it ("smtp host:587: ehlo: EOF"); the step is added only when it is missing.
func (f *Failure) Error() string {
	switch {
	case f.Err == nil:
		return fmt.Sprintf("%s: %s", f.Step, f.Kind)
	case f.Step == "" || strings.Contains(f.Err.Error(), f.Step):
		return f.Err.Error()
	default:
		return fmt.Sprintf("%s: %v", f.Step, f.Err)
	}
}

func (f *Failure) Unwrap() error { return f.Err }

// fail builds a Failure of kind k at step from err.
func fail(k Kind, step string, err error) *Failure {
	return &Failure{Kind: k, Step: step, Err: err}
}

// greetsInClear reports whether the first bytes a TLS client received are a mail
// server's clear-text greeting (SMTP 220/421/554, IMAP "* OK"/"* PREAUTH"/"* BYE", POP3 "+OK"/"-ERR").
func greetsInClear(b []byte) bool {
	for _, g := range []string{"220", "421", "554", "* OK", "* PRE", "* BYE", "+OK", "-ERR"} {
		if strings.HasPrefix(string(b), g) {
			return true
		}
	}
	return false
}

// Classify turns any error from a probe step into a Failure. A *Failure passes through.
func Classify(step string, err error) *Failure {
	if err == nil {
		return nil
	}
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	switch {
	case errors.Is(err, context.Canceled):
		return fail(KindCanceled, step, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return fail(KindTimeout, step, err)
	case errors.Is(err, ErrNoStartTLS):
		return fail(KindNoStartTLS, step, err)
	case errors.Is(err, ErrPlaintextRefused):
		return fail(KindPlaintextRefused, step, err)
	case errors.Is(err, ErrNoMechanism):
		return fail(KindMechanismUnsupported, step, err)
	case errors.Is(err, ErrLoginCap):
		return fail(KindLoginCap, step, err)
	case errors.Is(err, ErrLoginDisabled):
		return fail(KindLoginDisabled, step, err)
	case errors.Is(err, ErrLimit):
		return fail(KindLimitExceeded, step, err)
	case errors.Is(err, ErrUntrustedHost):
		return fail(KindUntrustedHost, step, err)
	case errors.Is(err, ErrEncryptionExists):
		return fail(KindEncryptionExists, step, err)
	case errors.Is(err, ErrTLSOutdated):
		return fail(KindTLSOutdated, step, err)
	}

	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsTimeout {
			return fail(KindTimeout, step, err)
		}
		return fail(KindDNS, step, err)
	}

	if k, ok := classifyCert(err); ok {
		return fail(k, step, err)
	}
	var recErr tls.RecordHeaderError
	var alert tls.AlertError
	var echErr *tls.ECHRejectionError
	if errors.As(err, &recErr) && greetsInClear(recErr.RecordHeader[:]) {
		// The server spoke first, in clear text: a port that expects STARTTLS/STLS or none.
		return fail(KindPlainPort, step, err)
	}
	if errors.As(err, &recErr) || errors.As(err, &alert) || errors.As(err, &echErr) {
		return fail(KindTLSHandshake, step, err)
	}

	var smtpErr *smtp.SMTPError
	if errors.As(err, &smtpErr) {
		f := fail(KindServerPermanent, step, err)
		f.Code = smtpErr.Code
		if smtpErr.EnhancedCode != smtp.NoEnhancedCode && smtpErr.EnhancedCode != (smtp.EnhancedCode{}) {
			f.Enhanced = fmt.Sprintf("%d.%d.%d", smtpErr.EnhancedCode[0], smtpErr.EnhancedCode[1], smtpErr.EnhancedCode[2])
		}
		f.Kind = kindForSMTPCode(step, smtpErr.Code, f.Enhanced)
		return f
	}

	var imapErr *imap.Error
	if errors.As(err, &imapErr) {
		return fail(classifyIMAP(step, imapErr), step, err)
	}
	var popErr *pop3Reply
	if errors.As(err, &popErr) {
		return fail(classifyPOP3(step, popErr), step, err)
	}

	var opErr *net.OpError
	if errors.As(err, &opErr) {
		if opErr.Timeout() {
			return fail(KindTimeout, step, err)
		}
		switch {
		case isErrno(err, errnoRefused):
			return fail(KindRefused, step, err)
		case isErrno(err, errnoUnreachable):
			return fail(KindUnreachable, step, err)
		case isErrno(err, errnoReset):
			if step == "tls" || step == "starttls" {
				return fail(KindTLSHandshake, step, err)
			}
			return fail(KindProtocol, step, err)
		}
		if opErr.Op == "dial" {
			return fail(KindUnreachable, step, err)
		}
	}
	var te interface{ Timeout() bool }
	if errors.As(err, &te) && te.Timeout() {
		return fail(KindTimeout, step, err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		if step == "tls" || step == "starttls" {
			return fail(KindTLSHandshake, step, err)
		}
		return fail(KindProtocol, step, err)
	}
	if step == "tls" || step == "starttls" {
		return fail(KindTLSHandshake, step, err)
	}
	return fail(KindProtocol, step, err)
}

// kindForSMTPCode classifies a server reply by its code and enhanced code: RFC 5321
// §4.2.1 (4xx transient, 5xx permanent), RFC 4954 §6 (535 / 5.7.8 bad credentials,
// 504 / 5.7.4 mechanism not supported, 5.7.0 authentication needed), RFC 3463 §3.8
// (5.7.x security), RFC 3207 §4 (454 TLS not available).
func kindForSMTPCode(step string, code int, enhanced string) Kind {
	switch {
	case step == "auth" && (code == 535 || enhanced == "5.7.8" || enhanced == "5.7.0"):
		return KindAuthRejected
	case step == "auth" && (code == 504 || enhanced == "5.7.4" || enhanced == "5.5.4"):
		return KindMechanismUnsupported
	case step == "starttls" && code >= 400:
		return KindNoStartTLS
	case code >= 400 && code < 500:
		return KindServerTemporary
	default:
		return KindServerPermanent
	}
}

// classifyCert recognises certificate verification errors.
func classifyCert(err error) (Kind, bool) {
	var certInv x509.CertificateInvalidError
	if errors.As(err, &certInv) {
		if certInv.Reason == x509.Expired {
			return KindCertExpired, true
		}
		return KindCertUnknownCA, true
	}
	var hostErr x509.HostnameError
	if errors.As(err, &hostErr) {
		return KindCertNameMismatch, true
	}
	var unk x509.UnknownAuthorityError
	if errors.As(err, &unk) {
		if unk.Cert != nil && isSelfSigned(unk.Cert) {
			return KindCertSelfSigned, true
		}
		return KindCertUnknownCA, true
	}
	var verr *tls.CertificateVerificationError
	if errors.As(err, &verr) {
		return KindCertUnknownCA, true
	}
	return "", false
}

// StatusFor maps a failure kind to the probe status the report shows.
func StatusFor(k Kind) Status {
	switch k {
	case KindOK, KindUnverified, KindRelayOpen, KindPOPBeforeSMTP:
		return StatusOK
	case KindTimeout, KindCanceled:
		return StatusTimeout
	case KindRefused:
		return StatusRefused
	case KindUnreachable:
		return StatusUnreachable
	case KindDNS:
		return StatusDNSFailed
	case KindTLSHandshake, KindNoStartTLS, KindPlainPort, KindTLSOutdated:
		return StatusTLSFailed
	case KindCertExpired, KindCertNameMismatch, KindCertUnknownCA, KindCertSelfSigned:
		return StatusCertInvalid
	case KindAuthRejected, KindLoginCap, KindOAuthRejected:
		return StatusAuthFailed
	case KindMechanismUnsupported, KindNoAuth, KindLoginDisabled:
		return StatusAuthUnavailable
	case KindPlaintextRefused, KindEncryptionExists:
		return StatusPlaintextRefused
	case KindUntrustedHost:
		return StatusUntrustedHost
	case KindPort25Blocked:
		return StatusSkipped
	default:
		return StatusProtocolError
	}
}

// isErrno reports whether err wraps one of the socket errors in set.
func isErrno(err error, set []error) bool {
	for _, target := range set {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
