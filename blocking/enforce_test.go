package blocking

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

const tybalt = "tybalt@example.org"

// after stands for the modules registered after blocking: the archive's
// outbound hook and offline storage. It counts what reaches it.
type after struct {
	archived, stored atomic.Int64
}

func (*after) Name() string { return "after" }

func (a *after) OutboundMessage(context.Context, *router.MessageEvent) error {
	a.archived.Add(1)
	return nil
}

func (a *after) OutboundMessages(_ context.Context, evs []*router.MessageEvent, _ []error) {
	a.archived.Add(int64(len(evs)))
}

func (a *after) StoreOffline(context.Context, *router.MessageEvent) (bool, error) {
	a.stored.Add(1)
	return true, nil
}

func enforceSetup(t *testing.T) (*routertest.Env, *after) {
	e := routertest.New(t, romeo, juliet, tybalt)
	m := New(e.Store, e.Router, nil)
	a := &after{}
	e.Router.Register(m, a)
	return e, a
}

func TestMessages(t *testing.T) {
	e, a := enforceSetup(t)
	bal, balRec := e.Bind(juliet+"/balcony", true, 0)
	sword, swordRec := e.Bind(tybalt+"/sword", true, 0)
	_, romeoRec := e.Bind(romeo+"/home", true, 0)
	e.Send(bal, `<iq type="set" id="b"><block xmlns="urn:xmpp:blocking"><item jid="tybalt@example.org"/></block></iq>`)
	balRec.Take()

	// The blocked contact's message bounces with service-unavailable,
	// before the archive hook; the user sees nothing.
	e.Send(sword, `<message to="juliet@example.org" id="m1" type="chat"><body>hi</body></message>`)
	routertest.Expect(t, swordRec,
		`<message xmlns="jabber:client" id="m1" from="juliet@example.org" to="tybalt@example.org/sword" type="error"><body>hi</body><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`)
	routertest.Expect(t, balRec)
	// An error from the blocked contact is dropped without an answer.
	e.Send(sword, `<message to="juliet@example.org/balcony" id="m2" type="error"><error type="cancel"><gone xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`)
	routertest.Expect(t, swordRec)
	routertest.Expect(t, balRec)

	// The user's own message to the blocked contact: not-acceptable with
	// <blocked/>, nothing reaches the contact.
	e.Send(bal, `<message to="tybalt@example.org/sword" id="m3" type="chat"><body>go away</body></message>`)
	routertest.Expect(t, balRec,
		`<message xmlns="jabber:client" id="m3" from="tybalt@example.org/sword" to="juliet@example.org/balcony" type="error"><body>go away</body><error type="cancel"><not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><blocked xmlns="urn:xmpp:blocking:errors"/></error></message>`)
	routertest.Expect(t, swordRec)
	if n := a.archived.Load(); n != 0 {
		t.Errorf("%d blocked messages reached the archive hook", n)
	}

	// Unrelated traffic flows, and offline storage is never reached for
	// a blocked sender.
	e.Send(sword, `<message to="romeo@example.org" id="m4" type="chat"><body>hello romeo</body></message>`)
	if got := romeoRec.Take(); len(got) != 1 {
		t.Errorf("romeo got %q", got)
	}
	e.Router.Unbind(context.Background(), bal)
	e.Send(sword, `<message to="juliet@example.org" id="m5" type="chat"><body>offline</body></message>`)
	if got := swordRec.Take(); len(got) != 1 {
		t.Errorf("no bounce for a message to the offline blocking user: %q", got)
	}
	if n := a.stored.Load(); n != 0 {
		t.Errorf("%d blocked messages stored offline", n)
	}

	// Unblocked, the contact gets through.
	bal, balRec = e.Bind(juliet+"/balcony", true, 0)
	e.Send(bal, `<iq type="set" id="u"><unblock xmlns="urn:xmpp:blocking"/></iq>`)
	balRec.Take()
	e.Send(sword, `<message to="juliet@example.org" id="m6" type="chat"><body>truce</body></message>`)
	routertest.Expect(t, balRec, `<message xmlns="jabber:client" to="juliet@example.org" id="m6" type="chat" from="tybalt@example.org/sword"><body>truce</body></message>`)
	routertest.Expect(t, swordRec)
}

