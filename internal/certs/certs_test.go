package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestEnsureSelfSignedGenerates(t *testing.T) {
	tests := []struct {
		domains []string
		dns     []string
		ips     []string
	}{
		{[]string{"localhost"}, []string{"localhost"}, []string{"127.0.0.1", "::1"}},
		{[]string{"example.org", "chat.example.org"}, []string{"example.org", "chat.example.org"}, nil},
		{[]string{"example.org", "localhost"}, []string{"example.org", "localhost"}, []string{"127.0.0.1", "::1"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.domains, ","), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data") // does not exist yet
			var logs bytes.Buffer
			certFile, keyFile, err := EnsureSelfSignedLog(testLogger(&logs), dir, tt.domains)
			if err != nil {
				t.Fatal(err)
			}
			if certFile != filepath.Join(dir, SelfSignedCertFile) || keyFile != filepath.Join(dir, SelfSignedKeyFile) {
				t.Errorf("files = %q, %q", certFile, keyFile)
			}
			st, err := os.Stat(keyFile)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("key file mode = %v, want 0600", st.Mode().Perm())
			}
			c := readCert(t, certFile)
			pub, ok := c.PublicKey.(*ecdsa.PublicKey)
			if !ok || pub.Curve != elliptic.P256() {
				t.Errorf("public key = %T, want ECDSA P-256", c.PublicKey)
			}
			if !slices.Equal(c.DNSNames, tt.dns) {
				t.Errorf("DNSNames = %q, want %q", c.DNSNames, tt.dns)
			}
			var ips []string
			for _, ip := range c.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tt.ips) {
				t.Errorf("IPAddresses = %q, want %q", ips, tt.ips)
			}
			if life := c.NotAfter.Sub(c.NotBefore); life < 3650*24*time.Hour {
				t.Errorf("validity = %v, want 10 years", life)
			}
			if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) || c.IsCA {
				t.Errorf("ExtKeyUsage = %v, IsCA = %v", c.ExtKeyUsage, c.IsCA)
			}
			if !strings.Contains(logs.String(), "no certificate yet") {
				t.Errorf("log does not say why it generated:\n%s", logs.String())
			}
			if _, err := Load(certFile, keyFile); err != nil {
				t.Errorf("Load: %v", err)
			}
		})
	}
}

func TestEnsureSelfSignedReuseAndRegenerate(t *testing.T) {
	tests := []struct {
		name    string
		spoil   func(t *testing.T, dir string) // applied after the first call
		domains []string                       // second call
		reason  string                         // "" = must be reused
	}{
		{"same domains reused", func(*testing.T, string) {}, []string{"example.org"}, ""},
		{"subset reused", func(*testing.T, string) {}, []string{"example.org"}, ""},
		{"new domain", func(*testing.T, string) {}, []string{"example.org", "other.example"}, "does not cover other.example"},
		{"expired", func(t *testing.T, dir string) {
			certPEM, keyPEM, err := generate([]string{"example.org"}, time.Now().Add(-11*365*24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, SelfSignedCertFile), certPEM)
			write(t, filepath.Join(dir, SelfSignedKeyFile), keyPEM)
		}, []string{"example.org"}, "expires"},
		{"corrupt certificate", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, SelfSignedCertFile), []byte("garbage"))
		}, []string{"example.org"}, "unusable"},
		{"missing key", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, SelfSignedKeyFile))
		}, []string{"example.org"}, "unusable"},
		{"missing certificate", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, SelfSignedCertFile))
		}, []string{"example.org"}, "no certificate yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			certFile, _, err := EnsureSelfSignedLog(testLogger(new(bytes.Buffer)), dir, []string{"example.org"})
			if err != nil {
				t.Fatal(err)
			}
			tt.spoil(t, dir)
			before, _ := os.ReadFile(certFile)

			var logs bytes.Buffer
			certFile2, keyFile2, err := EnsureSelfSignedLog(testLogger(&logs), dir, tt.domains)
			if err != nil {
				t.Fatal(err)
			}
			after, _ := os.ReadFile(certFile2)
			if tt.reason == "" {
				if !bytes.Equal(before, after) {
					t.Error("certificate was regenerated, want it reused")
				}
				return
			}
			if bytes.Equal(before, after) {
				t.Error("certificate was reused, want it regenerated")
			}
			if !strings.Contains(logs.String(), tt.reason) {
				t.Errorf("log does not contain %q:\n%s", tt.reason, logs.String())
			}
			c := readCert(t, certFile2)
			for _, d := range tt.domains {
				if err := c.VerifyHostname(d); err != nil {
					t.Errorf("new certificate: %v", err)
				}
			}
			if time.Until(c.NotAfter) < 9*365*24*time.Hour {
				t.Errorf("new certificate expires %v", c.NotAfter)
			}
			if _, err := Load(certFile2, keyFile2); err != nil {
				t.Errorf("Load: %v", err)
			}
		})
	}
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureSelfSignedNoDomains(t *testing.T) {
	if _, _, err := EnsureSelfSigned(t.TempDir(), nil); err == nil {
		t.Fatal("EnsureSelfSigned with no domains succeeded")
	}
}

// TestLoadHandshake checks that the loaded configuration completes a TLS
// handshake with a client trusting the certificate, for 1.2 and 1.3, and
// refuses TLS 1.1.
func TestLoadHandshake(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, err := EnsureSelfSignedLog(testLogger(new(bytes.Buffer)), dir, []string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	srvConf, err := Load(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if srvConf.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion = %x", srvConf.MinVersion)
	}
	pool := x509.NewCertPool()
	pool.AddCert(readCert(t, certFile))

	tests := []struct {
		name       string
		serverName string
		maxVersion uint16
		wantOK     bool
	}{
		{"tls1.3 localhost", "localhost", tls.VersionTLS13, true},
		{"tls1.2 localhost", "localhost", tls.VersionTLS12, true},
		{"tls1.3 by IP", "127.0.0.1", tls.VersionTLS13, true},
		{"tls1.1 refused", "localhost", tls.VersionTLS11, false},
		{"wrong name", "example.org", tls.VersionTLS13, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A real loopback connection: net.Pipe has no buffering, and both
			// TLS sides writing at once would deadlock on it.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			done := make(chan error, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					done <- err
					return
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				done <- tls.Server(c, srvConf).Handshake()
			}()
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			cli := tls.Client(conn, &tls.Config{
				RootCAs: pool, ServerName: tt.serverName,
				MinVersion: tls.VersionTLS10, MaxVersion: tt.maxVersion,
			})
			err = cli.Handshake()
			conn.Close()
			<-done
			if (err == nil) != tt.wantOK {
				t.Fatalf("client handshake = %v, want ok=%v", err, tt.wantOK)
			}
			if err == nil && cli.ConnectionState().Version != tt.maxVersion {
				t.Errorf("version = %x", cli.ConnectionState().Version)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	certFile, _, err := EnsureSelfSignedLog(testLogger(new(bytes.Buffer)), dir, []string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := EnsureSelfSignedLog(testLogger(new(bytes.Buffer)), t.TempDir(), []string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	otherKey := filepath.Join(filepath.Dir(other), SelfSignedKeyFile)
	for name, files := range map[string][2]string{
		"missing files":   {filepath.Join(dir, "nope.pem"), filepath.Join(dir, "nope.key")},
		"mismatching key": {certFile, otherKey},
	} {
		if _, err := Load(files[0], files[1]); err == nil {
			t.Errorf("%s: Load succeeded", name)
		}
	}
}
