package blocking

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/storage"
)

const (
	romeo  = "romeo@example.org"
	juliet = "juliet@example.org"
)

// countingStore counts blocklist reads.
type countingStore struct {
	storage.Blocking
	reads atomic.Int64
}

func (c *countingStore) Blocklist(ctx context.Context, owner string) ([]string, error) {
	c.reads.Add(1)
	return c.Blocking.Blocklist(ctx, owner)
}

func setup(t *testing.T) (*routertest.Env, *Module, *countingStore) {
	e := routertest.New(t, romeo, juliet)
	cs := &countingStore{Blocking: e.Store}
	m := New(cs, e.Router, nil)
	e.Router.Register(m)
	return e, m, cs
}

func TestBlocklistPushes(t *testing.T) {
	e, _, _ := setup(t)
	home, homeRec := e.Bind(romeo+"/home", true, 0)
	work, workRec := e.Bind(romeo+"/work", true, 0)
	_, gardenRec := e.Bind(romeo+"/garden", true, 0)

	e.Send(home, `<iq type="get" id="g1"><blocklist xmlns="urn:xmpp:blocking"/></iq>`)
	routertest.Expect(t, homeRec,
		`<iq xmlns="jabber:client" type="result" id="g1" to="romeo@example.org/home"><blocklist xmlns="urn:xmpp:blocking"/></iq>`)
	e.Send(work, `<iq type="get" id="g2" to="romeo@example.org"><blocklist xmlns="urn:xmpp:blocking"/></iq>`)
	routertest.Expect(t, workRec,
		`<iq xmlns="jabber:client" type="result" id="g2" to="romeo@example.org/work"><blocklist xmlns="urn:xmpp:blocking"/></iq>`)

	// Pushes go to every resource that requested the list, the sender
	// included, and to no other (garden never asked).
	e.Send(work, `<iq type="set" id="b1"><block xmlns="urn:xmpp:blocking"><item jid="Tybalt@Example.org"/><item jid="evil.example"/><item jid="evil.example"/></block></iq>`)
	routertest.Expect(t, workRec,
		`<iq xmlns="jabber:client" type="set" id="block-push2" to="romeo@example.org/work"><block xmlns="urn:xmpp:blocking"><item jid="tybalt@example.org"/><item jid="evil.example"/></block></iq>`,
		`<iq xmlns="jabber:client" type="result" id="b1" to="romeo@example.org/work"/>`)
	routertest.Expect(t, homeRec,
		`<iq xmlns="jabber:client" type="set" id="block-push1" to="romeo@example.org/home"><block xmlns="urn:xmpp:blocking"><item jid="tybalt@example.org"/><item jid="evil.example"/></block></iq>`)
	routertest.Expect(t, gardenRec)

	e.Send(home, `<iq type="get" id="g3"><blocklist xmlns="urn:xmpp:blocking"/></iq>`)
	routertest.Expect(t, homeRec,
		`<iq xmlns="jabber:client" type="result" id="g3" to="romeo@example.org/home"><blocklist xmlns="urn:xmpp:blocking"><item jid="evil.example"/><item jid="tybalt@example.org"/></blocklist></iq>`)

	e.Send(home, `<iq type="set" id="u1"><unblock xmlns="urn:xmpp:blocking"><item jid="evil.example"/></unblock></iq>`)
	routertest.Expect(t, homeRec,
		`<iq xmlns="jabber:client" type="set" id="block-push3" to="romeo@example.org/home"><unblock xmlns="urn:xmpp:blocking"><item jid="evil.example"/></unblock></iq>`,
		`<iq xmlns="jabber:client" type="result" id="u1" to="romeo@example.org/home"/>`)
	routertest.Expect(t, workRec,
		`<iq xmlns="jabber:client" type="set" id="block-push4" to="romeo@example.org/work"><unblock xmlns="urn:xmpp:blocking"><item jid="evil.example"/></unblock></iq>`)

	if l, _ := e.Store.Blocklist(context.Background(), romeo); len(l) != 1 || l[0] != "tybalt@example.org" {
		t.Errorf("stored list %q", l)
	}

	// Unblock all: an empty <unblock/> pushed.
	e.Send(home, `<iq type="set" id="u2"><unblock xmlns="urn:xmpp:blocking"/></iq>`)
	routertest.Expect(t, homeRec,
		`<iq xmlns="jabber:client" type="set" id="block-push5" to="romeo@example.org/home"><unblock xmlns="urn:xmpp:blocking"/></iq>`,
		`<iq xmlns="jabber:client" type="result" id="u2" to="romeo@example.org/home"/>`)
	routertest.Expect(t, workRec,
		`<iq xmlns="jabber:client" type="set" id="block-push6" to="romeo@example.org/work"><unblock xmlns="urn:xmpp:blocking"/></iq>`)
	routertest.Expect(t, gardenRec)
	if l, _ := e.Store.Blocklist(context.Background(), romeo); len(l) != 0 {
		t.Errorf("stored list after unblock all %q", l)
	}
}

