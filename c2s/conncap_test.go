package c2s_test

import (
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/metrics"
	"github.com/skald-xmpp/skald/internal/metrics/metricstest"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

const capHeader = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`

// TestConnectionCaps: beyond max_connections (all c2s listeners together)
// a new TCP connection gets our stream header, <resource-constraint/>
// and the closing tag (RFC 6120 §4.9.3.17: the server lacks the
// resources to serve it); beyond max_connections_per_ip it gets
// <policy-violation/> (§4.9.3.14: a limit on one entity). Connections
// that wait parked (idle, without a goroutine) count like any other, a
// closed connection frees its place, and a refused direct-TLS connection
// is closed without a TLS handshake.
func TestConnectionCaps(t *testing.T) {
	tests := []struct {
		name    string
		total   int
		perIP   int
		direct  bool // the connections that fill the cap use the direct TLS listener
		park    bool // and wait parked
		want    string
		counter string
	}{
		{"total", 2, 0, false, false, "resource-constraint", "skald_c2s_connections_refused_total"},
		{"total, parked", 2, 0, false, true, "resource-constraint", "skald_c2s_connections_refused_total"},
		{"total, across listeners", 2, 0, true, true, "resource-constraint", "skald_c2s_connections_refused_total"},
		{"per IP", 0, 2, false, false, "policy-violation", "skald_c2s_connections_refused_per_ip_total"},
		{"per IP, parked", 0, 2, false, true, "policy-violation", "skald_c2s_connections_refused_per_ip_total"},
		{"per IP under a higher total", 10, 2, true, true, "policy-violation", "skald_c2s_connections_refused_per_ip_total"},
		{"total under a higher per IP", 2, 10, false, true, "resource-constraint", "skald_c2s_connections_refused_total"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t, func(c *c2s.Config) {
				c.MaxConnections, c.MaxConnectionsPerIP = tc.total, tc.perIP
			})
			reg := metrics.NewRegistry()
			reg.Register(f.srv)
			addr := f.addr
			if tc.direct {
				addr = f.tlsAddr
			}
			var held []net.Conn
			for range 2 {
				held = append(held, openUnauthenticated(t, addr, tc.direct))
			}
			if tc.park {
				waitParked(t, f.srv, 2)
			} else {
				waitConns(t, f.srv, 2)
			}

			// One more on the STARTTLS listener: refused with a stream error.
			c := xmpptest.Dial(t, f.addr)
			c.Send(capHeader)
			c.ReadHeader()
			if got := c.ExpectStreamError(); got != tc.want {
				t.Fatalf("stream error %q, want %q", got, tc.want)
			}
			c.ExpectClosed()
			// One more on the direct TLS listener: closed, no handshake.
			nc, err := net.DialTimeout("tcp", f.tlsAddr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			tcl := tls.Client(nc, &tls.Config{InsecureSkipVerify: true})
			tcl.SetDeadline(time.Now().Add(5 * time.Second))
			if err := tcl.Handshake(); err == nil {
				t.Fatal("TLS handshake completed on a refused direct TLS connection")
			}
			nc.Close()
			waitValue(t, reg, tc.counter, 2)
			if n := f.srv.ConnCount(); n != 2 {
				t.Fatalf("%d connections after the refusals, want 2", n)
			}

			// A closed connection frees its place.
			held[0].Close()
			waitConns(t, f.srv, 1)
			ok := xmpptest.Dial(t, f.addr)
			ok.OpenStream("localhost")
			waitValue(t, reg, "skald_c2s_connections", 2)
			if v := metricstest.Value(t, reg, tc.counter); v != 2 {
				t.Fatalf("%s = %v, want 2", tc.counter, v)
			}
		})
	}
}

// TestConnectionCapsOff: 0 is no cap.
func TestConnectionCapsOff(t *testing.T) {
	f := start(t, func(c *c2s.Config) { c.MaxConnections, c.MaxConnectionsPerIP = 0, 0 })
	for range 5 {
		openUnauthenticated(t, f.addr, false)
	}
	waitConns(t, f.srv, 5)
	c := xmpptest.Dial(t, f.addr)
	c.OpenStream("localhost")
}

// waitConns waits until the server has n connections.
func waitConns(t *testing.T, srv *c2s.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for srv.ConnCount() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections, want %d", srv.ConnCount(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
