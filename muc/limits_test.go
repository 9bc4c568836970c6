package muc_test

import (
	"strings"
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

// TestMaxAffiliations: a room's affiliation lists hold at most
// max_affiliations entries together: an admin set that would grow them
// past it is refused with policy-violation and changes nothing, one that
// does not grow them passes, and an invitation into a members-only room
// (which makes the invitee a member) is refused when they are full.
func TestMaxAffiliations(t *testing.T) {
	e := newEnv(t, func(c *muc.Config) { c.MaxAffiliations = 3 })
	alice, bob, carol := e.user("alice", "a"), e.user("bob", "b"), e.user("carol", "c")
	e.create(alice, "muc#roomconfig_membersonly", "1") // alice: 1
	item := func(aff, j string) string {
		return `<item affiliation='` + aff + `' jid='` + j + `'/>`
	}
	set := func(items ...string) string {
		e.send(alice, `<iq type='set' id='m' to='%R'><query xmlns='`+nsMUC+`#admin'>`+strings.Join(items, "")+`</query></iq>`)
		return condition(alice.last(t))
	}
	steps := []struct {
		name  string
		items []string
		want  string
	}{
		{"bob a member", []string{item("member", "bob@example.org")}, ""},
		{"two more", []string{item("member", "x@elsewhere.example"), item("outcast", "y@elsewhere.example")}, "policy-violation"},
		{"one more ban", []string{item("outcast", "y@elsewhere.example")}, ""},
		{"a fourth", []string{item("member", "x@elsewhere.example")}, "policy-violation"},
		{"a fourth for bob", []string{item("none", "bob@example.org"), item("member", "x@elsewhere.example")}, ""},
		{"bob back for x", []string{item("member", "bob@example.org"), item("none", "x@elsewhere.example")}, ""},
		{"bob made admin", []string{item("admin", "bob@example.org")}, ""},
	}
	for _, st := range steps {
		if got := set(st.items...); got != st.want {
			t.Fatalf("%s: %q, want %q", st.name, got, st.want)
		}
	}
	e.send(alice, `<iq type='get' id='l' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='member'/></query></iq>`)
	if got := alice.last(t).Child(nsMUC+"#admin", "query").Elements(); len(got) != 0 {
		t.Fatalf("member list: %v, want empty (x removed, bob admin)", got)
	}
	// Full (alice, bob, y): inviting carol would add a member.
	e.send(alice, `<message to='%R'><x xmlns='`+nsUser+`'><invite to='carol@example.org'/></x></message>`)
	if got := alice.take(t); len(got) != 1 || condition(got[0]) != "policy-violation" {
		t.Fatalf("invitation past the cap: %v", got)
	}
	if got := carol.take(t); len(got) != 0 {
		t.Fatalf("carol was invited: %v", got)
	}
	// Inviting bob, who is on the lists, adds nothing and passes.
	e.send(alice, `<message to='%R'><x xmlns='`+nsUser+`'><invite to='bob@example.org'/></x></message>`)
	if got := bob.take(t); len(got) != 1 || got[0].Child(nsUser, "x").Child(nsUser, "invite") == nil {
		t.Fatalf("bob's invitation: %v", got)
	}
}
