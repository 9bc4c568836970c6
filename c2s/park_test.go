package c2s_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
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

// openUnauthenticated opens a stream on addr (direct TLS or plain TCP),
// fails one SASL exchange so that the stream stays open unauthenticated
// at an element boundary (where it can park), and drains what the server
// writes from then on.
func openUnauthenticated(t *testing.T, addr string, direct bool) net.Conn {
	t.Helper()
	var nc net.Conn
	var err error
	if direct {
		nc, err = tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	} else {
		nc, err = net.DialTimeout("tcp", addr, 5*time.Second)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	io.WriteString(nc, `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`+
		`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='BOGUS'/>`)
	go io.Copy(io.Discard, nc) // the server's writes never block
	return nc
}

// waitParked waits until n connections are parked (Linux) or, elsewhere,
// for the server's n connections.
func waitParked(t *testing.T, srv *c2s.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.GOOS == "linux" && srv.ParkedCount() < n || srv.ConnCount() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections, %d parked; want %d", srv.ConnCount(), srv.ParkedCount(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestParkedCloseStorm: while Shutdown runs, parked connections are closed
// by their clients (gracefully or with a reset) or send input; Shutdown
// ends every connection in time and leaves no goroutine behind.
func TestParkedCloseStorm(t *testing.T) {
	for _, direct := range []bool{false, true} {
		for round := range 2 {
			t.Run(fmt.Sprintf("direct=%v/%d", direct, round), func(t *testing.T) {
				base := runtime.NumGoroutine()
				f := start(t, func(c *c2s.Config) { c.RequireTLS, c.KeepaliveInterval = false, 0 })
				addr := f.addr
				if direct {
					addr = f.tlsAddr
				}
				const n = 100
				conns := make([]net.Conn, n)
				for i := range conns {
					conns[i] = openUnauthenticated(t, addr, direct)
				}
				waitParked(t, f.srv, n)
				var wg sync.WaitGroup
				for i, c := range conns {
					wg.Go(func() {
						time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
						switch i % 4 {
						case 0:
							c.Close()
						case 1:
							if tc, ok := c.(*net.TCPConn); ok {
								tc.SetLinger(0) // a reset
							}
							c.Close()
						case 2:
							io.WriteString(c, " ")
						case 3:
							io.WriteString(c, "<iq type='get' id='x'/>")
						}
					})
				}
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				defer cancel()
				time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
				if err := f.srv.Shutdown(ctx); err != nil {
					t.Fatalf("Shutdown: %v; %d connections, %d parked", err, f.srv.ConnCount(), f.srv.ParkedCount())
				}
				wg.Wait()
				if f.srv.ConnCount() != 0 || f.srv.ParkedCount() != 0 {
					t.Fatalf("after Shutdown: %d connections, %d parked", f.srv.ConnCount(), f.srv.ParkedCount())
				}
				for _, c := range conns {
					c.Close()
				}
				for d := time.Now().Add(3 * time.Second); runtime.NumGoroutine() > base && time.Now().Before(d); {
					time.Sleep(20 * time.Millisecond)
				}
				if g := runtime.NumGoroutine(); g > base {
					buf := make([]byte, 1<<20)
					t.Fatalf("%d goroutines after Shutdown, %d before:\n%s", g, base, buf[:runtime.Stack(buf, true)])
				}
			})
		}
	}
}

// TestParkedDeadlineStorm: idle deadlines race keepalives and closes
// across many parked connections; every connection ends once its client
// falls silent.
func TestParkedDeadlineStorm(t *testing.T) {
	for _, direct := range []bool{false, true} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			f := start(t, func(c *c2s.Config) {
				c.RequireTLS, c.KeepaliveInterval, c.IdleTimeout = false, 0, 1100*time.Millisecond
			})
			addr := f.addr
			if direct {
				addr = f.tlsAddr
			}
			const n = 100
			var wg sync.WaitGroup
			for i := range n {
				c := openUnauthenticated(t, addr, direct)
				wg.Go(func() {
					for range 4 {
						time.Sleep(time.Duration(900+rand.IntN(400)) * time.Millisecond)
						if _, err := io.WriteString(c, " "); err != nil {
							break
						}
					}
					if i%2 == 0 {
						c.Close()
					}
				})
			}
			wg.Wait()
			for d := time.Now().Add(5 * time.Second); f.srv.ConnCount() != 0 && time.Now().Before(d); {
				time.Sleep(50 * time.Millisecond)
			}
			if n := f.srv.ConnCount(); n != 0 {
				t.Fatalf("%d connections (%d parked) outlived their idle timeout", n, f.srv.ParkedCount())
			}
		})
	}
}

// TestParkedBetweenStreamHeaders: a client that pauses right after a
// stream header, before its first element (after connecting, after
// STARTTLS, after SASL), parks there too, and negotiation goes on when it
// speaks again.
func TestParkedBetweenStreamHeaders(t *testing.T) {
	f := start(t, nil)
	c := xmpptest.Dial(t, f.addr)
	c.OpenStream("localhost")
	settledIdle(t, f.srv, 1)
	c.StartTLS("localhost")
	settledIdle(t, f.srv, 1)
	c.AuthSCRAM("localhost", "alice", "secret-alice")
	settledIdle(t, f.srv, 1)
	c.Bind("r")
	c.Send(`<iq type='get' id='p' to='localhost'><query xmlns='urn:example:unknown'/></iq>`)
	if el := c.Next(); el.Local != "iq" || el.Attr("id") != "p" {
		t.Fatalf("got %s", el)
	}
}

// TestParkedWaitEndsWithInput: the idle timeout of a connection that
// parked and then woke for input counts from its last input, not from the
// wait that parked it: a client that paused (and parked) before its SASL
// exchange, and then takes a while over its response, is not cut off.
func TestParkedWaitEndsWithInput(t *testing.T) {
	const idle = 3 * time.Second
	for _, retry := range []bool{false, true} {
		t.Run(fmt.Sprintf("after a failed attempt=%v", retry), func(t *testing.T) {
			f := start(t, func(c *c2s.Config) { c.IdleTimeout, c.TLS, c.RequireTLS = idle, nil, false })
			c := xmpptest.Dial(t, f.addr)
			c.OpenStream("localhost")
			if retry {
				if err := c.TrySCRAM("alice", "wrong"); err == nil {
					t.Fatal("a wrong password was accepted")
				}
			}
			time.Sleep(2200 * time.Millisecond) // parked after a second
			settledIdle(t, f.srv, 1)
			// 2.2 s + 1.2 s since the wait began, 1.2 s since the last input.
			if err := c.TrySCRAMWith(xmpptest.SCRAM{Pause: 1200 * time.Millisecond}, "alice", "secret-alice"); err != nil {
				t.Fatalf("a response 1.2 s after the challenge: %v", err)
			}
		})
	}
}
