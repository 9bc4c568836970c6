package mam

import (
	"context"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// TestTombstone: a tombstone keeps the message's attributes, ids and
// author and nothing else of it.
func TestTombstone(t *testing.T) {
	retracted := xml.New(nsRetract, "retracted", "id", "r1", "stamp", "2026-01-01T00:00:00Z")
	tests := []struct{ name, in, want string }{
		{"body, payloads and ids",
			`<message xmlns='jabber:client' from='r@c/Bob' type='groupchat' id='m1'><body>secret</body><html xmlns='http://jabber.org/protocol/xhtml-im'><body>secret</body></html>` +
				`<origin-id xmlns='urn:xmpp:sid:0' id='o1'/><stanza-id xmlns='urn:xmpp:sid:0' by='r@c' id='s1'/><occupant-id xmlns='urn:xmpp:occupant-id:0' id='oc'/>` +
				`<x xmlns='http://jabber.org/protocol/muc#user'><item jid='bob@example.org'/></x><reference xmlns='urn:xmpp:reference:0' uri='secret'/></message>`,
			`<message xmlns="jabber:client" from="r@c/Bob" type="groupchat" id="m1"><origin-id xmlns="urn:xmpp:sid:0" id="o1"/><stanza-id xmlns="urn:xmpp:sid:0" by="r@c" id="s1"/>` +
				`<occupant-id xmlns="urn:xmpp:occupant-id:0" id="oc"/><x xmlns="http://jabber.org/protocol/muc#user"><item jid="bob@example.org"/></x>` +
				`<retracted xmlns="urn:xmpp:message-retract:1" id="r1" stamp="2026-01-01T00:00:00Z"/></message>`},
		{"a sender's muc#user x with more than the room's item goes",
			`<message xmlns='jabber:client' id='m2'><x xmlns='http://jabber.org/protocol/muc#user'><item jid='a@b'/><invite to='c@d'/></x><body>x</body></message>`,
			`<message xmlns="jabber:client" id="m2"><retracted xmlns="urn:xmpp:message-retract:1" id="r1" stamp="2026-01-01T00:00:00Z"/></message>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := routertest.Parse(t, tc.in)
			before := in.String()
			got := Tombstone(in, retracted.Clone())
			if got.String() != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if in.String() != before {
				t.Errorf("the original changed: %s", in)
			}
			if !IsTombstone(got) || IsTombstone(in) {
				t.Errorf("IsTombstone wrong")
			}
		})
	}
}

// TestRoomItemReplace: RoomItem reads a room's item by its archive id and
// ReplaceRoomItem puts a tombstone in its place, which RoomHistory then
// shows instead of the message; ids of another room, or not ours, are
// not found.
func TestRoomItemReplace(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	m, err := New(DefaultConfig(), st, st, testSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	room, other := jid.MustParse("tea@conference.example.org"), jid.MustParse("coffee@conference.example.org")
	var ids []string
	for _, body := range []string{"one", "two"} {
		id, err := m.AppendRoomMessage(ctx, room, "Bob", jid.MustParse("bob@example.org"), routertest.Parse(t, `<message from='tea@conference.example.org/Bob' type='groupchat'><body>`+body+`</body></message>`))
		if err != nil || id == "" {
			t.Fatal(id, err)
		}
		ids = append(ids, id)
	}
	orig, ok, err := m.RoomItem(ctx, room, ids[0])
	if err != nil || !ok || orig.ChildText("", "body") != "one" {
		t.Fatalf("RoomItem = %v, %v, %v", orig, ok, err)
	}
	for _, tc := range []struct {
		room jid.JID
		id   string
	}{{other, ids[0]}, {room, "nope"}, {room, strings.Repeat("A", 22)}} {
		if _, ok, err := m.RoomItem(ctx, tc.room, tc.id); ok || err != nil {
			t.Errorf("RoomItem(%s, %s) found, %v", tc.room, tc.id, err)
		}
		if ok, err := m.ReplaceRoomItem(ctx, tc.room, tc.id, orig); ok || err != nil {
			t.Errorf("ReplaceRoomItem(%s, %s) replaced, %v", tc.room, tc.id, err)
		}
	}
	tomb := Tombstone(orig, xml.New(nsRetract, "retracted", "id", "r1"))
	if ok, err := m.ReplaceRoomItem(ctx, room, ids[0], tomb); !ok || err != nil {
		t.Fatalf("ReplaceRoomItem = %v, %v", ok, err)
	}
	page, _ := st.QueryArchive(ctx, storage.ArchiveQuery{Owner: room.String(), Limit: 10})
	if len(page.Messages) != 2 || page.Messages[0].Body != "" || strings.Contains(string(page.Messages[0].Stanza), "one") {
		t.Fatalf("stored after replacing: %+v", page.Messages)
	}
	hist, err := m.RoomHistory(ctx, room, 10)
	if err != nil || len(hist) != 2 || !IsTombstone(hist[0].Stanza) || hist[0].ID != ids[0] || hist[1].Stanza.ChildText("", "body") != "two" {
		t.Fatalf("RoomHistory = %v, %v", hist, err)
	}
	if hist[0].Stanza.Child(nsMUCUser, "x") != nil {
		t.Errorf("history tombstone shows the real JID: %s", hist[0].Stanza)
	}
}
