package muc_test

import (
	"github.com/skald-xmpp/skald/muc"
	"strings"
	"testing"
)

const nsRegister = "jabber:iq:register"

// registerIQ is carol's registration with the nick (the muc#register form).
func registerIQ(nick string) string {
	return `<iq type='set' id='r' to='%R'><query xmlns='` + nsRegister + `'><x xmlns='jabber:x:data' type='submit'>` +
		`<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#register</value></field>` +
		`<field var='muc#register_roomnick'><value>` + nick + `</value></field></x></query></iq>`
}

// TestRegisterErrors: the refusals of §7.10 and their conditions; a
// refused registration changes no affiliation.
func TestRegisterErrors(t *testing.T) {
	tests := []struct {
		name   string
		fields []string
		setup  func(e *env, alice, bob *user)
		iq     string
		want   string
		// carolIn: carol enters as Cee first; voice: alice then gives
		// her voice.
		carolIn, voice bool
	}{
		{name: "form", iq: `<iq type='get' id='r' to='%R'><query xmlns='` + nsRegister + `'/></iq>`, want: ""},
		{name: "no such room", iq: `<iq type='get' id='r' to='none@` + service + `'><query xmlns='` + nsRegister + `'/></iq>`, want: "item-not-found"},
		{name: "members-only room", fields: []string{"muc#roomconfig_membersonly", "1"}, iq: registerIQ("Carol"), want: "not-allowed"},
		{name: "members-only room, form", fields: []string{"muc#roomconfig_membersonly", "1"}, iq: `<iq type='get' id='r' to='%R'><query xmlns='` + nsRegister + `'/></iq>`, want: "not-allowed"},
		{name: "banned", setup: func(e *env, alice, _ *user) {
			e.send(alice, `<iq type='set' id='b' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='outcast' jid='carol@example.org'/></query></iq>`)
		}, iq: registerIQ("Carol"), want: "not-allowed"},
		{name: "nick reserved by another", setup: func(e *env, _, bob *user) {
			e.send(bob, strings.ReplaceAll(registerIQ("Carol"), "id='r'", "id='rb'"))
		}, iq: registerIQ("Carol"), want: "conflict"},
		{name: "nick in use by an occupant", setup: func(e *env, _, bob *user) { e.join(bob, "Carol") }, iq: registerIQ("Carol"), want: "conflict"},
		{name: "no nick", iq: registerIQ(""), want: "bad-request"},
		{name: "blank nick", iq: registerIQ("   "), want: "bad-request"},
		{name: "nick too long", iq: registerIQ(strings.Repeat("n", 65)), want: "not-acceptable"},
		{name: "form not submitted", iq: `<iq type='set' id='r' to='%R'><query xmlns='` + nsRegister + `'><x xmlns='jabber:x:data' type='form'/></query></iq>`, want: "bad-request"},
		{name: "wrong FORM_TYPE", iq: `<iq type='set' id='r' to='%R'><query xmlns='` + nsRegister + `'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:other</value></field><field var='muc#register_roomnick'><value>C</value></field></x></query></iq>`, want: "bad-request"},
		{name: "moderated room, not in it", fields: []string{"muc#roomconfig_moderatedroom", "1"}, iq: registerIQ("Carol"), want: "not-allowed"},
		{name: "moderated room, visitor", fields: []string{"muc#roomconfig_moderatedroom", "1"}, setup: func(e *env, _, _ *user) {}, iq: registerIQ("Carol"), want: "not-allowed", carolIn: true},
		{name: "moderated room, participant", fields: []string{"muc#roomconfig_moderatedroom", "1"}, setup: func(e *env, alice, _ *user) {}, iq: registerIQ("Carol"), want: "", carolIn: true, voice: true},
		// XEP-0077 §3.2: cancelling.
		{name: "cancel, not registered", iq: `<iq type='set' id='r' to='%R'><query xmlns='` + nsRegister + `'><remove/></query></iq>`, want: "registration-required"},
		{name: "cancel with more", setup: func(e *env, _, _ *user) {}, iq: `<iq type='set' id='r' to='%R'><query xmlns='` + nsRegister + `'><remove/><username>C</username></query></iq>`, want: "bad-request"},
		{name: "affiliation lists full", setup: func(e *env, _, _ *user) {}, iq: registerIQ("Carol"), want: "policy-violation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *muc.Config) {
				if tc.want == "policy-violation" {
					c.MaxAffiliations = 1
				}
			})
			alice, bob, carol := e.user("alice", "a"), e.user("bob", "b"), e.user("carol", "c")
			e.create(alice, tc.fields...)
			if tc.setup != nil {
				tc.setup(e, alice, bob)
			}
			if tc.carolIn {
				e.join(carol, "Cee")
			}
			if tc.voice {
				e.send(alice, `<iq type='set' id='v' to='%R'><query xmlns='`+nsMUC+`#admin'><item nick='Cee' role='participant'/></query></iq>`)
				carol.take(t)
			}
			alice.take(t)
			e.send(carol, tc.iq)
			got := carol.take(t)
			if tc.want == "" && len(got) > 1 {
				got = got[len(got)-1:] // her presence as a member first
			}
			if len(got) != 1 || got[0].Attr("id") != "r" || condition(got[0]) != tc.want {
				t.Fatalf("got %v, want one reply with error %q", got, tc.want)
			}
			if tc.want != "" && tc.want != "item-not-found" {
				e.send(alice, `<iq type='get' id='l' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='member'/></query></iq>`)
				if l := alice.last(t).String(); strings.Contains(l, "carol@") {
					t.Fatalf("carol became a member: %s", l)
				}
			}
		})
	}
}

