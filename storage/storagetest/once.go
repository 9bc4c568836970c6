package storagetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/storage"
)

// OnceAppender is a store that does the archive module's resend check
// inside the append (the SQL backends; package mam's onceAppender).
type OnceAppender interface {
	AppendArchiveOnce(ctx context.Context, msgs []*storage.ArchivedMessage) (dup []bool, err error)
	ArchiveStats(ctx context.Context, owner string) (map[string]int, error)
}

// AppendArchiveOnce checks that the resend check inside the append
// transaction gives what FindByOriginID before AppendArchive gives: a
// message equal to the newest item with its owner, peer, direction and
// origin-id is not stored again and gets that item's id and stamp;
// anything else is stored. s must be empty.
func AppendArchiveOnce(t *testing.T, s OnceAppender) {
	t.Helper()
	msg := func(owner, with string, out bool, oid, body string) *storage.ArchivedMessage {
		return &storage.ArchivedMessage{Owner: owner, With: with, Outgoing: out, OriginID: oid, Body: body,
			Stanza: []byte("<message xmlns='jabber:client'><body>" + body + "</body></message>")}
	}
	first := []*storage.ArchivedMessage{
		msg("a@x", "b@x", true, "o1", "hi"),  // 0
		msg("b@x", "a@x", false, "o1", "hi"), // 1
		msg("a@x", "b@x", true, "o2", "yo"),  // 2
		msg("a@x", "b@x", true, "o2", "yo"),  // a resend within the same call: of 2
		msg("a@x", "b@x", true, "", "hi"),    // 4: no origin-id, never a resend
	}
	dup, err := s.AppendArchiveOnce(bg, first)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(dup) != "[false false false true false]" || first[3].ID != first[2].ID ||
		!(0 < first[0].ID && first[0].ID < first[1].ID && first[1].ID < first[2].ID && first[2].ID < first[4].ID) {
		t.Fatalf("ids %v, dups %v", []int64{first[0].ID, first[1].ID, first[2].ID, first[3].ID, first[4].ID}, dup)
	}
	if !first[3].Stamp.Equal(first[2].Stamp) {
		t.Errorf("a resend gets the stored stamp: %v, %v", first[3].Stamp, first[2].Stamp)
	}
	tests := []struct {
		name string
		m    *storage.ArchivedMessage
		want int64 // id of the item it duplicates, 0: new
	}{
		{"resend", msg("a@x", "b@x", true, "o1", "hi"), first[0].ID},
		{"resend, recipient side", msg("b@x", "a@x", false, "o1", "hi"), first[1].ID},
		{"other body: a client reusing origin-ids", msg("a@x", "b@x", true, "o1", "other"), 0},
		{"now the newest with o1 is the other body", msg("a@x", "b@x", true, "o1", "hi"), 0},
		{"other direction", msg("a@x", "b@x", false, "o2", "yo"), 0},
		{"other peer", msg("a@x", "c@x", true, "o2", "yo"), 0},
		{"other owner", msg("c@x", "b@x", true, "o2", "yo"), 0},
	}
	for _, tc := range tests {
		before, err := s.ArchiveStats(bg, tc.m.Owner)
		if err != nil {
			t.Fatal(err)
		}
		dup, err := s.AppendArchiveOnce(bg, []*storage.ArchivedMessage{tc.m})
		if err != nil {
			t.Fatal(err)
		}
		after, _ := s.ArchiveStats(bg, tc.m.Owner)
		if dup[0] != (tc.want != 0) || (tc.want != 0 && tc.m.ID != tc.want) {
			t.Errorf("%s: dup %v id %d, want duplicate of %d", tc.name, dup[0], tc.m.ID, tc.want)
		}
		if grew := after[tc.m.Owner] - before[tc.m.Owner]; grew != map[bool]int{true: 0, false: 1}[dup[0]] {
			t.Errorf("%s: count grew by %d", tc.name, grew)
		}
	}
}

// AppendArchiveOnceRacing checks that copies of one message appended
// concurrently (a client resending while the first copy is being
// stored), spread over stores (one database, or several processes on
// one), are stored once, which a look-up before the append cannot
// promise. The stores must share one empty database.
func AppendArchiveOnceRacing(t *testing.T, stores ...OnceAppender) {
	t.Helper()
	const copies = 16
	var wg sync.WaitGroup
	got := make([]int64, copies)
	for i := range copies {
		wg.Go(func() {
			m := &storage.ArchivedMessage{Owner: "a@x", With: "b@x", Outgoing: true, OriginID: "o1", Body: "hi", Stanza: []byte("<m/>")}
			if _, err := stores[i%len(stores)].AppendArchiveOnce(bg, []*storage.ArchivedMessage{m}); err != nil {
				t.Error(err)
			}
			got[i] = m.ID
		})
	}
	wg.Wait()
	for _, id := range got {
		if id != got[0] {
			t.Fatalf("copies stored as %v", got)
		}
	}
	if st, _ := stores[0].ArchiveStats(bg, "a@x"); st["a@x"] != 1 {
		t.Fatalf("archive holds %d items", st["a@x"])
	}
}
