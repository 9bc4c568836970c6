package muc_test

import (
	"strings"
	"testing"
)

// TestSmallMUSTs: the cheap rules of XEP-0045 this package checks besides
// (one reply each).
func TestSmallMUSTs(t *testing.T) {
	tests := []struct {
		name, from, iq, want string
		contains             []string
	}{
		// §6.6: disco to an occupant JID from a non-occupant.
		{"occupant disco by a non-occupant", "carol", `<iq type='get' id='q' to='%R/Al'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, "bad-request", nil},
		// XEP-0410: a ping from a non-occupant stays not-acceptable.
		{"self-ping by a non-occupant", "carol", `<iq type='get' id='q' to='%R/Carol'><ping xmlns='urn:xmpp:ping'/></iq>`, "not-acceptable", nil},
		// §9.1: an admin or owner banning itself.
		{"owner bans itself", "alice", `<iq type='set' id='q' to='%R'><query xmlns='` + nsMUC + `#admin'><item affiliation='outcast' jid='alice@example.org'/></query></iq>`, "conflict", nil},
		{"admin bans itself", "bob", `<iq type='set' id='q' to='%R'><query xmlns='` + nsMUC + `#admin'><item affiliation='outcast' jid='bob@example.org'/></query></iq>`, "conflict", nil},
		// XEP-0410 §3.3 on the service.
		{"service features", "carol", `<iq type='get' id='q' to='` + service + `'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, "", []string{"http://jabber.org/protocol/muc#self-ping-optimization", "http://jabber.org/protocol/muc#stable_id"}},
		// §17.4: an item changes a role or an affiliation.
		{"role and affiliation in one item", "alice", `<iq type='set' id='q' to='%R'><query xmlns='` + nsMUC + `#admin'><item nick='Bob' role='visitor' affiliation='member'/></query></iq>`, "bad-request", nil},
		// §17.4: role lists carry full JIDs.
		{"participant list", "alice", `<iq type='get' id='q' to='%R'><query xmlns='` + nsMUC + `#admin'><item role='moderator'/></query></iq>`, "", []string{`nick="Bob" jid="bob@example.org/b"`}},
		// §8.4: nobody revokes an admin's voice, not even an owner.
		{"owner revokes an admin's voice", "alice", `<iq type='set' id='q' to='%R'><query xmlns='` + nsMUC + `#admin'><item nick='Bob' role='visitor'/></query></iq>`, "not-allowed", nil},
		{"unknown disco node", "carol", `<iq type='get' id='q' to='%R'><query xmlns='http://jabber.org/protocol/disco#info' node='x-other'/></iq>`, "item-not-found", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			alice, bob, carol := e.user("alice", "a"), e.user("bob", "b"), e.user("carol", "c")
			e.create(alice)
			e.send(alice, `<iq type='set' id='m' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='owner' jid='bob@example.org'/></query></iq>`)
			e.send(alice, `<iq type='set' id='m' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='admin' jid='bob@example.org'/></query></iq>`)
			e.join(bob, "Bob")
			alice.take(t)
			u := map[string]*user{"alice": alice, "bob": bob, "carol": carol}[tc.from]
			e.send(u, tc.iq)
			got := u.take(t)
			if len(got) != 1 || got[0].Attr("id") != "q" || condition(got[0]) != tc.want {
				t.Fatalf("got %v, want one reply with error %q", got, tc.want)
			}
			for _, c := range tc.contains {
				if !strings.Contains(got[0].String(), c) {
					t.Errorf("reply lacks %s: %s", c, got[0])
				}
			}
		})
	}
}

// TestDestroyAlternateVenue: destroying a room with an alternate venue,
// its password and a reason gives every occupant one unavailable presence
// with <destroy/> carrying all three (§10.9).
func TestDestroyAlternateVenue(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.user("alice", "a"), e.user("bob", "b")
	e.create(alice)
	e.join(bob, "Bob")
	alice.take(t)
	e.send(alice, `<iq type='set' id='d' to='%R'><query xmlns='`+nsMUC+`#owner'><destroy jid='new@`+service+`'><password>pw</password><reason>moved</reason></destroy></query></iq>`)
	got := bob.take(t)
	if len(got) != 1 {
		t.Fatalf("bob got %v", got)
	}
	d := got[0].Child(nsUser, "x").Child(nsUser, "destroy")
	if got[0].Attr("type") != "unavailable" || d.Attr("jid") != "new@"+service || d.ChildText(nsUser, "password") != "pw" || d.ChildText(nsUser, "reason") != "moved" {
		t.Fatalf("destroy presence: %s", got[0])
	}
}

// TestUnconfiguredRoomDestroyedOnLeave: the owner of a room it never
// configured leaves it, and learns from <destroy/> in its unavailable
// self-presence that the room went with it (§10.1.3); leaving a
// configured room carries no <destroy/>.
func TestUnconfiguredRoomDestroyedOnLeave(t *testing.T) {
	for _, configured := range []bool{false, true} {
		e := newEnv(t, nil)
		alice := e.user("alice", "a")
		if configured {
			e.create(alice, "muc#roomconfig_persistentroom", "1")
		} else {
			e.join(alice, "Al")
		}
		e.send(alice, `<presence to='%R/Al' type='unavailable'/>`)
		got := alice.take(t)
		if len(got) != 1 || summary(got[0]) != "presence /Al unavailable [110] owner/none" {
			t.Fatalf("configured %v: alice got %v", configured, summaries(got))
		}
		if d := got[0].Child(nsUser, "x").Child(nsUser, "destroy"); (d != nil) == configured {
			t.Fatalf("configured %v: self-presence %s", configured, got[0])
		}
	}
}

