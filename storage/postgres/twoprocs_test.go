package postgres

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/postgres/pgtest"
)

// TestTwoProcessesIDOrder: two stores on one database (two Skald
// processes) append concurrently while a reader pages "after the last id
// it saw", as a client catching up does. Ids must be in commit order
// across both, or the reader skips a row that committed after a higher
// id: at the end it must have seen every row, in id order.
func TestTwoProcessesIDOrder(t *testing.T) {
	dsn := pgtest.DSN(t)
	stores := []*Store{openDSN(t, dsn, Options{}), openDSN(t, dsn, Options{})}
	const writers, perWriter = 8, 40
	var wg sync.WaitGroup
	for w := range writers {
		s := stores[w%2]
		wg.Go(func() {
			for i := range perWriter {
				batch := []*storage.ArchivedMessage{{Owner: "x@x", With: "y@x", Body: fmt.Sprint(w, "/", i)}}
				if i%5 == 0 { // multi-message calls too
					batch = append(batch, &storage.ArchivedMessage{Owner: "x@x", With: "z@x"})
				}
				if err := s.AppendArchive(bg, batch); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	var seen []int64
	reader := stores[1]
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true // one more pass reads the rest
		default:
		}
		for {
			var after int64
			if len(seen) > 0 {
				after = seen[len(seen)-1]
			}
			p, err := reader.QueryArchive(bg, storage.ArchiveQuery{Owner: "x@x", AfterID: after, Limit: 7})
			if err != nil {
				t.Fatal(err)
			}
			seen = append(seen, pageIDs(p)...)
			if p.Complete {
				break
			}
		}
	}
	all, err := stores[0].QueryArchive(bg, storage.ArchiveQuery{Owner: "x@x"})
	if err != nil {
		t.Fatal(err)
	}
	want := pageIDs(all)
	if len(want) != writers*perWriter*6/5 {
		t.Fatalf("%d rows stored, want %d", len(want), writers*perWriter*6/5)
	}
	if !slices.Equal(seen, want) {
		missed := 0
		for _, id := range want {
			if _, found := slices.BinarySearch(seen, id); !found {
				missed++
			}
		}
		t.Fatalf("the reader paging after the last id it saw missed %d of %d rows", missed, len(want))
	}
	checkCounts(t, stores[0])
}

// TestTwoProcessesStamps: the server and `skald archive import` may
// append to one database at once. The stamp clamp must see the other
// process's rows, or a stamp drops below an earlier id's and the
// Start/End ranges (id ranges by archive_time seeks) go wrong.
func TestTwoProcessesStamps(t *testing.T) {
	T := time.Unix(1700000000, 0)
	tests := []struct {
		name string
		run  func(a, b *Store) (storage.ArchiveQuery, []int64)
	}{
		{"import of old messages while serving", func(a, b *Store) (storage.ArchiveQuery, []int64) {
			appendOne(t, b, "old@x", T)
			m1 := appendOne(t, a, "x@x", T.Add(time.Minute))
			m2 := appendOne(t, b, "x@x", T.Add(-time.Hour)) // clamped to m1's stamp
			m3 := appendOne(t, a, "x@x", T.Add(2*time.Minute))
			return storage.ArchiveQuery{Owner: "x@x", Start: T.Add(time.Minute)}, []int64{m1.ID, m2.ID, m3.ID}
		}},
		{"after another owner's id", func(a, b *Store) (storage.ArchiveQuery, []int64) {
			appendOne(t, a, "x@x", T.Add(10*time.Second))
			m2 := appendOne(t, b, "y@x", T.Add(20*time.Second))
			m3 := appendOne(t, a, "x@x", T.Add(15*time.Second)) // clamped to 20 s
			return storage.ArchiveQuery{Owner: "x@x", Start: T.Add(20 * time.Second), AfterID: m2.ID}, []int64{m3.ID}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dsn := pgtest.DSN(t)
			a, b := openDSN(t, dsn, Options{}), openDSN(t, dsn, Options{})
			q, want := tc.run(a, b)
			for _, s := range []*Store{a, b} {
				p, err := s.QueryArchive(bg, q)
				if got := pageIDs(p); err != nil || !slices.Equal(got, want) {
					t.Errorf("%+v: %v %v, want %v", q, got, err, want)
				}
			}
			checkCounts(t, a)
		})
	}
}

// TestReadCommittedForced: the archive lock orders appends only if each
// statement after it reads what committed before it was granted (READ
// COMMITTED: a snapshot per statement). Under a DSN's or server's
// default_transaction_isolation of serializable or repeatable read, the
// snapshot would be taken by the lock statement itself, before the wait:
// the stamp clamp and the resend check would miss the other process's
// rows, and the count upserts fail with serialization errors. Every
// connection therefore runs READ COMMITTED.
func TestReadCommittedForced(t *testing.T) {
	dsn := pgtest.WithParam(pgtest.DSN(t), "default_transaction_isolation", "serializable")
	stores := []*Store{openDSN(t, dsn, Options{}), openDSN(t, dsn, Options{})}
	var v string
	if err := stores[0].pool.QueryRow(bg, `SHOW default_transaction_isolation`).Scan(&v); err != nil || v != "read committed" {
		t.Errorf("default_transaction_isolation = %q (%v), want read committed", v, err)
	}
	const writers, perWriter = 6, 20
	var wg sync.WaitGroup
	for w := range writers {
		s := stores[w%2]
		wg.Go(func() {
			for i := range perWriter {
				// The stamps go back in time: the clamp must see the
				// other process's newest row.
				m := &storage.ArchivedMessage{Owner: "x@x", With: "y@x", Body: fmt.Sprint(w, "/", i), Stamp: time.Unix(1700000000-int64(i*writers+w), 0)}
				if err := s.AppendArchive(bg, []*storage.ArchivedMessage{m}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	all, err := stores[0].QueryArchive(bg, storage.ArchiveQuery{Owner: "x@x"})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Messages) != writers*perWriter {
		t.Fatalf("%d rows stored, want %d", len(all.Messages), writers*perWriter)
	}
	for i := 1; i < len(all.Messages); i++ {
		if all.Messages[i].Stamp.Before(all.Messages[i-1].Stamp) {
			t.Fatalf("stamp of id %d (%v) is before id %d's (%v)", all.Messages[i].ID, all.Messages[i].Stamp, all.Messages[i-1].ID, all.Messages[i-1].Stamp)
		}
	}
	checkCounts(t, stores[0])
}