// TestRegisterReservesNick: registering (§7.10) makes carol a member with
// her nick reserved: the occupants see her new affiliation, she learns the
// nick from x-roomuser-item (§7.12) and the registration get says she is
// registered; nobody else enters under it or changes to it (conflict,
// §7.2.8, §7.6), while she may; the member list shows it (§9.5); an admin
// can move it, a ban removes it (§9.1), and cancelling makes her
// unaffiliated again.
func TestRegisterReservesNick(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob, carol := e.user("alice", "a"), e.user("bob", "b"), e.user("carol", "c")
	e.create(alice)
	e.join(carol, "Cee")
	alice.take(t)

	e.send(carol, `<iq type='get' id='n0' to='%R'><query xmlns='`+nsDiscoInfo+`' node='x-roomuser-item'/></iq>`)
	if got := carol.last(t); got.Attr("type") != "result" || got.Child(nsDiscoInfo, "query").Child(nsDiscoInfo, "identity") != nil {
		t.Fatalf("reserved nick before registering: %s", got)
	}
	e.send(carol, registerIQ("Carol"))
	got := carol.take(t)
	// Her updated presence (member now), then the result.
	if len(got) != 2 || summary(got[0]) != "presence /Cee available [110] member/participant" || got[1].Attr("type") != "result" {
		t.Fatalf("carol after registering: %v", summaries(got))
	}
	if s := summary(alice.last(t)); s != "presence /Cee available [] member/participant" {
		t.Fatalf("alice sees %s", s)
	}
	e.send(carol, `<iq type='get' id='n1' to='%R'><query xmlns='`+nsDiscoInfo+`' node='x-roomuser-item'/></iq>`)
	if id := carol.last(t).Child(nsDiscoInfo, "query").Child(nsDiscoInfo, "identity"); id.Attr("name") != "Carol" || id.Attr("category") != "conference" || id.Attr("type") != "text" {
		t.Fatalf("reserved nick: %s", id)
	}
	e.send(carol, `<iq type='get' id='g' to='%R'><query xmlns='`+nsRegister+`'/></iq>`)
	if q := carol.last(t).Child(nsRegister, "query"); q.Child(nsRegister, "registered") == nil || q.ChildText(nsRegister, "username") != "Carol" {
		t.Fatalf("registration get: %s", q)
	}

	// Others are refused the nick; carol may change to it.
	e.send(bob, `<presence to='%R/Carol'><x xmlns='`+nsMUC+`'/></presence>`)
	if got := bob.last(t); condition(got) != "conflict" {
		t.Fatalf("bob entering as Carol: %s", got)
	}
	e.join(bob, "Bob")
	e.send(bob, `<presence to='%R/Carol'/>`)
	if got := bob.last(t); condition(got) != "conflict" {
		t.Fatalf("bob changing to Carol: %s", got)
	}
	carol.take(t)
	e.send(carol, `<presence to='%R/Carol'/>`)
	if got := carol.take(t); len(got) != 2 || summary(got[1]) != "presence /Carol available [110] member/participant" {
		t.Fatalf("carol changing to her nick: %v", summaries(got))
	}
	alice.take(t)

	// The member list carries it; an admin moves it to another member.
	e.send(alice, `<iq type='get' id='l' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='member'/></query></iq>`)
	if l := alice.last(t).String(); !strings.Contains(l, `jid="carol@example.org" nick="Carol"`) {
		t.Fatalf("member list: %s", l)
	}
	e.send(alice, `<iq type='set' id='m' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='member' jid='bob@example.org' nick='Carol'/></query></iq>`)
	if got := alice.last(t); condition(got) != "conflict" {
		t.Fatalf("reserving carol's nick for bob: %s", got)
	}
	e.send(alice, `<iq type='set' id='m' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='member' jid='carol@example.org' nick=''/></query></iq>`)
	if got := alice.last(t); condition(got) != "" {
		t.Fatalf("clearing carol's reservation: %s", got)
	}
	e.send(alice, `<iq type='set' id='m' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='member' jid='bob@example.org' nick='Carol'/></query></iq>`)
	if got := alice.last(t); condition(got) != "" {
		t.Fatalf("reserving Carol for bob: %s", got)
	}
	e.send(bob, `<iq type='get' id='n2' to='%R'><query xmlns='`+nsDiscoInfo+`' node='x-roomuser-item'/></iq>`)
	if id := bob.last(t).Child(nsDiscoInfo, "query").Child(nsDiscoInfo, "identity"); id.Attr("name") != "Carol" {
		t.Fatalf("bob's reserved nick: %s", id)
	}

	// A ban removes bob's reservation: carol may take the nick back.
	e.send(alice, `<iq type='set' id='b' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='outcast' jid='bob@example.org'/></query></iq>`)
	alice.take(t)
	carol.take(t)
	e.send(carol, registerIQ("Carol"))
	if got := carol.last(t); condition(got) != "" {
		t.Fatalf("carol registering Carol after bob's ban: %s", got)
	}

	// Cancelling: carol is unaffiliated, her nick free.
	e.send(carol, `<iq type='set' id='x' to='%R'><query xmlns='`+nsRegister+`'><remove/></query></iq>`)
	got = carol.take(t)
	if len(got) != 2 || summary(got[0]) != "presence /Carol available [110] none/participant" || got[1].Attr("type") != "result" {
		t.Fatalf("carol cancelling: %v", summaries(got))
	}
	e.send(carol, `<iq type='get' id='n3' to='%R'><query xmlns='`+nsDiscoInfo+`' node='x-roomuser-item'/></iq>`)
	if got := carol.last(t); got.Child(nsDiscoInfo, "query").Child(nsDiscoInfo, "identity") != nil {
		t.Fatalf("reserved nick after cancelling: %s", got)
	}
}

