package pep

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
)

// TestAffiliationsAndSubscriptions covers XEP-0060 §5.6, §5.7, §8.8.1 and
// §8.9: the owner owns its nodes, nobody else has an affiliation, PEP has
// no explicit subscriptions, and affiliations cannot be changed.
func TestAffiliationsAndSubscriptions(t *testing.T) {
	e := setup(t)
	home, homeRec := e.Bind(romeo+"/home", true, 0)
	jul, julRec := e.Bind(juliet+"/balcony", true, 0)
	e.Send(home, publishTune("t1", "Yesterday"))
	e.Send(home, `<iq type="set" id="c"><pubsub xmlns="http://jabber.org/protocol/pubsub"><create node="blog"/></pubsub></iq>`)
	homeRec.Take()
	const owner = `<iq type="get" id="a1"><pubsub xmlns="http://jabber.org/protocol/pubsub"><affiliations/></pubsub></iq>`
	e.Send(home, owner)
	routertest.Expect(t, homeRec, `<iq xmlns="jabber:client" type="result" id="a1" to="romeo@example.org/home"><pubsub xmlns="http://jabber.org/protocol/pubsub"><affiliations><affiliation node="blog" affiliation="owner"/><affiliation node="http://jabber.org/protocol/tune" affiliation="owner"/></affiliations></pubsub></iq>`)
	e.Send(home, `<iq type="get" id="a2"><pubsub xmlns="http://jabber.org/protocol/pubsub"><affiliations node="blog"/></pubsub></iq>`)
	routertest.Expect(t, homeRec, `<iq xmlns="jabber:client" type="result" id="a2" to="romeo@example.org/home"><pubsub xmlns="http://jabber.org/protocol/pubsub"><affiliations><affiliation node="blog" affiliation="owner"/></affiliations></pubsub></iq>`)
	e.Send(jul, `<iq type="get" id="a3" to="romeo@example.org"><pubsub xmlns="http://jabber.org/protocol/pubsub"><affiliations/></pubsub></iq>`)
	routertest.Expect(t, julRec, `<iq xmlns="jabber:client" type="result" id="a3" from="romeo@example.org" to="juliet@example.org/balcony"><pubsub xmlns="http://jabber.org/protocol/pubsub"><affiliations/></pubsub></iq>`)
	e.Send(jul, `<iq type="get" id="s1" to="romeo@example.org"><pubsub xmlns="http://jabber.org/protocol/pubsub"><subscriptions/></pubsub></iq>`)
	routertest.Expect(t, julRec, `<iq xmlns="jabber:client" type="result" id="s1" from="romeo@example.org" to="juliet@example.org/balcony"><pubsub xmlns="http://jabber.org/protocol/pubsub"><subscriptions/></pubsub></iq>`)

	e.Send(home, `<iq type="get" id="o1"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><affiliations node="blog"/></pubsub></iq>`)
	routertest.Expect(t, homeRec, `<iq xmlns="jabber:client" type="result" id="o1" to="romeo@example.org/home"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><affiliations node="blog"><affiliation jid="romeo@example.org" affiliation="owner"/></affiliations></pubsub></iq>`)
	e.Send(home, `<iq type="get" id="o2"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><subscriptions node="blog"/></pubsub></iq>`)
	routertest.Expect(t, homeRec, `<iq xmlns="jabber:client" type="result" id="o2" to="romeo@example.org/home"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><subscriptions node="blog"/></pubsub></iq>`)
	e.Send(home, `<iq type="set" id="o3"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><affiliations node="blog"><affiliation jid="juliet@example.org" affiliation="member"/></affiliations></pubsub></iq>`)
	routertest.Expect(t, homeRec, `<iq xmlns="jabber:client" id="o3" to="romeo@example.org/home" type="error"><error type="cancel"><feature-not-implemented xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><unsupported xmlns="http://jabber.org/protocol/pubsub#errors" feature="modify-affiliations"/></error></iq>`)
	e.Send(jul, `<iq type="get" id="o4" to="romeo@example.org"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><affiliations node="blog"/></pubsub></iq>`)
	routertest.Expect(t, julRec, errorReply(juliet+"/balcony", romeo, "o4", "auth", "forbidden", ""))
}

// TestPurge covers XEP-0060 §8.5: every item goes, the node stays, and
// those notified of the node learn of it.
func TestPurge(t *testing.T) {
	e := setup(t)
	home, homeRec := e.withCaps(romeo+"/home", tune+"+notify")
	_, balconyRec := e.withCaps(juliet+"/balcony", tune+"+notify")
	e.Send(home, publishTune("t1", "Yesterday"))
	e.take(homeRec)
	e.take(balconyRec)
	e.Send(home, `<iq type="set" id="p1"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><purge node="http://jabber.org/protocol/tune"/></pubsub></iq>`)
	purged := func(to string) string {
		return `<message xmlns="jabber:client" from="romeo@example.org" to="` + to + `" type="headline" id="*"><event xmlns="http://jabber.org/protocol/pubsub#event"><purge node="http://jabber.org/protocol/tune"/></event></message>`
	}
	e.expect(t, "owner", homeRec, purged(romeo+"/home"), result(romeo+"/home", "p1"))
	e.expect(t, "subscriber", balconyRec, purged(juliet+"/balcony"))
	items, err := e.Store.PEPItems(t.Context(), romeo, tune, nil, 0)
	if err != nil || len(items) != 0 {
		t.Errorf("items after purge: %v, %v", items, err)
	}
	e.Send(home, `<iq type="set" id="p2"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><purge node="nope"/></pubsub></iq>`)
	e.expect(t, "missing node", homeRec, errorReply(romeo+"/home", "", "p2", "cancel", "item-not-found", ""))
}
