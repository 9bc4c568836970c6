package server_test

import (
	"testing"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

const capStreamHeader = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`

// TestC2SConnectionCapOptions: [c2s] max_connections and
// max_connections_per_ip reach the listeners (the caps themselves are
// tested in package c2s).
func TestC2SConnectionCapOptions(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*config.Config)
		want  string
	}{
		{"max_connections", func(c *config.Config) { c.C2S.MaxConnections = 1 }, "resource-constraint"},
		{"max_connections_per_ip", func(c *config.Config) { c.C2S.MaxConnectionsPerIP = 1 }, "policy-violation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, nil, tc.tweak)
			first := xmpptest.Dial(t, s.addr)
			first.OpenStream("localhost")
			over := xmpptest.Dial(t, s.addr)
			over.Send(capStreamHeader)
			over.ReadHeader()
			if got := over.ExpectStreamError(); got != tc.want {
				t.Fatalf("stream error %q, want %q", got, tc.want)
			}
			over.ExpectClosed()
		})
	}
}
