package server_test

import (
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// enterInstantRoom has alice create room as an instant room and bob
// enter it; both are past their self-presence and the subject.
func enterInstantRoom(t *testing.T, alice, bob *xmpptest.Conn) {
	t.Helper()
	alice.Send(`<presence to='` + room + `/Al'><x xmlns='` + nsMUC + `'/></presence>`)
	wantPresence(t, alice, room+"/Al", "", "100 170 201 110", "owner/moderator alice@localhost/phone")
	wantSubject(t, alice)
	if cond, el := ask(t, alice, "o1", `<iq type='set' id='o1' to='`+room+`'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`); cond != "result" {
		t.Fatalf("instant room: %s", el)
	}
	bob.Send(`<presence to='` + room + `/Bob'><x xmlns='` + nsMUC + `'/></presence>`)
	wantPresence(t, bob, room+"/Al", "", "", "owner/moderator alice@localhost/phone")
	wantPresence(t, bob, room+"/Bob", "", "100 170 110", "none/participant bob@localhost/laptop")
	wantSubject(t, bob)
	wantPresence(t, alice, room+"/Bob", "", "", "none/participant bob@localhost/laptop")
}

// XEP-0313 "Determining support" and "Archive metadata": a room that
// advertises urn:xmpp:mam:2#extended answers <metadata/>: empty for an
// empty archive, then its first and last items; only to those who may
// read the archive.
func TestMUCArchiveMetadata(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	bob := login(t, s, "bob", "laptop")
	carol := login(t, s, "carol", "desk")
	enterInstantRoom(t, alice, bob)

	_, info := ask(t, alice, "d", `<iq type='get' id='d' to='`+room+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if !strings.Contains(info.String(), `var="urn:xmpp:mam:2#extended"`) {
		t.Fatalf("room does not advertise #extended: %s", info)
	}
	meta := `<iq type='get' id='md' to='` + room + `'><metadata xmlns='urn:xmpp:mam:2'/></iq>`
	cond, el := ask(t, alice, "md", meta)
	if cond != "result" {
		t.Fatalf("metadata of an empty room archive: %s", el)
	}
	if md := el.Child(nsMAM, "metadata"); md == nil || md.FirstElement() != nil || el.Attr("from") != room {
		t.Fatalf("want an empty <metadata/> from the room: %s", el)
	}

	var sids []string
	for _, body := range []string{"one", "two"} {
		bob.Send(`<message to='` + room + `' type='groupchat'><body>` + body + `</body></message>`)
		alice.Expect(isMessageWithBody(body))
		sids = append(sids, bob.Expect(isMessageWithBody(body)).Child("urn:xmpp:sid:0", "stanza-id").Attr("id"))
	}
	cond, el = ask(t, alice, "md", meta)
	md := el.Child(nsMAM, "metadata")
	if cond != "result" || md == nil {
		t.Fatalf("metadata: %s", el)
	}
	start, end := md.Child(nsMAM, "start"), md.Child(nsMAM, "end")
	if start.Attr("id") != sids[0] || end.Attr("id") != sids[1] || start.Attr("timestamp") == "" || end.Attr("timestamp") == "" {
		t.Fatalf("metadata %s, want start %s and end %s", el, sids[0], sids[1])
	}
	// carol is no occupant: the room is public and open, so she may read
	// it; once banned, she may not.
	if cond, el := ask(t, carol, "md", meta); cond != "result" {
		t.Fatalf("metadata for a non-occupant of a public open room: %s", el)
	}
	if cond, el := ask(t, alice, "ban", `<iq type='set' id='ban' to='`+room+`'><query xmlns='http://jabber.org/protocol/muc#admin'><item jid='carol@localhost' affiliation='outcast'/></query></iq>`); cond != "result" {
		t.Fatalf("ban: %s", el)
	}
	if cond, el := ask(t, carol, "md", meta); cond != "forbidden" {
		t.Fatalf("metadata for an outcast: %s", el)
	}

	// A room does not advertise #groupchat-field: its form has no
	// include-groupchat and a query with it is refused (XEP-0313
	// "Retrieving form fields").
	if strings.Contains(info.String(), "groupchat-field") {
		t.Fatalf("room advertises #groupchat-field: %s", info)
	}
	_, form := ask(t, alice, "f", `<iq type='get' id='f' to='`+room+`'><query xmlns='urn:xmpp:mam:2'/></iq>`)
	if form.Child(nsMAM, "query") == nil || strings.Contains(form.String(), "include-groupchat") {
		t.Fatalf("room form: %s", form)
	}
	if cond, el := ask(t, alice, "ig", `<iq type='set' id='ig' to='`+room+`'><query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'>`+
		`<field var='FORM_TYPE'><value>urn:xmpp:mam:2</value></field><field var='include-groupchat'><value>true</value></field></x></query></iq>`); cond != "feature-not-implemented" {
		t.Fatalf("include-groupchat on a room: %s", el)
	}
}

// XEP-0313 "MUC message spoofing": the archiving entity MUST strip any
// muc#user <x/> from a groupchat message before archiving it, so that no
// occupant can plant a real JID in the room's history.
func TestMUCArchiveStripsMUCUser(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	bob := login(t, s, "bob", "laptop")
	enterInstantRoom(t, alice, bob)

	bob.Send(`<message to='` + room + `' type='groupchat'><body>spoof</body>` +
		`<x xmlns='http://jabber.org/protocol/muc#user'><item jid='carol@localhost/desk' affiliation='owner' role='moderator'/></x></message>`)
	alice.Expect(isMessageWithBody("spoof"))
	bob.Expect(isMessageWithBody("spoof"))
	alice.Send(`<iq type='set' id='q' to='` + room + `'><query xmlns='urn:xmpp:mam:2' queryid='q'/></iq>`)
	var results []*xml.Element
	for {
		el := alice.Next()
		if el.Local == "iq" && el.Attr("id") == "q" {
			break
		}
		if r := el.Child(nsMAM, "result"); r != nil {
			results = append(results, el)
		}
	}
	if len(results) != 1 {
		t.Fatalf("%d results", len(results))
	}
	fwd := results[0].Child(nsMAM, "result").Child("urn:xmpp:forward:0", "forwarded").Child("jabber:client", "message")
	if fwd == nil || fwd.ChildText("", "body") != "spoof" {
		t.Fatalf("result: %s", results[0])
	}
	// The only muc#user <x/> left is the room's own, naming the real
	// sender (TestMUCArchiveRealJIDs).
	xs := fwd.ChildrenNamed("http://jabber.org/protocol/muc#user", "x")
	if len(xs) != 1 || len(xs[0].Elements()) != 1 || xs[0].Child("http://jabber.org/protocol/muc#user", "item").Attr("jid") != "bob@localhost" || fwd.HasAttr("to") {
		t.Fatalf("archived groupchat message keeps the sender's muc#user <x/> or a 'to': %s", fwd)
	}
}

// roomResults runs a MAM query on room as c and returns the forwarded
// messages.
func roomResults(t *testing.T, c *xmpptest.Conn, id string) []*xml.Element {
	t.Helper()
	c.Send(`<iq type='set' id='` + id + `' to='` + room + `'><query xmlns='urn:xmpp:mam:2' queryid='` + id + `'/></iq>`)
	var out []*xml.Element
	for {
		el := c.Next()
		if el.Local == "iq" && el.Attr("id") == id {
			if el.Attr("type") != "result" {
				t.Fatalf("room query: %s", el)
			}
			return out
		}
		if r := el.Child(nsMAM, "result"); r != nil && r.Attr("queryid") == id {
			out = append(out, r.Child("urn:xmpp:forward:0", "forwarded").Child("jabber:client", "message"))
		}
	}
}

// XEP-0313 "MUC Archives": in a non-anonymous room, or for a requester
// who may see real JIDs at the time of the query (a moderator in a
// semi-anonymous room), an archived message carries <x
// xmlns='…muc#user'><item jid='…'/></x> naming its sender; others never
// see it.
func TestMUCArchiveRealJIDs(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	bob := login(t, s, "bob", "laptop")
	enterInstantRoom(t, alice, bob)

	bob.Send(`<message to='` + room + `' type='groupchat'><body>hi</body></message>`)
	alice.Expect(isMessageWithBody("hi"))
	bob.Expect(isMessageWithBody("hi"))
	realJID := func(msg *xml.Element) string {
		return msg.Child("http://jabber.org/protocol/muc#user", "x").Child("http://jabber.org/protocol/muc#user", "item").Attr("jid")
	}
	// Non-anonymous (the default): everyone sees it.
	for _, c := range []*xmpptest.Conn{alice, bob} {
		res := roomResults(t, c, "q1")
		if len(res) != 1 || realJID(res[0]) != "bob@localhost" {
			t.Fatalf("non-anonymous room: %v", res)
		}
	}
	// Semi-anonymous: only the moderator (alice, the owner) sees it.
	cond, el := ask(t, alice, "cfg", `<iq type='set' id='cfg' to='`+room+`'><query xmlns='http://jabber.org/protocol/muc#owner'>`+
		`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>`+
		`<field var='muc#roomconfig_whois'><value>moderators</value></field></x></query></iq>`)
	if cond != "result" {
		t.Fatalf("configuring the room semi-anonymous: %s", el)
	}
	if res := roomResults(t, alice, "q2"); len(res) != 1 || realJID(res[0]) != "bob@localhost" {
		t.Fatalf("moderator in a semi-anonymous room: %v", res)
	}
	res := roomResults(t, bob, "q3")
	if len(res) != 1 || res[0].Child("http://jabber.org/protocol/muc#user", "x") != nil || res[0].ChildText("", "body") != "hi" {
		t.Fatalf("participant in a semi-anonymous room sees: %v", res)
	}
}