// TestShutdown: when the service shuts down every occupant session gets
// one unavailable presence with 110 and 332 (§11.2) and nothing more when
// its session ends; a persistent room stays, a temporary one ends.
func TestShutdown(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.user("alice", "a"), e.user("bob", "b")
	e.create(alice, "muc#roomconfig_persistentroom", "1")
	e.join(bob, "Bob")
	alice.take(t)
	e.muc.Shutdown()
	for _, u := range []*user{alice, bob} {
		got := u.take(t)
		if len(got) != 1 || !strings.HasSuffix(summary(got[0]), "unavailable [110 332] "+map[*user]string{alice: "owner/none", bob: "none/none"}[u]) {
			t.Fatalf("got %v", summaries(got))
		}
	}
	e.Router.Unbind(bg, bob.s)
	if got := alice.take(t); len(got) != 0 {
		t.Fatalf("after the shutdown alice was sent %v", summaries(got))
	}
	carol := e.user("carol", "c")
	e.send(carol, `<iq type='get' id='i' to='%R'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if got := carol.last(t); got.Attr("type") != "result" || !strings.Contains(got.String(), "muc_persistent") {
		t.Fatalf("the persistent room after the shutdown: %s", got)
	}
}

// TestOccupantIDOnEverything: XEP-0421 §4 — every presence and message the
// room sends from an occupant JID carries the occupant's id: the subject
// on entering, and the unavailable presence of a destroy, a shutdown and
// a ghost removal.
func TestOccupantIDOnEverything(t *testing.T) {
	tests := []struct {
		name string
		act  func(e *env, alice, bob *user) *user // returns who to check
		from string                               // the occupant JID's nick
	}{
		{"subject on entering", func(e *env, alice, bob *user) *user {
			e.send(alice, `<message to='%R' type='groupchat'><subject>Tea</subject></message>`)
			e.send(bob, `<presence to='%R/Bob'><x xmlns='`+nsMUC+`'/></presence>`)
			return bob
		}, "Al"},
		{"destroy", func(e *env, alice, bob *user) *user {
			e.join(bob, "Bob")
			e.send(alice, `<iq type='set' id='d' to='%R'><query xmlns='`+nsMUC+`#owner'><destroy/></query></iq>`)
			return bob
		}, "Bob"},
		{"shutdown", func(e *env, alice, bob *user) *user {
			e.join(bob, "Bob")
			e.muc.Shutdown()
			return bob
		}, "Bob"},
		{"ghost", func(e *env, alice, bob *user) *user {
			e.join(bob, "Bob")
			e.send(bob, `<message type='error' to='%R'><error type='cancel'><gone xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`)
			return bob
		}, "Bob"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			alice, bob := e.user("alice", "a"), e.user("bob", "b")
			e.create(alice)
			bob.take(t)
			u := tc.act(e, alice, bob)
			var seen bool
			for _, el := range u.take(t) {
				if el.Attr("from") != room+"/"+tc.from {
					continue
				}
				seen = true
				if ids := el.ChildrenNamed("urn:xmpp:occupant-id:0", "occupant-id"); len(ids) != 1 || ids[0].Attr("id") == "" {
					t.Errorf("no single occupant-id: %s", el)
				}
			}
			if !seen {
				t.Fatalf("nothing from %s/%s", room, tc.from)
			}
		})
	}
}

// TestInvisibleNicks: a nick of only spaces is refused on entering and
// on a nick change (§17.1: no empty or invisible nicks; jid-malformed).
// Invisible format characters never get this far: the JID layer refuses
// them (RFC 7622 §3.4).
func TestInvisibleNicks(t *testing.T) {
	tests := []struct {
		nick string
		ok   bool
	}{
		{" ", false},
		{"   ", false},
		{"\u200b", false},
		{"a b", true},
		{" x ", true},
	}
	for _, tc := range tests {
		t.Run(tc.nick, func(t *testing.T) {
			e := newEnv(t, nil)
			alice, bob := e.user("alice", "a"), e.user("bob", "b")
			e.create(alice)
			got := e.join(bob, tc.nick)
			if ok := len(got) > 0 && condition(got[0]) == ""; ok != tc.ok || (!ok && condition(got[0]) != "jid-malformed") {
				t.Fatalf("entering as %q: %v", tc.nick, got)
			}
			e = newEnv(t, nil)
			alice = e.user("alice", "a")
			e.create(alice)
			e.send(alice, `<presence to='%R/`+tc.nick+`'/>`)
			got = alice.take(t)
			if ok := len(got) > 0 && condition(got[0]) == ""; ok != tc.ok || (!ok && condition(got[0]) != "jid-malformed") {
				t.Fatalf("changing to %q: %v", tc.nick, got)
			}
		})
	}
}

// TestSubjectWithThreadIsNoChange: a message with a subject and a thread
// is an ordinary message (§8.1): a participant without the right to
// change the subject may send it, and the subject stays.
func TestSubjectWithThreadIsNoChange(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.user("alice", "a"), e.user("bob", "b")
	e.create(alice)
	e.join(bob, "Bob")
	e.send(bob, `<message to='%R' type='groupchat'><subject>New</subject><thread>t1</thread></message>`)
	if got := bob.last(t); condition(got) != "" || got.ChildText("", "thread") != "t1" {
		t.Fatalf("bob's message with a thread: %s", got)
	}
	e.send(bob, `<message to='%R' type='groupchat'><subject>New</subject></message>`)
	if got := bob.last(t); condition(got) != "forbidden" {
		t.Fatalf("bob's subject change: %s", got)
	}
	carol := e.user("carol", "c")
	got := e.join(carol, "Carol")
	if subj := got[len(got)-1]; subj.ChildText("", "subject") != "" {
		t.Fatalf("the subject changed: %s", subj)
	}
}
