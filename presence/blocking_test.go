package presence_test

import (
	"context"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/presence"
	"github.com/skald-xmpp/skald/roster"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
)

// fakeBlocker blocks exact bare JIDs.
type fakeBlocker struct {
	mu      sync.Mutex
	blocked map[string]map[string]bool
}

func (f *fakeBlocker) Blocks(_ context.Context, owner string, peer jid.JID) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.blocked[owner][peer.Bare().String()], nil
}

func (f *fakeBlocker) set(owner, peer string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.blocked == nil {
		f.blocked = map[string]map[string]bool{}
	}
	if f.blocked[owner] == nil {
		f.blocked[owner] = map[string]bool{}
	}
	f.blocked[owner][peer] = on
}

// newBlockingEnv is newEnv with a blocker; alice@x and bob@x are mutual
// subscribers, and carol@x is subscribed to alice.
func newBlockingEnv(t *testing.T) (*env, *presence.Module, *fakeBlocker) {
	t.Helper()
	e := newEnv(t)
	// newEnv registered its own presence module; build a second router
	// with ours instead.
	st := e.store
	for _, u := range []string{"alice@x", "bob@x", "carol@x"} {
		if err := st.CreateUser(e.ctx, u, storage.Credentials{}); err != nil {
			t.Fatal(err)
		}
	}
	r := router.New(router.Config{Domains: []string{"x"}, Users: st})
	rost := roster.New(roster.DefaultConfig(), st, r)
	pres := presence.New(r, rost)
	fb := &fakeBlocker{}
	pres.SetBlocker(fb)
	r.Register(rost, pres)
	e.r, e.rost = r, rost
	e.put("alice@x", storage.RosterItem{JID: "bob@x", Subscription: storage.SubBoth})
	e.put("bob@x", storage.RosterItem{JID: "alice@x", Subscription: storage.SubBoth})
	e.put("alice@x", storage.RosterItem{JID: "carol@x", Subscription: storage.SubFrom})
	e.put("carol@x", storage.RosterItem{JID: "alice@x", Subscription: storage.SubTo})
	return e, pres, fb
}

func TestBlockCutsPresence(t *testing.T) {
	e, pres, fb := newBlockingEnv(t)
	e.online("alice@x/a")
	e.online("bob@x/b")
	e.online("carol@x/c")
	e.drain()

	// XEP-0191 §3.3: blocking sends unavailable from each available
	// resource to the contact who could see the user's presence.
	fb.set("alice@x", "bob@x", true)
	isBob := func(j jid.JID) bool { return j.Bare().String() == "bob@x" }
	pres.Blocked(e.ctx, mustJID("alice@x"), isBob)
	e.expect(map[string][]string{
		"bob@x/b": {`<presence type="unavailable" from="alice@x/a" to="bob@x/b"/>`},
	})

	// Broadcasts no longer cross, either way; carol still sees alice.
	e.send("alice@x/a", `<presence><show>away</show></presence>`)
	e.send("bob@x/b", `<presence><show>dnd</show></presence>`)
	e.expect(map[string][]string{
		"alice@x/a": {`<presence from="alice@x/a" to="alice@x"><show>away</show></presence>`},
		"bob@x/b":   {`<presence from="bob@x/b" to="bob@x"><show>dnd</show></presence>`},
		"carol@x/c": {`<presence from="alice@x/a" to="carol@x"><show>away</show></presence>`},
	})

	// The user's directed presence to the blocked contact is refused;
	// the contact's is dropped without an answer, subscriptions too.
	e.send("alice@x/a", `<presence to="bob@x"/>`)
	e.send("bob@x/b", `<presence to="alice@x/a"/>`)
	e.send("bob@x/b", `<presence to="alice@x" type="unsubscribe"/>`)
	e.expect(map[string][]string{
		"alice@x/a": {`<presence from="bob@x" to="alice@x/a" type="error"><error type="cancel"><not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><blocked xmlns="urn:xmpp:blocking:errors"/></error></presence>`},
		// bob's own side of his unsubscribe is his server's to do.
		"bob@x/b": {`<iq type="set" id="P" to="bob@x/b"><query xmlns="jabber:iq:roster" ver="V"><item jid="alice@x" subscription="from"/></query></iq>`},
	})
	if it := e.item("alice@x", "bob@x"); it == nil || it.Subscription != storage.SubBoth {
		t.Errorf("a blocked contact's unsubscribe reached the roster: %+v", it)
	}

	// A new resource of alice's gets no presence of bob's, and bob none
	// of it.
	e.online("alice@x/a2")
	e.take("carol@x/c")
	e.expect(map[string][]string{})

	// Unblocked (§3.4): bob gets alice's current presence, alice's
	// resources bob's.
	fb.set("alice@x", "bob@x", false)
	pres.Unblocked(e.ctx, mustJID("alice@x"), isBob)
	e.expect(map[string][]string{
		"bob@x/b": {
			`<presence from="alice@x/a" to="bob@x"><show>away</show></presence>`,
			`<presence from="alice@x/a2" to="bob@x"/>`,
		},
		"alice@x/a":  {`<presence from="bob@x/b" to="alice@x/a"><show>dnd</show></presence>`},
		"alice@x/a2": {`<presence from="bob@x/b" to="alice@x/a2"><show>dnd</show></presence>`},
	})
	e.send("bob@x/b", `<presence/>`)
	e.expect(map[string][]string{
		"bob@x/b":    {`<presence from="bob@x/b" to="bob@x"/>`},
		"alice@x/a":  {`<presence from="bob@x/b" to="alice@x"/>`},
		"alice@x/a2": {`<presence from="bob@x/b" to="alice@x"/>`},
	})
}

// TestBlockedByContact: the contact blocks the user, so the user's
// presence never reaches the contact, nor is the user's probe answered.
func TestBlockedByContact(t *testing.T) {
	e, _, fb := newBlockingEnv(t)
	fb.set("bob@x", "alice@x", true)
	e.online("bob@x/b")
	e.bind("alice@x/a")
	e.send("alice@x/a", `<presence/>`)
	e.expect(map[string][]string{
		"alice@x/a": {`<presence from="alice@x/a" to="alice@x"/>`},
	})
	e.send("alice@x/a", `<presence to="bob@x/b"/>`)
	e.expect(map[string][]string{})
}
