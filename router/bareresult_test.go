package router_test

import (
	"context"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/stanza"
)

// TestResponsesToBareJID: an iq result or error addressed to an
// account's bare JID answers nothing the account's clients asked (they
// send from their full JIDs), so the server handles it on the account's
// behalf (RFC 6121 §8.5.2.1.3: never delivered to its resources) and, a
// response, answers nothing (RFC 6120 §8.2.3) — whether it comes from
// another account's client, the account's own client, or a remote entity
// (router.QueryRemote answers arrive this way).
func TestResponsesToBareJID(t *testing.T) {
	e := routertest.New(t, "juliet@example.org", "romeo@example.org")
	f := &fakeRemote{}
	e.Router.SetRemote(f)
	juliet, julietRec := e.Bind("juliet@example.org/balcony", true, 0)
	romeo, romeoRec := e.Bind("romeo@example.org/home", true, 0)
	for _, typ := range []string{"result", "error"} {
		e.Send(romeo, `<iq type="`+typ+`" id="x1" to="juliet@example.org"/>`)
		e.Send(juliet, `<iq type="`+typ+`" id="x2" to="juliet@example.org"/>`)
		e.Send(juliet, `<iq type="`+typ+`" id="x3"/>`)
		raw := `<iq type="` + typ + `" id="x4" from="push.example" to="juliet@example.org"/>`
		if err := e.Router.HandleFromRemote(context.Background(), "push.example", routertest.Parse(t, raw)); err != nil {
			t.Fatal(err)
		}
	}
	routertest.Expect(t, julietRec)
	routertest.Expect(t, romeoRec)
	routertest.Equal(t, "sent to push.example", f.take())
}

// TestQueryClientAnsweredWithoutTo: a client's answer without 'to' is
// addressed to its account's bare JID (RFC 6120 §8.1.1.1), which the
// server handles: it answers the server's query as one to the domain
// does.
func TestQueryClientAnsweredWithoutTo(t *testing.T) {
	e := routertest.New(t, "romeo@example.org")
	romeo, romeoRec := e.Bind("romeo@example.org/home", true, 0)
	a := newAnswers()
	q := xml.New(stanza.NSClient, "iq", "type", "get").Append(xml.New("urn:xmpp:ping", "ping"))
	if err := e.Router.QueryClient(romeo.JID(), q, time.Minute, a.done); err != nil {
		t.Fatal(err)
	}
	id := sentID(t, romeoRec)
	e.Send(romeo, `<iq type="result" id="`+id+`"/>`)
	routertest.Equal(t, "answers", a.list(), "result from romeo@example.org/home")
	routertest.Expect(t, romeoRec)
}
