package sqlite

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/storage"
)

// TestAppendArchiveOnce: the resend check inside the append transaction
// gives what FindByOriginID before AppendArchive gives: a message equal
// to the newest item with its owner, peer, direction and origin-id is not
// stored again and gets that item's id and stamp; anything else is stored.
func TestAppendArchiveOnce(t *testing.T) {
	s := openTest(t, Options{Synchronous: SyncOff})
	ctx := context.Background()
	msg := func(owner, with string, out bool, oid, body string) *storage.ArchivedMessage {
		return &storage.ArchivedMessage{Owner: owner, With: with, Outgoing: out, OriginID: oid, Body: body,
			Stanza: []byte("<message xmlns='jabber:client'><body>" + body + "</body></message>")}
	}
	first := []*storage.ArchivedMessage{
		msg("a@x", "b@x", true, "o1", "hi"),  // 1
		msg("b@x", "a@x", false, "o1", "hi"), // 2
		msg("a@x", "b@x", true, "o2", "yo"),  // 3
		msg("a@x", "b@x", true, "o2", "yo"),  // a resend within the same call: of 3
		msg("a@x", "b@x", true, "", "hi"),    // 4: no origin-id, never a resend
	}
	dup, err := s.AppendArchiveOnce(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(ids(first), dup); got != "[1 2 3 3 4] [false false false true false]" {
		t.Fatalf("ids and dups %s", got)
	}
	if !first[3].Stamp.Equal(first[2].Stamp) {
		t.Errorf("a resend gets the stored stamp: %v, %v", first[3].Stamp, first[2].Stamp)
	}
	tests := []struct {
		name string
		m    *storage.ArchivedMessage
		want string // "dup N" or "new"
	}{
		{"resend", msg("a@x", "b@x", true, "o1", "hi"), "dup 1"},
		{"resend, recipient side", msg("b@x", "a@x", false, "o1", "hi"), "dup 2"},
		{"other body: a client reusing origin-ids", msg("a@x", "b@x", true, "o1", "other"), "new"},
		{"now the newest with o1 is the other body", msg("a@x", "b@x", true, "o1", "hi"), "new"},
		{"other direction", msg("a@x", "b@x", false, "o2", "yo"), "new"},
		{"other peer", msg("a@x", "c@x", true, "o2", "yo"), "new"},
		{"other owner", msg("c@x", "b@x", true, "o2", "yo"), "new"},
	}
	for _, tc := range tests {
		before, err := s.ArchiveStats(ctx, tc.m.Owner)
		if err != nil {
			t.Fatal(err)
		}
		dup, err := s.AppendArchiveOnce(ctx, []*storage.ArchivedMessage{tc.m})
		if err != nil {
			t.Fatal(err)
		}
		after, _ := s.ArchiveStats(ctx, tc.m.Owner)
		got := "new"
		if dup[0] {
			got = fmt.Sprint("dup ", tc.m.ID)
		}
		if got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
		if grew := after[tc.m.Owner] - before[tc.m.Owner]; grew != map[bool]int{true: 0, false: 1}[dup[0]] {
			t.Errorf("%s: count grew by %d", tc.name, grew)
		}
	}
}

func ids(ms []*storage.ArchivedMessage) []int64 {
	var out []int64
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

// TestAppendArchiveOnceRacingCopies: copies of one message appended
// concurrently (a client resending while the first copy is being stored)
// are stored once, which a look-up before the append cannot promise.
func TestAppendArchiveOnceRacingCopies(t *testing.T) {
	s := openTest(t, Options{Synchronous: SyncOff})
	ctx := context.Background()
	const copies = 16
	var wg sync.WaitGroup
	got := make([]int64, copies)
	for i := range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := &storage.ArchivedMessage{Owner: "a@x", With: "b@x", Outgoing: true, OriginID: "o1", Body: "hi", Stanza: []byte("<m/>")}
			if _, err := s.AppendArchiveOnce(ctx, []*storage.ArchivedMessage{m}); err != nil {
				t.Error(err)
			}
			got[i] = m.ID
		}()
	}
	wg.Wait()
	for _, id := range got {
		if id != got[0] {
			t.Fatalf("copies stored as %v", got)
		}
	}
	if st, _ := s.ArchiveStats(ctx, "a@x"); st["a@x"] != 1 {
		t.Fatalf("archive holds %d items", st["a@x"])
	}
}
