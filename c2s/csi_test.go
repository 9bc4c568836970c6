package c2s_test

import (
	"context"
	"testing"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stream"
)

// directedPresence stands in for the presence module: presence addressed
// to a full JID goes to that session as it is.
type directedPresence struct{ r *router.Router }

func (*directedPresence) Name() string { return "directed-presence" }

func (d *directedPresence) HandlePresence(_ context.Context, _ *router.Session, p *xml.Element, to jid.JID) error {
	if s := d.r.Session(to); s != nil {
		return s.Send(p)
	}
	return nil
}

// csiFixture logs in bob (b1) and alice (a1) with a stand-in presence
// module.
func csiFixture(t *testing.T) (f *fixture, bob, alice *xmpptest.Conn) {
	t.Helper()
	dp := &directedPresence{}
	f = start(t, nil, dp)
	dp.r = f.router
	bob = xmpptest.Dial(t, f.addr)
	bob.Login("localhost", "bob", "secret-bob", "b1")
	alice = xmpptest.Dial(t, f.addr)
	alice.Login("localhost", "alice", "secret-alice", "a1")
	return f, bob, alice
}

// roundTrip sends an iq the server answers (with an error: nothing serves
// it) and waits for the answer: everything c sent before has been handled.
func roundTrip(t *testing.T, c *xmpptest.Conn, id string) {
	t.Helper()
	c.Sendf(`<iq type='get' id='%s' to='localhost'><q xmlns='urn:test:sync'/></iq>`, id)
	c.Expect(func(el *xml.Element) bool { return el.Local == "iq" && el.Attr("id") == id })
}

func show(el *xml.Element) string { return el.ChildText(stream.NSClient, "show") }

// TestCSI: XEP-0352 over a real socket. An inactive client gets the
// latest presence of each sender once something that matters arrives or
// it says <active/> (before the answer to what it sends next), never chat
// states alone; an active one gets everything at once.
func TestCSI(t *testing.T) {
	_, bob, alice := csiFixture(t)
	if bob.Features.Child(stream.NSCSI, "csi") == nil {
		t.Fatalf("no <csi/> in the features after authentication: %s", bob.Features)
	}

	bob.Send(`<inactive xmlns='urn:xmpp:csi:0'/>`)
	roundTrip(t, bob, "s1")
	alice.Send(`<presence to='bob@localhost/b1'><show>away</show></presence>`)
	alice.Send(`<presence to='bob@localhost/b1'><show>dnd</show></presence>`)
	alice.Send(`<message to='bob@localhost/b1' type='chat' id='cs1'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`)
	alice.Send(`<message to='bob@localhost/b1' type='chat' id='m1'><body>hi</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`)
	// The held presence (only the latest: dnd), then the message; the
	// first update and the chat state never come.
	if el := bob.Next(); el.Local != "presence" || show(el) != "dnd" {
		t.Fatalf("first after the message: %s, want the presence with show dnd", el)
	}
	if el := bob.Next(); el.Local != "message" || el.Attr("id") != "m1" {
		t.Fatalf("second: %s, want message m1", el)
	}

	// <active/> sends what is held before the answer to the next request.
	alice.Send(`<presence to='bob@localhost/b1'><show>xa</show></presence>`)
	roundTrip(t, alice, "s2")
	bob.Send(`<active xmlns='urn:xmpp:csi:0'/>`)
	bob.Send(`<iq type='get' id='s3' to='localhost'><q xmlns='urn:test:sync'/></iq>`)
	if el := bob.Next(); el.Local != "presence" || show(el) != "xa" {
		t.Fatalf("after <active/>: %s, want the presence with show xa", el)
	}
	if el := bob.Next(); el.Local != "iq" || el.Attr("id") != "s3" {
		t.Fatalf("after the held presence: %s, want the answer to s3", el)
	}

	// Active: chat states and presence go at once.
	alice.Send(`<message to='bob@localhost/b1' type='chat' id='cs2'><paused xmlns='http://jabber.org/protocol/chatstates'/></message>`)
	if el := bob.Next(); el.Attr("id") != "cs2" {
		t.Fatalf("active: %s, want chat state cs2", el)
	}
	alice.Send(`<presence to='bob@localhost/b1'/>`)
	if el := bob.Next(); el.Local != "presence" {
		t.Fatalf("active: %s, want presence", el)
	}

	// Nothing else lives in the namespace.
	bob.Send(`<unknown xmlns='urn:xmpp:csi:0'/>`)
	if got := bob.ExpectStreamError(); got != "unsupported-stanza-type" {
		t.Fatalf("unknown CSI element: %s", got)
	}
}

// TestCSIBeforeAuth: before authentication a CSI element is refused like
// any other.
func TestCSIBeforeAuth(t *testing.T) {
	f := start(t, nil)
	c := xmpptest.Dial(t, f.addr)
	c.OpenStream("localhost")
	if c.Features.Child(stream.NSCSI, "csi") != nil {
		t.Fatalf("<csi/> offered before authentication: %s", c.Features)
	}
	c.Send(`<inactive xmlns='urn:xmpp:csi:0'/>`)
	if got := c.ExpectStreamError(); got != "not-authorized" {
		t.Fatalf("CSI before authentication: %s", got)
	}
}

// TestCSIOff: with CSI off it is neither offered nor accepted.
func TestCSIOff(t *testing.T) {
	f := start(t, func(c *c2s.Config) { c.CSI = false })
	c := xmpptest.Dial(t, f.addr)
	c.Login("localhost", "bob", "secret-bob", "b1")
	if c.Features.Child(stream.NSCSI, "csi") != nil {
		t.Fatalf("<csi/> offered with CSI off: %s", c.Features)
	}
	c.Send(`<inactive xmlns='urn:xmpp:csi:0'/>`)
	if got := c.ExpectStreamError(); got != "unsupported-stanza-type" {
		t.Fatalf("CSI with CSI off: %s", got)
	}
}

// TestCSIResume: XEP-0352 state does not survive XEP-0198 resumption; the
// resumed stream is active and gets the presence held for the old one,
// after what was resent.
func TestCSIResume(t *testing.T) {
	f, bob, alice := csiFixture(t)
	id := enableSM(t, bob, true).Attr("id")
	bob.Send(`<inactive xmlns='urn:xmpp:csi:0'/>`)
	roundTrip(t, bob, "s1")
	bob.Send(`<a xmlns='urn:xmpp:sm:3' h='1'/>`) // the answer to s1
	alice.Send(`<presence to='bob@localhost/b1'><show>away</show></presence>`)
	roundTrip(t, alice, "s2")
	bob.Raw().Close()

	nu := authed(t, f, "bob")
	nu.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='1'/>`, id)
	if el := nu.Next(); !el.Is(nsSM, "resumed") {
		t.Fatalf("expected <resumed/>, got %s", el)
	}
	el := nu.Expect(func(el *xml.Element) bool { return el.Local == "presence" })
	if show(el) != "away" {
		t.Fatalf("after resuming: %s, want the held presence", el)
	}
	// Active now: a chat state arrives.
	alice.Send(`<message to='bob@localhost/b1' type='chat' id='cs1'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`)
	nu.Expect(isMessage("cs1"))
}
