package pep

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
)

const avatarMeta = `<metadata xmlns="urn:xmpp:avatar:metadata"><info bytes="12345" id="111f4b3c50d7b0df729d299bc6f8e9ef9066971f" type="image/png"/></metadata>`

// TestPublishAndRetrieve: publish auto-creates the node (§7.1.4), echoes
// the item id or makes one (§7.1.2), and retrieval gives the newest items
// in publish order (§6.5).
func TestPublishAndRetrieve(t *testing.T) {
	e := setup(t)
	s, rec := e.Bind(romeo+"/home", true, 0)
	e.Send(s, `<iq type="set" id="p1"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="urn:xmpp:avatar:metadata"><item id="111f">`+avatarMeta+`</item></publish></pubsub></iq>`)
	e.expect(t, "publish", rec,
		`<iq xmlns="jabber:client" type="result" id="p1" to="romeo@example.org/home"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="urn:xmpp:avatar:metadata"><item id="111f"/></publish></pubsub></iq>`)
	e.Send(s, `<iq type="set" id="p2"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="urn:xmpp:avatar:metadata"><item><x xmlns="urn:example">2</x></item></publish></pubsub></iq>`)
	e.expect(t, "publish without id", rec,
		`<iq xmlns="jabber:client" type="result" id="p2" to="romeo@example.org/home"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="urn:xmpp:avatar:metadata"><item id="*"/></publish></pubsub></iq>`)
	// The default node keeps one item: the second publish replaced the first.
	e.Send(s, `<iq type="get" id="g1"><pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="urn:xmpp:avatar:metadata"/></pubsub></iq>`)
	e.expect(t, "items", rec,
		`<iq xmlns="jabber:client" type="result" id="g1" to="romeo@example.org/home"><pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="urn:xmpp:avatar:metadata"><item id="*"><x xmlns="urn:example">2</x></item></items></pubsub></iq>`)
}

// TestPublishErrors covers XEP-0060 §7.1.3.
func TestPublishErrors(t *testing.T) {
	e := setup(t)
	s, rec := e.Bind(romeo+"/home", true, 0)
	const to = "romeo@example.org/home"
	for _, tc := range []struct {
		name, req, want string
	}{
		{"no node", `<iq type="set" id="e1"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish><item><x xmlns="urn:x"/></item></publish></pubsub></iq>`,
			errorReply(to, "", "e1", "modify", "bad-request", "nodeid-required")},
		{"no item", `<iq type="set" id="e2"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="n"/></pubsub></iq>`,
			errorReply(to, "", "e2", "modify", "bad-request", "item-required")},
		{"no payload", `<iq type="set" id="e3"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="n"><item id="1"/></publish></pubsub></iq>`,
			errorReply(to, "", "e3", "modify", "bad-request", "payload-required")},
		{"two payloads", `<iq type="set" id="e4"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="n"><item id="1"><a xmlns="urn:x"/><b xmlns="urn:x"/></item></publish></pubsub></iq>`,
			errorReply(to, "", "e4", "modify", "bad-request", "invalid-payload")},
		{"two items", `<iq type="set" id="e5"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="n"><item id="1"><a xmlns="urn:x"/></item><item id="2"><a xmlns="urn:x"/></item></publish></pubsub></iq>`,
			errorReply(to, "", "e5", "modify", "bad-request", "invalid-payload")},
		{"another account's service", `<iq type="set" id="e6" to="juliet@example.org"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="n"><item id="1"><a xmlns="urn:x"/></item></publish></pubsub></iq>`,
			errorReply(to, "juliet@example.org", "e6", "auth", "forbidden", "")},
		{"subscribe", `<iq type="set" id="e7"><pubsub xmlns="http://jabber.org/protocol/pubsub"><subscribe node="n" jid="romeo@example.org"/></pubsub></iq>`,
			`<iq xmlns="jabber:client" id="e7" to="romeo@example.org/home" type="error"><error type="cancel"><feature-not-implemented xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><unsupported xmlns="http://jabber.org/protocol/pubsub#errors" feature="subscribe"/></error></iq>`},
		{"unknown request", `<iq type="set" id="e8"><pubsub xmlns="http://jabber.org/protocol/pubsub"><frobnicate node="n"/></pubsub></iq>`,
			errorReply(to, "", "e8", "cancel", "feature-not-implemented", "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.Send(s, tc.req)
			routertest.Expect(t, rec, tc.want)
		})
	}
	if nodes, _ := e.Store.PEPNodes(t.Context(), romeo); len(nodes) != 0 {
		t.Errorf("a refused publish created nodes: %+v", nodes)
	}
}
