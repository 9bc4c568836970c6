package muc_test

import (
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
)

const (
	nsModerate = "urn:xmpp:message-moderate:1"
	nsRetract  = "urn:xmpp:message-retract:1"
	nsSID      = "urn:xmpp:sid:0"
	nsOID      = "urn:xmpp:occupant-id:0"
)

// said has u send a groupchat body and returns the room's stanza-id of
// it, as the room broadcast it; everyone's copies are taken.
func (e *env) said(u *user, body string, others ...*user) string {
	e.T.Helper()
	e.send(u, `<message to='%R' type='groupchat' id='m-`+body+`'><body>`+body+`</body></message>`)
	el := u.last(e.T)
	for _, o := range others {
		o.take(e.T)
	}
	sid := el.Child(nsSID, "stanza-id")
	if sid.Attr("by") != room || sid.Attr("id") == "" {
		e.T.Fatalf("no stanza-id by the room: %s", el)
	}
	return sid.Attr("id")
}

// archived returns the room's archive as a MAM query by u shows it: the
// forwarded messages by result id, and the ids in order.
func (e *env) archived(u *user) (map[string]*xml.Element, []string) {
	e.T.Helper()
	e.send(u, `<iq type='set' id='mamq' to='%R'><query xmlns='urn:xmpp:mam:2' queryid='q1'/></iq>`)
	byID := map[string]*xml.Element{}
	var order []string
	for _, el := range u.take(e.T) {
		res := el.Child("urn:xmpp:mam:2", "result")
		if res == nil {
			continue
		}
		msg := res.Child("urn:xmpp:forward:0", "forwarded").Child("jabber:client", "message")
		byID[res.Attr("id")] = msg
		order = append(order, res.Attr("id"))
	}
	return byID, order
}

func moderateIQ(id, inner string) string {
	return `<iq type='set' id='mod' to='%R'><moderate xmlns='` + nsModerate + `' id='` + id + `'>` + inner + `</moderate></iq>`
}

const retractEl = `<retract xmlns='` + nsRetract + `'/>`

// TestModerateErrors: who may not moderate, and what is no moderation
// request (XEP-0425 §3.2); nothing is broadcast and the archive keeps the
// message.
func TestModerateErrors(t *testing.T) {
	tests := []struct {
		name string
		from string // "alice" (owner, moderator), "bob" (participant), "carol" (not in the room)
		iq   string // %S stands for the stanza-id of bob's message
		want string
	}{
		{"participant", "bob", moderateIQ("%S", retractEl), "forbidden"},
		{"non-occupant", "carol", moderateIQ("%S", retractEl), "forbidden"},
		{"unknown id", "alice", moderateIQ("nope", retractEl), "item-not-found"},
		{"id of another archive's format", "alice", moderateIQ("AAAAAAAAAAAAAAAAAAAAAA", retractEl), "item-not-found"},
		{"no id", "alice", `<iq type='set' id='mod' to='%R'><moderate xmlns='` + nsModerate + `'>` + retractEl + `</moderate></iq>`, "bad-request"},
		{"no retract", "alice", moderateIQ("%S", `<reason>x</reason>`), "bad-request"},
		{"get", "alice", `<iq type='get' id='mod' to='%R'><moderate xmlns='` + nsModerate + `' id='%S'>` + retractEl + `</moderate></iq>`, "bad-request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			alice, bob, carol := e.user("alice", "a"), e.user("bob", "b"), e.user("carol", "c")
			e.create(alice)
			e.join(bob, "Bob")
			alice.take(t)
			sid := e.said(bob, "spam", alice)
			u := map[string]*user{"alice": alice, "bob": bob, "carol": carol}[tc.from]
			e.send(u, strings.ReplaceAll(tc.iq, "%S", sid))
			got := u.take(t)
			if len(got) != 1 || got[0].Attr("id") != "mod" || condition(got[0]) != tc.want {
				t.Fatalf("got %v, want one %s error", got, tc.want)
			}
			for _, o := range []*user{alice, bob} {
				if seen := o.take(t); len(seen) != 0 {
					t.Fatalf("sent %v", seen)
				}
			}
			msgs, _ := e.archived(alice)
			if msgs[sid].ChildText("", "body") != "spam" {
				t.Fatalf("archived message changed: %s", msgs[sid])
			}
		})
	}
}

