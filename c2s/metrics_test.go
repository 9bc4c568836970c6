package c2s_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/metrics"
	"github.com/skald-xmpp/skald/internal/metrics/metricstest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// waitValue waits up to 10 s for metric name to equal want.
func waitValue(t *testing.T, reg *metrics.Registry, name string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for metricstest.Value(t, reg, name) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v", name, metricstest.Value(t, reg, name), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMetrics checks that each c2s metric moves with what it counts.
func TestMetrics(t *testing.T) {
	f := start(t, nil)
	reg := metrics.NewRegistry()
	reg.Register(f.srv)
	for _, name := range []string{
		"skald_c2s_connections", "skald_c2s_connections_accepted_total", "skald_c2s_connections_parked",
		"skald_c2s_sessions", "skald_c2s_stanzas_received_total", "skald_c2s_auth_failures_total",
		"skald_c2s_slow_consumer_disconnects_total",
	} {
		if v := metricstest.Value(t, reg, name); v != 0 {
			t.Errorf("%s = %v before any connection, want 0", name, v)
		}
	}

	alice := xmpptest.Dial(t, f.addr)
	alice.Login("localhost", "alice", "secret-alice", "a")
	// A failed login on a connection of its own.
	bad := xmpptest.Dial(t, f.addr)
	bad.OpenStream("localhost")
	bad.StartTLS("localhost")
	if err := bad.TrySCRAM("bob", "wrong"); err == nil {
		t.Fatal("wrong password accepted")
	}
	bob := xmpptest.Dial(t, f.addr)
	bob.Login("localhost", "bob", "secret-bob", "b")

	waitValue(t, reg, "skald_c2s_connections", 3)
	waitValue(t, reg, "skald_c2s_connections_accepted_total", 3)
	waitValue(t, reg, "skald_c2s_sessions", 2)
	waitValue(t, reg, "skald_c2s_auth_failures_total", 1)

	// Binding is one iq each; then a presence, a message and an iq.
	before := metricstest.Value(t, reg, "skald_c2s_stanzas_received_total")
	if before != 2 {
		t.Errorf("stanzas received after two binds = %v, want 2", before)
	}
	alice.Send(`<message to='bob@localhost/b' type='chat' id='m1'><body>hi</body></message>`)
	bob.Expect(func(e *xml.Element) bool { return e.Attr("id") == "m1" })
	alice.Send(`<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`)
	alice.Expect(func(e *xml.Element) bool { return e.Attr("id") == "p1" })
	if v := metricstest.Value(t, reg, "skald_c2s_stanzas_received_total"); v != before+2 {
		t.Errorf("stanzas received = %v after a message and an iq, want %v", v, before+2)
	}

	// Idle connections park after a second (on Linux; elsewhere the
	// gauge stays 0): alice and bob at least.
	if runtime.GOOS == "linux" {
		deadline := time.Now().Add(10 * time.Second)
		for metricstest.Value(t, reg, "skald_c2s_connections_parked") < 2 {
			if time.Now().After(deadline) {
				t.Fatalf("parked = %v (parker: %d), want at least alice's and bob's", metricstest.Value(t, reg, "skald_c2s_connections_parked"), f.srv.ParkedCount())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// Closing: the connection and its session go, the counters stay.
	bob.Close()
	bad.Raw().Close()
	waitValue(t, reg, "skald_c2s_sessions", 1)
	waitValue(t, reg, "skald_c2s_connections", 1)
	if v := metricstest.Value(t, reg, "skald_c2s_connections_accepted_total"); v != 3 {
		t.Errorf("accepted = %v after closes, want 3", v)
	}
}
