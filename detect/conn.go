package detect

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mailsetup/mailsetup/detect/trust"
)

// dialProbe opens a TCP connection to host:port bounded by ctx; the connection closes
// when ctx ends (go-smtp and go-imap take no context, and go-smtp clears deadlines, so
// closing is the one bound every library honours). Call stop when done.
func (o *engine) dialProbe(ctx context.Context, host string, port int) (net.Conn, func(), error) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	raw, err := o.dialer().DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, func() {}, fmt.Errorf("connect %s: %w", addr, err)
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	return raw, func() { stop(); raw.Close() }, nil
}

// serverKey names the server a connection reached for the login gate: its IP address,
// so that one server reached under several names shares one budget of failed logins.
func serverKey(a net.Addr, host string) string {
	if ta, ok := a.(*net.TCPAddr); ok && ta.IP != nil && !ta.IP.IsUnspecified() {
		return ta.IP.String()
	}
	return host
}

// cellConn is a freshly opened probe connection.
type cellConn struct {
	raw    net.Conn // the TCP connection, for a later STARTTLS
	rec    net.Conn // the recorded connection to speak on (inside TLS for implicit TLS)
	text   *textproto.Conn
	secure bool // TLS with a trusted (or accepted) certificate
	stop   func()
}

// openCell dials the cell, runs implicit TLS when the cell asks for it, and wraps the
// connection in the transcript recorder. wrap classifies later errors with the protocol
// and address. On failure nothing is left open.
func (o *engine) openCell(ctx context.Context, p *probeRun, key ProbeKey) (*cellConn, func(step string, err error) *Failure, *Failure) {
	addr := net.JoinHostPort(key.Host, strconv.Itoa(key.Port))
	wrap := func(step string, err error) *Failure {
		return Classify(step, fmt.Errorf("%s %s: %s: %w", key.Protocol, addr, step, err))
	}
	raw, stop, err := o.dialProbe(ctx, key.Host, key.Port)
	if err != nil {
		return nil, wrap, Classify("connect", fmt.Errorf("%s %s: %w", key.Protocol, addr, err))
	}
	if others := otherAddresses(raw); len(others) > 0 {
		p.tr.Note("tried " + strings.Join(others, ", ") + " too: no connection there")
	}
	p.tr.Note("connected to " + raw.RemoteAddr().String())
	p.server = serverKey(raw.RemoteAddr(), key.Host)
	c := &cellConn{raw: raw, stop: stop}
	conn := raw
	if key.Security == SecurityTLS {
		tc, f := o.tlsStep(ctx, p, raw, key.Host, "tls")
		if f != nil {
			stop()
			return nil, wrap, f
		}
		conn, c.secure = tc, true
	}
	c.rec = p.tr.Wrap(conn)
	c.text = newText(c.rec)
	return c, wrap, nil
}

// tlsConfig returns the client TLS config for host. Verification is done by verifyPeer
// after the handshake so that a bad certificate is still described in the report.
func (o *engine) tlsConfig(host string) *tls.Config {
	return &tls.Config{
		ServerName:         host,
		InsecureSkipVerify: true, // verified by verifyPeer, which records what it found
		MinVersion:         tls.VersionTLS10,
		// Later connections of a run to the same server (send test, relay checks) resume
		// the session: one round trip less with TLS 1.2, no second key exchange with 1.3.
		// A resumed session still carries the certificate chain, which verifyPeer checks again.
		ClientSessionCache: o.sessions,
	}
}

