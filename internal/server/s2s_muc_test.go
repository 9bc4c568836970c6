package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

const fedRoom = "tea@conference.a.test"

// startMUCFederation starts a.test and b.test, with conference.a.test
// reachable over server-to-server streams (its SRV record points at
// a.test's listener, as an operator's DNS would).
func startMUCFederation(t *testing.T, aExtra string) (a, b *fedServer) {
	t.Helper()
	res := &fakeSRV{ports: map[string]int{}}
	a = startFederated(t, "a.test", res, aExtra, "alice", "carol")
	res.set("conference.a.test", a.S2SAddr())
	b = startFederated(t, "b.test", res, "", "bob", "dave")
	return a, b
}

// isFrom matches a stanza of kind from exactly from.
func isFrom(kind, from string) func(*xml.Element) bool {
	return func(el *xml.Element) bool { return el.Local == kind && el.Attr("from") == from }
}

// enterRemote has c (a user of b.test) enter fedRoom as nick and reads
// up to its self-presence.
func enterRemote(t *testing.T, c *xmpptest.Conn, nick string) *xml.Element {
	t.Helper()
	c.Send(`<presence to='` + fedRoom + `/` + nick + `'><x xmlns='` + nsMUC + `'/></presence>`)
	return c.Expect(func(el *xml.Element) bool {
		codes, _ := mucStatuses(el)
		return el.Local == "presence" && el.Attr("from") == fedRoom+"/"+nick && strings.Contains(codes, "110")
	})
}

