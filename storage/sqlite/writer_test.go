package sqlite

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

// inOneBatch runs first and then second, each a call that makes one write
// request, so that the writer commits both requests in one transaction:
// the store must have MaxBatch 2 and a MaxBatchDelay long enough to wait
// for second. It fails the test if they took two transactions.
func inOneBatch(t *testing.T, s *Store, first, second func()) {
	t.Helper()
	b0 := s.nBatches.Load()
	var wg sync.WaitGroup
	wg.Go(first)
	time.Sleep(20 * time.Millisecond) // the writer has taken first's request
	second()
	wg.Wait()
	if n := s.nBatches.Load() - b0; n != 1 {
		t.Fatalf("the two requests took %d transactions", n)
	}
}

// TestBatchAtomicFailure: an append runs without a savepoint of its own,
// so its failure must roll back its whole batch and fail every request in
// it, leaving nothing half-written, and the next batch must work.
func TestBatchAtomicFailure(t *testing.T) {
	s := openTest(t, Options{Synchronous: SyncOff, MaxBatchDelay: 300 * time.Millisecond, MaxBatch: 2})
	boom := errors.New("boom")
	var userErr, failed error
	inOneBatch(t, s, func() {
		userErr = s.CreateUser(bg, "u@x", storage.Credentials{})
	}, func() {
		failed = s.writeBatchAtomic(bg, func(w *conn) error {
			if err := w.exec(`INSERT INTO archive_prefs(owner, default_mode) VALUES('p@x', 'always')`); err != nil {
				return err
			}
			s.counts.add("p@x", 5)
			return boom
		})
	})
	if !errors.Is(failed, boom) || !errors.Is(userErr, boom) {
		t.Fatalf("errors: append %v, CreateUser %v; want both %v", failed, userErr, boom)
	}
	if ok, _ := s.UserExists(bg, "u@x"); ok {
		t.Error("CreateUser of the failed batch was committed")
	}
	if _, ok, _ := s.ArchivePrefs(bg, "p@x"); ok {
		t.Error("write of the failed append was committed")
	}
	// The next batch starts clean: no leftover count delta.
	appendOne(t, s, "a@x", time.Time{})
	checkCounts(t, s)
	if n, _ := s.CountArchive(bg, storage.ArchiveQuery{Owner: "p@x"}, 0); n != 0 {
		t.Errorf("count of p@x %d after the failed batch", n)
	}
}

// TestCountsSeenInBatch: the count changes of an append are written at
// the end of its batch, or earlier for a request of the batch that reads
// or changes archive_count: a trim right after an append in the same
// transaction counts the appended items, and DeleteUser right after one
// leaves no count behind.
func TestCountsSeenInBatch(t *testing.T) {
	s := openTest(t, Options{Synchronous: SyncOff, MaxBatchDelay: 300 * time.Millisecond, MaxBatch: 2})
	const owner = "a@x"
	var ms []*storage.ArchivedMessage
	for range 10 {
		ms = append(ms, &storage.ArchivedMessage{Owner: owner, With: "p@x", Stanza: []byte("<m/>")})
	}
	var trimmed int
	inOneBatch(t, s, func() {
		if err := s.AppendArchive(bg, ms); err != nil {
			t.Error(err)
		}
	}, func() {
		var err error
		if trimmed, err = s.TrimArchive(bg, owner, 3); err != nil {
			t.Error(err)
		}
	})
	if n, _ := s.CountArchive(bg, storage.ArchiveQuery{Owner: owner}, 0); trimmed != 7 || n != 3 {
		t.Fatalf("trim in the append's batch deleted %d, left %d; want 7 and 3", trimmed, n)
	}
	checkCounts(t, s)

	// DeleteUser purges before its last request, and finds nothing to
	// purge while the append is not committed: only its last request,
	// which deletes the rest of the archive and the count, shares the
	// append's batch. Written at COMMIT, the append's count would outlive
	// both.
	if err := s.CreateUser(bg, owner, storage.Credentials{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PurgeArchive(bg, owner, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	inOneBatch(t, s, func() {
		appendOne(t, s, owner, time.Time{})
	}, func() {
		if err := s.DeleteUser(bg, owner); err != nil {
			t.Error(err)
		}
	})
	if stats, _ := s.ArchiveStats(bg, ""); len(stats) != 0 {
		t.Errorf("counts after DeleteUser: %v", stats)
	}
	checkCounts(t, s)
}

// TestCountsBatched: the appends of a batch write their count changes
// once per owner at the end, or before any other request of the batch.
// Trims and purges sharing batches with appends to the same owners must
// see and leave exact counts.
func TestCountsBatched(t *testing.T) {
	s := openTest(t, Options{Synchronous: SyncOff, MaxBatchDelay: 2 * time.Millisecond, DeleteBatch: 3})
	owners := []string{"room1@muc.x", "room2@muc.x"}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 25 {
				owner := owners[(w+i)%2]
				m := &storage.ArchivedMessage{Owner: owner, With: "p@x", Stanza: []byte("<m/>")}
				if err := s.AppendArchive(bg, []*storage.ArchivedMessage{m}); err != nil {
					t.Error(err)
					return
				}
				switch {
				case w == 0 && i%5 == 4:
					if _, err := s.TrimArchive(bg, owner, 7); err != nil {
						t.Error(err)
					}
				case w == 1 && i == 12:
					if _, err := s.PurgeArchive(bg, owner, "", time.Time{}); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	batches, ops := s.WriteStats()
	t.Logf("%d requests in %d transactions", ops, batches)
	checkCounts(t, s)
}

// TestCheckpointBetweenBatches: the writer's WAL hook replaces SQLite's
// automatic checkpoint, so the writer must checkpoint itself: once the
// WAL holds CheckpointPages pages, between two batches, after which the
// WAL starts over. Without it the WAL would grow with every commit.
func TestCheckpointBetweenBatches(t *testing.T) {
	const limit = 40
	s := openTest(t, Options{Synchronous: SyncOff, CheckpointPages: limit})
	maxPages := 0
	for i := range 300 {
		appendOne(t, s, fmt.Sprintf("u%d@x", i%50), time.Time{})
		if err := s.write(bg, func(*conn) error { maxPages = max(maxPages, s.walPages); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.nCheckpoints.Load(); n == 0 {
		t.Fatal("no checkpoint")
	}
	// One append commits a handful of pages: the WAL is checkpointed and
	// started over soon after it passes the limit.
	if maxPages > 2*limit {
		t.Errorf("WAL grew to %d pages with CheckpointPages %d", maxPages, limit)
	}
}
