package c2s_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// connGoroutines counts the goroutines that run a connection (serve, or
// awaitInput or resume once it has input) and those waiting in a fresh
// awaitInput goroutine that took over an idle connection and has not run
// it yet (where parking is not available).
func connGoroutines() (running, awaiting int) {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		switch {
		case strings.Contains(g, "c2s.(*conn).serve(") || strings.Contains(g, "c2s.(*conn).run("):
			running++
		case strings.Contains(g, "c2s.(*conn).awaitInput("):
			awaiting++
		}
	}
	return
}

// waiting returns how many goroutines run connections, how many
// connections are parked and how many wait for input on a fresh awaitInput
// goroutine.
func waiting(srv *c2s.Server) (running, parked, awaiting int) {
	running, awaiting = connGoroutines()
	return running, srv.ParkedCount(), awaiting
}

// settledIdle waits until none of the server's connections runs and n of
// them wait for input: parked on Linux, elsewhere on goroutines.
func settledIdle(t *testing.T, srv *c2s.Server, n int) {
	t.Helper()
	wantParked, wantAwaiting := n, 0
	if runtime.GOOS != "linux" {
		wantParked, wantAwaiting = 0, n
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		running, parked, awaiting := waiting(srv)
		if running == 0 && parked == wantParked && awaiting == wantAwaiting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after idling: %d goroutines running connections, %d connections parked, %d waiting on goroutines; want 0, %d, %d",
				running, parked, awaiting, wantParked, wantAwaiting)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestIdleConnHandsOff: a connection idle for longer than the in-place
// wait (a second) gives up its goroutine, whose stack grew: it parks
// (Linux) or is taken over by a fresh goroutine with the smallest stack.
// It then works as before: stanzas are answered, whitespace keepalives do
// not pin it to a goroutine, and a client that goes away is noticed, on
// plain TCP too, where a poll cannot see the end.
func TestIdleConnHandsOff(t *testing.T) {
	tlsServer := start(t, nil)
	plainServer := start(t, func(c *c2s.Config) { c.TLS = nil; c.RequireTLS = false })
	dial := map[string]func(t *testing.T) *xmpptest.Conn{
		"direct TLS": func(t *testing.T) *xmpptest.Conn {
			c := xmpptest.DialTLS(t, tlsServer.tlsAddr)
			c.OpenStream("localhost")
			c.AuthPlain("localhost", "alice", "secret-alice")
			c.Bind("r")
			return c
		},
		"STARTTLS": func(t *testing.T) *xmpptest.Conn {
			c := xmpptest.Dial(t, tlsServer.addr)
			c.Login("localhost", "alice", "secret-alice", "r")
			return c
		},
		"plain TCP": func(t *testing.T) *xmpptest.Conn {
			c := xmpptest.Dial(t, plainServer.addr)
			c.Login("localhost", "alice", "secret-alice", "r")
			return c
		},
	}
	ping := func(t *testing.T, c *xmpptest.Conn, id string) {
		t.Helper()
		c.Sendf(`<iq type='get' id='%s' to='localhost'><query xmlns='urn:example:unknown'/></iq>`, id)
		if el := c.Next(); el.Local != "iq" || el.Attr("id") != id {
			t.Fatalf("reply to %s: %s", id, el)
		}
	}
	for _, transport := range []string{"direct TLS", "STARTTLS", "plain TCP"} {
		t.Run(transport, func(t *testing.T) {
			srv := tlsServer.srv
			if transport == "plain TCP" {
				srv = plainServer.srv
			}
			handedOff := func(t *testing.T) { t.Helper(); settledIdle(t, srv, 1) }
			c := dial[transport](t)
			ping(t, c, "before")
			handedOff(t)
			ping(t, c, "after") // served by a new goroutine
			for range 3 {       // keepalives only, then silence
				c.Send(" ")
				time.Sleep(200 * time.Millisecond)
			}
			handedOff(t)
			ping(t, c, "after-keepalives")
			handedOff(t)
			// The client goes away without closing its stream.
			c.Raw().(interface{ CloseWrite() error }).CloseWrite()
			c.ExpectClosed()
			deadline := time.Now().Add(5 * time.Second)
			for {
				if running, parked, awaiting := waiting(srv); running+parked+awaiting == 0 && srv.ConnCount() == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the connection's goroutine outlived its client")
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestHalfCloseGetsReplies: a client that sends a stanza and then shuts
// down its sending side (no </stream:stream>) still gets the reply before
// the server closes, whether the connection was busy or idle.
func TestHalfCloseGetsReplies(t *testing.T) {
	f := start(t, func(c *c2s.Config) { c.TLS = nil; c.RequireTLS = false })
	for _, idle := range []time.Duration{0, 200 * time.Millisecond, 1300 * time.Millisecond} {
		t.Run(idle.String(), func(t *testing.T) {
			for i := range 5 {
				c := xmpptest.Dial(t, f.addr)
				c.Login("localhost", "alice", "secret-alice", "half")
				time.Sleep(idle)
				c.Send(`<iq type='get' id='last' to='localhost'><query xmlns='urn:example:unknown'/></iq>`)
				c.Raw().(interface{ CloseWrite() error }).CloseWrite()
				if el, err := c.TryNext(); err != nil || el.Attr("id") != "last" {
					t.Fatalf("try %d: reply %v, %v", i, el, err)
				}
				c.ExpectClosed()
				if idle > 0 {
					break
				}
			}
		})
	}
}
