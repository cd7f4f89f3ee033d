package export

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// testCert makes a certificate signed by parent (self-signed when parent is nil).
func testCert(t *testing.T, cn string, key any, parent *x509.Certificate, parentKey any, isCA bool) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn, Organization: []string{"Doe Consulting"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection, x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true, IsCA: isCA,
	}
	if isCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		tmpl.ExtKeyUsage = nil
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	pub := key.(crypto.Signer).Public()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func writePEM(t *testing.T, path string, certs ...*x509.Certificate) {
	t.Helper()
	var b bytes.Buffer
	for _, c := range certs {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSignedProfileVerifiesWithOpenSSL signs the Apple profile with a PKCS #12 made in
// the test, verifies it with `openssl cms -verify` against the signing certificate (and
// against a CA for a chained certificate), and reads the inner plist back.
func TestSignedProfileVerifiesWithOpenSSL(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed (apt-get install openssl): the independent CMS check needs it")
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ca := testCert(t, "Doe Consulting Test CA", caKey, nil, nil, true)

	unsigned, _ := render(t, "apple", sampleReport(), sampleOptions())
	tests := []struct {
		name   string
		key    any
		cert   *x509.Certificate
		chain  []*x509.Certificate
		trust  *x509.Certificate // what openssl is told to trust
		signer string
	}{
		{"self-signed RSA", rsaKey, testCert(t, "Jane Consultant", rsaKey, nil, nil, false), nil, nil, "Jane Consultant"},
		{"ECDSA issued by a CA, chain included", ecKey, testCert(t, "Doe Profiles", ecKey, ca, caKey, false), []*x509.Certificate{ca}, ca, "Doe Profiles"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		p12, err := pkcs12.Modern.Encode(tt.key, tt.cert, tt.chain, "p12 pass")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := LoadSigner(p12, "wrong"); err == nil {
			t.Errorf("%s: a wrong p12 password was accepted", tt.name)
		}
		signer, err := LoadSigner(p12, "p12 pass")
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if signer.Name() != tt.signer {
			t.Errorf("%s: signer %q", tt.name, signer.Name())
		}
		opts := sampleOptions()
		opts.Signer = signer
		acc, _ := FromReport(sampleReport(), opts)
		var b bytes.Buffer
		if _, err := Write("apple", acc, opts, &b); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		signed := filepath.Join(dir, "signed.mobileconfig")
		inner := filepath.Join(dir, "inner.plist")
		trust := filepath.Join(dir, "trust.pem")
		os.WriteFile(signed, b.Bytes(), 0o600)
		if tt.trust != nil {
			writePEM(t, trust, tt.trust)
		} else {
			writePEM(t, trust, tt.cert)
		}
		out, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", signed, "-CAfile", trust, "-out", inner).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Verification successful") {
			t.Fatalf("%s: openssl cms -verify: %v\n%s", tt.name, err, out)
		}
		got, _ := os.ReadFile(inner)
		if !bytes.Equal(got, unsigned) {
			t.Errorf("%s: the signed content differs from the unsigned profile", tt.name)
		}
		if _, err := checkAppleProfile(got); err != nil {
			t.Errorf("%s: inner plist: %v", tt.name, err)
		}
		// The signer's certificate travels in the file, so a device can name who made it.
		certs := filepath.Join(dir, "certs.pem")
		if out, err := exec.Command("openssl", "cms", "-verify", "-noverify", "-inform", "DER", "-in", signed, "-certsout", certs, "-out", os.DevNull).CombinedOutput(); err != nil {
			t.Fatalf("%s: certsout: %v\n%s", tt.name, err, out)
		}
		if pemCerts, _ := os.ReadFile(certs); !bytes.Contains(pemCerts, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tt.cert.Raw})) {
			t.Errorf("%s: the signing certificate is not in the profile", tt.name)
		}
		// Another certificate, or a changed byte, must not verify.
		other := testCert(t, "Someone Else", rsaKey, nil, nil, false)
		writePEM(t, trust, other)
		if out, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", signed, "-CAfile", trust, "-out", os.DevNull).CombinedOutput(); err == nil {
			t.Errorf("%s: verified against an unrelated certificate:\n%s", tt.name, out)
		}
		tampered := bytes.Replace(b.Bytes(), []byte("imap.example.com"), []byte("imap.evil00.com"), 1)
		os.WriteFile(signed, tampered, 0o600)
		writePEM(t, trust, tt.cert)
		if tt.trust != nil {
			writePEM(t, trust, tt.trust)
		}
		if out, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", signed, "-CAfile", trust, "-out", os.DevNull).CombinedOutput(); err == nil {
			t.Errorf("%s: a tampered profile verified:\n%s", tt.name, out)
		}
	}
}

func TestLoadSignerRefusesUnusableCertificates(t *testing.T) {
	t.Parallel()
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	expired := testCert(t, "Old", key, nil, nil, false)
	expired.NotAfter = time.Now().Add(-time.Hour)
	tmpl := *expired
	der, _ := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	old, _ := x509.ParseCertificate(der)
	p12, _ := pkcs12.Modern.Encode(key, old, nil, "pw")
	if _, err := LoadSigner(p12, "pw"); err == nil || !strings.Contains(err.Error(), "valid only") {
		t.Errorf("expired certificate: %v", err)
	}
	if _, err := LoadSigner([]byte("not a p12"), "pw"); err == nil {
		t.Error("garbage accepted")
	}
}
