package c2s_test

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// TestConnectionCapsNoLeak: every way a TCP connection ends gives its
// places back (a leak would end with everyone refused). The caps are
// small, each ending is tried more times than they allow, and
// afterwards the count is 0 and a full set of new connections is served.
// Shutdown, with connections parked and busy, also brings it to 0.
func TestConnectionCapsNoLeak(t *testing.T) {
	const capN = 3
	f := start(t, func(c *c2s.Config) {
		c.MaxConnections, c.MaxConnectionsPerIP = capN, capN
	})
	// One whose negotiation times out (parked meanwhile, on Linux).
	slow := start(t, func(c *c2s.Config) {
		c.MaxConnections, c.MaxConnectionsPerIP = capN, capN
		c.NegotiationTimeout = 300 * time.Millisecond
	})
	dial := func(addr string) net.Conn {
		nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return nc
	}
	endings := []struct {
		name string
		run  func()
	}{
		{"closed at once", func() { dial(f.addr).Close() }},
		{"direct TLS, closed before the handshake", func() { dial(f.tlsAddr).Close() }},
		{"direct TLS, handshake fails", func() {
			nc := dial(f.tlsAddr)
			nc.Write([]byte("not a TLS client hello, not at all\r\n\r\n"))
			nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			nc.Read(make([]byte, 64))
			nc.Close()
		}},
		{"direct TLS, client gives up in the handshake", func() {
			nc := dial(f.tlsAddr)
			tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{0xffff}})
			tc.SetDeadline(time.Now().Add(5 * time.Second))
			tc.Handshake() // the server has no such suite
			nc.Close()
		}},
		{"stream error", func() {
			c := xmpptest.Dial(t, f.addr)
			c.Send(`<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong' to='localhost' version='1.0'>`)
			c.ReadHeader()
			c.ExpectStreamError()
			c.ExpectClosed()
		}},
		{"malformed XML", func() {
			c := xmpptest.Dial(t, f.addr)
			c.OpenStream("localhost")
			c.Send(`<a><b></a>`)
			c.ExpectStreamError()
			c.ExpectClosed()
		}},
		{"STARTTLS handshake fails", func() {
			c := xmpptest.Dial(t, f.addr)
			c.OpenStream("localhost")
			c.Send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)
			c.Next()
			c.Raw().Write([]byte("garbage instead of a client hello\r\n\r\n"))
			c.Raw().SetReadDeadline(time.Now().Add(5 * time.Second))
			c.Raw().Read(make([]byte, 64))
			c.Close()
		}},
		{"parked, closed by the client", func() {
			nc := openUnauthenticated(t, f.addr, false)
			waitParked(t, f.srv, 1)
			nc.Close()
		}},
		{"parked direct TLS, woken, closed", func() {
			nc := openUnauthenticated(t, f.tlsAddr, true)
			waitParked(t, f.srv, 1)
			nc.Write([]byte(" "))
			nc.Close()
		}},
		{"logged in, closed", func() {
			c := xmpptest.Dial(t, f.addr)
			c.Login("localhost", "alice", "secret-alice", "r")
			c.Close()
		}},
		{"logged in, stream ended", func() {
			c := xmpptest.Dial(t, f.addr)
			c.Login("localhost", "alice", "secret-alice", "r")
			c.Send(`</stream:stream>`)
			c.ExpectClosed()
		}},
	}
	for _, e := range endings {
		for range capN + 1 {
			e.run()
			waitConns(t, f.srv, 0)
			if n := f.srv.CappedCount(); n != 0 {
				t.Fatalf("%s: %d connections still counted against the caps", e.name, n)
			}
		}
	}

	for range capN + 1 {
		c := xmpptest.Dial(t, slow.addr)
		c.OpenStream("localhost")
		c.ExpectStreamError()
		waitConns(t, slow.srv, 0)
		if n := slow.srv.CappedCount(); n != 0 {
			t.Fatalf("negotiation timeout: %d connections still counted", n)
		}
	}

	// Refused ones (over both caps) take nothing either.
	var held []net.Conn
	for range capN {
		held = append(held, openUnauthenticated(t, f.addr, false))
	}
	waitConns(t, f.srv, capN)
	for range 2 {
		c := xmpptest.Dial(t, f.addr)
		c.Send(capHeader)
		c.ReadHeader()
		c.ExpectStreamError()
		dial(f.tlsAddr).Close()
	}
	if n := f.srv.CappedCount(); n != capN {
		t.Fatalf("%d counted after refusals, want %d", n, capN)
	}
	for _, nc := range held {
		nc.Close()
	}
	waitConns(t, f.srv, 0)
	if n := f.srv.CappedCount(); n != 0 {
		t.Fatalf("%d counted after the held ones closed", n)
	}

	// A full set is served again: one parked, one busy, one logged in.
	openUnauthenticated(t, f.addr, false)
	openUnauthenticated(t, f.tlsAddr, true)
	c := xmpptest.Dial(t, f.addr)
	c.Login("localhost", "bob", "secret-bob", "r")
	waitConns(t, f.srv, capN)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.CappedCount(); n != 0 {
		t.Fatalf("%d counted after Shutdown", n)
	}
}

// TestConnectionCapsExemptTransports: connections another layer hands
// over (WebSocket, BOSH: ServeTransport) neither count against the TCP
// caps nor give back a place when they end.
func TestConnectionCapsExemptTransports(t *testing.T) {
	f := start(t, func(c *c2s.Config) { c.MaxConnections, c.MaxConnectionsPerIP = 1, 1 })
	held := openUnauthenticated(t, f.addr, false)
	waitConns(t, f.srv, 1)
	var pipes []*xmpptest.Conn
	for range 3 {
		server, client := net.Pipe()
		if !f.srv.ServeTransport(server, c2s.Transport{Confidential: true}) {
			t.Fatal("ServeTransport refused")
		}
		c := xmpptest.NewConn(t, client)
		c.OpenStream("localhost")
		pipes = append(pipes, c)
	}
	waitConns(t, f.srv, 4)
	if n := f.srv.CappedCount(); n != 1 {
		t.Fatalf("%d counted with transports open, want 1", n)
	}
	for _, c := range pipes {
		c.Raw().Close()
	}
	waitConns(t, f.srv, 1)
	if n := f.srv.CappedCount(); n != 1 {
		t.Fatalf("%d counted after the transports ended, want 1", n)
	}
	// Still full: one more TCP connection is refused.
	c := xmpptest.Dial(t, f.addr)
	c.Send(capHeader)
	c.ReadHeader()
	if got := c.ExpectStreamError(); got != "resource-constraint" {
		t.Fatalf("stream error %q", got)
	}
	held.Close()
}