func TestIQs(t *testing.T) {
	e, _ := enforceSetup(t)
	e.Router.HandleIQ("get", "urn:example:x", "q", router.ToAccount, router.IQHandlerFunc(
		func(_ context.Context, iq *router.IQ) (*xml.Element, error) { return stanza.Result(iq.Stanza), nil }))
	bal, balRec := e.Bind(juliet+"/balcony", true, 0)
	sword, swordRec := e.Bind(tybalt+"/sword", true, 0)
	e.Send(bal, `<iq type="set" id="b"><block xmlns="urn:xmpp:blocking"><item jid="tybalt@example.org"/></block></iq>`)
	balRec.Take()

	unavailable := func(id, from string) string {
		return `<iq xmlns="jabber:client" id="` + id + `" from="` + from + `" to="tybalt@example.org/sword" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`
	}
	e.Send(sword, `<iq type="get" id="i1" to="juliet@example.org/balcony"><q xmlns="urn:example:x"/></iq>`)
	routertest.Expect(t, swordRec, unavailable("i1", "juliet@example.org/balcony"))
	e.Send(sword, `<iq type="set" id="i2" to="juliet@example.org"><q xmlns="urn:example:x"/></iq>`)
	routertest.Expect(t, swordRec, unavailable("i2", "juliet@example.org"))
	e.Send(sword, `<iq type="get" id="i3" to="juliet@example.org"><q xmlns="urn:example:x"/></iq>`)
	routertest.Expect(t, swordRec, unavailable("i3", "juliet@example.org"))
	e.Send(sword, `<iq type="result" id="i4" to="juliet@example.org/balcony"/>`)
	routertest.Expect(t, swordRec)
	routertest.Expect(t, balRec)

	e.Send(bal, `<iq type="get" id="o1" to="tybalt@example.org/sword"><q xmlns="urn:example:x"/></iq>`)
	routertest.Expect(t, balRec,
		`<iq xmlns="jabber:client" id="o1" from="tybalt@example.org/sword" to="juliet@example.org/balcony" type="error"><error type="cancel"><not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><blocked xmlns="urn:xmpp:blocking:errors"/></error></iq>`)
	e.Send(bal, `<iq type="get" id="o2" to="tybalt@example.org"><q xmlns="urn:example:x"/></iq>`)
	routertest.Expect(t, balRec,
		`<iq xmlns="jabber:client" id="o2" from="tybalt@example.org" to="juliet@example.org/balcony" type="error"><error type="cancel"><not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><blocked xmlns="urn:xmpp:blocking:errors"/></error></iq>`)
	e.Send(bal, `<iq type="result" id="o3" to="tybalt@example.org/sword"/>`)
	routertest.Expect(t, balRec)
	routertest.Expect(t, swordRec)

	// The user's own resources are never filtered.
	_, chRec := e.Bind(juliet+"/chamber", true, 0)
	e.Send(bal, `<iq type="get" id="s1" to="juliet@example.org/chamber"><q xmlns="urn:example:x"/></iq>`)
	if got := chRec.Take(); len(got) != 1 {
		t.Errorf("own resource got %q", got)
	}
}

// notifier records what the module asks presence to do.
type notifier struct{ blocked, unblocked []func(jid.JID) bool }

func (n *notifier) Blocked(_ context.Context, _ jid.JID, match func(jid.JID) bool) {
	n.blocked = append(n.blocked, match)
}

func (n *notifier) Unblocked(_ context.Context, _ jid.JID, match func(jid.JID) bool) {
	n.unblocked = append(n.unblocked, match)
}

// TestPresenceNotified: presence hears of what a change newly blocks or
// really unblocks, and of nothing else (§3.3, §3.4).
func TestPresenceNotified(t *testing.T) {
	e := routertest.New(t, juliet)
	m := New(e.Store, e.Router, nil)
	n := &notifier{}
	m.SetPresence(n)
	e.Router.Register(m)
	bal, rec := e.Bind(juliet+"/balcony", true, 0)
	send := func(raw string) { e.Send(bal, raw); rec.Take() }
	tyb := jid.MustParse("tybalt@example.org/sword")
	paris := jid.MustParse("paris@verona.example")

	send(`<iq type="set" id="1"><block xmlns="urn:xmpp:blocking"><item jid="tybalt@example.org"/></block></iq>`)
	send(`<iq type="set" id="2"><block xmlns="urn:xmpp:blocking"><item jid="tybalt@example.org"/></block></iq>`)
	if len(n.blocked) != 1 || !n.blocked[0](tyb) || n.blocked[0](paris) {
		t.Fatalf("block notifications: %d", len(n.blocked))
	}
	send(`<iq type="set" id="3"><block xmlns="urn:xmpp:blocking"><item jid="example.org"/></block></iq>`)
	send(`<iq type="set" id="4"><unblock xmlns="urn:xmpp:blocking"><item jid="tybalt@example.org"/></unblock></iq>`)
	// tybalt is still covered by the domain item: not really unblocked.
	if len(n.unblocked) != 1 || n.unblocked[0](tyb) {
		t.Fatalf("unblock notifications: %d", len(n.unblocked))
	}
	send(`<iq type="set" id="5"><unblock xmlns="urn:xmpp:blocking"/></iq>`)
	if len(n.unblocked) != 2 || !n.unblocked[1](tyb) || n.unblocked[1](paris) {
		t.Fatalf("unblock-all notifications: %d", len(n.unblocked))
	}
	send(`<iq type="set" id="6"><unblock xmlns="urn:xmpp:blocking"/></iq>`)
	if len(n.unblocked) != 2 {
		t.Fatal("unblocking nothing notified presence")
	}
}
