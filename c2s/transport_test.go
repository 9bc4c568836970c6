package c2s_test

import (
	"net"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// TestTransport: a connection served through a Transport (XMPP over
// WebSocket) is never offered STARTTLS, even though the server has TLS
// and requires it, and is offered PLAIN only when the transport is
// confidential.
func TestTransport(t *testing.T) {
	tests := []struct {
		name      string
		transport c2s.Transport
		wantPLAIN bool
	}{
		{"not confidential (loopback ws://)", c2s.Transport{}, false},
		{"confidential (behind a TLS proxy)", c2s.Transport{Confidential: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := start(t, nil)
			server, client := net.Pipe()
			if !f.srv.ServeTransport(server, tt.transport) {
				t.Fatal("ServeTransport refused")
			}
			c := xmpptest.NewConn(t, client)
			c.OpenStream("localhost")
			if c.Features.Child("urn:ietf:params:xml:ns:xmpp-tls", "starttls") != nil {
				t.Fatalf("STARTTLS offered: %s", c.Features)
			}
			if got := strings.Contains(c.Features.String(), ">PLAIN<"); got != tt.wantPLAIN {
				t.Fatalf("PLAIN offered = %v, want %v: %s", got, tt.wantPLAIN, c.Features)
			}
			// require_tls does not hold authentication up: there is no
			// STARTTLS to wait for.
			if tt.wantPLAIN {
				c.AuthPlain("localhost", "alice", "secret-alice")
			} else {
				c.AuthSCRAM("localhost", "alice", "secret-alice")
			}
			c.Bind("pipe") // Auth* restarted the stream
		})
	}
}

// TestTransportRefusesSTARTTLS: <starttls/> over a transport fails and
// closes the stream (RFC 6120 §5.4.2.2), as on a stream where TLS is up.
func TestTransportRefusesSTARTTLS(t *testing.T) {
	f := start(t, nil)
	server, client := net.Pipe()
	if !f.srv.ServeTransport(server, c2s.Transport{}) {
		t.Fatal("ServeTransport refused")
	}
	c := xmpptest.NewConn(t, client)
	c.OpenStream("localhost")
	c.Send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)
	if el := c.Next(); !el.Is("urn:ietf:params:xml:ns:xmpp-tls", "failure") {
		t.Fatalf("got %s, want <failure/>", el)
	}
	c.ExpectClosed()
}
