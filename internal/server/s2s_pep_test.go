package server_test

import (
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/disco"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

const (
	nsAvatarMeta = "urn:xmpp:avatar:metadata"
	nsDeviceList = "eu.siacs.conversations.axolotl.devicelist"
)

// fedCaps are the features of the federation tests' clients: they want
// avatar metadata and OMEMO device lists.
var fedCaps = []string{nsDiscoInfo, nsAvatarMeta + "+notify", nsDeviceList + "+notify"}

func fedCapsVer() string {
	return disco.CapsVer([]disco.Identity{{Category: "client", Type: "pc", Name: "fed"}}, fedCaps, nil)
}

// capsClient wraps a client that answers every disco#info query on its
// caps node, from its own server or from a remote one, while it waits
// for what a test expects.
type capsClient struct{ *xmpptest.Conn }

func (c capsClient) presence() {
	c.Sendf(`<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://fed.example' ver='%s'/></presence>`, fedCapsVer())
}

func (c capsClient) expect(match func(*xml.Element) bool) *xml.Element {
	c.T.Helper()
	for {
		el := c.Next()
		if q := el.Child(nsDiscoInfo, "query"); el.Local == "iq" && el.Attr("type") == "get" && q != nil &&
			strings.HasPrefix(q.Attr("node"), "https://fed.example#") {
			var b strings.Builder
			b.WriteString(`<iq type='result' to='` + el.Attr("from") + `' id='` + el.Attr("id") + `'><query xmlns='` + nsDiscoInfo + `' node='` + q.Attr("node") + `'><identity category='client' type='pc' name='fed'/>`)
			for _, f := range fedCaps {
				b.WriteString(`<feature var='` + f + `'/>`)
			}
			c.Send(b.String() + `</query></iq>`)
			continue
		}
		if match(el) {
			return el
		}
	}
}

// pepEvent matches a PEP notification of node from owner whose item has
// the given id.
func pepEvent(owner, node, id string) func(*xml.Element) bool {
	return func(el *xml.Element) bool {
		items := el.Child(nsPubSubEvent, "event").Child(nsPubSubEvent, "items")
		return el.Local == "message" && el.Attr("type") == "headline" && el.Attr("from") == owner &&
			items != nil && items.Attr("node") == node && items.Child(nsPubSubEvent, "item").Attr("id") == id
	}
}

func publishItem(t *testing.T, c capsClient, iqID, node, id, payload string) {
	t.Helper()
	c.Send(`<iq type='set' id='` + iqID + `'><pubsub xmlns='` + nsPubSub + `'><publish node='` + node + `'><item id='` + id + `'>` + payload + `</item></publish></pubsub></iq>`)
	if r := c.expect(func(el *xml.Element) bool { return el.Attr("id") == iqID }); r.Attr("type") != "result" {
		t.Fatalf("publish: %s", r)
	}
}

// subscribeBoth makes x and y (users of two servers) subscribe to each
// other's presence, both online.
func subscribeBoth(t *testing.T, x capsClient, xBare string, y capsClient, yBare string) {
	t.Helper()
	x.Send(`<presence to='` + yBare + `' type='subscribe'/>`)
	y.expect(func(el *xml.Element) bool { return el.Local == "presence" && el.Attr("type") == "subscribe" })
	y.Send(`<presence to='` + xBare + `' type='subscribed'/>`)
	x.expect(func(el *xml.Element) bool { return el.Local == "presence" && el.Attr("type") == "subscribed" })
	y.Send(`<presence to='` + xBare + `' type='subscribe'/>`)
	x.expect(func(el *xml.Element) bool { return el.Local == "presence" && el.Attr("type") == "subscribe" })
	x.Send(`<presence to='` + yBare + `' type='subscribed'/>`)
	y.expect(func(el *xml.Element) bool { return el.Local == "presence" && el.Attr("type") == "subscribed" })
}

// TestFederationPEP: alice@a.test and bob@b.test share presence; each
// server learns the other's client capabilities from its presence (a
// disco#info query over server-to-server for a ver it does not know)
// and sends PEP notifications (avatar metadata, the OMEMO device list)
// to the remote resources that asked for them (XEP-0163 §4.3), both
// ways; a remote resource coming online gets the last items; a remote
// contact with a "from" subscription only, whose presence we never see,
// gets one notification at its bare JID (§4.3.2 item 2); and the
// notifications are never archived.
func TestFederationPEP(t *testing.T) {
	res := &fakeSRV{ports: map[string]int{}}
	a := startFederated(t, "a.test", res, "", "alice")
	b := startFederated(t, "b.test", res, "", "bob", "dave")
	alice, bob := capsClient{a.login(t, "alice", "phone")}, capsClient{b.login(t, "bob", "laptop")}
	for _, c := range []capsClient{alice, bob} {
		c.Send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
		c.expect(func(el *xml.Element) bool { return el.Attr("id") == "r1" })
		c.presence()
	}
	subscribeBoth(t, alice, "alice@a.test", bob, "bob@b.test")
	// Each sees the other online; the caps went with the presence.
	bob.presence()
	alice.expect(func(el *xml.Element) bool { return el.Local == "presence" && el.Attr("from") == "bob@b.test/laptop" })
	alice.presence()
	bob.expect(func(el *xml.Element) bool { return el.Local == "presence" && el.Attr("from") == "alice@a.test/phone" })

	// a.test -> bob: avatar metadata and the device list.
	publishItem(t, alice, "p1", nsAvatarMeta, "av1", `<metadata xmlns='`+nsAvatarMeta+`'><info bytes='1' id='av1' type='image/png'/></metadata>`)
	bob.expect(pepEvent("alice@a.test", nsAvatarMeta, "av1"))
	publishItem(t, alice, "p2", nsDeviceList, "current", `<list xmlns='`+nsDeviceList+`'><device id='1234'/></list>`)
	if ev := bob.expect(pepEvent("alice@a.test", nsDeviceList, "current")); ev.Attr("to") != "bob@b.test/laptop" {
		t.Fatalf("event addressed to %s", ev.Attr("to"))
	}
	// b.test -> alice.
	publishItem(t, bob, "p3", nsDeviceList, "current", `<list xmlns='`+nsDeviceList+`'><device id='5678'/></list>`)
	alice.expect(pepEvent("bob@b.test", nsDeviceList, "current"))

	// A new resource of bob's gets alice's last items when it comes
	// online (its ver is known at a.test by now: no query).
	tablet := capsClient{b.login(t, "bob", "tablet")}
	tablet.presence()
	seen := map[string]bool{}
	for len(seen) < 2 {
		ev := tablet.expect(func(el *xml.Element) bool {
			return pepEvent("alice@a.test", nsAvatarMeta, "av1")(el) || pepEvent("alice@a.test", nsDeviceList, "current")(el)
		})
		seen[ev.Child(nsPubSubEvent, "event").Child(nsPubSubEvent, "items").Attr("node")] = true
	}

	// dave@b.test is allowed to see alice, she is not subscribed to him:
	// b.test sends a.test none of his presence, so he gets her next
	// publish once, at his bare JID.
	dave := capsClient{b.login(t, "dave", "pc")}
	dave.Send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	dave.expect(func(el *xml.Element) bool { return el.Attr("id") == "r1" })
	dave.presence()
	dave.Send(`<presence to='alice@a.test' type='subscribe'/>`)
	alice.expect(func(el *xml.Element) bool { return el.Local == "presence" && el.Attr("type") == "subscribe" })
	alice.Send(`<presence to='dave@b.test' type='subscribed'/>`)
	// On subscribing he gets the last items (on_sub_and_presence), at
	// his bare JID as nothing is known of his resources.
	if ev := dave.expect(pepEvent("alice@a.test", nsDeviceList, "current")); ev.Attr("to") != "dave@b.test" {
		t.Fatalf("last item to dave addressed to %s", ev.Attr("to"))
	}
	publishItem(t, alice, "p4", nsDeviceList, "current", `<list xmlns='`+nsDeviceList+`'><device id='1234'/><device id='4321'/></list>`)
	if ev := dave.expect(pepEvent("alice@a.test", nsDeviceList, "current")); ev.Attr("to") != "dave@b.test" || !strings.Contains(ev.String(), "4321") {
		t.Fatalf("dave got %s", ev)
	}
	bob.expect(pepEvent("alice@a.test", nsDeviceList, "current"))

	// Headline events are never archived, on either side.
	for _, c := range []capsClient{alice, bob, dave} {
		if got := archivedBodies(t, c.Conn); len(got) != 0 {
			t.Fatalf("archived: %q", got)
		}
	}
}
