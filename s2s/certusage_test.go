package s2s

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// selfSigned returns a certificate for o.test allowing usages, and a
// pool trusting it.
func selfSigned(t *testing.T, usages ...x509.ExtKeyUsage) (*x509.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "o.test"},
		DNSNames: []string{"o.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: usages, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return cert, pool
}

// TestCertificateUsage: the certificate of a server we connect to must
// allow serverAuth; one of a server connecting to us clientAuth or
// serverAuth (RFC 6120 §13.7.1.3); another usage is valid for neither.
func TestCertificateUsage(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		usages                []x509.ExtKeyUsage
		receiving, initiating bool
	}{
		{"serverAuth", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, true, true},
		{"clientAuth", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, false, true},
		{"both", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, true, true},
		{"e-mail only", []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}, false, false},
		{"code signing only", []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert, pool := selfSigned(t, tc.usages...)
			s := &Server{roots: pool}
			chain := []*x509.Certificate{cert}
			if got := s.certValidFor(chain, "o.test", usageReceiving); got != tc.receiving {
				t.Errorf("as receiving server's: %v, want %v", got, tc.receiving)
			}
			if got := s.certValidFor(chain, "o.test", usageInitiating); got != tc.initiating {
				t.Errorf("as initiating server's: %v, want %v", got, tc.initiating)
			}
			if s.certValidFor(chain, "other.test", usageInitiating) {
				t.Error("valid for a domain it does not name")
			}
		})
	}
}
