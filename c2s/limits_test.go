package c2s_test

import (
	"io"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// TestAccountAuthRateLimit: failures against one account are limited even
// when the client address stays under its own limit, and other accounts
// are unaffected.
func TestAccountAuthRateLimit(t *testing.T) {
	f := start(t, func(c *c2s.Config) { c.AuthFailuresPerMinute = 100; c.AccountAuthFailuresPerMinute = 2 })
	for i := 0; i < 2; i++ {
		c := xmpptest.Dial(t, f.addr)
		c.OpenStream("localhost")
		c.StartTLS("localhost")
		if err := c.TrySCRAM("alice", "wrong"); err == nil || err.Error() != "sasl: not-authorized" {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	c := xmpptest.Dial(t, f.addr)
	c.OpenStream("localhost")
	c.StartTLS("localhost")
	if err := c.TrySCRAM("alice", "secret-alice"); err == nil || err.Error() != "sasl: temporary-auth-failure" {
		t.Fatalf("alice after limit: %v", err)
	}
	if err := c.TrySCRAM("bob", "secret-bob"); err != nil {
		t.Fatalf("bob must not be limited: %v", err)
	}
}

// TestServerKeepalive: a connection nothing was written to for the
// keepalive interval gets a single space.
func TestServerKeepalive(t *testing.T) {
	f := start(t, func(c *c2s.Config) { c.KeepaliveInterval = 200 * time.Millisecond })
	c := xmpptest.Dial(t, f.addr)
	c.Login("localhost", "alice", "secret-alice", "r")
	raw := c.Raw()
	raw.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 16)
	n, err := io.ReadAtLeast(raw, buf, 1)
	if err != nil {
		t.Fatalf("no keepalive: %v", err)
	}
	for _, b := range buf[:n] {
		if b != ' ' {
			t.Fatalf("keepalive bytes %q, want spaces", buf[:n])
		}
	}
}
