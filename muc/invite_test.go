package muc_test

import (
	"strings"
	"testing"
)

// invite is a mediated invitation (§7.8.2) of the given invitees.
func invite(invitees ...string) string {
	var b strings.Builder
	for _, to := range invitees {
		b.WriteString(`<invite to='` + to + `'/>`)
	}
	return `<message to='%R'><x xmlns='` + nsUser + `'>` + b.String() + `</x></message>`
}

func decline(inviter string) string {
	return `<message to='%R'><x xmlns='` + nsUser + `'><decline to='` + inviter + `'/></x></message>`
}

// TestInvitationLimits: the room sends no invitation for a message of
// more than five invitees, nor past an occupant's allowance (ten at once),
// and nobody but an occupant invites; it passes a decline only from a JID
// it invited, once, to the account that invited it. Each refusal is an
// error to the sender and no message to anyone else.
func TestInvitationLimits(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob, carol := e.user("alice", "a"), e.user("bob", "b"), e.user("carol", "c")
	e.create(alice)
	carols := func(n int) []string {
		var out []string
		for range n {
			out = append(out, "carol@"+strings.TrimPrefix(service, "conference."))
		}
		return out
	}
	steps := []struct {
		name string
		who  *user
		raw  string
		want string // the sender's error condition, "" if accepted
		to   *user  // who must then have received messages from the room
		n    int    // how many
	}{
		{"six invitees in one message", alice, invite(carols(6)...), "policy-violation", nil, 0},
		{"a non-occupant invites", carol, invite("bob@example.org"), "not-acceptable", nil, 0},
		{"a decline nobody asked for", carol, decline("bob@example.org"), "not-acceptable", nil, 0},
		{"five invitees", alice, invite(carols(5)...), "", carol, 5},
		{"five more", alice, invite(carols(5)...), "", carol, 5},
		{"the eleventh invitation", alice, invite("bob@example.org"), "policy-violation", nil, 0},
		{"bob declines an invitation he never got", bob, decline("alice@example.org"), "not-acceptable", nil, 0},
		{"carol declines to someone else", carol, decline("bob@example.org"), "not-acceptable", nil, 0},
		{"carol declines to alice", carol, decline("alice@example.org"), "", alice, 1},
		{"carol declines again", carol, decline("alice@example.org"), "not-acceptable", nil, 0},
	}
	for _, st := range steps {
		e.send(st.who, st.raw)
		got := st.who.take(t)
		if st.want != "" {
			if len(got) != 1 || condition(got[0]) != st.want {
				t.Fatalf("%s: got %v, want one %s error", st.name, got, st.want)
			}
		} else {
			for _, el := range got {
				if condition(el) != "" {
					t.Fatalf("%s: refused: %s", st.name, el)
				}
			}
		}
		for _, u := range []*user{alice, bob, carol} {
			if u == st.who {
				continue
			}
			msgs := u.take(t)
			if u == st.to {
				if len(msgs) != st.n {
					t.Fatalf("%s: %s got %v, want %d messages from the room", st.name, u.s.JID(), msgs, st.n)
				}
				for _, msg := range msgs {
					if msg.Attr("from") != room || msg.Child(nsUser, "x") == nil {
						t.Fatalf("%s: %s got %s", st.name, u.s.JID(), msg)
					}
				}
			} else if len(msgs) != 0 {
				t.Fatalf("%s: %s got %v", st.name, u.s.JID(), msgs)
			}
		}
	}
}

// TestInvitationAllowanceOutlivesVisit: an occupant who used its
// allowance does not get a new one by leaving and entering again (a
// remote user's server could otherwise have the room invite anyone at
// any rate, ten per visit).
func TestInvitationAllowanceOutlivesVisit(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.user("alice", "a"), e.user("bob", "b")
	e.create(alice)
	e.join(bob, "Bob")
	five := []string{"carol@example.org", "carol@example.org", "carol@example.org", "carol@example.org", "carol@example.org"}
	for range 2 {
		e.send(bob, invite(five...))
		for _, el := range bob.take(t) {
			if condition(el) != "" {
				t.Fatalf("invitation refused: %s", el)
			}
		}
	}
	e.send(bob, `<presence to='%R/Bob' type='unavailable'/>`)
	e.join(bob, "Bob")
	e.send(bob, invite("carol@example.org"))
	if got := bob.take(t); len(got) != 1 || condition(got[0]) != "policy-violation" {
		t.Fatalf("an invitation after entering again: %v, want a policy-violation", got)
	}
}
