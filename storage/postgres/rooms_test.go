package postgres

import (
	"fmt"
	"maps"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/storage"
)

// TestPutRoomReplacesWholeUnderConcurrency: writers putting one room with
// disjoint affiliation sets at once leave exactly one writer's set, never
// a mix (the room row lock serialises them, and each replaces what the
// previous one committed).
func TestPutRoomReplacesWholeUnderConcurrency(t *testing.T) {
	s := openTest(t, Options{MaxConns: 4})
	const room, writers, rounds = "tea@conference.example.org", 4, 10
	sets := make([]map[string]string, writers)
	for w := range sets {
		sets[w] = map[string]string{}
		for i := range 5 {
			sets[w][fmt.Sprintf("u%d-%d@example.org", w, i)] = "member"
		}
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for range rounds {
				if err := s.PutRoom(bg, storage.Room{JID: room, Config: []byte(fmt.Sprint(w)), Affiliations: sets[w]}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	rooms, err := s.Rooms(bg)
	if err != nil || len(rooms) != 1 {
		t.Fatalf("Rooms() = %+v, %v", rooms, err)
	}
	var w int
	fmt.Sscan(string(rooms[0].Config), &w)
	if !maps.Equal(rooms[0].Affiliations, sets[w]) {
		t.Errorf("config of writer %d with affiliations %v, want %v", w, rooms[0].Affiliations, sets[w])
	}
}

// TestPutRoomKeepsUnchangedAffiliations: a put that changes one
// affiliation rewrites that row only (xmin tells the writing transaction),
// and a room without affiliations reads back with an empty map and a
// non-nil configuration.
func TestPutRoomKeepsUnchangedAffiliations(t *testing.T) {
	s := openTest(t, Options{})
	const room = "tea@conference.example.org"
	xmins := func() map[string]string {
		t.Helper()
		rows, err := s.pool.Query(bg, `SELECT jid, xmin::text FROM muc_affiliations WHERE room = $1`, room)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var j, x string
			if err := rows.Scan(&j, &x); err != nil {
				t.Fatal(err)
			}
			out[j] = x
		}
		return out
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.PutRoom(bg, storage.Room{JID: room, Affiliations: map[string]string{"alice@example.org": "owner", "bob@example.org": "member"}}))
	before := xmins()
	must(s.PutRoom(bg, storage.Room{JID: room, Affiliations: map[string]string{"alice@example.org": "owner", "bob@example.org": "admin"}}))
	after := xmins()
	if after["alice@example.org"] != before["alice@example.org"] || after["bob@example.org"] == before["bob@example.org"] {
		t.Errorf("row versions before %v, after %v: want alice's kept and bob's rewritten", before, after)
	}

	must(s.PutRoom(bg, storage.Room{JID: room}))
	rooms, err := s.Rooms(bg)
	if err != nil || len(rooms) != 1 || rooms[0].Config == nil || len(rooms[0].Config) != 0 ||
		rooms[0].Affiliations == nil || len(rooms[0].Affiliations) != 0 {
		t.Errorf("Rooms() = %#v, %v; want one room, empty config and affiliations", rooms, err)
	}
}
