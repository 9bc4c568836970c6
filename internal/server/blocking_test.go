package server_test

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

const nsBlocking = "urn:xmpp:blocking"

// blockItems returns the jids of the <item/>s of child local of el.
func blockItems(t *testing.T, el *xml.Element, local string) []string {
	t.Helper()
	p := el.Child(nsBlocking, local)
	if p == nil {
		t.Fatalf("no <%s/> in %s", local, el)
	}
	var out []string
	for _, it := range p.ChildrenNamed(nsBlocking, "item") {
		out = append(out, it.Attr("jid"))
	}
	return out
}

// quiet checks that c has nothing waiting before the answer to a ping.
func quiet(t *testing.T, c *xmpptest.Conn, id string) {
	t.Helper()
	c.Sendf(`<iq type='get' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>`, id)
	if el := c.Next(); el.Attr("id") != id {
		t.Fatalf("unexpected stanza: %s", el)
	}
}

// TestBlockingCommand runs XEP-0191 §3.1-3.5 over a socket: the feature
// is advertised, the list is read, block and unblock are answered and
// pushed to the resources that requested the list, and only to those.
func TestBlockingCommand(t *testing.T) {
	s := startServer(t, nil, nil)
	phone := login(t, s, "alice", "phone")
	tablet := login(t, s, "alice", "tablet") // never requests the list

	// §3.1: the server's domain; Skald lists it on the account too.
	for _, to := range []string{"localhost", "alice@localhost"} {
		if cond, el := discoAsk(t, phone, "info-"+to, to, nsDiscoInfo, ""); cond != "result" {
			t.Fatalf("disco#info to %s: %s", to, el)
		} else {
			found := false
			for _, f := range el.Child(nsDiscoInfo, "query").ChildrenNamed(nsDiscoInfo, "feature") {
				found = found || f.Attr("var") == nsBlocking
			}
			if !found {
				t.Fatalf("disco#info to %s lacks %s: %s", to, nsBlocking, el)
			}
		}
	}

	phone.Send(`<iq type='get' id='g1'><blocklist xmlns='urn:xmpp:blocking'/></iq>`)
	if got := blockItems(t, phone.Expect(isID("g1")), "blocklist"); len(got) != 0 {
		t.Fatalf("initial blocklist %q", got)
	}

	phone.Send(`<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/><item jid='spam.example'/></block></iq>`)
	push := phone.Next()
	if push.Attr("type") != "set" || push.Attr("to") != "alice@localhost/phone" {
		t.Fatalf("block push: %s", push)
	}
	if got := blockItems(t, push, "block"); len(got) != 2 || got[0] != "bob@localhost" || got[1] != "spam.example" {
		t.Fatalf("block push items %q", got)
	}
	if res := phone.Next(); res.Attr("id") != "b1" || res.Attr("type") != "result" {
		t.Fatalf("block answer: %s", res)
	}
	quiet(t, tablet, "t1")

	phone.Send(`<iq type='set' id='b2'><block xmlns='urn:xmpp:blocking'/></iq>`)
	if el := phone.Expect(isID("b2")); el.Attr("type") != "error" || el.Child("", "error").Child(nsStanzas, "bad-request") == nil {
		t.Fatalf("block without items: %s", el)
	}

	phone.Send(`<iq type='get' id='g2'><blocklist xmlns='urn:xmpp:blocking'/></iq>`)
	if got := blockItems(t, phone.Expect(isID("g2")), "blocklist"); len(got) != 2 || got[0] != "bob@localhost" || got[1] != "spam.example" {
		t.Fatalf("blocklist %q", got)
	}

	// The tablet asks for the list too: from now on it gets pushes.
	tablet.Send(`<iq type='get' id='g3'><blocklist xmlns='urn:xmpp:blocking'/></iq>`)
	tablet.Expect(isID("g3"))
	tablet.Send(`<iq type='set' id='u1'><unblock xmlns='urn:xmpp:blocking'><item jid='spam.example'/></unblock></iq>`)
	for _, c := range []*xmpptest.Conn{phone, tablet} {
		push := c.Expect(func(e *xml.Element) bool { return e.Child(nsBlocking, "unblock") != nil })
		if got := blockItems(t, push, "unblock"); len(got) != 1 || got[0] != "spam.example" {
			t.Fatalf("unblock push %q", got)
		}
	}
	tablet.Expect(isID("u1"))

	phone.Send(`<iq type='set' id='u2'><unblock xmlns='urn:xmpp:blocking'/></iq>`)
	for _, c := range []*xmpptest.Conn{phone, tablet} {
		push := c.Expect(func(e *xml.Element) bool { return e.Child(nsBlocking, "unblock") != nil })
		if got := blockItems(t, push, "unblock"); len(got) != 0 {
			t.Fatalf("unblock-all push %q", got)
		}
	}
	phone.Expect(isID("u2"))
	phone.Send(`<iq type='get' id='g4'><blocklist xmlns='urn:xmpp:blocking'/></iq>`)
	if got := blockItems(t, phone.Expect(isID("g4")), "blocklist"); len(got) != 0 {
		t.Fatalf("blocklist after unblock all %q", got)
	}

	// Another account's list is not alice's to read.
	phone.Send(`<iq type='get' id='g5' to='bob@localhost'><blocklist xmlns='urn:xmpp:blocking'/></iq>`)
	if el := phone.Expect(isID("g5")); el.Attr("type") != "error" || el.Child("", "error").Child(nsStanzas, "forbidden") == nil {
		t.Fatalf("blocklist of another account: %s", el)
	}
}

