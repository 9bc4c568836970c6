package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File names of the generated certificate and key inside the data directory.
const (
	SelfSignedCertFile = "selfsigned-cert.pem"
	SelfSignedKeyFile  = "selfsigned-key.pem"
)

const (
	// validity of a generated certificate.
	validity = 10 * 365 * 24 * time.Hour
	// renewBefore: a certificate this close to expiry is replaced on start.
	renewBefore = 30 * 24 * time.Hour
)

// EnsureSelfSigned returns the paths of a self-signed certificate and key
// in dataDir that cover domains, generating them if they do not exist yet,
// have expired (or expire within 30 days), do not cover every domain, or
// cannot be read. The reason for regenerating is logged on slog.Default().
func EnsureSelfSigned(dataDir string, domains []string) (certFile, keyFile string, err error) {
	return EnsureSelfSignedLog(slog.Default(), dataDir, domains)
}

// EnsureSelfSignedLog is EnsureSelfSigned logging to log.
func EnsureSelfSignedLog(log *slog.Logger, dataDir string, domains []string) (certFile, keyFile string, err error) {
	if len(domains) == 0 {
		return "", "", errors.New("certs: no domains to certify")
	}
	certFile = filepath.Join(dataDir, SelfSignedCertFile)
	keyFile = filepath.Join(dataDir, SelfSignedKeyFile)

	reason := checkExisting(certFile, keyFile, domains, time.Now())
	if reason == "" {
		log.Debug("reusing self-signed certificate", "file", certFile)
		return certFile, keyFile, nil
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return "", "", fmt.Errorf("certs: %w", err)
	}
	certPEM, keyPEM, err := generate(domains, time.Now())
	if err != nil {
		return "", "", err
	}
	// Key first: a certificate file never sits next to a key it does not
	// belong to for longer than the two renames.
	if err := writeAtomic(keyFile, keyPEM, 0o600); err != nil {
		return "", "", err
	}
	if err := writeAtomic(certFile, certPEM, 0o644); err != nil {
		return "", "", err
	}
	log.Warn("generated a self-signed TLS certificate; clients will not trust it unless told to "+
		"(set tls.cert_file and tls.key_file for a real one)",
		"reason", reason, "file", certFile, "domains", strings.Join(domains, ","))
	return certFile, keyFile, nil
}

// checkExisting returns why the files must be (re)generated, "" if they
// can be reused.
func checkExisting(certFile, keyFile string, domains []string, now time.Time) string {
	if _, err := os.Stat(certFile); errors.Is(err, os.ErrNotExist) {
		return "no certificate yet"
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return fmt.Sprintf("existing certificate unusable: %v", err)
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return fmt.Sprintf("existing certificate unusable: %v", err)
		}
	}
	if now.Add(renewBefore).After(leaf.NotAfter) {
		return fmt.Sprintf("existing certificate expires %s", leaf.NotAfter.Format(time.DateOnly))
	}
	for _, d := range domains {
		if err := leaf.VerifyHostname(d); err != nil {
			return fmt.Sprintf("existing certificate does not cover %s", d)
		}
	}
	return ""
}

// names returns the DNS names and IP addresses a certificate for domains
// lists: every domain and, when localhost is served, the loopback IPs that
// clients connecting to "localhost" may use.
func names(domains []string) ([]string, []net.IP) {
	var dns []string
	var ips []net.IP
	for _, d := range domains {
		if ip := net.ParseIP(d); ip != nil {
			ips = append(ips, ip)
			continue
		}
		if !slices.Contains(dns, d) {
			dns = append(dns, d)
		}
		if d == "localhost" {
			ips = append(ips, net.IPv4(127, 0, 0, 1), net.IPv6loopback)
		}
	}
	return dns, ips
}

// generate creates an ECDSA P-256 key and a self-signed server certificate
// for domains, both PEM-encoded.
func generate(domains []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: generating key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("certs: serial number: %w", err)
	}
	dns, ips := names(domains)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: domains[0], Organization: []string{"Skald self-signed"}},
		DNSNames:              dns,
		IPAddresses:           ips,
		NotBefore:             now.Add(-time.Hour), // tolerate clients with slightly slow clocks
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: creating certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: encoding key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// writeAtomic writes data to path through a temporary file and a rename,
// so a crash never leaves a truncated file behind.
func writeAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("certs: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("certs: writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("certs: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("certs: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	return nil
}

// Load reads a PEM certificate chain and its key and returns a server TLS
// configuration accepting TLS 1.2 and later. It sets no ALPN protocols:
// the listener that knows what it serves (XEP-0368 "xmpp-client") adds them.
func Load(certFile, keyFile string) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("certs: loading %s and %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{pair},
		MinVersion:   tls.VersionTLS12,
	}, nil
}
