package muc_test

import (
	"strings"
	"testing"
)

// TestMessageErrors: what the room refuses (§7.4, §7.5, §8.1), each with
// its condition, and nothing reaches the occupants.
func TestMessageErrors(t *testing.T) {
	tests := []struct {
		name   string
		fields []string
		from   string // "carol" (not in the room) or "bob" (a participant)
		msg    string
		want   string
	}{
		{"non-occupant groupchat", nil, "carol", `<message to='%R' type='groupchat'><body>x</body></message>`, "not-acceptable"},
		{"non-occupant private", nil, "carol", `<message to='%R/Al' type='chat'><body>x</body></message>`, "not-acceptable"},
		{"visitor in a moderated room", []string{"muc#roomconfig_moderatedroom", "1"}, "bob", `<message to='%R' type='groupchat'><body>x</body></message>`, "forbidden"},
		{"subject by a participant", nil, "bob", `<message to='%R' type='groupchat'><subject>mine</subject></message>`, "forbidden"},
		{"private to nobody", nil, "bob", `<message to='%R/Nobody' type='chat'><body>x</body></message>`, "item-not-found"},
		{"private of type groupchat", nil, "bob", `<message to='%R/Al' type='groupchat'><body>x</body></message>`, "bad-request"},
		{"chat to the room", nil, "bob", `<message to='%R' type='chat'><body>x</body></message>`, "bad-request"},
		{"no such room", nil, "bob", `<message to='nothing@conference.example.org' type='groupchat'><body>x</body></message>`, "item-not-found"},
		{"to the service", nil, "bob", `<message to='conference.example.org'><body>x</body></message>`, "service-unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			alice, bob, carol := e.user("alice", "a"), e.user("bob", "b"), e.user("carol", "c")
			e.create(alice, tc.fields...)
			e.join(bob, "Bob")
			alice.take(t)
			u := map[string]*user{"bob": bob, "carol": carol}[tc.from]
			e.send(u, tc.msg)
			got := u.take(t)
			if len(got) != 1 || condition(got[0]) != tc.want {
				t.Fatalf("got %v, want one %s error", got, tc.want)
			}
			if seen := alice.take(t); len(seen) != 0 {
				t.Fatalf("alice was sent %v", seen)
			}
		})
	}
}

// TestGroupchatArchiveAndHistory: a message is archived once, in the
// room's archive, and every copy carries its stanza-id and the sender's
// occupant id, forged ones removed; newcomers get the history as asked
// (maxstanzas, maxchars) with a delay from the room, then the subject;
// a moderator's subject is kept and sent on entering.
func TestGroupchatArchiveAndHistory(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob, carol := e.user("alice", "a"), e.user("bob", "b"), e.user("carol", "c")
	e.create(alice)
	e.join(bob, "Bob")
	alice.take(t)
	for _, body := range []string{"one", "two", "three"} {
		e.send(bob, `<message to='%R' type='groupchat' id='`+body+`'><body>`+body+`</body><stanza-id xmlns='urn:xmpp:sid:0' by='`+room+`' id='forged'/><occupant-id xmlns='urn:xmpp:occupant-id:0' id='forged'/></message>`)
	}
	e.send(alice, `<message to='%R' type='groupchat'><subject>Tea time</subject></message>`)
	var ids []string
	for _, el := range append(alice.take(t)[:3], bob.take(t)[:3]...) {
		sids := el.ChildrenNamed("urn:xmpp:sid:0", "stanza-id")
		oids := el.ChildrenNamed("urn:xmpp:occupant-id:0", "occupant-id")
		if len(sids) != 1 || sids[0].Attr("id") == "forged" || len(oids) != 1 || oids[0].Attr("id") == "forged" || el.Attr("from") != room+"/Bob" {
			t.Fatalf("broadcast copy: %s", el)
		}
		ids = append(ids, sids[0].Attr("id"))
	}
	if ids[0] != ids[3] || ids[0] == ids[1] {
		t.Fatalf("stanza-ids: %v", ids)
	}
	page, err := e.Store.CountArchive(bg, storageQuery(room), 0)
	if err != nil || page != 4 { // three messages and the subject
		t.Fatalf("room archive holds %d items, %v; want 4", page, err)
	}
	if n, _ := e.Store.CountArchive(bg, storageQuery("bob@example.org"), 0); n != 0 {
		t.Fatalf("bob's own archive holds %d groupchat items", n)
	}

	for _, tc := range []struct {
		history string
		want    []string
	}{
		{``, []string{"one", "two", "three"}},
		{`<history maxstanzas='2'/>`, []string{"two", "three"}},
		{`<history maxstanzas='0'/>`, nil},
		{`<history maxchars='0'/>`, nil},
		{`<history seconds='3600'/>`, []string{"one", "two", "three"}},
		{`<history since='2999-01-01T00:00:00Z'/>`, nil},
	} {
		e.send(carol, `<presence to='%R/C'><x xmlns='`+nsMUC+`'>`+tc.history+`</x></presence>`)
		got := carol.take(t)
		var bodies []string
		for _, el := range got {
			if b := el.ChildText("", "body"); b != "" {
				if el.Child("urn:xmpp:delay", "delay").Attr("from") != room {
					t.Errorf("history without the room's delay: %s", el)
				}
				bodies = append(bodies, b)
			}
		}
		if strings.Join(bodies, ",") != strings.Join(tc.want, ",") {
			t.Errorf("history %s: got %v, want %v", tc.history, bodies, tc.want)
		}
		if last := got[len(got)-1]; last.ChildText("", "subject") != "Tea time" || last.Attr("from") != room+"/Al" {
			t.Errorf("last on entering: %s, want the subject", last)
		}
		e.send(carol, `<presence to='%R/C' type='unavailable'/>`)
		carol.take(t)
	}
}

