package export

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/smallstep/pkcs7"
	"software.sslmate.com/src/go-pkcs12"
)

// Signer signs Apple configuration profiles as CMS SignedData (RFC 5652), the form
// macOS and iOS verify and show as "Verified" with the signer's name.
type Signer struct {
	Cert  *x509.Certificate
	Key   crypto.Signer
	Chain []*x509.Certificate
}

// ErrSignerKey says the PKCS #12 file's key cannot sign (not RSA, ECDSA or Ed25519).
var ErrSignerKey = errors.New("export: the signing certificate's key cannot sign")

// LoadSigner reads a PKCS #12 (.p12/.pfx) file: the signing certificate, its private
// key and any intermediate certificates. The password is used here and not kept.
func LoadSigner(p12 []byte, password string) (*Signer, error) {
	key, cert, chain, err := pkcs12.DecodeChain(p12, password)
	if err != nil {
		return nil, fmt.Errorf("export: signing certificate: %w", err)
	}
	k, ok := key.(crypto.Signer)
	if !ok {
		return nil, ErrSignerKey
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return nil, fmt.Errorf("export: signing certificate %q is not for digital signatures", cert.Subject.CommonName)
	}
	now := time.Now()
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, fmt.Errorf("export: signing certificate %q is valid only from %s to %s",
			cert.Subject.CommonName, cert.NotBefore.Format(time.DateOnly), cert.NotAfter.Format(time.DateOnly))
	}
	return &Signer{Cert: cert, Key: k, Chain: chain}, nil
}

// Name is who the profile will say signed it.
func (s *Signer) Name() string {
	if s.Cert.Subject.CommonName != "" {
		return s.Cert.Subject.CommonName
	}
	return s.Cert.Subject.String()
}

// Sign wraps the profile in CMS SignedData with SHA-256, the content attached and the
// signer's certificate chain included, so a device can show who made it.
func (s *Signer) Sign(profile []byte) ([]byte, error) {
	sd, err := pkcs7.NewSignedData(profile)
	if err != nil {
		return nil, fmt.Errorf("export: sign profile: %w", err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSignerChain(s.Cert, s.Key, s.Chain, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, fmt.Errorf("export: sign profile: %w", err)
	}
	out, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("export: sign profile: %w", err)
	}
	return out, nil
}
