package server_test

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	ws "github.com/coder/websocket"

	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// TestWebSocketMaxConnectionsPerIP: WebSocket connections beyond
// max_connections_per_ip from one address are refused at the handshake
// (429); one closing makes room.
func TestWebSocketMaxConnectionsPerIP(t *testing.T) {
	_, url := startWebSocketServer(t, "tls = false\nmax_connections_per_ip = 2")
	first := xmpptest.DialWebSocket(t, url)
	first.OpenStream("localhost")
	second := xmpptest.DialWebSocket(t, url)
	second.OpenStream("localhost")
	_, resp, err := xmpptest.DialWebSocketWith(url, &ws.DialOptions{Subprotocols: []string{"xmpp"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third WebSocket from one address: %v %v, want 429", resp, err)
	}
	first.CloseStream()
	first.ExpectClosed()
	deadline := time.Now().Add(5 * time.Second)
	for {
		wc, _, err := xmpptest.DialWebSocketWith(url, &ws.DialOptions{Subprotocols: []string{"xmpp"}})
		if err == nil {
			wc.CloseNow()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no room after a WebSocket closed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// expectCutAtAccept dials addr max times (connections held open) and
// checks that one more is closed at once.
func expectCutAtAccept(t *testing.T, addr string, max int) {
	t.Helper()
	for range max {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	time.Sleep(200 * time.Millisecond) // the server accepts them
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("connection beyond max_connections: %v, want EOF", err)
	}
}

// TestWebSocketMaxConnections: idle TCP connections beyond
// max_connections are closed at accept, so a flood of them cannot
// exhaust file descriptors.
func TestWebSocketMaxConnections(t *testing.T) {
	s, _ := startWebSocketServer(t, "tls = false\nmax_connections = 3")
	expectCutAtAccept(t, s.WebSocketAddr(), 3)
}

// TestBOSHMaxConnections: as for WebSocket.
func TestBOSHMaxConnections(t *testing.T) {
	s, _ := startBOSHServer(t, "max_connections = 3")
	expectCutAtAccept(t, s.BOSHAddr(), 3)
}
