package presence_test

import (
	"context"
	"testing"

	"github.com/skald-xmpp/skald/presence"
	"github.com/skald-xmpp/skald/roster"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// afterItemRead is a roster store that runs a function once, right after
// it has read one given item.
type afterItemRead struct {
	storage.Rosters
	owner, contact string
	then           func()
}

func (h *afterItemRead) RosterItem(ctx context.Context, owner, contact string) (storage.RosterItem, error) {
	it, err := h.Rosters.RosterItem(ctx, owner, contact)
	if f := h.then; f != nil && owner == h.owner && contact == h.contact {
		h.then = nil
		f()
	}
	return it, err
}

// TestProbeAnswerSparesNewSubscription: a's stale 'to' on b is refused by
// b's roster when a@x/1 sends initial presence; before the refusal is
// applied, b cancels, a@x/2 asks again and b approves. The refusal must
// not cancel that new, valid subscription (it left a at none and b at
// from for good).
func TestProbeAnswerSparesNewSubscription(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	for _, u := range []string{"a@x", "b@x"} {
		if err := st.CreateUser(ctx, u, storage.Credentials{}); err != nil {
			t.Fatal(err)
		}
	}
	h := &afterItemRead{Rosters: st}
	r := router.New(router.Config{Domains: []string{"x"}, Users: st})
	rost := roster.New(roster.DefaultConfig(), h, r)
	avail := &availObserver{}
	r.Register(rost, presence.New(r, rost), avail)
	e := &env{t: t, ctx: ctx, store: st, r: r, rost: rost, avail: avail, conns: map[string]*conn{}}
	e.put("a@x", storage.RosterItem{JID: "b@x", Subscription: storage.SubTo})
	e.put("b@x", storage.RosterItem{JID: "a@x", Subscription: storage.SubFrom})
	e.online("b@x/1")
	e.online("a@x/2")
	e.bind("a@x/1")
	e.drain()
	e.put("b@x", storage.RosterItem{JID: "a@x", Subscription: storage.SubNone}) // b's half of its unsubscribed
	h.owner, h.contact = "b@x", "a@x"
	h.then = func() {
		e.send("b@x/1", `<presence to="a@x" type="unsubscribed"/>`)
		e.send("a@x/2", `<presence to="b@x" type="subscribe"/>`)
		e.send("b@x/1", `<presence to="a@x" type="subscribed"/>`)
		if a, b := stateOf(e.item("a@x", "b@x")), stateOf(e.item("b@x", "a@x")); a != "to" || b != "from" {
			t.Fatalf("setup: a's item %s, b's %s", a, b)
		}
	}
	e.send("a@x/1", `<presence/>`)
	if a, b := stateOf(e.item("a@x", "b@x")), stateOf(e.item("b@x", "a@x")); a != "to" || b != "from" {
		t.Errorf("a's item %s, b's %s; want to, from (a valid subscription was cancelled)", a, b)
	}
}
