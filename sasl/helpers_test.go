package sasl

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test accounts. Credentials are derived once per test binary.
var testPasswords = map[string]string{
	"user":        "pencil",
	"alice":       "correct horse battery staple",
	"we,ird=name": "s3cret",
	"ünïcode":     "pass\u00a0wörd", // NBSP and non-ASCII, see PreparePassword
}

var (
	testCredsOnce sync.Once
	testCreds     map[string]Credentials
)

func testStore(t testing.TB) map[string]Credentials {
	t.Helper()
	testCredsOnce.Do(func() {
		testCreds = make(map[string]Credentials)
		for u, p := range testPasswords {
			c, err := DeriveCredentials(p, 0)
			if err != nil {
				panic(err)
			}
			testCreds[u] = c
		}
		// An account that only has a SHA-256 credential.
		c, err := DeriveCredentials("only256", 0)
		if err != nil {
			panic(err)
		}
		c.SHA1 = Credential{}
		testCreds["only256"] = c
	})
	return testCreds
}

// testLookup serves the test accounts; "broken-store" makes it fail.
func testLookup(t testing.TB) CredentialLookup {
	store := testStore(t)
	return func(u string) (Credentials, bool, error) {
		if u == "broken-store" {
			return Credentials{}, false, errors.New("database down")
		}
		c, ok := store[u]
		return c, ok, nil
	}
}

// testNormalise lower-cases ASCII and refuses names containing '@' or
// spaces, standing in for the real localpart normalisation.
func testNormalise(s string) (string, error) {
	if strings.ContainsAny(s, "@ ") || s == "" {
		return "", errors.New("invalid localpart")
	}
	return strings.ToLower(s), nil
}

// tlsPair runs a TLS handshake over net.Pipe with the given maximum version
// and returns the server and client connection states.
func tlsPair(t testing.TB, maxVersion uint16) (server, client tls.ConnectionState) {
	t.Helper()
	cert := testCert(t)
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	srv := tls.Server(a, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: maxVersion})
	cli := tls.Client(b, &tls.Config{InsecureSkipVerify: true, MaxVersion: maxVersion})
	errc := make(chan error, 1)
	go func() { errc <- srv.Handshake() }()
	if err := cli.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	return srv.ConnectionState(), cli.ConnectionState()
}

var (
	certOnce sync.Once
	certVal  tls.Certificate
	certErr  error
)

func testCert(t testing.TB) tls.Certificate {
	t.Helper()
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			certErr = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "skald.test"},
			DNSNames:     []string{"skald.test", "localhost"},
			IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			certErr = err
			return
		}
		certVal = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	})
	if certErr != nil {
		t.Fatal(certErr)
	}
	return certVal
}

// asFailure asserts err is a *Failure.
func asFailure(t testing.TB, err error) *Failure {
	t.Helper()
	var f *Failure
	if !errors.As(err, &f) {
		t.Fatalf("error %v (%T) is not a *Failure", err, err)
	}
	return f
}

var validConditions = map[string]bool{
	CondAborted: true, CondAccountDisabled: true, CondCredentialsExpired: true,
	CondEncryptionRequired: true, CondIncorrectEncoding: true, CondInvalidAuthzID: true,
	CondInvalidMechanism: true, CondMalformedRequest: true, CondMechanismTooWeak: true,
	CondNotAuthorized: true, CondTemporaryAuthFailure: true,
}
