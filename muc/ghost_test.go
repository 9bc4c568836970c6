package muc_test

import "testing"

// TestGhostRemoval: a session that bounces the room's stanzas is removed
// with status 333 (§11.1, §18.1.2): it gets 110 and 333, the others 333
// (no 307). Bounces that do not tell of a failed delivery, and errors from
// non-occupants, remove nobody.
func TestGhostRemoval(t *testing.T) {
	bounce := func(kind, to, cond string) string {
		return `<` + kind + ` type='error' to='` + to + `'><error type='cancel'><` + cond + ` xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></` + kind + `>`
	}
	tests := []struct {
		name    string
		from    string // "bob" (an occupant) or "carol" (not in the room)
		stanza  string
		removed bool
	}{
		{"presence error", "bob", bounce("presence", "%R/Al", "recipient-unavailable"), true},
		{"presence error of another condition", "bob", bounce("presence", "%R/Al", "forbidden"), true},
		{"message bounce: gone", "bob", bounce("message", "%R/Al", "gone"), true},
		{"message bounce: item-not-found", "bob", bounce("message", "%R", "item-not-found"), true},
		{"message bounce: recipient-unavailable", "bob", bounce("message", "%R/Al", "recipient-unavailable"), true},
		{"message bounce: redirect", "bob", bounce("message", "%R/Al", "redirect"), true},
		{"message bounce: remote-server-not-found", "bob", bounce("message", "%R/Al", "remote-server-not-found"), true},
		{"message bounce: remote-server-timeout", "bob", bounce("message", "%R/Al", "remote-server-timeout"), true},
		{"message bounce: service-unavailable (RFC 6121 §8.5.3.2.1, a resource that is gone)", "bob", bounce("message", "%R/Al", "service-unavailable"), true},
		{"message refused: not-acceptable", "bob", bounce("message", "%R/Al", "not-acceptable"), false},
		{"message error without a condition", "bob", `<message type='error' to='%R/Al'/>`, false},
		{"message bounce from a non-occupant", "carol", bounce("message", "%R/Al", "gone"), false},
		{"presence error from a non-occupant", "carol", bounce("presence", "%R/Al", "gone"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			alice, bob, carol := e.user("alice", "a"), e.user("bob", "b"), e.user("carol", "c")
			e.create(alice)
			e.join(bob, "Bob")
			alice.take(t)
			u := map[string]*user{"bob": bob, "carol": carol}[tc.from]
			e.send(u, tc.stanza)
			got, seen := u.take(t), alice.take(t)
			if !tc.removed {
				if len(got) != 0 || len(seen) != 0 {
					t.Fatalf("sent %v to the sender, %v to alice; want nothing", got, seen)
				}
				return
			}
			if len(got) != 1 || summary(got[0]) != "presence /Bob unavailable [333 110] none/none" {
				t.Fatalf("bob got %v", summaries(got))
			}
			if len(seen) != 1 || summary(seen[0]) != "presence /Bob unavailable [333] none/none" {
				t.Fatalf("alice got %v", summaries(seen))
			}
			// bob is out: a self-ping says so (XEP-0410).
			e.send(bob, `<iq type='get' id='p' to='%R/Bob'><ping xmlns='urn:xmpp:ping'/></iq>`)
			if got := bob.last(t); condition(got) != "not-acceptable" {
				t.Fatalf("self-ping after removal: %s", got)
			}
		})
	}
}

// TestGhostOfOneSession: a multi-session nick loses only the session that
// bounced; the others see nothing, the nick stays.
func TestGhostOfOneSession(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob, bob2 := e.user("alice", "a"), e.user("bob", "b"), e.user("bob", "b2")
	e.create(alice)
	e.join(bob, "Bob")
	e.join(bob2, "Bob")
	alice.take(t)
	bob.take(t)
	e.send(bob2, `<message type='error' to='%R'><error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`)
	if got := bob2.take(t); len(got) != 1 || summary(got[0]) != "presence /Bob unavailable [333 110] none/none" {
		t.Fatalf("bob2 got %v", summaries(got))
	}
	if seen := append(alice.take(t), bob.take(t)...); len(seen) != 0 {
		t.Fatalf("others were sent %v", summaries(seen))
	}
	e.send(bob, `<iq type='get' id='p' to='%R/Bob'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if got := bob.last(t); got.Attr("type") != "result" {
		t.Fatalf("self-ping of the remaining session: %s", got)
	}
}
