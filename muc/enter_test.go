package muc_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/muc"
)

// TestEnterErrors: each way entering is refused (§7.2, §10.1.1) is
// answered with its condition, from the occupant JID asked for, and the
// refused user is not in the room.
func TestEnterErrors(t *testing.T) {
	long := string(make([]byte, 0))
	for range 65 {
		long += "n"
	}
	tests := []struct {
		name    string
		tweak   func(*muc.Config)
		fields  []string                  // room configuration; nil: alice leaves it locked
		setup   func(e *env, alice *user) // after creating
		join    string
		want    string
		errType string // checked if set
	}{
		{name: "no nick", fields: []string{}, join: `<presence to='%R'><x xmlns='` + nsMUC + `'/></presence>`, want: "jid-malformed"},
		{name: "nick too long", fields: []string{}, join: `<presence to='%R/` + long + `'/>`, want: "not-acceptable"},
		{name: "locked room", join: `<presence to='%R/C'><x xmlns='` + nsMUC + `'/></presence>`, want: "item-not-found"},
		{name: "banned", fields: []string{}, setup: func(e *env, alice *user) {
			e.send(alice, `<iq type='set' id='b' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='outcast' jid='carol@example.org'/></query></iq>`)
		}, join: `<presence to='%R/C'/>`, want: "forbidden"},
		{name: "members only", fields: []string{"muc#roomconfig_membersonly", "1"}, join: `<presence to='%R/C'/>`, want: "registration-required"},
		{name: "no password", fields: []string{"muc#roomconfig_passwordprotectedroom", "1", "muc#roomconfig_roomsecret", "pw"}, join: `<presence to='%R/C'><x xmlns='` + nsMUC + `'/></presence>`, want: "not-authorized"},
		{name: "wrong password", fields: []string{"muc#roomconfig_passwordprotectedroom", "1", "muc#roomconfig_roomsecret", "pw"}, join: `<presence to='%R/C'><x xmlns='` + nsMUC + `'><password>no</password></x></presence>`, want: "not-authorized"},
		{name: "right password", fields: []string{"muc#roomconfig_passwordprotectedroom", "1", "muc#roomconfig_roomsecret", "pw"}, join: `<presence to='%R/C'><x xmlns='` + nsMUC + `'><password>pw</password></x></presence>`, want: ""},
		{name: "nick taken", fields: []string{}, join: `<presence to='%R/Al'/>`, want: "conflict"},
		{name: "room full", fields: []string{"muc#roomconfig_maxusers", "1"}, join: `<presence to='%R/C'/>`, want: "service-unavailable", errType: "wait"},
		{name: "too many rooms", tweak: func(c *muc.Config) { c.MaxRooms = 1 }, fields: []string{}, join: `<presence to='other@conference.example.org/C'/>`, want: "not-allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.tweak)
			alice, carol := e.user("alice", "a"), e.user("carol", "c")
			if tc.fields == nil {
				e.send(alice, `<presence to='%R/Al'><x xmlns='`+nsMUC+`'/></presence>`)
			} else {
				e.create(alice, tc.fields...)
			}
			if tc.setup != nil {
				tc.setup(e, alice)
			}
			alice.take(t)
			e.send(carol, tc.join)
			got := carol.take(t)
			if tc.want == "" {
				if len(got) == 0 || condition(got[0]) != "" {
					t.Fatalf("entering refused: %v", got)
				}
				return
			}
			if len(got) != 1 || condition(got[0]) != tc.want {
				t.Fatalf("got %v, want one %s error", got, tc.want)
			}
			if typ := got[0].Child("", "error").Attr("type"); tc.errType != "" && typ != tc.errType {
				t.Fatalf("error type %s, want %s", typ, tc.errType)
			}
			if from := got[0].Attr("from"); !strings.HasPrefix(from, "room@") && !strings.HasPrefix(from, "other@") {
				t.Fatalf("error from %s, want the occupant JID asked for", from)
			}
			// Nobody saw carol enter.
			if seen := alice.take(t); len(seen) != 0 {
				t.Fatalf("alice was sent %v", seen)
			}
		})
	}
}

