package storagetest

import (
	"slices"
	"testing"
	"time"

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

// testReplaceArchivedText: a replaced item is found by its new body's
// words only (a retraction's tombstone, whose body is empty, by none).
func testReplaceArchivedText(t *testing.T, s storage.Store) {
	ms := []*storage.ArchivedMessage{msg(alice, bob, t0), msg(alice, bob, t0.Add(time.Second))}
	ms[0].Body, ms[1].Body = "secret plans", "dull notes"
	appendMsgs(t, s, ms...)
	for _, r := range []struct {
		id   int64
		body string
	}{{ms[0].ID, ""}, {ms[1].ID, "fresh words"}} {
		ok, err := s.ReplaceArchived(bg, alice, r.id, r.body, []byte("<message xmlns='jabber:client'/>"))
		must(t, err)
		if !ok {
			t.Fatalf("ReplaceArchived(%d) found nothing", r.id)
		}
	}
	for _, tc := range []struct {
		text string
		want []int64
	}{{"secret", nil}, {"dull", nil}, {"fresh", []int64{ms[1].ID}}} {
		var got []int64
		for _, m := range query(t, s, storage.ArchiveQuery{Owner: alice, Text: tc.text, Limit: 10}).Messages {
			got = append(got, m.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("search %q after replacing: %v, want %v", tc.text, got, tc.want)
		}
	}
}
