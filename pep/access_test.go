package pep

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
)

// TestAccessModels covers XEP-0060 §4.5 and the retrieval errors of
// §6.5.9 for each access model, from the owner, a presence subscriber
// (juliet) and a stranger (mercutio).
func TestAccessModels(t *testing.T) {
	e := setup(t)
	owner, ownerRec := e.Bind(romeo+"/home", true, 0)
	jul, julRec := e.Bind(juliet+"/balcony", true, 0)
	mer, merRec := e.Bind(mercutio+"/street", true, 0)
	for _, model := range []string{"presence", "open", "whitelist"} {
		e.Send(owner, publishWithOptions("node-"+model, "p-"+model, [2]string{"pubsub#access_model", model}))
		ownerRec.Take()
	}
	items := func(node string) string {
		return `<iq type="get" id="g" to="romeo@example.org"><pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="` + node + `"/></pubsub></iq>`
	}
	found := func(to, node string) string {
		return `<iq xmlns="jabber:client" type="result" id="g" from="romeo@example.org" to="` + to + `"><pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="` + node + `"><item id="current"><x xmlns="urn:x"/></item></items></pubsub></iq>`
	}
	const julTo, merTo = juliet + "/balcony", mercutio + "/street"
	for _, tc := range []struct {
		name string
		s    string
		node string
		want string
	}{
		{"subscriber, presence", "jul", "node-presence", found(julTo, "node-presence")},
		{"stranger, presence", "mer", "node-presence", errorReply(merTo, romeo, "g", "auth", "not-authorized", "presence-subscription-required")},
		{"stranger, open", "mer", "node-open", found(merTo, "node-open")},
		{"subscriber, whitelist", "jul", "node-whitelist", errorReply(julTo, romeo, "g", "cancel", "not-allowed", "closed-node")},
		{"stranger, no such node", "mer", "nope", errorReply(merTo, romeo, "g", "cancel", "item-not-found", "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.s == "jul" {
				e.Send(jul, items(tc.node))
				routertest.Expect(t, julRec, tc.want)
			} else {
				e.Send(mer, items(tc.node))
				routertest.Expect(t, merRec, tc.want)
			}
		})
	}
	// The owner reads its whitelist node through its bare JID or with no 'to'.
	e.Send(owner, `<iq type="get" id="g"><pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="node-whitelist"/></pubsub></iq>`)
	routertest.Expect(t, ownerRec, `<iq xmlns="jabber:client" type="result" id="g" to="romeo@example.org/home"><pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="node-whitelist"><item id="current"><x xmlns="urn:x"/></item></items></pubsub></iq>`)
}

// TestRetrieveSelection: max_items gives the newest items, item ids pick
// items (§6.5.7, §6.5.8), a bad max_items is a bad-request.
func TestRetrieveSelection(t *testing.T) {
	e := setup(t)
	s, rec := e.Bind(romeo+"/home", true, 0)
	e.Send(s, `<iq type="set" id="c"><pubsub xmlns="http://jabber.org/protocol/pubsub"><create node="blog"/><configure><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/pubsub#node_config</value></field><field var="pubsub#max_items"><value>3</value></field></x></configure></pubsub></iq>`)
	routertest.Expect(t, rec, result(romeo+"/home", "c"))
	for _, id := range []string{"1", "2", "3", "4"} {
		e.Send(s, `<iq type="set" id="p"><pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="blog"><item id="`+id+`"><e xmlns="urn:x">`+id+`</e></item></publish></pubsub></iq>`)
	}
	rec.Take()
	get := func(inner string) string {
		return `<iq type="get" id="g"><pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="blog"` + inner + `</items></pubsub></iq>`
	}
	res := func(ids ...string) string {
		s := `<iq xmlns="jabber:client" type="result" id="g" to="romeo@example.org/home"><pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="blog">`
		for _, id := range ids {
			s += `<item id="` + id + `"><e xmlns="urn:x">` + id + `</e></item>`
		}
		return s + `</items></pubsub></iq>`
	}
	e.Send(s, get(`>`))
	routertest.Expect(t, rec, res("2", "3", "4")) // max_items 3 dropped "1"
	e.Send(s, get(` max_items="2">`))
	routertest.Expect(t, rec, res("3", "4"))
	e.Send(s, get(`><item id="2"/><item id="1"/>`))
	routertest.Expect(t, rec, res("2"))
	e.Send(s, get(` max_items="0">`))
	routertest.Expect(t, rec, `<iq xmlns="jabber:client" id="g" to="romeo@example.org/home" type="error"><error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">max_items must be a positive integer</text></error></iq>`)
}