// TestEnterOrderAndMultiSession: a newcomer gets the others' presence,
// its own (110, 100) last, then the subject; a second resource of the same
// account shares the nick without the others seeing a second occupant; the
// nick leaves only when its last session does, and a session that ends
// leaves like one that sent unavailable.
func TestEnterOrderAndMultiSession(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.user("alice", "a"), e.user("bob", "phone")
	e.create(alice)
	got := e.join(bob, "Bob")
	want := []string{
		"presence /Al available [] owner/moderator",
		"presence /Bob available [100 170 110] none/participant",
	}
	if s := summaries(got[:2]); !slices.Equal(s, want) {
		t.Fatalf("bob got %q, want %q", s, want)
	}
	if len(got) != 3 || got[2].Child("", "subject") == nil {
		t.Fatalf("subject not last: %v", got)
	}
	if s := summaries(alice.take(t)); !slices.Equal(s, []string{"presence /Bob available [] none/participant"}) {
		t.Fatalf("alice got %q", s)
	}

	// bob's second device takes the same nick.
	laptop := e.user("bob", "laptop")
	got = e.join(laptop, "Bob")
	if s := summaries(got[:2]); !slices.Equal(s, []string{"presence /Al available [] owner/moderator", "presence /Bob available [100 170 110] none/participant"}) {
		t.Fatalf("laptop got %q", s)
	}
	if seen := alice.take(t); len(seen) != 0 {
		t.Fatalf("alice saw the second session: %v", seen)
	}
	// A message reaches both of bob's sessions.
	e.send(alice, `<message to='%R' type='groupchat'><body>hi</body></message>`)
	if len(bob.rec.Take()) != 1 || len(laptop.rec.Take()) != 1 {
		t.Fatal("a groupchat message did not reach both sessions")
	}
	alice.take(t)

	// The phone leaves: only it hears; the laptop keeps the nick.
	e.send(bob, `<presence to='%R/Bob' type='unavailable'/>`)
	if s := summaries(bob.take(t)); !slices.Equal(s, []string{"presence /Bob unavailable [110] none/none"}) {
		t.Fatalf("phone got %q", s)
	}
	if seen := alice.take(t); len(seen) != 0 {
		t.Fatalf("alice saw one of two sessions leave: %v", seen)
	}
	// The laptop's session ends: the nick leaves, no ghost stays.
	e.Router.Unbind(bg, laptop.s)
	if s := summaries(alice.take(t)); !slices.Equal(s, []string{"presence /Bob unavailable [] none/none"}) {
		t.Fatalf("alice got %q", s)
	}
	e.send(alice, `<iq type='get' id='l' to='%R'><query xmlns='`+nsMUC+`#admin'><item role='participant'/></query></iq>`)
	if el := alice.last(t); el.Child(nsMUC+"#admin", "query").Child("", "item") != nil {
		t.Fatalf("participants after everyone left: %s", el)
	}
}

// TestNonMUCClientGetsInstantRoom: presence without <x/> (groupchat 1.0)
// creates an unlocked room others can enter at once (§10.1.1).
func TestNonMUCClientGetsInstantRoom(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.user("alice", "a"), e.user("bob", "b")
	e.send(alice, `<presence to='%R/Al'/>`)
	if s := summary(alice.take(t)[0]); s != "presence /Al available [100 170 201 110] owner/moderator" {
		t.Fatalf("creator got %q", s)
	}
	if got := e.join(bob, "Bob"); condition(got[0]) != "" {
		t.Fatalf("bob refused: %v", got)
	}
}