// handshake runs a TLS client handshake on conn for host and verifies the peer.
// It returns the TLS connection, the certificate summary and a *Failure when the
// handshake or the verification failed (the connection is usable only if failure is nil
// or the certificate problem was accepted by fingerprint). TLS 1.0 and 1.1 are described
// but fail: they no longer protect a password.
func (o *engine) handshake(ctx context.Context, conn net.Conn, host, step string) (*tls.Conn, string, *CertInfo, *Failure) {
	tc := tls.Client(conn, o.tlsConfig(host))
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, "", nil, Classify(step, fmt.Errorf("tls handshake: %w", err))
	}
	st := tc.ConnectionState()
	ver := tls.VersionName(st.Version)
	info, verr := o.verifyPeer(st, host)
	if st.Version < tls.VersionTLS12 {
		return tc, ver, info, Classify(step, fmt.Errorf("%w: %s", ErrTLSOutdated, ver))
	}
	if verr != nil {
		if info != nil && o.fingerprintAccepted(host, info.SHA256) {
			return tc, ver, info, nil
		}
		return tc, ver, info, Classify(step, fmt.Errorf("certificate: %w", verr))
	}
	return tc, ver, info, nil
}

// fingerprintAccepted reports whether the user accepted the certificate fp for host:
// an entry HOST=SHA256 for exactly this host, or a bare SHA256, which a run applies
// only to the servers of the address's own registrable domain (acceptDomain).
func (o *engine) fingerprintAccepted(host, fp string) bool {
	for _, a := range o.AcceptFingerprints {
		h, f, bound := strings.Cut(a, "=")
		if !bound {
			f = h
		}
		if !strings.EqualFold(strings.ReplaceAll(strings.TrimSpace(f), ":", ""), fp) {
			continue
		}
		switch {
		case bound:
			if trust.Normalize(h) == trust.Normalize(host) {
				return true
			}
		case o.acceptDomain == "" || trust.SameRegistrable(host, o.acceptDomain):
			return true
		}
	}
	return false
}

// verifyPeer checks the peer chain against the system roots plus Options.RootCAs and
// the host name, and summarises the leaf certificate.
func (o *engine) verifyPeer(st tls.ConnectionState, host string) (*CertInfo, error) {
	if len(st.PeerCertificates) == 0 {
		return nil, errors.New("server sent no certificate")
	}
	leaf := st.PeerCertificates[0]
	info := CertSummary(leaf)
	roots := o.Roots()
	inter := x509.NewCertPool()
	for _, c := range st.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, verr := leaf.Verify(x509.VerifyOptions{
		DNSName:       host,
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   o.now(),
	})
	if verr != nil {
		k, _ := classifyCert(verr)
		info.Problem = certProblem(k)
		return info, verr
	}
	return info, nil
}

// certProblem names a certificate problem for CertInfo.Problem.
func certProblem(k Kind) string {
	switch k {
	case KindCertExpired:
		return "expired"
	case KindCertNameMismatch:
		return "wrong_name"
	case KindCertSelfSigned:
		return "self_signed"
	default:
		return "unknown_authority"
	}
}

// CertSummary describes a certificate for the report.
func CertSummary(c *x509.Certificate) *CertInfo {
	sum := sha256.Sum256(c.Raw)
	return &CertInfo{
		Subject:  c.Subject.String(),
		SANs:     append(append([]string(nil), c.DNSNames...), ipStrings(c.IPAddresses)...),
		Issuer:   c.Issuer.String(),
		NotAfter: c.NotAfter.UTC().Format(time.RFC3339),
		SHA256:   hex.EncodeToString(sum[:]),
	}
}

func ipStrings(ips []net.IP) []string {
	var out []string
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}

// isSelfSigned reports whether c is signed by its own key (CheckSignatureFrom would
// refuse a self-signed leaf that is not marked as a CA).
func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) &&
		c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// Roots returns the system roots plus the extra roots from Options.ExtraRoots.
func (o *engine) Roots() *x509.CertPool {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	for _, c := range o.ExtraRoots {
		roots.AddCert(c)
	}
	return roots
}

// LoadCAFile reads PEM certificates to trust in addition to the system's (--ca).
func LoadCAFile(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca file: %w", err)
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("ca file %s: %w", path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("ca file %s: no PEM certificate found", path)
	}
	return certs, nil
}
