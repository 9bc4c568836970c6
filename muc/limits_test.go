package muc_test

import (
	"testing"

	"github.com/skald-xmpp/skald/muc"
)

// enterRoom has u enter name@service as nick and returns the last stanza
// it was sent (its self-presence, or the error).
func (e *env) enterRoom(u *user, name, nick string) string {
	e.T.Helper()
	e.send(u, `<presence to='`+name+`@`+service+`/`+nick+`'><x xmlns='`+nsMUC+`'/></presence>`)
	return condition(u.last(e.T))
}

// TestMaxRoomsPerAccount: an account creates at most max_rooms_per_account
// rooms it still owns; one more is refused with not-allowed (§10.1.1),
// entering existing rooms is not; a destroyed room gives its place back,
// and ownership granted by others does not count.
func TestMaxRoomsPerAccount(t *testing.T) {
	e := newEnv(t, func(c *muc.Config) { c.MaxRoomsPerAccount = 2 })
	alice, bob := e.user("alice", "a"), e.user("bob", "b")
	steps := []struct {
		who        *user
		room, want string
	}{
		{alice, "r1", ""},
		{alice, "r2", ""},
		{alice, "r3", "not-allowed"},
		{bob, "r1", "item-not-found"}, // still locked: entering it is not creating it
		{bob, "b1", ""},
	}
	for _, st := range steps {
		if got := e.enterRoom(st.who, st.room, "N"); got != st.want {
			t.Fatalf("%s entering %s: %q, want %q", st.who.s.JID(), st.room, got, st.want)
		}
	}
	// Alice makes bob an owner of r1 and r2: they do not count for bob.
	for _, r := range []string{"r1", "r2"} {
		e.send(alice, `<iq type='set' id='o' to='`+r+`@`+service+`'><query xmlns='`+nsMUC+`#admin'><item affiliation='owner' jid='bob@example.org'/></query></iq>`)
		if el := alice.last(t); el.Attr("type") != "result" {
			t.Fatalf("granting ownership: %s", el)
		}
	}
	if got := e.enterRoom(bob, "b2", "N"); got != "" {
		t.Fatalf("bob's second room: %q", got)
	}
	if got := e.enterRoom(bob, "b3", "N"); got != "not-allowed" {
		t.Fatalf("bob's third room: %q, want not-allowed", got)
	}
	// Alice destroys r1: she may create another.
	e.send(alice, `<iq type='set' id='d' to='r1@`+service+`'><query xmlns='`+nsMUC+`#owner'><destroy/></query></iq>`)
	alice.take(t)
	if got := e.enterRoom(alice, "r3", "N"); got != "" {
		t.Fatalf("alice's room after destroying one: %q", got)
	}
}
