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
	if cond, el := ask(t, carol, "md", meta); cond != "forbidden" {
		t.Fatalf("metadata for a non-occupant: %s", el)
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
	if fwd.Child("http://jabber.org/protocol/muc#user", "x") != nil || fwd.HasAttr("to") {
		t.Fatalf("archived groupchat message keeps a muc#user <x/> or a 'to': %s", fwd)
	}
}
