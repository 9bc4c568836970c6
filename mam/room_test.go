package mam

import (
	"context"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// TestRoomArchive: AppendRoomMessage stores what is worth keeping, once,
// under the room's bare JID with the nick as resource, without the room's
// stanza-ids; RoomHistory gives back the newest messages with a body,
// oldest first, with the ids AppendRoomMessage returned; PurgeRoom
// empties the room's archive only.
func TestRoomArchive(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	m, err := New(DefaultConfig(), st, st, testSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	room := jid.MustParse("tea@conference.example.org")
	var ids []string
	for _, tc := range []struct {
		raw  string
		kept bool
	}{
		{`<message from='tea@conference.example.org/Al' type='groupchat'><body>one</body><stanza-id xmlns='urn:xmpp:sid:0' by='tea@conference.example.org' id='forged'/></message>`, true},
		{`<message from='tea@conference.example.org/Al' type='groupchat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`, false},
		{`<message from='tea@conference.example.org/Al' type='groupchat'><subject>Tea</subject></message>`, true},
		{`<message from='tea@conference.example.org/Bob' type='groupchat'><body>two</body></message>`, true},
		{`<message from='tea@conference.example.org/Bob' type='groupchat'><body>three</body></message>`, true},
	} {
		msg := routertest.Parse(t, tc.raw)
		var sender jid.JID
		if jid.MustParse(msg.Attr("from")).Resource() == "Bob" {
			sender = jid.MustParse("bob@example.org/desk")
		}
		id, err := m.AppendRoomMessage(ctx, room, jid.MustParse(msg.Attr("from")).Resource(), sender, msg)
		if err != nil || (id != "") != tc.kept {
			t.Fatalf("AppendRoomMessage(%s) = %q, %v", tc.raw, id, err)
		}
		if id != "" {
			ids = append(ids, id)
		}
	}
	page, err := st.QueryArchive(ctx, storage.ArchiveQuery{Owner: room.String(), Limit: 10})
	if err != nil || len(page.Messages) != 4 || page.Messages[0].With != room.String() || page.Messages[0].WithResource != "Al" {
		t.Fatalf("room archive: %+v, %v", page.Messages, err)
	}
	if s := string(page.Messages[0].Stanza); s != `<message xmlns="jabber:client" from="tea@conference.example.org/Al" type="groupchat"><body>one</body></message>` {
		t.Errorf("stored %s", s)
	}

	// The room's own muc#user <x/> names the sender's bare JID.
	if s := string(page.Messages[3].Stanza); s != `<message xmlns="jabber:client" from="tea@conference.example.org/Bob" type="groupchat"><body>three</body>`+
		`<x xmlns="http://jabber.org/protocol/muc#user"><item jid="bob@example.org"/></x></message>` {
		t.Errorf("stored %s", s)
	}

	hist, err := m.RoomHistory(ctx, room, 2)
	if err != nil || len(hist) != 2 || hist[0].Stanza.ChildText(nsClient, "body") != "two" || hist[1].ID != ids[3] {
		t.Fatalf("RoomHistory = %+v, %v", hist, err)
	}
	// Discussion history shows no real JIDs.
	for _, h := range hist {
		if h.Stanza.Child(nsMUCUser, "x") != nil {
			t.Errorf("history item with a muc#user <x/>: %s", h.Stanza)
		}
	}
	if err := st.AppendArchive(ctx, []*storage.ArchivedMessage{{Owner: "alice@example.org", With: "bob@example.org", Stanza: []byte(`<message xmlns="jabber:client"><body>x</body></message>`)}}); err != nil {
		t.Fatal(err)
	}
	if err := m.PurgeRoom(ctx, room); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.CountArchive(ctx, storage.ArchiveQuery{Owner: room.String()}, 0); n != 0 {
		t.Errorf("room archive after PurgeRoom: %d items", n)
	}
	if n, _ := st.CountArchive(ctx, storage.ArchiveQuery{Owner: "alice@example.org"}, 0); n != 1 {
		t.Errorf("alice's archive after PurgeRoom: %d items", n)
	}
}
