package c2s_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// TestParkedIdleTimeout: an idle connection that waits without a goroutine
// still ends with connection-timeout when the idle timeout passes, and
// input before then (a whitespace keepalive) starts the timeout again.
func TestParkedIdleTimeout(t *testing.T) {
	const timeout = 2500 * time.Millisecond
	for _, plain := range []bool{false, true} {
		t.Run(fmt.Sprintf("plain=%v", plain), func(t *testing.T) {
			f := start(t, func(c *c2s.Config) {
				c.IdleTimeout = timeout
				if plain {
					c.TLS, c.RequireTLS = nil, false
				}
			})
			c := xmpptest.Dial(t, f.addr)
			c.Login("localhost", "alice", "secret-alice", "r") // STARTTLS unless plain
			settledIdle(t, f.srv, 1)
			time.Sleep(timeout - 1500*time.Millisecond)
			kept := time.Now()
			c.Send(" ") // resumes the connection, which parks again a second later
			settledIdle(t, f.srv, 1)
			c.Timeout = 2 * timeout
			if got := c.ExpectStreamError(); got != "connection-timeout" {
				t.Fatalf("stream error %q, want connection-timeout", got)
			}
			if since := time.Since(kept); since < timeout-100*time.Millisecond {
				t.Fatalf("timed out %v after the keepalive, want about %v", since, timeout)
			}
			c.ExpectClosed()
		})
	}
}

// TestParkedConnsWake: many parked connections each wake for their own
// input and for stanzas routed to them, and park again.
func TestParkedConnsWake(t *testing.T) {
	const n = 40
	f := start(t, nil)
	conns := make([]*xmpptest.Conn, n)
	for i := range conns {
		conns[i] = xmpptest.Dial(t, f.addr)
		user := []string{"alice", "bob"}[i%2]
		conns[i].Login("localhost", user, "secret-"+user, fmt.Sprintf("r%d", i))
	}
	for round := range 2 {
		settledIdle(t, f.srv, n)
		for i, c := range conns {
			c.Sendf(`<iq type='get' id='ping-%d-%d' to='localhost'><query xmlns='urn:example:unknown'/></iq>`, round, i)
		}
		for i, c := range conns {
			want := fmt.Sprintf("ping-%d-%d", round, i)
			if el := c.Next(); el.Local != "iq" || el.Attr("id") != want {
				t.Fatalf("round %d, connection %d: got %s, want the reply to %s", round, i, el, want)
			}
		}
	}
	settledIdle(t, f.srv, n)
	// A message to a parked connection is written without waking it.
	conns[0].Send(`<message to='bob@localhost/r1' type='chat' id='m'><body>hi</body></message>`)
	if el := conns[1].Next(); el.Local != "message" || el.Attr("id") != "m" {
		t.Fatalf("bob/r1 got %s", el)
	}
}

// TestParkedConnClosedByServer: a parked connection that the server ends
// from elsewhere (a new session for its resource, a shutdown) gets its
// stream error and ends; Shutdown does not wait for its deadline.
func TestParkedConnClosedByServer(t *testing.T) {
	f := start(t, nil)
	old := xmpptest.Dial(t, f.addr)
	old.Login("localhost", "alice", "secret-alice", "same")
	other := xmpptest.Dial(t, f.addr)
	other.Login("localhost", "bob", "secret-bob", "b")
	settledIdle(t, f.srv, 2)

	nu := xmpptest.Dial(t, f.addr)
	nu.Login("localhost", "alice", "secret-alice", "same")
	if got := old.ExpectStreamError(); got != "conflict" {
		t.Fatalf("the replaced session got %q", got)
	}
	old.ExpectClosed()
	settledIdle(t, f.srv, 2) // nu and other

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.srv.Shutdown(ctx) }()
	for _, c := range []*xmpptest.Conn{nu, other} {
		if got := c.ExpectStreamError(); got != "system-shutdown" {
			t.Fatalf("got %q", got)
		}
		c.ExpectClosed()
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if n := f.srv.ConnCount(); n != 0 {
		t.Fatalf("%d connections after Shutdown", n)
	}
}
