package storagetest

import (
	"testing"

	"github.com/skald-xmpp/skald/storage"
)

// testReplaceArchived: ReplaceArchived rewrites exactly one item of one
// owner (stanza and body), which keeps everything else, including its
// place in pages; another owner's id or an unknown id changes nothing.
func testReplaceArchived(t *testing.T, s storage.Store) {
	ms := appendN(t, s, alice, 3, t0)
	other := appendN(t, s, room, 1, t0)
	tomb := []byte("<message xmlns='jabber:client' id='x'><retracted xmlns='urn:xmpp:message-retract:1' id='r1'/></message>")
	cases := []struct {
		name  string
		owner string
		id    int64
		want  bool
	}{
		{"own item", alice, ms[1].ID, true},
		{"again", alice, ms[1].ID, true},
		{"another owner's id", alice, other[0].ID, false},
		{"id of owner's item under another owner", room, ms[0].ID, false},
		{"unknown id", alice, other[0].ID + 1000, false},
		{"unknown owner", "nobody@example.org", ms[0].ID, false},
	}
	for _, tc := range cases {
		ok, err := s.ReplaceArchived(bg, tc.owner, tc.id, "", tomb)
		must(t, err)
		if ok != tc.want {
			t.Errorf("%s: ReplaceArchived(%s, %d) = %v, want %v", tc.name, tc.owner, tc.id, ok, tc.want)
		}
	}
	want := []storage.ArchivedMessage{*ms[0], *ms[1], *ms[2]}
	want[1].Body, want[1].Stanza = "", tomb
	got := query(t, s, storage.ArchiveQuery{Owner: alice, Limit: 10}).Messages
	if len(got) != len(want) {
		t.Fatalf("alice's archive has %d items after replacing, want %d", len(got), len(want))
	}
	for i := range want {
		if d := msgDiff(got[i], want[i]); d != "" {
			t.Errorf("item %d: %s", i, d)
		}
	}
	if d := msgDiff(query(t, s, storage.ArchiveQuery{Owner: room, Limit: 10}).Messages[0], *other[0]); d != "" {
		t.Errorf("another owner's item changed: %s", d)
	}
	// The tombstone is what a later read by id sees too.
	byID := query(t, s, storage.ArchiveQuery{Owner: alice, IDs: []int64{ms[1].ID}, Limit: 10}).Messages
	if len(byID) != 1 || string(byID[0].Stanza) != string(tomb) {
		t.Errorf("read by id after replacing: %+v", byID)
	}
}
