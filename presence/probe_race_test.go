package presence_test

import (
	"testing"

	"github.com/skald-xmpp/skald/storage"
)

// TestProbeAnswerSparesNewSubscription: a's stale 'to' on b is refused by
// b's roster when a@x/1 sends initial presence; before the refusal is
// applied, b cancels, a@x/2 asks again and b approves. The refusal must
// not cancel that new, valid subscription (it left a at none and b at
// from for good).
func TestProbeAnswerSparesNewSubscription(t *testing.T) {
	e, h := newHookedEnv(t, "a@x", "b@x")
	e.put("a@x", storage.RosterItem{JID: "b@x", Subscription: storage.SubTo})
	e.put("b@x", storage.RosterItem{JID: "a@x", Subscription: storage.SubFrom})
	e.online("b@x/1")
	e.online("a@x/2")
	e.bind("a@x/1")
	e.drain()
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
