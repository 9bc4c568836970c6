package server_test

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// rosterVer gets c's roster with 'ver' cached (XEP-0237) and returns the
// version of the answer and whether it was empty (the cache is current).
func rosterVer(t *testing.T, c *xmpptest.Conn, id, cached string) (string, bool) {
	t.Helper()
	c.Sendf(`<iq type='get' id='%s'><query xmlns='jabber:iq:roster' ver='%s'/></iq>`, id, cached)
	el := c.Expect(isID(id))
	q := el.Child(nsRoster, "query")
	if q == nil {
		return cached, true
	}
	return q.Attr("ver"), false
}

// isRosterPush matches a roster push (RFC 6121 §2.1.6).
func isRosterPush(e *xml.Element) bool {
	return e.Local == "iq" && e.Attr("type") == "set" && e.Child(nsRoster, "query") != nil
}

// TestRosterVersionChangesOnlyWithPush: a client caching the roster must
// refetch it only when it changed as the client sees it (RFC 6121 §2.6:
// a roster push carries the new version, and a request with the current
// version is answered with an empty result). Subscription bookkeeping
// the user never sees (a request from someone not in the roster, or a
// pending request from a contact already there, both stored as
// subscription requests) pushes nothing and must leave the version be;
// an added item is pushed with a new version, which is then current.
func TestRosterVersionChangesOnlyWithPush(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	ver, _ := rosterVer(t, alice, "r0", "")
	alice.Send(`<presence/>`)
	bob := login(t, s, "bob", "b")
	carol := login(t, s, "carol", "c")

	// A request from someone not in the roster: delivered, no push.
	bob.Send(`<presence to='alice@localhost' type='subscribe'><status>hi</status></presence>`)
	alice.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("type") == "subscribe" })
	noMoreStanzas(t, alice, "n1")
	if v, empty := rosterVer(t, alice, "r1", ver); !empty {
		t.Fatalf("version %s -> %s after a request that pushed nothing", ver, v)
	}

	// An item alice adds is pushed with a new version.
	alice.Send(`<iq type='set' id='s1'><query xmlns='jabber:iq:roster'><item jid='carol@localhost'/></query></iq>`)
	push := alice.Expect(isRosterPush)
	alice.Expect(isID("s1"))
	pushed := push.Child(nsRoster, "query").Attr("ver")
	if pushed == ver || pushed == "" {
		t.Fatalf("push version %q, was %q", pushed, ver)
	}
	if v, empty := rosterVer(t, alice, "r2", pushed); !empty {
		t.Fatalf("pushed version %s is not current (%s)", pushed, v)
	}

	// carol, now in the roster with subscription none, asks: the item
	// shows no pending-in state (§2.1.2), so nothing is pushed.
	carol.Send(`<presence to='alice@localhost' type='subscribe'/>`)
	alice.Expect(func(e *xml.Element) bool {
		return e.Local == "presence" && e.Attr("type") == "subscribe" && e.Attr("from") == "carol@localhost"
	})
	noMoreStanzas(t, alice, "n2")
	if v, empty := rosterVer(t, alice, "r3", pushed); !empty {
		t.Fatalf("version %s -> %s after a request that pushed nothing", pushed, v)
	}

	// bob withdraws his request: bookkeeping again.
	bob.Send(`<presence to='alice@localhost' type='unsubscribe'/>`)
	noMoreStanzas(t, bob, "n3")
	noMoreStanzas(t, alice, "n4")
	if v, empty := rosterVer(t, alice, "r4", pushed); !empty {
		t.Fatalf("version %s -> %s after a withdrawn request", pushed, v)
	}
}