// TestModerate: a moderator retracts an occupant's message (XEP-0425
// §3.1): every occupant gets the retraction from the room, with the
// room's stanza-id, the moderator gets a result, the archive holds the
// tombstone under the same id (occupant id kept, no body) and the
// retraction after it, newcomers see the tombstone in the history, and
// the room advertises the feature.
func TestModerate(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob, carol := e.user("alice", "a"), e.user("bob", "b"), e.user("carol", "c")
	e.create(alice)
	e.join(bob, "Bob")
	alice.take(t)
	e.said(bob, "hello", alice)
	sid := e.said(bob, "spam", alice)
	before, _ := e.archived(alice)
	bobOID := before[sid].Child(nsOID, "occupant-id").Attr("id")

	e.send(alice, moderateIQ(sid, retractEl+`<reason>Spam</reason>`))
	got := alice.take(t)
	if len(got) != 2 || got[1].Attr("type") != "result" || got[1].Attr("id") != "mod" {
		t.Fatalf("alice got %v, want the retraction and the result", got)
	}
	for _, el := range append(got[:1], bob.take(t)...) {
		r := el.Child(nsRetract, "retract")
		mod := r.Child(nsModerate, "moderated")
		if el.Attr("from") != room || el.Attr("type") != "groupchat" || el.Attr("id") == "" ||
			r.Attr("id") != sid || mod.Attr("by") != room+"/Al" || mod.Child(nsOID, "occupant-id").Attr("id") == "" ||
			r.ChildText(nsRetract, "reason") != "Spam" || el.Child(nsSID, "stanza-id").Attr("by") != room {
			t.Fatalf("broadcast retraction: %s", el)
		}
	}

	msgs, order := e.archived(alice)
	tomb := msgs[sid]
	rd := tomb.Child(nsRetract, "retracted")
	if tomb.Child("", "body") != nil || strings.Contains(tomb.String(), ">spam<") || rd == nil ||
		rd.Attr("stamp") == "" || rd.Attr("id") == "" || rd.Child(nsModerate, "moderated").Attr("by") != room+"/Al" ||
		rd.ChildText(nsRetract, "reason") != "Spam" || tomb.Child(nsOID, "occupant-id").Attr("id") != bobOID ||
		tomb.Attr("from") != room+"/Bob" {
		t.Fatalf("tombstone: %s", tomb)
	}
	last := msgs[order[len(order)-1]]
	if len(order) != 3 || last.Child(nsRetract, "retract").Attr("id") != sid || rd.Attr("id") != last.Attr("id") {
		t.Fatalf("archive order %v, last %s; want the retraction archived after, its id in the tombstone", order, last)
	}

	hist := e.join(carol, "C")
	var bodies []string
	tombs := 0
	for _, el := range hist {
		if b := el.ChildText("", "body"); b != "" {
			bodies = append(bodies, b)
		}
		if el.Child(nsRetract, "retracted") != nil {
			tombs++
		}
	}
	if strings.Join(bodies, ",") != "hello" || tombs != 1 {
		t.Fatalf("history on joining: bodies %v, %d tombstones: %v", bodies, tombs, hist)
	}

	e.send(alice, `<iq type='get' id='q' to='%R'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	info := alice.last(t).String()
	for _, f := range []string{nsModerate, nsRetract, nsRetract + "#tombstone"} {
		if !strings.Contains(info, `"`+f+`"`) {
			t.Errorf("disco#info lacks %s: %s", f, info)
		}
	}
	// Moderating it again changes nothing and sends nothing more.
	e.send(alice, moderateIQ(sid, retractEl))
	if again := alice.take(t); len(again) != 1 || again[0].Attr("type") != "result" {
		t.Fatalf("second moderation: %v", again)
	}
}

// TestSenderRetract: an occupant's own XEP-0424 retraction is broadcast
// as any message and turns the archived original into a tombstone; one
// for somebody else's message is broadcast but changes no archive item.
func TestSenderRetract(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob, carol := e.user("alice", "a"), e.user("bob", "b"), e.user("carol", "c")
	e.create(alice)
	e.join(bob, "Bob")
	e.join(carol, "C")
	alice.take(t)
	bob.take(t)
	mine := e.said(bob, "oops", alice, carol)
	theirs := e.said(alice, "keep", bob, carol)
	retract := func(u *user, id, msgID string) {
		e.send(u, `<message to='%R' type='groupchat' id='`+msgID+`'><retract xmlns='`+nsRetract+`' id='`+id+`'/><fallback xmlns='urn:xmpp:fallback:0' for='`+nsRetract+`'/><body>/me retracted a message</body></message>`)
		for _, o := range []*user{alice, bob, carol} {
			if got := o.take(t); len(got) != 1 || got[0].Child(nsRetract, "retract").Attr("id") != id {
				t.Fatalf("retraction broadcast: %v", got)
			}
		}
	}
	retract(bob, theirs, "r-theirs")
	retract(bob, mine, "r-mine")
	msgs, _ := e.archived(alice)
	if msgs[theirs].ChildText("", "body") != "keep" {
		t.Fatalf("somebody else's message was retracted: %s", msgs[theirs])
	}
	tomb := msgs[mine]
	rd := tomb.Child(nsRetract, "retracted")
	if tomb.Child("", "body") != nil || rd == nil || rd.Attr("id") != "r-mine" || rd.Attr("stamp") == "" || rd.Child(nsModerate, "moderated") != nil {
		t.Fatalf("tombstone: %s", tomb)
	}
}

// TestModerateExpired: a message the archive no longer keeps (expired,
// trimmed) cannot be moderated: item-not-found, nothing broadcast.
func TestModerateExpired(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.user("alice", "a"), e.user("bob", "b")
	e.create(alice)
	e.join(bob, "Bob")
	alice.take(t)
	sid := e.said(bob, "old", alice)
	if _, err := e.Store.TrimArchive(bg, room, 0); err != nil {
		t.Fatal(err)
	}
	e.send(alice, moderateIQ(sid, retractEl))
	if got := alice.take(t); len(got) != 1 || condition(got[0]) != "item-not-found" {
		t.Fatalf("moderating an expired message: %v", got)
	}
	if seen := bob.take(t); len(seen) != 0 {
		t.Fatalf("bob was sent %v", seen)
	}
}

// TestRetractForgedModeration: an occupant's own retraction cannot pass
// for a moderator's: the room strips any <moderated/> the occupant put in
// it (only the room attributes a retraction to a moderator, XEP-0425), in
// what it broadcasts and what it archives.
func TestRetractForgedModeration(t *testing.T) {
	e := newEnv(t, nil)
	alice, bob := e.user("alice", "a"), e.user("bob", "b")
	e.create(alice)
	e.join(bob, "Bob")
	alice.take(t)
	theirs := e.said(alice, "keep", bob)
	e.send(bob, `<message to='%R' type='groupchat' id='forged'><retract xmlns='`+nsRetract+`' id='`+theirs+`'><moderated xmlns='`+nsModerate+`' by='`+room+`/Alice'/><reason>spam</reason></retract><body>/me retracted a message</body></message>`)
	for _, u := range []*user{alice, bob} {
		got := u.take(t)
		if len(got) != 1 {
			t.Fatalf("retraction broadcast: %v", got)
		}
		if r := got[0].Child(nsRetract, "retract"); r == nil || r.Child(nsModerate, "moderated") != nil {
			t.Fatalf("forged moderation broadcast: %s", got[0])
		}
	}
	msgs, _ := e.archived(alice)
	for id, m := range msgs {
		if r := m.Child(nsRetract, "retract"); r != nil && r.Child(nsModerate, "moderated") != nil {
			t.Fatalf("forged moderation archived as %s: %s", id, m)
		}
	}
}
