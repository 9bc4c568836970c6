package server_test

import (
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

const (
	nsModerate = "urn:xmpp:message-moderate:1"
	nsRetract  = "urn:xmpp:message-retract:1"
)

// roomArchive runs a MAM query on the room as c and returns the result
// messages' forwarded stanzas by result id, in order.
func roomArchive(t *testing.T, c *xmpptest.Conn, id string) (ids []string, msgs map[string]*xml.Element) {
	t.Helper()
	c.Send(`<iq type='set' id='` + id + `' to='` + room + `'><query xmlns='urn:xmpp:mam:2' queryid='` + id + `'/></iq>`)
	msgs = map[string]*xml.Element{}
	for {
		el := c.Next()
		if el.Local == "iq" && el.Attr("id") == id {
			if el.Attr("type") != "result" {
				t.Fatalf("room archive query: %s", el)
			}
			return ids, msgs
		}
		if r := el.Child(nsMAM, "result"); r != nil {
			ids = append(ids, r.Attr("id"))
			msgs[r.Attr("id")] = r.Child("urn:xmpp:forward:0", "forwarded").Child("", "message")
		}
	}
}

// XEP-0425 over sockets: a participant may not moderate (forbidden), an
// unknown stanza-id is item-not-found, a moderator's retraction reaches
// every occupant from the room with the room's stanza-id and is answered;
// the room's archive then holds the tombstone under the original's id,
// and a newcomer's discussion history shows the tombstone, never the
// original.
func TestMUCModerate(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	bob := login(t, s, "bob", "laptop")
	carol := login(t, s, "carol", "desk")
	enterInstantRoom(t, alice, bob)

	_, info := ask(t, alice, "d", `<iq type='get' id='d' to='`+room+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if !strings.Contains(info.String(), `var="`+nsModerate+`"`) {
		t.Fatalf("room does not advertise %s: %s", nsModerate, info)
	}

	bob.Send(`<message to='` + room + `' type='groupchat' id='potion'><body>DM me for free magic potions!</body></message>`)
	alice.Expect(isMessageWithBody("DM me for free magic potions!"))
	sid := bob.Expect(isMessageWithBody("DM me for free magic potions!")).Child("urn:xmpp:sid:0", "stanza-id").Attr("id")

	moderate := func(id string) string {
		return `<iq type='set' id='mod' to='` + room + `'><moderate id='` + id + `' xmlns='` + nsModerate + `'>` +
			`<retract xmlns='` + nsRetract + `'/><reason>Inappropriate</reason></moderate></iq>`
	}
	if cond, el := ask(t, bob, "mod", moderate(sid)); cond != "forbidden" {
		t.Fatalf("participant's moderation: %s", el)
	}
	if cond, el := ask(t, alice, "mod", moderate("unknown-id")); cond != "item-not-found" {
		t.Fatalf("moderation of an unknown id: %s", el)
	}

	alice.Send(moderate(sid))
	var got []*xml.Element
	for _, c := range []*xmpptest.Conn{alice, bob} {
		el := c.Expect(func(e *xml.Element) bool { return e.Local == "message" })
		got = append(got, el)
	}
	if el := alice.Next(); el.Local != "iq" || el.Attr("id") != "mod" || el.Attr("type") != "result" {
		t.Fatalf("want the result after the retraction, got %s", el)
	}
	for _, el := range got {
		r := el.Child(nsRetract, "retract")
		if el.Attr("from") != room || el.Attr("type") != "groupchat" || r.Attr("id") != sid ||
			r.Child(nsModerate, "moderated").Attr("by") != room+"/Al" || r.ChildText(nsRetract, "reason") != "Inappropriate" ||
			el.Child("urn:xmpp:sid:0", "stanza-id").Attr("by") != room {
			t.Fatalf("retraction: %s", el)
		}
	}

	ids, msgs := roomArchive(t, alice, "q1")
	tomb := msgs[sid]
	if len(ids) != 2 || ids[0] != sid || tomb.Child("", "body") != nil || strings.Contains(tomb.String(), "potions") ||
		tomb.Child(nsRetract, "retracted").Child(nsModerate, "moderated") == nil || tomb.Child("urn:xmpp:occupant-id:0", "occupant-id") == nil {
		t.Fatalf("archive after moderation: %v %s", ids, tomb)
	}
	if msgs[ids[1]].Child(nsRetract, "retract").Attr("id") != sid {
		t.Fatalf("retraction not archived: %s", msgs[ids[1]])
	}

	carol.Send(`<presence to='` + room + `/C'><x xmlns='` + nsMUC + `'/></presence>`)
	for {
		el := carol.Next()
		if el.Local != "message" {
			continue
		}
		if strings.Contains(el.String(), "potions") {
			t.Fatalf("history shows the moderated message: %s", el)
		}
		if el.Child("", "subject") != nil {
			t.Fatal("no tombstone in the history before the subject")
		}
		if el.Child(nsRetract, "retracted") != nil {
			break
		}
	}
}
