package pep

import (
	"context"
	"testing"

	"github.com/skald-xmpp/skald/jid"
)

// fakeBlocker blocks the (owner, peer bare JID) pairs it holds.
type fakeBlocker map[[2]string]bool

func (f fakeBlocker) Blocks(_ context.Context, owner string, peer jid.JID) (bool, error) {
	return f[[2]string{owner, peer.Bare().String()}], nil
}

// TestBlockedContactsGetNoEvents: a block either way keeps a contact's
// resources from the owner's events and last items (XEP-0191 §3.3).
func TestBlockedContactsGetNoEvents(t *testing.T) {
	for _, tc := range []struct {
		name  string
		block [2]string
	}{
		{"owner blocks the contact", [2]string{romeo, juliet}},
		{"contact blocks the owner", [2]string{juliet, romeo}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			e.m.SetBlocker(fakeBlocker{tc.block: true})
			home, homeRec := e.withCaps(romeo+"/home", tune+"+notify")
			_, balconyRec := e.withCaps(juliet+"/balcony", tune+"+notify")
			e.Send(home, publishTune("t1", "Yesterday"))
			if got := e.take(homeRec); len(got) != 2 {
				t.Errorf("owner got %q", got)
			}
			e.expect(t, "blocked contact", balconyRec)
			_, bedRec := e.withCaps(juliet+"/bed", tune+"+notify")
			e.expect(t, "blocked contact's new resource", bedRec)
		})
	}
}
