package presence_test

import (
	"context"
	"slices"
	"testing"

	"github.com/skald-xmpp/skald/presence"
	"github.com/skald-xmpp/skald/roster"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// hookedRosters runs a hook right after one read of a whole roster, or of
// one item, so a test can put another client's stanza between the
// presence module's read and what it does next, as another connection's
// goroutine may. Without a hook it is the store itself.
type hookedRosters struct {
	storage.Rosters
	owner string
	hook  func()

	itemOwner, itemContact string
	itemHook               func()
}

func (h *hookedRosters) RosterItem(ctx context.Context, owner, contact string) (storage.RosterItem, error) {
	it, err := h.Rosters.RosterItem(ctx, owner, contact)
	if hook := h.itemHook; hook != nil && owner == h.itemOwner && contact == h.itemContact {
		h.itemHook = nil
		hook()
	}
	return it, err
}

func (h *hookedRosters) Roster(ctx context.Context, owner string) ([]storage.RosterItem, string, error) {
	items, ver, err := h.Rosters.Roster(ctx, owner)
	if hook := h.hook; hook != nil && owner == h.owner {
		h.hook = nil
		hook()
	}
	return items, ver, err
}

// newHookedEnv is newEnv with the roster module reading through a
// hookedRosters.
func newHookedEnv(t *testing.T, users ...string) (*env, *hookedRosters) {
	t.Helper()
	ctx := context.Background()
	st := memory.New()
	for _, u := range users {
		if err := st.CreateUser(ctx, u, storage.Credentials{}); err != nil {
			t.Fatal(err)
		}
	}
	h := &hookedRosters{Rosters: st}
	r := router.New(router.Config{Domains: []string{"x", "y"}, Users: st})
	rost := roster.New(roster.DefaultConfig(), h, r)
	avail := &availObserver{}
	r.Register(rost, presence.New(r, rost), avail)
	return &env{t: t, ctx: ctx, store: st, r: r, rost: rost, avail: avail, conns: map[string]*conn{}}, h
}

// during arms the hook: fn runs right after the next read of owner's
// roster.
func (h *hookedRosters) during(owner string, fn func()) { h.owner, h.hook = owner, fn }

// duringItem arms the item hook: fn runs right after the next read of
// owner's item for contact.
func (h *hookedRosters) duringItem(owner, contact string, fn func()) {
	h.itemOwner, h.itemContact, h.itemHook = owner, contact, fn
}

func contains(got []string, want string) bool { return slices.Contains(got, want) }

// TestSubscribeDuringInitialPresence: a's request reaches b's roster after
// b's initial presence has read it but before b is available. The request
// must still reach b, routed or redelivered (RFC 6121 §3.1.3), or a's
// subscription stays pending for ever (the interop test's flake: alice's
// roster push with bob never went past 'none' ask="subscribe").
func TestSubscribeDuringInitialPresence(t *testing.T) {
	e, h := newHookedEnv(t, "a@x", "b@x")
	e.online("a@x/1")
	e.bind("b@x/1")
	e.send("b@x/1", `<iq type="get" id="g"><query xmlns="jabber:iq:roster"/></iq>`)
	e.drain()

	h.during("b@x", func() { e.send("a@x/1", `<presence to="b@x" type="subscribe"/>`) })
	e.send("b@x/1", `<presence/>`)
	if got := e.take("b@x/1"); !contains(got, `<presence from="a@x" to="b@x" type="subscribe"/>`) &&
		!contains(got, `<presence to="b@x" type="subscribe" from="a@x"/>`) {
		t.Fatalf("b never got a's request; b was sent:\n  %q", got)
	}
	// b's client approves and subscribes back, a's approves: both.
	e.send("b@x/1", `<presence to="a@x" type="subscribed"/>`)
	e.send("b@x/1", `<presence to="a@x" type="subscribe"/>`)
	e.send("a@x/1", `<presence to="b@x" type="subscribed"/>`)
	if got := stateOf(e.item("a@x", "b@x")); got != "both" {
		t.Errorf("a's item: %s", got)
	}
}

// TestApprovalDuringInitialPresence: b approves a's request after a's
// initial presence has read a's roster but before a is available. a must
// still get b's presence (RFC 6121 §3.1.5 or §4.2.2).
func TestApprovalDuringInitialPresence(t *testing.T) {
	e, h := newHookedEnv(t, "a@x", "b@x")
	e.online("b@x/1")
	e.bind("a@x/1")
	e.send("a@x/1", `<iq type="get" id="g"><query xmlns="jabber:iq:roster"/></iq>`)
	e.send("a@x/1", `<presence to="b@x" type="subscribe"/>`)
	e.drain()

	h.during("a@x", func() { e.send("b@x/1", `<presence to="a@x" type="subscribed"/>`) })
	e.send("a@x/1", `<presence/>`)
	if got := e.take("a@x/1"); !contains(got, `<presence from="b@x/1" to="a@x"/>`) &&
		!contains(got, `<presence from="b@x/1" to="a@x/1"/>`) {
		t.Errorf("a never got b's presence; a was sent:\n  %q", got)
	}
}

// TestApprovalDuringOtherResourceUnavailable: a@x/2 approves b while a@x/1
// goes unavailable, after a@x/1's broadcast has read the roster. b was sent
// a@x/1's available presence by the approval, so it must get its
// unavailable too (RFC 6121 §4.5.2).
func TestApprovalDuringOtherResourceUnavailable(t *testing.T) {
	e, h := newHookedEnv(t, "a@x", "b@x")
	e.online("a@x/1")
	e.online("a@x/2")
	e.online("b@x/1")
	e.send("b@x/1", `<presence to="a@x" type="subscribe"/>`)
	e.drain()

	h.during("a@x", func() { e.send("a@x/2", `<presence to="b@x" type="subscribed"/>`) })
	e.send("a@x/1", `<presence type="unavailable"/>`)
	got := e.take("b@x/1")
	if contains(got, `<presence from="a@x/1" to="b@x"/>`) &&
		!contains(got, `<presence type="unavailable" from="a@x/1" to="b@x"/>`) {
		t.Errorf("b saw a@x/1 available and never unavailable:\n  %q", got)
	}
}

// TestProbeAnswerSparesNewRequest: a@x/1's initial presence read a 'to'
// for b that b's roster no longer grants, but by the time the stale
// subscription is cancelled (the probe's unsubscribed, RFC 6121 §4.3.2) b
// has already cancelled it itself and a@x/2 has asked again. The synthetic
// unsubscribed answers the probe of the subscription the snapshot saw: it
// must not cancel the new request, or b's approval finds nothing pending
// on a's side and the two rosters disagree (b 'from', a 'none').
func TestProbeAnswerSparesNewRequest(t *testing.T) {
	e, h := mutualWithA1Pending(t)
	h.during("a@x", func() {
		e.send("b@x/1", `<presence to="a@x" type="unsubscribed"/>`)
		e.send("a@x/2", `<presence to="b@x" type="subscribe"/>`)
	})
	e.send("a@x/1", `<presence/>`)
	if got := stateOf(e.item("a@x", "b@x")); got != "none+out" {
		t.Errorf("a's item after a@x/1's initial presence: %s, want none+out", got)
	}
	e.send("b@x/1", `<presence to="a@x" type="subscribed"/>`)
	if a, b := stateOf(e.item("a@x", "b@x")), stateOf(e.item("b@x", "a@x")); a != "to" || b != "from" {
		t.Errorf("after b's approval: a's item %s, b's %s; want to, from", a, b)
	}
}

// TestProbeAnswerSparesNewSubscription: as above, but b also approves the
// new request before the refusal of the probe is applied (right after
// the presence module has read b's item for a). The refusal must not
// cancel that new, valid subscription (it left a at none and b at from
// for good).
func TestProbeAnswerSparesNewSubscription(t *testing.T) {
	e, h := mutualWithA1Pending(t)
	e.put("b@x", storage.RosterItem{JID: "a@x", Subscription: storage.SubNone}) // b's half of its unsubscribed
	h.duringItem("b@x", "a@x", func() {
		e.send("b@x/1", `<presence to="a@x" type="unsubscribed"/>`)
		e.send("a@x/2", `<presence to="b@x" type="subscribe"/>`)
		e.send("b@x/1", `<presence to="a@x" type="subscribed"/>`)
		if a, b := stateOf(e.item("a@x", "b@x")), stateOf(e.item("b@x", "a@x")); a != "to" || b != "from" {
			t.Fatalf("setup: a's item %s, b's %s", a, b)
		}
	})
	e.send("a@x/1", `<presence/>`)
	if a, b := stateOf(e.item("a@x", "b@x")), stateOf(e.item("b@x", "a@x")); a != "to" || b != "from" {
		t.Errorf("a's item %s, b's %s; want to, from (a valid subscription was cancelled)", a, b)
	}
}

// mutualWithA1Pending: a has 'to' on b and b 'from' on a; b@x/1 and a@x/2
// are online, a@x/1 is bound and has requested the roster but sent no
// presence yet.
func mutualWithA1Pending(t *testing.T) (*env, *hookedRosters) {
	t.Helper()
	e, h := newHookedEnv(t, "a@x", "b@x")
	e.put("a@x", storage.RosterItem{JID: "b@x", Subscription: storage.SubTo})
	e.put("b@x", storage.RosterItem{JID: "a@x", Subscription: storage.SubFrom})
	e.online("b@x/1")
	e.online("a@x/2")
	e.bind("a@x/1")
	e.send("a@x/1", `<iq type="get" id="g"><query xmlns="jabber:iq:roster"/></iq>`)
	e.drain()
	return e, h
}
