package pep

import (
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
)

// TestCapsQuery covers XEP-0115 §6.3 on the server side: an unknown ver
// is asked for with disco#info on node#ver from the server; an answer
// whose hash does not match is not used (§5.4); a verified ver is cached
// and not asked for again.
func TestCapsQuery(t *testing.T) {
	e := setup(t)
	home, homeRec := e.Bind(romeo+"/home", true, 0)
	e.Send(home, publishTune("t1", "Yesterday"))
	homeRec.Take()

	s, rec := e.Bind(juliet+"/balcony", true, 0)
	ver := verOf(tune + "+notify")
	e.Send(s, `<presence><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="https://client.example" ver="`+ver+`"/></presence>`)
	out := rec.Take()
	if len(out) != 1 {
		t.Fatalf("sent %q", out)
	}
	q := routertest.Parse(t, out[0])
	id := q.Attr("id")
	routertest.Equal(t, "query", out,
		`<iq xmlns="jabber:client" type="get" id="`+id+`" from="example.org" to="juliet@example.org/balcony"><query xmlns="http://jabber.org/protocol/disco#info" node="https://client.example#`+ver+`"/></iq>`)
	// An answer that does not hash to ver (a feature more) is not used.
	e.Send(s, `<iq type="result" to="example.org" id="`+id+`"><query xmlns="http://jabber.org/protocol/disco#info"><identity category="client" type="pc"/><feature var="`+tune+`+notify"/><feature var="urn:x+notify"/></query></iq>`)
	e.expect(t, "after a forged answer", rec)
	e.Send(home, publishTune("t2", "Help"))
	homeRec.Take()
	e.expect(t, "no notification on an unverified ver", rec)

	// Another resource shows the ver again: asked again (not cached), and
	// answered correctly this time.
	_, bedRec := e.withCaps(juliet+"/bed", tune+"+notify")
	e.expect(t, "verified", bedRec, tuneEvent(juliet+"/bed", "t2", "Help"))
	// Now cached: a third resource is not asked.
	third, thirdRec := e.Bind(juliet+"/third", true, 0)
	e.Send(third, `<presence><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="https://client.example" ver="`+ver+`"/></presence>`)
	e.expect(t, "cached", thirdRec, tuneEvent(juliet+"/third", "t2", "Help"))
	// An error answer is no caps either.
	other, otherRec := e.Bind(juliet+"/other", true, 0)
	e.Send(other, `<presence><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="n" ver="unknownver"/></presence>`)
	qid := routertest.Parse(t, otherRec.Take()[0]).Attr("id")
	e.Send(other, `<iq type="error" to="example.org" id="`+qid+`"><error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)
	e.Send(home, publishTune("t3", "Michelle"))
	homeRec.Take()
	e.expect(t, "error answer", otherRec)
	e.expect(t, "verified resource notified", bedRec, tuneEvent(juliet+"/bed", "t3", "Michelle"))
}

// TestLegacyCaps: a client without a hash (legacy XEP-0115) is asked
// too, and the answer serves that session only.
func TestLegacyCaps(t *testing.T) {
	e := setup(t)
	home, homeRec := e.Bind(romeo+"/home", true, 0)
	s, rec := e.Bind(juliet+"/old", true, 0)
	e.Send(s, `<presence><c xmlns="http://jabber.org/protocol/caps" node="http://old.example/caps" ver="1.0"/></presence>`)
	qid := routertest.Parse(t, rec.Take()[0]).Attr("id")
	e.Send(s, `<iq type="result" to="example.org" id="`+qid+`"><query xmlns="http://jabber.org/protocol/disco#info" node="http://old.example/caps#1.0"><feature var="`+tune+`+notify"/></query></iq>`)
	e.Send(home, publishTune("t1", "Yesterday"))
	homeRec.Take()
	e.expect(t, "legacy client", rec, tuneEvent(juliet+"/old", "t1", "Yesterday"))
}

// TestCapsAskNextOnFailure: sessions showing the same unknown ver are
// asked one at a time; when the first fails to answer properly the next
// is asked, and a verified answer serves all of them.
func TestCapsAskNextOnFailure(t *testing.T) {
	e := setup(t)
	home, homeRec := e.Bind(romeo+"/home", true, 0)
	ver := verOf(tune + "+notify")
	presence := `<presence><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="https://client.example" ver="` + ver + `"/></presence>`
	first, firstRec := e.Bind(juliet+"/first", true, 0)
	second, secondRec := e.Bind(juliet+"/second", true, 0)
	e.Send(first, presence)
	e.Send(second, presence)
	q1 := firstRec.Take()
	if len(q1) != 1 || len(secondRec.Take()) != 0 {
		t.Fatalf("first asked %q; the second must wait", q1)
	}
	e.Send(first, `<iq type="error" to="example.org" id="`+routertest.Parse(t, q1[0]).Attr("id")+`"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)
	q2 := secondRec.Take()
	if len(q2) != 1 {
		t.Fatalf("second not asked after the first failed: %q", q2)
	}
	e.Send(second, `<iq type="result" to="example.org" id="`+routertest.Parse(t, q2[0]).Attr("id")+`"><query xmlns="http://jabber.org/protocol/disco#info"><identity category="client" type="pc"/><feature var="`+tune+`+notify"/></query></iq>`)
	e.Send(home, publishTune("t1", "Yesterday"))
	homeRec.Take()
	e.expect(t, "first", firstRec, tuneEvent(juliet+"/first", "t1", "Yesterday"))
	e.expect(t, "second", secondRec, tuneEvent(juliet+"/second", "t1", "Yesterday"))
}

// TestOneCapsQueryPerSession: a client that changes its ver while the
// server waits for its answer is not asked again until it answers; then
// the server asks about the ver it shows by now (and not about those in
// between).
func TestOneCapsQueryPerSession(t *testing.T) {
	e := setup(t)
	home, homeRec := e.Bind(romeo+"/home", true, 0)
	s, rec := e.Bind(juliet+"/balcony", true, 0)
	caps := func(ver string) string {
		return `<presence><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="https://client.example" ver="` + ver + `"/></presence>`
	}
	newest := verOf(tune + "+notify")
	e.Send(s, caps("v1"))
	e.Send(s, caps("v2"))
	e.Send(s, caps(newest))
	out := rec.Take()
	if len(out) != 1 || !strings.Contains(out[0], `node="https://client.example#v1"`) {
		t.Fatalf("queries while the first is out: %q", out)
	}
	e.Send(s, `<iq type="result" to="example.org" id="`+routertest.Parse(t, out[0]).Attr("id")+`"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`)
	out = rec.Take()
	if len(out) != 1 || !strings.Contains(out[0], `node="https://client.example#`+newest+`"`) {
		t.Fatalf("after the answer, asked %q; want the newest ver", out)
	}
	e.Send(s, `<iq type="result" to="example.org" id="`+routertest.Parse(t, out[0]).Attr("id")+`"><query xmlns="http://jabber.org/protocol/disco#info"><identity category="client" type="pc"/><feature var="`+tune+`+notify"/></query></iq>`)
	e.Send(home, publishTune("t1", "Yesterday"))
	homeRec.Take()
	e.expect(t, "notified on the newest caps", rec, tuneEvent(juliet+"/balcony", "t1", "Yesterday"))
}
