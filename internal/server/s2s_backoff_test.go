package server_test

import (
	"net"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// TestFederationBackoff: while b.test is down, a's second stanza to it is
// refused at once (remote-server-timeout, no new stream); once b is up
// the first stanza after the wait is delivered, and b opening a stream
// to a ends the wait at once.
func TestFederationBackoff(t *testing.T) {
	for _, tc := range []struct {
		name, backoffMax string
		bobFirst         bool // b talks to a before a retries
	}{{"wait expires", "1s", false}, {"incoming stream clears", "1h", true}} {
		t.Run(tc.name, func(t *testing.T) {
			res := &fakeSRV{ports: map[string]int{}}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			res.set("b.test", l.Addr().String())
			l.Close()
			a := startFederated(t, "a.test", res, "retry_backoff_max = \""+tc.backoffMax+"\"\n", "alice")
			metric := func(name string) float64 {
				v, _ := a.Metrics.Value(name)
				return v
			}
			alice := a.login(t, "alice", "phone")
			alice.Send(`<presence/>`)
			for i := range 2 {
				start := time.Now()
				alice.Send(`<message to='bob@b.test' type='chat' id='down'><body>down</body></message>`)
				expectError(alice, "bob@b.test", "remote-server-timeout")
				if i == 1 && time.Since(start) > time.Second {
					t.Fatalf("second stanza answered after %v", time.Since(start))
				}
			}
			if got := metric("skald_s2s_streams_out_total"); got != 1 {
				t.Fatalf("%v outgoing streams started, want 1", got)
			}
			if got := metric("skald_s2s_backoff_refused_total"); got != 1 {
				t.Fatalf("%v stanzas refused in back-off, want 1", got)
			}
			if got := metric("skald_s2s_domains_backoff"); got != 1 {
				t.Fatalf("%v domains in back-off, want 1", got)
			}
			b := startFederated(t, "b.test", res, "", "bob")
			bob := b.login(t, "bob", "laptop")
			bob.Send(`<presence/>`)
			if tc.bobFirst {
				bob.Send(`<message to='alice@a.test' type='chat'><body>alive</body></message>`)
				expectStanza(alice, "message", "chat", "bob@b.test")
			} else {
				deadline := time.Now().Add(5 * time.Second)
				for metric("skald_s2s_domains_backoff") != 0 {
					if time.Now().After(deadline) {
						t.Fatal("back-off did not expire")
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
			if got := metric("skald_s2s_domains_backoff"); got != 0 {
				t.Fatalf("%v domains in back-off, want 0", got)
			}
			// To the full JID: bob's initial presence may still be on
			// its way when b is quick to come up.
			alice.Send(`<message to='bob@b.test/laptop' type='chat'><body>up</body></message>`)
			if m := expectStanza(bob, "message", "chat", "alice@a.test"); m.ChildText("jabber:client", "body") != "up" {
				t.Fatalf("bob got %s", m)
			}
		})
	}
}

// expectError reads until a message error from from arrives and checks
// its condition.
func expectError(c *xmpptest.Conn, from, cond string) {
	c.T.Helper()
	el := c.Expect(func(el *xml.Element) bool { return el.Local == "message" && el.Attr("type") == "error" })
	e := el.Child("jabber:client", "error")
	if el.Attr("from") != from || e == nil || e.Child("urn:ietf:params:xml:ns:xmpp-stanzas", cond) == nil {
		c.T.Fatalf("got %s, want %s from %s", el, cond, from)
	}
}