func TestErrors(t *testing.T) {
	e, _, _ := setup(t)
	home, rec := e.Bind(romeo+"/home", true, 0)
	tests := []struct{ name, in, want string }{
		{"block without items", `<iq type="set" id="1"><block xmlns="urn:xmpp:blocking"/></iq>`,
			`<iq xmlns="jabber:client" id="1" to="romeo@example.org/home" type="error"><error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">block without items</text></error></iq>`},
		{"invalid jid", `<iq type="set" id="2"><block xmlns="urn:xmpp:blocking"><item jid="ok@example.org"/><item jid="a@b@c"/></block></iq>`,
			`<iq xmlns="jabber:client" id="2" to="romeo@example.org/home" type="error"><error type="modify"><jid-malformed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`},
		{"missing jid", `<iq type="set" id="3"><unblock xmlns="urn:xmpp:blocking"><item/></unblock></iq>`,
			`<iq xmlns="jabber:client" id="3" to="romeo@example.org/home" type="error"><error type="modify"><jid-malformed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`},
		{"another account's list", `<iq type="get" id="4" to="juliet@example.org"><blocklist xmlns="urn:xmpp:blocking"/></iq>`,
			`<iq xmlns="jabber:client" id="4" from="juliet@example.org" to="romeo@example.org/home" type="error"><error type="auth"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`},
		{"block another account's", `<iq type="set" id="5" to="juliet@example.org"><block xmlns="urn:xmpp:blocking"><item jid="x@y"/></block></iq>`,
			`<iq xmlns="jabber:client" id="5" from="juliet@example.org" to="romeo@example.org/home" type="error"><error type="auth"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.Send(home, tc.in)
			routertest.Expect(t, rec, tc.want)
		})
	}
	for _, u := range []string{romeo, juliet} {
		if l, _ := e.Store.Blocklist(context.Background(), u); len(l) != 0 {
			t.Errorf("%s's list after refused commands: %q", u, l)
		}
	}
}

func TestMatching(t *testing.T) {
	set := map[string]bool{
		"juliet@example.org/balcony": true,
		"tybalt@example.org":         true,
		"example.net/bot":            true,
		"evil.example":               true,
	}
	tests := []struct {
		peer string
		want bool
	}{
		{"juliet@example.org/balcony", true},
		{"juliet@example.org/chamber", false},
		{"juliet@example.org", false},
		{"tybalt@example.org", true},
		{"tybalt@example.org/sword", true},
		{"example.net/bot", true},
		{"anyone@example.net/bot", true},
		{"example.net", false},
		{"anyone@example.net/other", false},
		{"evil.example", true},
		{"x@evil.example/r", true},
		{"evil.example/r", true},
		{"x@muc.evil.example", true},
		{"notevil.example", false},
		{"romeo@example.org", false},
	}
	for _, tc := range tests {
		if got := matches(set, jid.MustParse(tc.peer)); got != tc.want {
			t.Errorf("matches(%s) = %v, want %v", tc.peer, got, tc.want)
		}
	}
	if matches(nil, jid.MustParse("a@b")) {
		t.Error("empty set matches")
	}
}

// TestCache checks that the list is read from storage once per account,
// however many checks follow, and that changes show at once.
func TestCache(t *testing.T) {
	e, m, cs := setup(t)
	ctx := context.Background()
	tybalt := jid.MustParse("tybalt@example.org/sword")
	for range 100 {
		if b, err := m.Blocks(ctx, juliet, tybalt); err != nil || b {
			t.Fatalf("Blocks = %v, %v", b, err)
		}
	}
	if n := cs.reads.Load(); n != 1 {
		t.Errorf("%d storage reads for 100 checks", n)
	}
	home, rec := e.Bind(juliet+"/home", true, 0)
	e.Send(home, `<iq type="set" id="b"><block xmlns="urn:xmpp:blocking"><item jid="tybalt@example.org"/></block></iq>`)
	rec.Take()
	if b, _ := m.Blocks(ctx, juliet, tybalt); !b {
		t.Error("block not seen by Blocks")
	}
	e.Send(home, `<iq type="set" id="u"><unblock xmlns="urn:xmpp:blocking"/></iq>`)
	rec.Take()
	if b, _ := m.Blocks(ctx, juliet, tybalt); b {
		t.Error("unblock not seen by Blocks")
	}
	if n := cs.reads.Load(); n != 1 {
		t.Errorf("%d storage reads", n)
	}
}

func TestDiscoFeatures(t *testing.T) {
	_, m, _ := setup(t)
	server, account := m.DiscoFeatures()
	if len(server) != 1 || server[0] != NS || len(account) != 1 || account[0] != NS {
		t.Errorf("features %q %q", server, account)
	}
}

func TestMaxItems(t *testing.T) {
	e, _, _ := setup(t)
	home, rec := e.Bind(romeo+"/home", true, 0)
	items := ""
	for i := range MaxItems {
		items += fmt.Sprintf(`<item jid="u%d@example.net"/>`, i)
	}
	e.Send(home, `<iq type="set" id="1"><block xmlns="urn:xmpp:blocking">`+items+`</block></iq>`)
	routertest.Expect(t, rec, `<iq xmlns="jabber:client" type="result" id="1" to="romeo@example.org/home"/>`)
	// Already blocked: no growth, accepted.
	e.Send(home, `<iq type="set" id="2"><block xmlns="urn:xmpp:blocking"><item jid="u0@example.net"/></block></iq>`)
	routertest.Expect(t, rec, `<iq xmlns="jabber:client" type="result" id="2" to="romeo@example.org/home"/>`)
	e.Send(home, `<iq type="set" id="3"><block xmlns="urn:xmpp:blocking"><item jid="one@too.many"/></block></iq>`)
	routertest.Expect(t, rec, `<iq xmlns="jabber:client" id="3" to="romeo@example.org/home" type="error"><error type="modify"><policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">blocklist full</text></error></iq>`)
	if l, _ := e.Store.Blocklist(context.Background(), romeo); len(l) != MaxItems {
		t.Errorf("stored %d items", len(l))
	}
}
