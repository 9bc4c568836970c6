package presence_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/jid"
)

// subObserver records router.NotifySubscribed calls.
type subObserver struct {
	mu  sync.Mutex
	got []string
}

func (*subObserver) Name() string { return "sub-observer" }

func (o *subObserver) PresenceSubscribed(_ context.Context, owner, contact jid.JID) {
	o.mu.Lock()
	o.got = append(o.got, owner.String()+" -> "+contact.String())
	o.mu.Unlock()
}

// TestSubscriptionObserver: the subscription observers hear of each new
// "from" subscription, by approval or by pre-approval, once, and of
// nothing else.
func TestSubscriptionObserver(t *testing.T) {
	e := newEnv(t, "a@x", "b@x", "c@x")
	obs := &subObserver{}
	e.r.Register(obs)
	e.online("a@x/1")
	e.online("b@x/1")
	e.online("c@x/1")
	e.send("b@x/1", `<presence to="a@x" type="subscribe"/>`)
	e.send("a@x/1", `<presence to="b@x" type="subscribed"/>`)
	e.send("a@x/1", `<presence to="b@x" type="subscribed"/>`) // no change
	e.send("a@x/1", `<presence to="c@x" type="subscribed"/>`) // pre-approval: nothing yet
	e.send("c@x/1", `<presence to="a@x" type="subscribe"/>`)
	e.send("c@x/1", `<presence to="a@x" type="subscribe"/>`) // already subscribed
	if want := []string{"a@x -> b@x", "a@x -> c@x"}; !slices.Equal(obs.got, want) {
		t.Errorf("observed %q, want %q", obs.got, want)
	}
}