// TestFederationMUC: bob@b.test enters alice's room on conference.a.test
// over server-to-server streams (from conference.a.test to b.test and
// back, each authenticated with dialback), chats, sends and gets private
// messages, reads the room's archive (XEP-0313 on the room), is invited,
// and is kicked; his own archive keeps the private message only (XEP-0313
// "Business rules": groupchat messages are the room's to archive).
func TestFederationMUC(t *testing.T) {
	a, b := startMUCFederation(t, "")
	alice := a.login(t, "alice", "phone")
	alice.Send(`<presence/>`)
	alice.Expect(isFrom("presence", "alice@a.test/phone")) // her own
	alice.Send(`<presence to='` + fedRoom + `/Al'/>`)      // an instant room
	wantPresence(t, alice, fedRoom+"/Al", "", "100 170 201 110", "owner/moderator alice@a.test/phone")
	wantSubject(t, alice)

	bob := b.login(t, "bob", "laptop")
	bob.Send(`<presence/>`)
	// The room does not exist for remote users before it is made; they
	// may not make it (§10.1.1).
	bob.Send(`<presence to='coffee@conference.a.test/Bob'><x xmlns='` + nsMUC + `'/></presence>`)
	wantErrorCond(t, bob.Expect(isFrom("presence", "coffee@conference.a.test/Bob")), "not-allowed")

	self := enterRemote(t, bob, "Bob")
	if _, item := mucStatuses(self); item != "none/participant bob@b.test/laptop" {
		t.Fatalf("bob's self-presence: %s", self)
	}
	wantPresence(t, alice, fedRoom+"/Bob", "", "", "none/participant bob@b.test/laptop")
	if n := a.MUC.RemoteOccupants("b.test"); n != 1 {
		t.Fatalf("%d remote occupants from b.test, want 1", n)
	}
	if v, _ := a.Metrics.Value("skald_muc_remote_occupant_sessions"); v != 1 {
		t.Fatalf("skald_muc_remote_occupant_sessions = %v", v)
	}

	// Groupchat both ways: every occupant gets the room's copy, with the
	// room's stanza-id.
	bob.Send(`<message to='` + fedRoom + `' type='groupchat' id='g1'><body>hi from b</body></message>`)
	for _, c := range []*xmpptest.Conn{alice, bob} {
		m := c.Expect(isFrom("message", fedRoom+"/Bob"))
		if m.ChildText("jabber:client", "body") != "hi from b" || m.Child("urn:xmpp:sid:0", "stanza-id").Attr("by") != fedRoom {
			t.Fatalf("groupchat copy: %s", m)
		}
	}
	alice.Send(`<message to='` + fedRoom + `' type='groupchat' id='g2'><body>hi from a</body></message>`)
	if m := bob.Expect(isFrom("message", fedRoom+"/Al")); m.ChildText("jabber:client", "body") != "hi from a" {
		t.Fatalf("bob got %s", m)
	}
	alice.Expect(isFrom("message", fedRoom+"/Al"))

	// Private messages (§7.5), both ways.
	bob.Send(`<message to='` + fedRoom + `/Al' type='chat' id='p1'><body>psst</body><x xmlns='` + nsMUCUser + `'/></message>`)
	if m := alice.Expect(isFrom("message", fedRoom+"/Bob")); m.ChildText("jabber:client", "body") != "psst" {
		t.Fatalf("alice got %s", m)
	}
	alice.Send(`<message to='` + fedRoom + `/Bob' type='chat' id='p2'><body>psst back</body><x xmlns='` + nsMUCUser + `'/></message>`)
	if m := bob.Expect(isFrom("message", fedRoom+"/Al")); m.ChildText("jabber:client", "body") != "psst back" {
		t.Fatalf("bob got %s", m)
	}

	// The room's archive, asked by the remote occupant: results come from
	// the room, the fin last.
	bob.Send(`<iq type='set' id='rq' to='` + fedRoom + `'><query xmlns='` + nsMAM + `' queryid='rq'/></iq>`)
	var bodies []string
	for {
		el := bob.Next()
		if r := el.Child(nsMAM, "result"); el.Local == "message" && r != nil {
			if el.Attr("from") != fedRoom {
				t.Fatalf("result from %s", el.Attr("from"))
			}
			msg := r.Child("urn:xmpp:forward:0", "forwarded").Child("jabber:client", "message")
			bodies = append(bodies, msg.ChildText("jabber:client", "body"))
			continue
		}
		if el.Local == "iq" && el.Attr("id") == "rq" {
			if el.Attr("type") != "result" || el.Child(nsMAM, "fin") == nil {
				t.Fatalf("room archive query: %s", el)
			}
			break
		}
	}
	if strings.Join(bodies, "|") != "hi from b|hi from a" {
		t.Fatalf("room archive: %q", bodies)
	}
	// Disco of the room, over s2s.
	bob.Send(`<iq type='get' id='di' to='` + fedRoom + `'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if di := bob.Expect(func(el *xml.Element) bool { return el.Attr("id") == "di" }); di.Attr("type") != "result" ||
		!strings.Contains(di.String(), "muc_nonanonymous") {
		t.Fatalf("room disco#info: %s", di)
	}

	// bob's own archive: the private message he received (and the one he
	// sent), never the groupchat (XEP-0313: the room archives those).
	if got := strings.Join(archivedBodies(t, bob), "|"); got != "psst|psst back" {
		t.Fatalf("bob's archive: %q", got)
	}

	// A mediated invitation to another user of b.test goes from the room
	// over s2s (§7.8.2).
	dave := b.login(t, "dave", "pc")
	dave.Send(`<presence/>`)
	alice.Send(`<message to='` + fedRoom + `'><x xmlns='` + nsMUCUser + `'><invite to='dave@b.test'/></x></message>`)
	inv := dave.Expect(isFrom("message", fedRoom))
	if inv.Child(nsMUCUser, "x").Child(nsMUCUser, "invite").Attr("from") != "alice@a.test/phone" {
		t.Fatalf("dave got %s", inv)
	}

	// Kick (§8.2): the remote occupant gets 307 with 110, alice 307.
	alice.Send(`<iq type='set' id='k' to='` + fedRoom + `'><query xmlns='http://jabber.org/protocol/muc#admin'>` +
		`<item nick='Bob' role='none'><reason>enough</reason></item></query></iq>`)
	gone := bob.Expect(func(el *xml.Element) bool {
		return el.Local == "presence" && el.Attr("from") == fedRoom+"/Bob" && el.Attr("type") == "unavailable"
	})
	if codes, _ := mucStatuses(gone); codes != "307 110" {
		t.Fatalf("bob's kick presence: %s", gone)
	}
	alice.Expect(func(el *xml.Element) bool { return el.Attr("id") == "k" && el.Attr("type") == "result" })
	if n := a.MUC.RemoteOccupants("b.test"); n != 0 {
		t.Fatalf("%d remote occupants from b.test after the kick", n)
	}
	// Gone means gone: his messages are refused now.
	bob.Send(`<message to='` + fedRoom + `' type='groupchat' id='g3'><body>still here?</body></message>`)
	wantErrorCond(t, bob.Expect(func(el *xml.Element) bool { return el.Attr("id") == "g3" }), "not-acceptable")

	// Ban (§9.1) of his remote bare JID: entering again is forbidden.
	alice.Send(`<iq type='set' id='ban' to='` + fedRoom + `'><query xmlns='http://jabber.org/protocol/muc#admin'>` +
		`<item jid='bob@b.test' affiliation='outcast'/></query></iq>`)
	alice.Expect(func(el *xml.Element) bool { return el.Attr("id") == "ban" && el.Attr("type") == "result" })
	bob.Send(`<presence to='` + fedRoom + `/Bob'><x xmlns='` + nsMUC + `'/></presence>`)
	wantErrorCond(t, bob.Expect(isFrom("presence", fedRoom+"/Bob")), "forbidden")
}

// TestFederationMUCRemoteLimit: max_remote_occupants_per_domain bounds
// the sessions of one remote domain over all rooms; a session leaving
// frees its place.
func TestFederationMUCRemoteLimit(t *testing.T) {
	a, b := startMUCFederation(t, "[muc]\nmax_remote_occupants_per_domain = 1\n")
	alice := a.login(t, "alice", "phone")
	alice.Send(`<presence to='` + fedRoom + `/Al'/>`)
	alice.Expect(isFrom("presence", fedRoom+"/Al"))
	wantSubject(t, alice)
	bob, dave := b.login(t, "bob", "laptop"), b.login(t, "dave", "pc")
	enterRemote(t, bob, "Bob")
	dave.Send(`<presence to='` + fedRoom + `/Dave'><x xmlns='` + nsMUC + `'/></presence>`)
	el := dave.Expect(isFrom("presence", fedRoom+"/Dave"))
	wantErrorCond(t, el, "service-unavailable")
	bob.Send(`<presence to='` + fedRoom + `/Bob' type='unavailable'/>`)
	bob.Expect(func(el *xml.Element) bool {
		return el.Attr("from") == fedRoom+"/Bob" && el.Attr("type") == "unavailable"
	})
	deadline := time.Now().Add(5 * time.Second)
	for a.MUC.RemoteOccupants("b.test") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("bob's place not freed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	enterRemote(t, dave, "Dave")
}
