package muc_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/jid"
)

// TestIQs: what the service, a room and an occupant JID answer, and the
// refusals of the admin and owner protocols (§8-10, XEP-0410, XEP-0313);
// every iq gets exactly one reply.
func TestIQs(t *testing.T) {
	const admin, owner = `<query xmlns='` + nsMUC + `#admin'>`, `<query xmlns='` + nsMUC + `#owner'>`
	tests := []struct {
		name, from, iq, want string
		contains             []string
	}{
		{"service info", "carol", `<iq type='get' id='q' to='conference.example.org'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, "", []string{`category="conference"`, `type="text"`, `var="` + nsMUC + `"`}},
		{"service items: public rooms", "carol", `<iq type='get' id='q' to='conference.example.org'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`, "", []string{`jid="` + room + `"`, `name="Tea"`}},
		{"room info", "carol", `<iq type='get' id='q' to='%R'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, "", []string{"muc_nonanonymous", "muc_open", "muc_unmoderated", "muc_unsecured", "muc_temporary", "muc_public", "urn:xmpp:mam:2", `name="Tea"`}},
		{"self-ping", "bob", `<iq type='get' id='q' to='%R/Bob'><ping xmlns='urn:xmpp:ping'/></iq>`, "", nil},
		{"self-ping, not in the room", "carol", `<iq type='get' id='q' to='%R/Bob'><ping xmlns='urn:xmpp:ping'/></iq>`, "not-acceptable", nil},
		{"iq to a missing occupant", "bob", `<iq type='get' id='q' to='%R/Nobody'><query xmlns='jabber:iq:version'/></iq>`, "item-not-found", nil},
		{"iq to an occupant, not in the room", "carol", `<iq type='get' id='q' to='%R/Al'><query xmlns='jabber:iq:version'/></iq>`, "not-acceptable", nil},
		{"unknown payload to the room", "bob", `<iq type='get' id='q' to='%R'><query xmlns='jabber:iq:version'/></iq>`, "service-unavailable", nil},
		{"archive, not in the public open room", "carol", `<iq type='set' id='q' to='%R'><query xmlns='urn:xmpp:mam:2'/></iq>`, "", []string{"urn:xmpp:mam:2"}},
		{"archive form", "bob", `<iq type='get' id='q' to='%R'><query xmlns='urn:xmpp:mam:2'/></iq>`, "", []string{"jabber:x:data"}},
		{"configuration by a participant", "bob", `<iq type='get' id='q' to='%R'>` + owner + `</query></iq>`, "forbidden", nil},
		{"configuration form", "alice", `<iq type='get' id='q' to='%R'>` + owner + `</query></iq>`, "", []string{"muc#roomconfig_roomname", "muc#roomconfig_persistentroom", "muc#roomconfig_publicroom", "muc#roomconfig_membersonly", "muc#roomconfig_moderatedroom", "muc#roomconfig_passwordprotectedroom", "muc#roomconfig_roomsecret", "muc#roomconfig_whois", "muc#roomconfig_changesubject", "muc#roomconfig_maxusers", "muc#roomconfig_enablearchiving"}},
		{"bad maxusers", "alice", `<iq type='set' id='q' to='%R'>` + owner + `<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_maxusers'><value>100000</value></field></x></query></iq>`, "not-acceptable", nil},
		{"password without secret", "alice", `<iq type='set' id='q' to='%R'>` + owner + `<x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_passwordprotectedroom'><value>1</value></field></x></query></iq>`, "not-acceptable", nil},
		{"kick by a participant", "bob", `<iq type='set' id='q' to='%R'>` + admin + `<item nick='Al' role='none'/></query></iq>`, "forbidden", nil},
		{"kick of nobody", "alice", `<iq type='set' id='q' to='%R'>` + admin + `<item nick='Nobody' role='none'/></query></iq>`, "item-not-found", nil},
		{"last owner steps down", "alice", `<iq type='set' id='q' to='%R'>` + admin + `<item jid='alice@example.org' affiliation='member'/></query></iq>`, "conflict", nil},
		{"ban by a participant", "bob", `<iq type='set' id='q' to='%R'>` + admin + `<item jid='carol@example.org' affiliation='outcast'/></query></iq>`, "forbidden", nil},
		{"member list by a participant", "bob", `<iq type='get' id='q' to='%R'>` + admin + `<item affiliation='member'/></query></iq>`, "forbidden", nil},
		{"owner list", "alice", `<iq type='get' id='q' to='%R'>` + admin + `<item affiliation='owner'/></query></iq>`, "", []string{`jid="alice@example.org"`}},
		{"participant list", "alice", `<iq type='get' id='q' to='%R'>` + admin + `<item role='participant'/></query></iq>`, "", []string{`nick="Bob"`}},
		{"no such room", "alice", `<iq type='get' id='q' to='none@conference.example.org'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, "item-not-found", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			alice, bob, carol := e.user("alice", "a"), e.user("bob", "b"), e.user("carol", "c")
			e.create(alice, "muc#roomconfig_roomname", "Tea")
			e.join(bob, "Bob")
			alice.take(t)
			u := map[string]*user{"alice": alice, "bob": bob, "carol": carol}[tc.from]
			e.send(u, tc.iq)
			got := u.take(t)
			if len(got) != 1 || got[0].Attr("id") != "q" || condition(got[0]) != tc.want {
				t.Fatalf("got %v, want one reply with error %q", got, tc.want)
			}
			if tc.want == "" && got[0].Attr("type") != "result" {
				t.Fatalf("got %s, want a result", got[0])
			}
			for _, c := range tc.contains {
				if !strings.Contains(got[0].String(), c) {
					t.Errorf("reply lacks %s: %s", c, got[0])
				}
			}
		})
	}
}

// TestModeration: voice (§8.3-8.4), ban (§9.1, status 301, and the
// banned user cannot come back), members-only configuration removing
// non-members (322), and destroy (§10.9).
func TestModeration(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob, carol := e.user("alice", "a"), e.user("bob", "b"), e.user("carol", "c")
	e.create(alice, "muc#roomconfig_moderatedroom", "1")
	if s := summary(e.join(bob, "Bob")[1]); s != "presence /Bob available [100 170 110] none/visitor" {
		t.Fatalf("bob entered as %q", s)
	}
	e.join(carol, "Carol")
	alice.take(t)
	bob.take(t)
	// Voice for bob: everyone sees him become a participant.
	e.send(alice, `<iq type='set' id='v' to='%R'><query xmlns='`+nsMUC+`#admin'><item nick='Bob' role='participant'/></query></iq>`)
	if s := summaries(bob.take(t)); !slices.Equal(s, []string{"presence /Bob available [110] none/participant"}) {
		t.Fatalf("bob got %q", s)
	}
	if s := summaries(carol.take(t)); !slices.Equal(s, []string{"presence /Bob available [] none/participant"}) {
		t.Fatalf("carol got %q", s)
	}
	alice.take(t)

	// carol is banned.
	e.send(alice, `<iq type='set' id='b' to='%R'><query xmlns='`+nsMUC+`#admin'><item jid='carol@example.org' affiliation='outcast'><reason>spam</reason></item></query></iq>`)
	if s := summaries(carol.take(t)); !slices.Equal(s, []string{"presence /Carol unavailable [301 110] outcast/none"}) {
		t.Fatalf("carol got %q", s)
	}
	if s := summaries(bob.take(t)); !slices.Equal(s, []string{"presence /Carol unavailable [301] outcast/none"}) {
		t.Fatalf("bob got %q", s)
	}
	if got := e.join(carol, "Carol"); condition(got[0]) != "forbidden" {
		t.Fatalf("banned carol entered: %v", got)
	}
	alice.take(t)

	// Members-only: bob, no member, is removed with 322.
	e.configure(alice, "muc#roomconfig_membersonly", "1")
	if s := summaries(bob.take(t)); !slices.Equal(s, []string{"presence /Bob unavailable [322 110] none/none"}) {
		t.Fatalf("bob got %q", s)
	}

	// Destroyed: alice is told, and the room is gone.
	e.send(alice, `<iq type='set' id='d' to='%R'><query xmlns='`+nsMUC+`#owner'><destroy jid='new@conference.example.org'><reason>moved</reason></destroy></query></iq>`)
	got := alice.take(t)
	if len(got) != 2 || got[0].Attr("type") != "unavailable" || got[0].Child(nsUser, "x").Child(nsUser, "destroy").Attr("jid") != "new@conference.example.org" || got[1].Attr("type") != "result" {
		t.Fatalf("destroy: %v", got)
	}
	e.send(bob, `<iq type='get' id='i' to='%R'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if c := condition(bob.last(t)); c != "item-not-found" {
		t.Fatalf("destroyed room answered %q", c)
	}
}

// TestKickMultiSession: a kicked nick's every session is told (307, 110),
// each with its own real JID, and the others see the nick leave once.
func TestKickMultiSession(t *testing.T) {
	e := newEnv(t, nil)
	alice, phone, laptop := e.user("alice", "a"), e.user("bob", "phone"), e.user("bob", "laptop")
	e.create(alice)
	e.join(phone, "Bob")
	e.join(laptop, "Bob")
	alice.take(t)
	e.send(alice, `<iq type='set' id='k' to='%R'><query xmlns='`+nsMUC+`#admin'><item nick='Bob' role='none'/></query></iq>`)
	for _, u := range []*user{phone, laptop} {
		got := u.take(t)
		if s := summaries(got); !slices.Equal(s, []string{"presence /Bob unavailable [307 110] none/none"}) {
			t.Fatalf("%s got %q", u.s.JID(), s)
		}
		if j := got[0].Child(nsUser, "x").Child(nsUser, "item").Attr("jid"); j != u.s.JID().String() {
			t.Errorf("%s told of %s", u.s.JID(), j)
		}
	}
	if s := summaries(alice.take(t)[:1]); !slices.Equal(s, []string{"presence /Bob unavailable [307] none/none"}) {
		t.Fatalf("alice got %q", s)
	}
	e.send(phone, `<message to='%R' type='groupchat'><body>still here?</body></message>`)
	if c := condition(phone.last(t)); c != "not-acceptable" {
		t.Fatalf("kicked occupant's message: %q", c)
	}
}

// TestConfigChangeNotice: occupants of a configured room learn that the
// configuration changed (104) and, when it touches their privacy, how
// (171 logging off, 173 semi-anonymous); a non-moderator then no longer
// sees real JIDs.
func TestConfigChangeNotice(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob, carol := e.user("alice", "a"), e.user("bob", "b"), e.user("carol", "c")
	e.create(alice)
	e.join(bob, "Bob")
	e.configure(alice, "muc#roomconfig_whois", "moderators", "muc#roomconfig_enablearchiving", "0")
	note := bob.last(t)
	var codes []string
	for _, s := range note.Child(nsUser, "x").ChildrenNamed(nsUser, "status") {
		codes = append(codes, s.Attr("code"))
	}
	if note.Attr("from") != room || !slices.Equal(codes, []string{"104", "171", "173"}) {
		t.Fatalf("notice %s, codes %v", note, codes)
	}
	got := e.join(carol, "Carol")
	if j := got[0].Child(nsUser, "x").Child(nsUser, "item").Attr("jid"); j != "" {
		t.Fatalf("carol sees alice's real JID %s in a semi-anonymous room", j)
	}
	if s := summary(got[2]); s != "presence /Carol available [110] none/participant" {
		t.Fatalf("carol's self-presence %q: no 100 or 170 in a semi-anonymous, unlogged room", s)
	}
}

// TestVoiceRequest: a visitor's request for voice reaches the moderators
// as a form (§7.13); a moderator's approval gives the visitor voice
// (§8.6), which everyone sees.
func TestVoiceRequest(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.user("alice", "a"), e.user("bob", "b")
	e.create(alice, "muc#roomconfig_moderatedroom", "1")
	e.join(bob, "Bob")
	alice.take(t)
	e.send(bob, `<message to='%R'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field><field var='muc#role'><value>participant</value></field></x></message>`)
	req := alice.last(t)
	x := req.Child("jabber:x:data", "x")
	if req.Attr("from") != room || x.Attr("type") != "form" || !strings.Contains(x.String(), "bob@example.org/b") || !strings.Contains(x.String(), ">Bob<") {
		t.Fatalf("voice request: %s", req)
	}
	if got := bob.take(t); len(got) != 0 {
		t.Fatalf("visitor got %v", got)
	}
	e.send(alice, `<message to='%R'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field><field var='muc#roomnick'><value>Bob</value></field><field var='muc#request_allow'><value>true</value></field></x></message>`)
	if s := summaries(bob.take(t)); !slices.Equal(s, []string{"presence /Bob available [110] none/participant"}) {
		t.Fatalf("bob got %q", s)
	}
}

// TestMemberListForMembers: in a members-only, non-anonymous room a
// member reads the member, admin and owner lists (OMEMO clients need every
// member's JID) but not the ban list; in an open room only admins read
// them.
func TestMemberListForMembers(t *testing.T) {
	list := func(e *env, u *user, aff string) string {
		e.send(u, `<iq type='get' id='l' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='`+aff+`'/></query></iq>`)
		el := u.last(t)
		if c := condition(el); c != "" {
			return c
		}
		var jids []string
		for _, it := range el.Child(nsMUC+"#admin", "query").ChildrenNamed(nsMUC+"#admin", "item") {
			jids = append(jids, it.Attr("jid"))
		}
		return strings.Join(jids, " ")
	}
	for _, tc := range []struct {
		fields []string
		want   map[string]string
	}{
		{[]string{"muc#roomconfig_membersonly", "1"}, map[string]string{"member": "bob@example.org carol@example.org", "owner": "alice@example.org", "outcast": "forbidden"}},
		{nil, map[string]string{"member": "forbidden", "owner": "forbidden"}},
	} {
		e := newEnv(t, nil)
		alice, bob := e.user("alice", "a"), e.user("bob", "b")
		e.create(alice, tc.fields...)
		for _, j := range []string{"bob@example.org", "carol@example.org"} {
			e.send(alice, `<iq type='set' id='m' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='member' jid='`+j+`'/></query></iq>`)
		}
		// alice, present, was told of each new member.
		for i, el := range alice.take(t) {
			if i%2 == 1 {
				continue // the iq results
			}
			it := el.Child(nsUser, "x").Child(nsUser, "item")
			if el.Local != "message" || el.Attr("from") != room || it.Attr("affiliation") != "member" || it.Attr("jid") == "" {
				t.Errorf("affiliation notice: %s", el)
			}
		}
		for aff, want := range tc.want {
			if got := list(e, bob, aff); got != want {
				t.Errorf("config %v: bob reads the %s list: %q, want %q", tc.fields, aff, got, want)
			}
		}
	}
}

// TestLastOwnersInOneSet: a set that demotes every owner at once is
// refused whole with conflict (§10.6), though each item alone would
// leave an owner; the owners stay.
func TestLastOwnersInOneSet(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.user("alice", "a"), e.user("bob", "b")
	e.create(alice)
	e.join(bob, "Bob")
	e.send(alice, `<iq type='set' id='o' to='%R'><query xmlns='`+nsMUC+`#admin'><item jid='bob@example.org' affiliation='owner'/></query></iq>`)
	if el := alice.last(t); el.Attr("type") != "result" {
		t.Fatalf("making bob owner: %s", el)
	}
	bob.take(t)
	e.send(alice, `<iq type='set' id='d' to='%R'><query xmlns='`+nsMUC+`#admin'>`+
		`<item jid='alice@example.org' affiliation='admin'/><item jid='bob@example.org' affiliation='member'/></query></iq>`)
	if el := alice.last(t); condition(el) != "conflict" {
		t.Fatalf("demoting both owners got %s, want conflict", el)
	}
	e.send(alice, `<iq type='get' id='l' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='owner'/></query></iq>`)
	if got := alice.last(t).String(); !strings.Contains(got, "alice@example.org") || !strings.Contains(got, "bob@example.org") {
		t.Fatalf("owners after the refused set: %s", got)
	}
	// One of two owners may still step down.
	e.send(alice, `<iq type='set' id='s' to='%R'><query xmlns='`+nsMUC+`#admin'><item jid='alice@example.org' affiliation='admin'/></query></iq>`)
	if el := alice.last(t); el.Attr("type") != "result" {
		t.Fatalf("one owner stepping down: %s", el)
	}
}

// TestForgetAccount: a deleted account's ownership and membership leave
// every room, so that a new account of the same name inherits neither;
// a ban stays.
func TestForgetAccount(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.user("alice", "a"), e.user("bob", "b")
	e.create(alice, "muc#roomconfig_membersonly", "1", "muc#roomconfig_persistentroom", "1")
	admin := `<query xmlns='` + nsMUC + `#admin'>`
	for _, it := range []string{`<item jid='bob@example.org' affiliation='owner'/>`, `<item jid='carol@example.org' affiliation='member'/>`, `<item jid='mallory@example.org' affiliation='outcast'/>`} {
		e.send(alice, `<iq type='set' id='a' to='%R'>`+admin+it+`</query></iq>`)
		if el := alice.last(t); el.Attr("type") != "result" {
			t.Fatalf("%s: %s", it, el)
		}
	}
	for _, name := range []string{"carol", "alice", "mallory"} {
		if err := e.muc.ForgetAccount(bg, jid.MustParse(name+"@example.org")); err != nil {
			t.Fatal(err)
		}
	}
	bob.take(t)
	list := func(aff string) string {
		e.send(bob, `<iq type='get' id='l' to='%R'>`+admin+`<item affiliation='`+aff+`'/></query></iq>`)
		return bob.last(t).String()
	}
	if got := list("owner"); strings.Contains(got, "alice@") || !strings.Contains(got, "bob@") {
		t.Errorf("owners after alice's account went: %s", got)
	}
	if got := list("member"); strings.Contains(got, "carol@") {
		t.Errorf("members after carol's account went: %s", got)
	}
	if got := list("outcast"); !strings.Contains(got, "mallory@") {
		t.Errorf("the ban went with mallory's account: %s", got)
	}
	// A new carol is no member of the members-only room.
	carol := e.user("carol", "c")
	if got := e.join(carol, "C"); len(got) != 1 || condition(got[0]) != "registration-required" {
		t.Fatalf("new carol entering: %v", got)
	}
}

// TestActorInSemiAnonymousRoom: an owner who is not in a semi-anonymous
// room bans an occupant; the other occupants' presence does not name the
// owner by real JID (only moderators see real JIDs there, §4.1), while in
// a non-anonymous room it does.
func TestActorInSemiAnonymousRoom(t *testing.T) {
	for _, whois := range []string{"moderators", "anyone"} {
		t.Run(whois, func(t *testing.T) {
			e := newEnv(t, nil)
			alice, bob, carol := e.user("alice", "a"), e.user("bob", "b"), e.user("carol", "c")
			e.create(alice, "muc#roomconfig_whois", whois, "muc#roomconfig_persistentroom", "1")
			e.send(alice, `<presence to='%R/Al' type='unavailable'/>`)
			alice.take(t)
			e.join(bob, "Bob")
			e.join(carol, "Carol")
			bob.take(t)
			e.send(alice, `<iq type='set' id='b' to='%R'><query xmlns='`+nsMUC+`#admin'><item jid='carol@example.org' affiliation='outcast'/></query></iq>`)
			if el := alice.last(t); el.Attr("type") != "result" {
				t.Fatalf("ban: %s", el)
			}
			got := bob.take(t)
			if len(got) != 1 || got[0].Attr("type") != "unavailable" {
				t.Fatalf("bob got %v", got)
			}
			leaks := strings.Contains(got[0].String(), "alice@example.org")
			if leaks != (whois == "anyone") {
				t.Fatalf("whois %s: the owner's real JID shown to a participant: %v: %s", whois, leaks, got[0])
			}
		})
	}
}

// TestArchiveReaders: who may read a room's archive without being in the
// room (mayReadArchive): anyone in a public open room without a password,
// members in any room, never an outcast.
func TestArchiveReaders(t *testing.T) {
	const query = `<iq type='set' id='q' to='%R'><query xmlns='urn:xmpp:mam:2'/></iq>`
	admin := func(item string) string {
		return `<iq type='set' id='a' to='%R'><query xmlns='` + nsMUC + `#admin'>` + item + `</query></iq>`
	}
	tests := []struct {
		name   string
		config []string
		setup  string // sent by alice, the owner, before carol asks
		want   string
	}{
		{"public, open", nil, "", ""},
		{"hidden", []string{"muc#roomconfig_publicroom", "0"}, "", "forbidden"},
		{"members-only", []string{"muc#roomconfig_membersonly", "1"}, "", "forbidden"},
		{"password", []string{"muc#roomconfig_passwordprotectedroom", "1", "muc#roomconfig_roomsecret", "s3"}, "", "forbidden"},
		{"hidden, carol a member", []string{"muc#roomconfig_publicroom", "0"}, admin(`<item jid='carol@example.org' affiliation='member'/>`), ""},
		{"members-only, carol a member", []string{"muc#roomconfig_membersonly", "1"}, admin(`<item jid='carol@example.org' affiliation='member'/>`), ""},
		{"public, open, carol banned", nil, admin(`<item jid='carol@example.org' affiliation='outcast'/>`), "forbidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			alice, carol := e.user("alice", "a"), e.user("carol", "c")
			e.create(alice, tc.config...)
			if tc.setup != "" {
				e.send(alice, tc.setup)
				if got := alice.take(t); len(got) == 0 || got[len(got)-1].Attr("type") != "result" {
					t.Fatalf("setup: %v", got)
				}
			}
			carol.take(t)
			e.send(carol, query)
			got := carol.take(t)
			if len(got) != 1 || condition(got[0]) != tc.want {
				t.Fatalf("got %v, want one reply with error %q", got, tc.want)
			}
		})
	}
}
