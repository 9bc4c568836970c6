package server_test

import (
	"crypto/tls"
	"slices"
	"testing"

	"github.com/skald-xmpp/skald/config"
)

// The self-signed certificate made on first start names every domain the
// server answers for: the hosted domains and the service domains of its
// modules (conference.<domain>), which remote servers connect to over
// s2s and clients reach on the same listeners; a certificate without
// them fails their hostname check.
func TestSelfSignedCertificateNamesServiceDomains(t *testing.T) {
	tests := []struct {
		name     string
		config   string
		want     []string
		wantNone []string
	}{
		{"default muc", "", []string{"localhost", "conference.localhost"}, nil},
		{"muc label", "[muc]\ndomain = \"rooms\"\n", []string{"localhost", "rooms.localhost"}, []string{"conference.localhost"}},
		{"muc off", "[muc]\nenabled = false\n", []string{"localhost"}, []string{"conference.localhost"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := loadConfigFile(t, tt.config)
			s := startServerConfig(t, cfg, nil, func(c *config.Config) {
				if !c.SelfSigned() {
					t.Fatal("test server does not use the self-signed certificate")
				}
			})
			for _, name := range append(append([]string{}, tt.want...), tt.wantNone...) {
				conn, err := tls.Dial("tcp", s.tlsAddr, &tls.Config{ServerName: name, InsecureSkipVerify: true, NextProtos: []string{"xmpp-client"}})
				if err != nil {
					t.Fatal(err)
				}
				leaf := conn.ConnectionState().PeerCertificates[0]
				conn.Close()
				err = leaf.VerifyHostname(name)
				if slices.Contains(tt.want, name) && err != nil {
					t.Errorf("certificate (names %v) does not cover %s: %v", leaf.DNSNames, name, err)
				}
				if slices.Contains(tt.wantNone, name) && err == nil {
					t.Errorf("certificate (names %v) covers %s, a domain not served", leaf.DNSNames, name)
				}
			}
		})
	}
}
