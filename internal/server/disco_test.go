package server_test

import (
	"fmt"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

const (
	nsDiscoInfo  = "http://jabber.org/protocol/disco#info"
	nsDiscoItems = "http://jabber.org/protocol/disco#items"
	nsStanzas    = "urn:ietf:params:xml:ns:xmpp-stanzas"
)

// discoAsk sends a disco query and returns the answer: "result" or the
// stanza error condition, and the answer itself.
func discoAsk(t *testing.T, c *xmpptest.Conn, id, to, ns, node string) (string, *xml.Element) {
	t.Helper()
	n := ""
	if node != "" {
		n = fmt.Sprintf(" node='%s'", node)
	}
	return ask(t, c, id, fmt.Sprintf(`<iq type='get' id='%s' to='%s'><query xmlns='%s'%s/></iq>`, id, to, ns, n))
}

// XEP-0030 §8 (Security Considerations): disco#items to a bare JID with
// no account behind it MUST be an empty result, with or without a node;
// disco#info to one MUST be service-unavailable.
func TestDiscoNoAccount(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")

	for _, node := range []string{"", "some-node"} {
		cond, el := discoAsk(t, alice, "items-nobody"+node, "nobody@localhost", nsDiscoItems, node)
		if cond != "result" {
			t.Fatalf("disco#items to a nonexistent account (node %q): %s, want an empty result", node, el)
		}
		if q := el.Child(nsDiscoItems, "query"); q == nil || len(q.Elements()) != 0 || q.Attr("node") != node {
			t.Fatalf("disco#items to a nonexistent account (node %q): %s", node, el)
		}
		if cond, el := discoAsk(t, alice, "info-nobody"+node, "nobody@localhost", nsDiscoInfo, node); cond != "service-unavailable" {
			t.Fatalf("disco#info to a nonexistent account (node %q): %s", node, el)
		}
	}
}

// XEP-0030 §8 (Security Considerations): disco#info to an account's bare
// JID MUST be service-unavailable unless the requester may see the
// account's presence (a subscription "from" or "both" in its roster), with
// or without a node; the owner may always.
func TestDiscoInfoNeedsPresenceSubscription(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	if cond, el := discoAsk(t, alice, "info-self", "alice@localhost", nsDiscoInfo, ""); cond != "result" || el.Child(nsDiscoInfo, "query").Child(nsDiscoInfo, "identity").Attr("category") != "account" {
		t.Fatalf("disco#info to the own bare JID: %s", el)
	}
	for _, node := range []string{"", "some-node"} {
		if cond, el := discoAsk(t, alice, "info-bob"+node, "bob@localhost", nsDiscoInfo, node); cond != "service-unavailable" {
			t.Fatalf("disco#info to an account whose presence alice may not see (node %q): %s", node, el)
		}
	}

	// Once bob lets alice see his presence, she may see his account.
	bob := login(t, s, "bob", "laptop")
	bob.Send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	bob.Expect(func(e *xml.Element) bool { return e.Attr("id") == "r1" })
	bob.Send(`<presence/>`)
	alice.Send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	alice.Expect(func(e *xml.Element) bool { return e.Attr("id") == "r1" })
	alice.Send(`<presence to='bob@localhost' type='subscribe'/>`)
	bob.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("type") == "subscribe" })
	bob.Send(`<presence to='alice@localhost' type='subscribed'/>`)
	alice.Expect(func(e *xml.Element) bool {
		q := e.Child("jabber:iq:roster", "query")
		return e.Attr("type") == "set" && q != nil && q.Child("jabber:iq:roster", "item").Attr("subscription") == "to"
	})
	if cond, el := discoAsk(t, alice, "info-bob-subscribed", "bob@localhost", nsDiscoInfo, ""); cond != "result" || el.Child(nsDiscoInfo, "query").Child(nsDiscoInfo, "identity").Attr("category") != "account" {
		t.Fatalf("disco#info to an account alice is subscribed to: %s", el)
	}
	// bob has no subscription to alice's presence: still refused.
	if cond, el := discoAsk(t, bob, "info-alice", "alice@localhost", nsDiscoInfo, ""); cond != "service-unavailable" {
		t.Fatalf("disco#info to an account bob may not see: %s", el)
	}
}
