package server_test

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
)

// TestFederationClientProbeAnsweredToFullJID: a probe a remote user's
// client sends itself (RFC 6121 §4.3) comes from that client's full JID;
// the contact's server answers "to the user" who sent the probe
// (§4.3.2), so the presence goes to the probing resource, not to the
// prober's bare JID where every resource of the account would get it.
func TestFederationClientProbeAnsweredToFullJID(t *testing.T) {
	res := &fakeSRV{ports: map[string]int{}}
	a := startFederated(t, "a.test", res, "", "alice")
	b := startFederated(t, "b.test", res, "", "bob")

	alice := a.login(t, "alice", "phone")
	alice.Send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	alice.Expect(func(el *xml.Element) bool { return el.Attr("id") == "r1" })
	alice.Send(`<presence><status>at home</status></presence>`)
	bob := b.login(t, "bob", "laptop")
	bob.Send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	bob.Expect(func(el *xml.Element) bool { return el.Attr("id") == "r1" })
	bob.Send(`<presence/>`)

	bob.Send(`<presence to='alice@a.test' type='subscribe'/>`)
	expectStanza(alice, "presence", "subscribe", "bob@b.test")
	alice.Send(`<presence to='bob@b.test' type='subscribed'/>`)
	expectStanza(bob, "presence", "subscribed", "alice@a.test")
	expectStanza(bob, "presence", "", "alice@a.test")

	tablet := b.login(t, "bob", "tablet")
	tablet.Send(`<presence/>`)
	expectStanza(tablet, "presence", "", "alice@a.test") // b.test's own probe at login
	noMoreStanzas(t, tablet, "t0")
	noMoreStanzas(t, bob, "l0")

	bob.Send(`<presence to='alice@a.test' type='probe'/>`)
	p := expectStanza(bob, "presence", "", "alice@a.test")
	if p.Attr("to") != "bob@b.test/laptop" || p.Attr("from") != "alice@a.test/phone" ||
		p.ChildText("jabber:client", "status") != "at home" {
		t.Fatalf("probe answered with %s", p)
	}
	// The answer went to the laptop alone (b.test delivers stanzas in
	// order, so the tablet would have had it by now).
	noMoreStanzas(t, tablet, "t1")
}
