package muc_test

import (
	"testing"

	"github.com/skald-xmpp/skald/vcard"
)

// TestOccupantIQs: an iq to an occupant JID goes to that occupant's
// session from the asker's occupant JID, under an id of the room's, and
// the answer comes back from the answerer's occupant JID under the
// asker's id, real JIDs hidden both ways; an answer the room did not ask
// for is dropped; a vCard request is answered from the account behind the
// nick, as clients do not serve their own.
func TestOccupantIQs(t *testing.T) {
	e := newEnv(t, nil)
	e.Router.Register(vcard.New(vcard.DefaultConfig(), e.Store))
	alice, bob := e.user("alice", "a"), e.user("bob", "b")
	e.create(alice)
	e.join(bob, "Bob")
	alice.take(t)

	e.send(bob, `<iq type='get' id='v1' to='%R/Al'><query xmlns='jabber:iq:version'/></iq>`)
	fwd := alice.last(t)
	roomID := fwd.Attr("id")
	if fwd.Attr("from") != room+"/Bob" || roomID == "v1" || roomID == "" || fwd.Child("jabber:iq:version", "query") == nil {
		t.Fatalf("passed on: %s", fwd)
	}
	// Another session's answer under that id is not taken.
	e.send(bob, `<iq type='result' id='`+roomID+`' to='%R/Bob'/>`)
	if got := bob.take(t); len(got) != 0 {
		t.Fatalf("a forged answer went through: %v", got)
	}
	e.send(alice, `<iq type='result' id='`+roomID+`' to='%R/Bob'><query xmlns='jabber:iq:version'><name>Tea</name></query></iq>`)
	ans := bob.last(t)
	if ans.Attr("id") != "v1" || ans.Attr("from") != room+"/Al" || ans.Attr("type") != "result" || ans.Child("jabber:iq:version", "query").ChildText("jabber:iq:version", "name") != "Tea" {
		t.Fatalf("answer: %s", ans)
	}
	// Answered once: a second answer is dropped.
	e.send(alice, `<iq type='result' id='`+roomID+`' to='%R/Bob'/>`)
	if got := bob.take(t); len(got) != 0 {
		t.Fatalf("a second answer went through: %v", got)
	}

	// vCards come from the account.
	e.send(alice, `<iq type='set' id='s'><vCard xmlns='vcard-temp'><FN>Alice</FN></vCard></iq>`)
	alice.take(t)
	e.send(bob, `<iq type='get' id='c1' to='%R/Al'><vCard xmlns='vcard-temp'/></iq>`)
	card := bob.last(t)
	if card.Attr("id") != "c1" || card.Attr("from") != room+"/Al" || card.Child("vcard-temp", "vCard").ChildText("vcard-temp", "FN") != "Alice" {
		t.Fatalf("vCard: %s", card)
	}
	if got := alice.take(t); len(got) != 0 {
		t.Fatalf("alice's client was asked for her vCard: %v", got)
	}
}

// TestOccupantVCardSemiAnonymous: in a semi-anonymous room a vCard request
// to an occupant JID never comes from the account behind the nick (its
// card, or that it has none, would tell the asker who that is): it goes to
// the occupant's client under the room's id, and its answer comes back
// from the occupant JID. A moderator, who sees real JIDs there, still
// gets the account's card.
func TestOccupantVCardSemiAnonymous(t *testing.T) {
	e := newEnv(t, nil)
	e.Router.Register(vcard.New(vcard.DefaultConfig(), e.Store))
	alice, bob := e.user("alice", "a"), e.user("bob", "b")
	e.send(bob, `<iq type='set' id='s'><vCard xmlns='vcard-temp'><FN>Bob Real</FN></vCard></iq>`)
	bob.take(t)
	e.create(alice, "muc#roomconfig_whois", "moderators")
	e.join(bob, "Bob")
	alice.take(t)

	// Bob, a participant, asks for the moderator's card.
	e.send(bob, `<iq type='get' id='c1' to='%R/Al'><vCard xmlns='vcard-temp'/></iq>`)
	if got := bob.take(t); len(got) != 0 {
		t.Fatalf("answered by the room, not the occupant: %v", got)
	}
	fwd := alice.last(t)
	if fwd.Attr("from") != room+"/Bob" || fwd.Attr("id") == "c1" || fwd.Child("vcard-temp", "vCard") == nil {
		t.Fatalf("not passed to the occupant's client: %s", fwd)
	}
	e.send(alice, `<iq type='result' id='`+fwd.Attr("id")+`' to='%R/Bob'><vCard xmlns='vcard-temp'><FN>Al</FN></vCard></iq>`)
	ans := bob.last(t)
	if ans.Attr("id") != "c1" || ans.Attr("from") != room+"/Al" || ans.Child("vcard-temp", "vCard").ChildText("vcard-temp", "FN") != "Al" {
		t.Fatalf("answer: %s", ans)
	}

	// Alice, the moderator, sees real JIDs: Bob's account answers.
	e.send(alice, `<iq type='get' id='c2' to='%R/Bob'><vCard xmlns='vcard-temp'/></iq>`)
	card := alice.last(t)
	if card.Attr("id") != "c2" || card.Child("vcard-temp", "vCard").ChildText("vcard-temp", "FN") != "Bob Real" {
		t.Fatalf("moderator's vCard: %s", card)
	}
	if got := bob.take(t); len(got) != 0 {
		t.Fatalf("bob's client was asked: %v", got)
	}
}
