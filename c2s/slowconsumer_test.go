package c2s_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/metrics"
	"github.com/skald-xmpp/skald/internal/metrics/metricstest"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/jid"
)

// A client that never reads is cut off once its queue bound is exceeded,
// while everyone else keeps being served: routing to it never waits.
func TestSlowConsumerCutOff(t *testing.T) {
	// Bob's read rate is not limited: how many 16 KB messages fill the
	// kernel's socket buffers before the queue overflows depends on their
	// autotuning, and at the default 64 KiB/s a few MB took a minute.
	f := start(t, func(c *c2s.Config) {
		c.SendQueueBytes = 32 << 10
		c.ReadBytesPerSecond = 0
	})

	slow := xmpptest.Dial(t, f.addr)
	slow.Login("localhost", "alice", "secret-alice", "slow")
	if tc, ok := slow.Raw().(*net.TCPConn); ok {
		tc.SetReadBuffer(4 << 10) // fill up soon
	}
	fast := xmpptest.Dial(t, f.addr)
	fast.Login("localhost", "alice", "secret-alice", "fast")
	bob := xmpptest.Dial(t, f.addr)
	bob.Login("localhost", "bob", "secret-bob", "b")

	body := strings.Repeat("x", 16000)
	slowJID := jid.MustParse("alice@localhost/slow")
	deadline := time.Now().Add(90 * time.Second)
	i := 0
	for ; f.router.Session(slowJID) != nil; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("the slow client was not cut off after %d messages", i)
		}
		// Every message to the slow client is followed by one to the fast
		// client, which must arrive at once: bob's stream and the router
		// are never held up by the slow client.
		bob.Sendf(`<message to='alice@localhost/slow' type='chat' id='s%d'><body>%s</body></message>`, i, body)
		bob.Sendf(`<message to='alice@localhost/fast' type='chat' id='f%d'><body>%d</body></message>`, i, i)
		if el := fast.Next(); el.Attr("id") != fmt.Sprintf("f%d", i) {
			t.Fatalf("fast client got %s, want f%d", el, i)
		}
	}

	// The slow client's connection is closed: after whatever was already
	// in flight, reading ends.
	slow.Raw().SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 64<<10)
	for {
		_, err := slow.Raw().Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("the slow client's connection was not closed")
		}
		break
	}

	// Service goes on for the others.
	bob.Send(`<message to='alice@localhost/fast' type='chat' id='after'><body>x</body></message>`)
	fast.Expect(isMessage("after"))

	// The cut is counted, once.
	reg := metrics.NewRegistry()
	reg.Register(f.srv)
	if v := metricstest.Value(t, reg, "skald_c2s_slow_consumer_disconnects_total"); v != 1 {
		t.Errorf("skald_c2s_slow_consumer_disconnects_total = %v, want 1", v)
	}
}
