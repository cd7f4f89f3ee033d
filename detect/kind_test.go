package detect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/emersion/go-smtp"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		step     string
		err      error
		want     Kind
		wantCode int
		wantEnh  string
	}{
		{"refused", "connect", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, KindRefused, 0, ""},
		{"unreachable", "connect", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ENETUNREACH)}, KindUnreachable, 0, ""},
		{"dns not found", "connect", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", IsNotFound: true}}, KindDNS, 0, ""},
		{"dns timeout", "connect", &net.DNSError{Err: "timeout", IsTimeout: true}, KindTimeout, 0, ""},
		{"deadline", "banner", fmt.Errorf("read: %w", os.ErrDeadlineExceeded), KindTimeout, 0, ""},
		{"ctx deadline", "banner", context.DeadlineExceeded, KindTimeout, 0, ""},
		{"TLS meets an SMTP greeting", "tls", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake", RecordHeader: [5]byte{'2', '2', '0', ' ', 'm'}}, KindPlainPort, 0, ""},
		{"TLS meets an IMAP greeting", "tls", tls.RecordHeaderError{RecordHeader: [5]byte{'*', ' ', 'O', 'K', ' '}}, KindPlainPort, 0, ""},
		{"TLS meets a POP3 greeting", "tls", tls.RecordHeaderError{RecordHeader: [5]byte{'+', 'O', 'K', ' ', 'D'}}, KindPlainPort, 0, ""},
		{"TLS meets binary garbage", "tls", tls.RecordHeaderError{RecordHeader: [5]byte{0xde, 0xad, 0xbe, 0xef, 0}}, KindTLSHandshake, 0, ""},
		{"TLS meets an HTTP answer", "tls", tls.RecordHeaderError{RecordHeader: [5]byte{'H', 'T', 'T', 'P', '/'}}, KindTLSHandshake, 0, ""},
		{"canceled", "banner", context.Canceled, KindCanceled, 0, ""},
		{"eof in banner", "banner", io.EOF, KindProtocol, 0, ""},
		{"eof in tls", "starttls", io.ErrUnexpectedEOF, KindTLSHandshake, 0, ""},
		{"reset in tls", "tls", &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, KindTLSHandshake, 0, ""},
		{"expired", "tls", x509.CertificateInvalidError{Reason: x509.Expired}, KindCertExpired, 0, ""},
		{"wrong name", "tls", x509.HostnameError{Certificate: &x509.Certificate{}, Host: "x"}, KindCertNameMismatch, 0, ""},
		{"unknown ca", "tls", x509.UnknownAuthorityError{}, KindCertUnknownCA, 0, ""},
		{"auth 535", "auth", &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}}, KindAuthRejected, 535, "5.7.8"},
		{"auth 504", "auth", &smtp.SMTPError{Code: 504, EnhancedCode: smtp.EnhancedCode{5, 7, 4}}, KindMechanismUnsupported, 504, "5.7.4"},
		{"starttls 454", "starttls", &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0}}, KindNoStartTLS, 454, "4.7.0"},
		{"greeting 421", "banner", &smtp.SMTPError{Code: 421}, KindServerTemporary, 421, ""},
		{"greeting 554", "banner", &smtp.SMTPError{Code: 554, EnhancedCode: smtp.NoEnhancedCode}, KindServerPermanent, 554, ""},
		{"no starttls", "starttls", ErrNoStartTLS, KindNoStartTLS, 0, ""},
		{"plaintext", "auth", fmt.Errorf("x: %w", ErrPlaintextRefused), KindPlaintextRefused, 0, ""},
		{"login cap", "auth", ErrLoginCap, KindLoginCap, 0, ""},
		{"typed passes through", "x", &Failure{Kind: KindNoAuth, Step: "auth"}, KindNoAuth, 0, ""},
		{"unknown", "ehlo", errors.New("weird"), KindProtocol, 0, ""},
	}
	for _, tt := range tests {
		f := Classify(tt.step, tt.err)
		if f.Kind != tt.want || f.Code != tt.wantCode || f.Enhanced != tt.wantEnh {
			t.Errorf("%s: got %s/%d/%q, want %s/%d/%q", tt.name, f.Kind, f.Code, f.Enhanced, tt.want, tt.wantCode, tt.wantEnh)
		}
		if !errors.Is(f, tt.err) && tt.name != "typed passes through" {
			t.Errorf("%s: failure does not wrap the original error", tt.name)
		}
	}
	if Classify("x", nil) != nil {
		t.Error("Classify(nil) != nil")
	}
}

func TestEveryKindHasWordsAndStatus(t *testing.T) {
	t.Parallel()
	valid := map[Status]bool{StatusOK: true, StatusAuthFailed: true, StatusAuthUnavailable: true, StatusPlaintextRefused: true,
		StatusTLSFailed: true, StatusCertInvalid: true, StatusTimeout: true, StatusRefused: true, StatusUnreachable: true,
		StatusProtocolError: true, StatusDNSFailed: true, StatusSkipped: true, StatusUntrustedHost: true}
	// Every Kind constant declared in the package, read from the source, so that a new
	// Kind without words fails here.
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	declared := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok || vs.Type == nil || fmt.Sprint(vs.Type) != "Kind" {
				return true
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok {
					continue
				}
				k := Kind(strings.Trim(lit.Value, `"`))
				declared++
				if _, ok := words[k]; !ok {
					t.Errorf("Kind %q has no words", k)
				}
			}
			return true
		})
	}
	if declared < 30 {
		t.Fatalf("found only %d Kind constants in the source; the scan is broken", declared)
	}
	for k, w := range words {
		if w.Title == "" || w.Explanation == "" || w.Fix == "" {
			t.Errorf("%s: incomplete words %+v", k, w)
		}
		if !valid[StatusFor(k)] {
			t.Errorf("%s: status %q not in the contract", k, StatusFor(k))
		}
	}
	d := DiagnosisFor(&Failure{Kind: KindAuthRejected, Code: 535, Enhanced: "5.7.8"})
	if d.Kind != KindAuthRejected || d.Title != "Login rejected" {
		t.Errorf("diagnosis = %+v", d)
	}
}

// Each step is named once in a failure's text: "smtp host:587: ehlo: EOF", not
// "ehlo: smtp host:587: ehlo: EOF".
func TestFailureNamesEachStepOnce(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.net.Route(testHost, 587, scripted(t, func(c net.Conn) {
		c.Write([]byte("220 mail.example.test ESMTP\r\n"))
		c.Read(make([]byte, 64)) // EHLO, then the connection ends
	}))
	e.net.Route(testHost, 465, scripted(t, func(c net.Conn) { c.Write([]byte("garbage\r\n")) }))
	for _, key := range []ProbeKey{{SMTP, testHost, 587, SecurityStartTLS}, {SMTP, testHost, 465, SecurityTLS}, {SMTP, testHost, 2525, SecurityNone}} {
		r := e.opts.ProbeSMTP(context.Background(), key, testLogin(testPass))
		if r.Error == "" {
			t.Fatalf("%d: no error", key.Port)
		}
		for _, step := range []string{"connect", "banner", "ehlo", "starttls", "tls", "auth"} {
			if n := strings.Count(r.Error, step+":"); n > 1 {
				t.Errorf("%d: %q names %s %d times", key.Port, r.Error, step, n)
			}
		}
	}
}