// TestLockedRoomGoesWithItsCreator: a room being created is hidden from
// others, and removed when its creator leaves it locked (§10.1.3), so the
// name is free again.
func TestLockedRoomGoesWithItsCreator(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.user("alice", "a"), e.user("bob", "b")
	e.send(alice, `<presence to='%R/Al'><x xmlns='`+nsMUC+`'/></presence>`)
	e.send(bob, `<iq type='get' id='i' to='%R'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if c := condition(bob.last(t)); c != "item-not-found" {
		t.Fatalf("a room being created answered disco#info with %q", c)
	}
	e.send(alice, `<presence to='%R/Al' type='unavailable'/>`)
	got := e.join(bob, "Bob")
	if s := summary(got[0]); s != "presence /Bob available [100 170 201 110] owner/moderator" {
		t.Fatalf("bob got %q", s)
	}
	_ = routertest.Domain
}

// TestRejoinFromOccupantSession: a join presence from a session that is
// in the room already (a web client reloaded on a resumed stream, or a
// client whose XEP-0410 self-ping failed) gets the whole join of §7.2.3
// again: the others' presence, its self-presence with its codes, the
// history and the subject last; the others see a presence update only.
func TestRejoinFromOccupantSession(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.user("alice", "a"), e.user("bob", "b")
	e.create(alice)
	e.join(bob, "Bob")
	e.send(alice, `<message to='%R' type='groupchat'><body>before</body></message>`)
	alice.take(t)
	bob.take(t)

	got := e.join(bob, "Bob")
	want := []string{
		"presence /Al available [] owner/moderator",
		"presence /Bob available [100 170 110] none/participant",
	}
	if len(got) != 4 {
		t.Fatalf("rejoin got %d stanzas, want occupant, self, history, subject: %v", len(got), got)
	}
	if s := summaries(got[:2]); !slices.Equal(s, want) {
		t.Fatalf("rejoin got %q, want %q", s, want)
	}
	if got[2].ChildText("", "body") != "before" || got[2].Child("urn:xmpp:delay", "delay") == nil {
		t.Fatalf("history not sent on rejoin: %s", got[2])
	}
	if got[3].Child("", "subject") == nil {
		t.Fatalf("subject not last on rejoin: %s", got[3])
	}
	if s := summaries(alice.take(t)); !slices.Equal(s, []string{"presence /Bob available [] none/participant"}) {
		t.Fatalf("alice got %q", s)
	}
	// A plain presence update (no <x/>) is broadcast as before, no rejoin.
	e.send(bob, `<presence to='%R/Bob'><show>away</show></presence>`)
	if got := bob.take(t); len(got) != 1 || got[0].ChildText("", "show") != "away" {
		t.Fatalf("presence update got %v", got)
	}
}

// TestEndedSessionDoesNotEnter: a join presence handled after its session
// ended (a new connection binding the same full JID ends the old one
// while the old reader still hands on a stanza) does not enter: the room
// would keep a ghost that SessionEnded never removes.
func TestEndedSessionDoesNotEnter(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.user("alice", "a"), e.user("bob", "b")
	e.create(alice)
	e.Router.Unbind(bg, bob.s)
	e.join(bob, "Bob")
	if seen := alice.take(t); len(seen) != 0 {
		t.Fatalf("alice saw an ended session enter: %v", seen)
	}
	e.send(alice, `<iq type='get' id='l' to='%R'><query xmlns='`+nsMUC+`#admin'><item role='participant'/></query></iq>`)
	if el := alice.last(t); strings.Contains(el.String(), "Bob") {
		t.Fatalf("an ended session is an occupant: %s", el)
	}
	// An ended session creating a room (an instant one: no <x/>) leaves
	// none behind.
	e.send(bob, `<presence to='other@`+service+`/Bob'/>`)
	e.send(alice, `<iq type='get' id='i' to='other@`+service+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if el := alice.last(t); condition(el) != "item-not-found" {
		t.Fatalf("the room an ended session created exists: %s", el)
	}
}