func stanzaErrorOf(el *xml.Element) (cond string, blocked bool) {
	e := el.Child("", "error")
	if el.Attr("type") != "error" || e == nil {
		return "", false
	}
	for _, c := range e.Elements() {
		if c.Space == nsStanzas && c.Local != "text" {
			cond = c.Local
		}
		if c.Space == nsBlocking+":errors" && c.Local == "blocked" {
			blocked = true
		}
	}
	return cond, blocked
}

func block(t *testing.T, c *xmpptest.Conn, id, items string) {
	t.Helper()
	c.Sendf(`<iq type='set' id='%s'><%s xmlns='urn:xmpp:blocking'>%s</%s></iq>`, id, "block", items, "block")
	if el := c.Expect(isID(id)); el.Attr("type") != "result" {
		t.Fatalf("block: %s", el)
	}
}

// TestBlockingEnforced checks XEP-0191 §3.3 over a socket, both ways: a
// blocked contact's messages and iqs bounce and are neither delivered,
// archived nor kept offline; the user's own to the contact are refused
// with not-acceptable and <blocked/>; unblocking lets them through again.
func TestBlockingEnforced(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	alice.Send(`<presence/>`)
	bob := login(t, s, "bob", "laptop")
	bob.Send(`<presence/>`)
	block(t, alice, "b1", `<item jid='bob@localhost'/>`)

	bob.Send(`<message to='alice@localhost' id='m1' type='chat'><body>let me in</body></message>`)
	if cond, _ := stanzaErrorOf(bob.Expect(func(e *xml.Element) bool { return e.Attr("id") == "m1" })); cond != "service-unavailable" {
		t.Fatalf("blocked contact's message: want service-unavailable, got %q", cond)
	}
	bob.Send(`<iq type='get' id='i1' to='alice@localhost/phone'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if cond, _ := stanzaErrorOf(bob.Expect(isID("i1"))); cond != "service-unavailable" {
		t.Fatalf("blocked contact's iq: want service-unavailable, got %q", cond)
	}

	alice.Send(`<message to='bob@localhost' id='m2' type='chat'><body>no</body></message>`)
	if cond, blocked := stanzaErrorOf(alice.Expect(func(e *xml.Element) bool { return e.Attr("id") == "m2" })); cond != "not-acceptable" || !blocked {
		t.Fatalf("message to a blocked contact: %q blocked=%v", cond, blocked)
	}
	alice.Send(`<iq type='get' id='i2' to='bob@localhost/laptop'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if cond, blocked := stanzaErrorOf(alice.Expect(isID("i2"))); cond != "not-acceptable" || !blocked {
		t.Fatalf("iq to a blocked contact: %q blocked=%v", cond, blocked)
	}
	quiet(t, bob, "q1") // nothing of alice's reached bob
	quiet(t, alice, "q2")

	// Not stored offline either: alice logs out, bob writes, alice comes
	// back to nothing.
	alice.Close()
	bob.Send(`<message to='alice@localhost' id='m3' type='chat'><body>while you were out</body></message>`)
	bob.Expect(func(e *xml.Element) bool { return e.Attr("id") == "m3" })
	alice = login(t, s, "alice", "phone")
	alice.Send(`<presence/>`)
	alice.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("from") == "alice@localhost/phone" })
	quiet(t, alice, "q3")

	// Neither archive holds the refused messages.
	for _, c := range []*xmpptest.Conn{alice, bob} {
		c.Send(`<iq type='set' id='mam'><query xmlns='urn:xmpp:mam:2' queryid='f'/></iq>`)
		if el := c.Next(); el.Attr("id") != "mam" {
			t.Fatalf("archive holds a blocked message: %s", el)
		}
	}

	alice.Send(`<iq type='set' id='u1'><unblock xmlns='urn:xmpp:blocking'/></iq>`)
	alice.Expect(isID("u1"))
	bob.Send(`<message to='alice@localhost' id='m4' type='chat'><body>truce</body></message>`)
	alice.Expect(isMessageWithBody("truce"))
	alice.Send(`<message to='bob@localhost' id='m5' type='chat'><body>fine</body></message>`)
	bob.Expect(isMessageWithBody("fine"))
}

