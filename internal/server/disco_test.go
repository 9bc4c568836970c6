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
	c.Sendf(`<iq type='get' id='%s' to='%s'><query xmlns='%s'%s/></iq>`, id, to, ns, n)
	el := c.Expect(func(e *xml.Element) bool { return e.Local == "iq" && e.Attr("id") == id })
	if el.Attr("type") == "result" {
		return "result", el
	}
	if e := el.Child("", "error"); e != nil {
		for _, cond := range e.Elements() {
			if cond.Space == nsStanzas && cond.Local != "text" {
				return cond.Local, el
			}
		}
	}
	return el.String(), el
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
