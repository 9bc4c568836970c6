package storagetest

import (
	"reflect"
	"testing"

	"github.com/skald-xmpp/skald/storage"
)

// testRooms checks storage.Rooms: rooms are created, replaced whole
// (affiliations too), listed in JID order and deleted; deleting a missing
// room is no error; deleting an affiliated account leaves the rooms but
// takes its affiliations, bans excepted.
func testRooms(t *testing.T, s storage.Store) {
	rs := storage.Rooms(s)
	want := func(rooms ...storage.Room) {
		t.Helper()
		got, err := rs.Rooms(bg)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 && len(rooms) == 0 {
			return
		}
		if !reflect.DeepEqual(got, rooms) {
			t.Fatalf("Rooms() = %+v\nwant %+v", got, rooms)
		}
	}
	want()
	tea := storage.Room{JID: "tea@conference.example.org", Config: []byte(`{"Name":"Tea"}`),
		Affiliations: map[string]string{"alice@example.org": "owner", "bob@example.org": "member", "eve@example.org": "outcast"}}
	cake := storage.Room{JID: "cake@conference.example.org", Config: []byte(`{}`), Affiliations: map[string]string{}}
	must(t, rs.PutRoom(bg, tea))
	must(t, rs.PutRoom(bg, cake))
	want(cake, tea)

	// A put replaces the configuration and every affiliation.
	tea2 := storage.Room{JID: tea.JID, Config: []byte(`{"Name":"Green tea"}`), Affiliations: map[string]string{"alice@example.org": "owner", "carol@example.org": "admin"}}
	must(t, rs.PutRoom(bg, tea2))
	want(cake, tea2)

	must(t, rs.DeleteRoom(bg, cake.JID))
	must(t, rs.DeleteRoom(bg, "nothing@conference.example.org"))
	want(tea2)

	// Rooms belong to no account: deleting one leaves them, but takes its
	// owner, admin and member affiliations everywhere; a ban stays.
	cake2 := storage.Room{JID: cake.JID, Config: []byte(`{}`), Affiliations: map[string]string{"alice@example.org": "member", "eve@example.org": "admin", "bob@example.org": "owner"}}
	tea3 := storage.Room{JID: tea.JID, Config: tea2.Config, Affiliations: map[string]string{"alice@example.org": "owner", "carol@example.org": "admin", "eve@example.org": "outcast", "bob@example.org": "owner"}}
	must(t, rs.PutRoom(bg, cake2))
	must(t, rs.PutRoom(bg, tea3))
	for _, name := range []string{"alice", "eve"} {
		must(t, s.CreateUser(bg, name+"@example.org", cred(1)))
		must(t, s.DeleteUser(bg, name+"@example.org"))
	}
	want(
		storage.Room{JID: cake.JID, Config: cake2.Config, Affiliations: map[string]string{"bob@example.org": "owner"}},
		storage.Room{JID: tea.JID, Config: tea2.Config, Affiliations: map[string]string{"carol@example.org": "admin", "eve@example.org": "outcast", "bob@example.org": "owner"}},
	)
	must(t, rs.DeleteRoom(bg, cake.JID))
	must(t, rs.PutRoom(bg, tea2))
	want(tea2)

	// An empty room JID is refused, and stores nothing.
	if err := rs.PutRoom(bg, storage.Room{Config: []byte(`{}`)}); err == nil {
		t.Error("PutRoom with an empty JID: no error")
	}
	want(tea2)
}
