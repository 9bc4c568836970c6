package presence_test

import (
	"context"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/presence"
	"github.com/skald-xmpp/skald/roster"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
)

// afterRead is a roster store that runs a function once, right after it
// has read a given owner's roster and before it returns it: a way to put
// another user's stanza exactly between a read and what the reader does
// next.
type afterRead struct {
	storage.Rosters
	owner string
	then  func()
}

func (a *afterRead) Roster(ctx context.Context, owner string) ([]storage.RosterItem, string, error) {
	items, ver, err := a.Rosters.Roster(ctx, owner)
	if owner == a.owner && a.then != nil {
		f := a.then
		a.then = nil
		f()
	}
	return items, ver, err
}

// TestRequestDuringInitialPresence: a subscription request that reaches
// the contact's roster while the contact's session is sending its initial
// presence, after the presence module read that roster and before the
// session counted as available, is neither delivered at once (the session
// is not available yet) nor redelivered from the roster already read. It
// must still reach the session (RFC 6121 §3.1.3: the contact's server
// delivers the request to the contact's available resources, or when the
// contact next becomes available).
func TestRequestDuringInitialPresence(t *testing.T) {
	e := newEnv(t, "a@x", "b@x")
	hook := &afterRead{Rosters: e.store, owner: "b@x"}
	// A second pair of modules over the hooked store, on a router of its
	// own: the env's helpers drive it.
	e.r = router.New(router.Config{Domains: []string{"x", "y"}, Users: e.store})
	e.rost = roster.New(roster.DefaultConfig(), hook, e.r)
	e.r.Register(e.rost, presence.New(e.r, e.rost), e.avail)

	e.online("a@x/1")
	b := e.bind("b@x/1")
	b.SetInterested()
	hook.then = func() { e.send("a@x/1", `<presence to="b@x" type="subscribe"/>`) }
	e.send("b@x/1", `<presence/>`)

	var gotRequest bool
	for _, st := range e.take("b@x/1") {
		if strings.HasPrefix(st, "<presence") && strings.Contains(st, `type="subscribe"`) && strings.Contains(st, `from="a@x"`) {
			gotRequest = true
		}
	}
	if !gotRequest {
		t.Errorf("b@x/1 never got a@x's subscription request")
	}
}