// TestUnregisterLeavesMembersOnlyRoom: a member who cancels its
// registration with a members-only room is no longer allowed in and
// leaves it with 321 (§9.4); the room stays for its owner.
func TestUnregisterLeavesMembersOnlyRoom(t *testing.T) {
	e := newEnv(t, nil)
	alice, carol := e.user("alice", "a"), e.user("carol", "c")
	e.create(alice, "muc#roomconfig_membersonly", "1")
	e.send(alice, `<iq type='set' id='m' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='member' jid='carol@example.org'/></query></iq>`)
	e.join(carol, "Carol")
	alice.take(t)
	e.send(carol, registerIQ("Carol"))
	if got := carol.last(t); condition(got) != "" {
		t.Fatalf("a member registering a nick in a members-only room: %s", got)
	}
	e.send(carol, `<iq type='set' id='x' to='%R'><query xmlns='`+nsRegister+`'><remove/></query></iq>`)
	got := carol.take(t)
	if len(got) != 2 || summary(got[0]) != "presence /Carol unavailable [321 110] none/none" {
		t.Fatalf("carol cancelling: %v", summaries(got))
	}
	if s := summary(alice.last(t)); s != "presence /Carol unavailable [321] none/none" {
		t.Fatalf("alice sees %s", s)
	}
}
