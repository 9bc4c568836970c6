package server_test

import (
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

const nsCarbons = "urn:xmpp:carbons:2"

// carbonOf returns the message a carbon copy forwards ("sent" or
// "received"), or nil when el is no such copy.
func carbonOf(el *xml.Element, kind string) *xml.Element {
	if el.Local != "message" || el.Attr("from") != "alice@localhost" {
		return nil
	}
	return el.Child(nsCarbons, kind).Child("urn:xmpp:forward:0", "forwarded").Child("jabber:client", "message")
}

// nextNonPresence returns the next stanza that is not a presence (the
// account's resources see each other's).
func nextNonPresence(c *xmpptest.Conn) *xml.Element {
	for {
		if el := c.Next(); el.Local != "presence" {
			return el
		}
	}
}

// noMoreStanzas checks, with a ping round trip, that c got nothing else
// but presence.
func noMoreStanzas(t *testing.T, c *xmpptest.Conn, id string) {
	t.Helper()
	c.Send(`<iq type='get' id='` + id + `'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if el := nextNonPresence(c); el.Attr("id") != id {
		t.Fatalf("unexpected %s", el)
	}
}

// XEP-0280 §6 under urn:xmpp:carbons:rules:0, which the server
// advertises: an error answering a message eligible for carbons is
// eligible too, whether the peer's client, the peer's server or this
// server sends it, and whether the account's client received or sent
// the eligible message; an error answering nothing copy-worthy is not
// copied.
func TestCarbonsRulesErrors(t *testing.T) {
	s := startServer(t, nil, nil)
	phone := login(t, s, "alice", "phone")
	tablet := login(t, s, "alice", "tablet")
	bob := login(t, s, "bob", "laptop")
	for _, c := range []*xmpptest.Conn{phone, tablet, bob} {
		c.Send(`<presence/>`)
	}
	if cond, el := ask(t, tablet, "c1", `<iq type='set' id='c1'><enable xmlns='urn:xmpp:carbons:2'/></iq>`); cond != "result" {
		t.Fatalf("enable: %s", el)
	}
	_, info := ask(t, phone, "d1", `<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if !strings.Contains(info.String(), `var="urn:xmpp:carbons:rules:0"`) {
		t.Fatalf("domain does not advertise urn:xmpp:carbons:rules:0: %s", info)
	}
	noMoreStanzas(t, tablet, "p0")

	// 1. bob's client answers alice's chat message with an error.
	phone.Send(`<message to='bob@localhost/laptop' type='chat' id='m1'><body>hi</body></message>`)
	if c := carbonOf(nextNonPresence(tablet), "sent"); c == nil || c.Attr("id") != "m1" {
		t.Fatalf("no sent carbon of m1")
	}
	bob.Expect(isMessageWithBody("hi"))
	bob.Send(`<message to='alice@localhost/phone' type='error' id='m1'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`)
	phone.Expect(func(e *xml.Element) bool {
		return e.Local == "message" && e.Attr("type") == "error" && e.Attr("id") == "m1"
	})
	el := nextNonPresence(tablet)
	if c := carbonOf(el, "received"); c == nil || c.Attr("type") != "error" || c.Attr("id") != "m1" || c.Attr("from") != "bob@localhost/laptop" {
		t.Fatalf("want a received carbon of bob's error, got %s", el)
	}

	// 2. The server answers a chat message to an account that does not
	// exist.
	phone.Send(`<message to='nobody@localhost' type='chat' id='m2'><body>anyone?</body></message>`)
	phone.Expect(func(e *xml.Element) bool {
		return e.Local == "message" && e.Attr("type") == "error" && e.Attr("id") == "m2"
	})
	el = nextNonPresence(tablet)
	if c := carbonOf(el, "received"); c == nil || c.Attr("type") != "error" || c.Attr("id") != "m2" || c.Attr("from") != "nobody@localhost" {
		t.Fatalf("want a received carbon of the server's error, got %s", el)
	}

	// 3. alice's client answers bob's message with an error.
	bob.Send(`<message to='alice@localhost/phone' type='chat' id='m3'><body>yo</body></message>`)
	phone.Expect(isMessageWithBody("yo"))
	if c := carbonOf(nextNonPresence(tablet), "received"); c == nil || c.Attr("id") != "m3" {
		t.Fatalf("no received carbon of m3")
	}
	phone.Send(`<message to='bob@localhost/laptop' type='error' id='m3'><error type='cancel'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`)
	bob.Expect(func(e *xml.Element) bool {
		return e.Local == "message" && e.Attr("type") == "error" && e.Attr("id") == "m3"
	})
	el = nextNonPresence(tablet)
	if c := carbonOf(el, "sent"); c == nil || c.Attr("type") != "error" || c.Attr("id") != "m3" {
		t.Fatalf("want a sent carbon of alice's error, got %s", el)
	}

	// 4. Errors that answer nothing copy-worthy are not copied: one with
	// an id never used, one answering a headline.
	bob.Send(`<message to='alice@localhost/phone' type='error' id='zz'><error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`)
	phone.Expect(func(e *xml.Element) bool { return e.Attr("id") == "zz" })
	phone.Send(`<message to='bob@localhost/laptop' type='headline' id='h1'><body>news</body></message>`)
	bob.Expect(isMessageWithBody("news"))
	bob.Send(`<message to='alice@localhost/phone' type='error' id='h1'><error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`)
	phone.Expect(func(e *xml.Element) bool { return e.Attr("id") == "h1" })
	noMoreStanzas(t, tablet, "p1")
}