// TestPrivateMessagesAndInvitations: a private message goes to every
// session of the nick, from the sender's occupant JID (§7.5); a mediated
// invitation reaches the invitee from the room, and the invitee's decline
// the inviter (§7.8.2).
func TestPrivateMessagesAndInvitations(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob, carol := e.user("alice", "a"), e.user("bob", "b"), e.user("carol", "c")
	e.create(alice)
	e.join(bob, "Bob")
	alice.take(t)
	// A forged stanza-id in the room's name is dropped (XEP-0359 §3);
	// one by another entity passes.
	e.send(bob, `<message to='%R/Al' type='chat' id='p1'><body>psst</body>`+
		`<stanza-id xmlns='urn:xmpp:sid:0' by='`+room+`' id='forged'/><stanza-id xmlns='urn:xmpp:sid:0' by='elsewhere.example' id='other'/></message>`)
	pm := alice.last(t)
	if pm.Attr("from") != room+"/Bob" || pm.ChildText("", "body") != "psst" || pm.Child(nsUser, "x") == nil {
		t.Fatalf("private message: %s", pm)
	}
	if s := pm.String(); strings.Contains(s, "forged") || !strings.Contains(s, "other") {
		t.Fatalf("private message's stanza-ids: %s", pm)
	}
	e.send(bob, `<message to='%R' id='i1'><x xmlns='`+nsUser+`'><invite to='carol@example.org'><reason>join us</reason></invite></x></message>`)
	inv := carol.last(t)
	in := inv.Child(nsUser, "x").Child(nsUser, "invite")
	if inv.Attr("from") != room || in.Attr("from") != "bob@example.org/b" || in.ChildText(nsUser, "reason") != "join us" {
		t.Fatalf("invitation: %s", inv)
	}
	if got := bob.take(t); len(got) != 0 {
		t.Fatalf("inviter got %v", got)
	}
	// carol declines: bob learns it from the room.
	e.send(carol, `<message to='%R'><x xmlns='`+nsUser+`'><decline to='bob@example.org'><reason>busy</reason></decline></x></message>`)
	dec := bob.last(t)
	d := dec.Child(nsUser, "x").Child(nsUser, "decline")
	if dec.Attr("from") != room || d.Attr("from") != "carol@example.org" || d.ChildText(nsUser, "reason") != "busy" {
		t.Fatalf("decline: %s", dec)
	}
}

// TestEndedRoomTakesItsArchive: a temporary room that empties, and a
// destroyed one, lose their archive, so that a new room of the same name
// shows nothing of the old one.
func TestEndedRoomTakesItsArchive(t *testing.T) {
	for _, end := range []string{"leave", "destroy"} {
		t.Run(end, func(t *testing.T) {
			e := newEnv(t, nil)
			alice := e.user("alice", "a")
			e.create(alice)
			e.send(alice, `<message to='%R' type='groupchat'><body>secret</body></message>`)
			if n, _ := e.Store.CountArchive(bg, storageQuery(room), 0); n != 1 {
				t.Fatalf("room archive holds %d items, want 1", n)
			}
			if end == "leave" {
				e.send(alice, `<presence to='%R/Al' type='unavailable'/>`)
			} else {
				e.send(alice, `<iq type='set' id='d' to='%R'><query xmlns='`+nsMUC+`#owner'><destroy/></query></iq>`)
			}
			if n, _ := e.Store.CountArchive(bg, storageQuery(room), 0); n != 0 {
				t.Fatalf("the ended room's archive holds %d items", n)
			}
		})
	}
}

// TestHistoryBoundedInBytes: the discussion history a room keeps in memory
// is bounded in bytes too (256 KiB), not only in messages: large
// messages push the oldest out, the newest always stays.
func TestHistoryBoundedInBytes(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.user("alice", "a"), e.user("bob", "b")
	e.create(alice)
	big := strings.Repeat("x", 120<<10)
	for i := range 3 {
		e.send(alice, `<message to='%R' type='groupchat'><body>`+string(rune('a'+i))+big+`</body></message>`)
	}
	alice.take(t)
	var bodies []string
	for _, el := range e.join(bob, `Bob`) {
		if b := el.ChildText("", "body"); b != "" {
			bodies = append(bodies, b[:1])
		}
	}
	if strings.Join(bodies, "") != "bc" {
		t.Fatalf("history holds %q, want the two newest (b, c)", bodies)
	}
}
