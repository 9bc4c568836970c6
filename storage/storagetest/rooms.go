package storagetest

import (
	"reflect"
	"testing"

	"github.com/skald-xmpp/skald/storage"
)

// testRooms checks storage.Rooms, for backends that have it: rooms are
// created, replaced whole (affiliations too), listed in JID order and
// deleted; deleting a missing room is no error.
func testRooms(t *testing.T, s storage.Store) {
	rs, ok := s.(storage.Rooms)
	if !ok {
		t.Skip("backend has no storage.Rooms")
	}
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
}