// TestBlockingPresence checks XEP-0191 §3.3-3.4 for presence over a
// socket: blocking a subscribed contact sends it unavailable presence and
// stops presence both ways; unblocking sends the current presence again.
func TestBlockingPresence(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	alice.Send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	alice.Expect(isID("r1"))
	alice.Send(`<presence/>`)
	bob := login(t, s, "bob", "laptop")
	bob.Send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	bob.Expect(isID("r1"))
	bob.Send(`<presence/>`)
	mutualSubscription(alice, bob)
	bob.Send(`<presence><status>here</status></presence>`)
	alice.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.ChildText("", "status") == "here" })
	bob.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.ChildText("", "status") == "here" })
	quiet(t, alice, "q0")
	quiet(t, bob, "q0")

	block(t, alice, "b1", `<item jid='bob@localhost'/>`)
	un := bob.Next()
	if un.Local != "presence" || un.Attr("type") != "unavailable" || un.Attr("from") != "alice@localhost/phone" {
		t.Fatalf("blocked contact got %s, want unavailable from alice", un)
	}

	alice.Send(`<presence><status>busy</status></presence>`)
	alice.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("from") == "alice@localhost/phone" })
	bob.Send(`<presence><status>still here</status></presence>`)
	bob.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("from") == "bob@localhost/laptop" })
	quiet(t, bob, "q1")
	quiet(t, alice, "q1")

	alice.Send(`<presence to='bob@localhost'/>`)
	if cond, blocked := stanzaErrorOf(alice.Expect(func(e *xml.Element) bool { return e.Local == "presence" })); cond != "not-acceptable" || !blocked {
		t.Fatalf("directed presence to a blocked contact: %q blocked=%v", cond, blocked)
	}

	alice.Send(`<iq type='set' id='u1'><unblock xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/></unblock></iq>`)
	alice.Expect(isID("u1"))
	if p := bob.Next(); p.Local != "presence" || p.Attr("from") != "alice@localhost/phone" || p.ChildText("", "status") != "busy" {
		t.Fatalf("unblocked contact got %s, want alice's presence", p)
	}
}

// TestBlockingOfflineStored: a message kept offline before its sender was
// blocked is not delivered once the user blocks the sender (§3.3).
func TestBlockingOfflineStored(t *testing.T) {
	s := startServer(t, nil, nil)
	bob := login(t, s, "bob", "laptop")
	bob.Send(`<message to='alice@localhost' id='m1' type='chat'><body>stored before</body></message>`)
	quiet(t, bob, "q1")
	alice := login(t, s, "alice", "phone") // not available yet: nothing delivered
	block(t, alice, "b1", `<item jid='bob@localhost'/>`)
	alice.Send(`<presence/>`)
	alice.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("from") == "alice@localhost/phone" })
	quiet(t, alice, "q2")
}
