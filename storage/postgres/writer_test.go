package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/postgres/pgtest"
)

// holdArchiveLock takes s's archive lock on a connection of its own, as
// another process appending would, and returns the function that
// releases it.
func holdArchiveLock(t *testing.T, dsn string, s *Store) (release func()) {
	t.Helper()
	conn, err := pgx.Connect(bg, dsn)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(bg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(bg, `SELECT pg_advisory_xact_lock($1, $2)`, lockArchive, s.lockKey); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if err := tx.Commit(bg); err != nil {
				t.Error(err)
			}
			conn.Close(bg)
		})
	}
	t.Cleanup(release)
	return release
}

// TestGroupCommit: appends that arrive while a transaction waits share the
// next one, and no AppendArchive returns before its transaction has
// committed. The archive lock is held from outside, so the first append's
// transaction waits for it and the others queue behind the writer.
func TestGroupCommit(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := openDSN(t, dsn, Options{})
	release := holdArchiveLock(t, dsn, s)
	b0, o0 := s.WriteStats()

	const callers = 20
	var returned atomic.Int32
	var wg sync.WaitGroup
	msgs := make([]*storage.ArchivedMessage, callers)
	for i := range callers {
		msgs[i] = &storage.ArchivedMessage{Owner: "a@x", With: "b@x", Body: "hi"}
		wg.Go(func() {
			if err := s.AppendArchive(bg, msgs[i:i+1]); err != nil {
				t.Error(err)
			}
			returned.Add(1)
		})
	}
	time.Sleep(300 * time.Millisecond) // every caller is queued or waiting for the lock
	if n := returned.Load(); n != 0 {
		t.Fatalf("%d appends returned before their transaction could commit", n)
	}
	release()
	wg.Wait()
	b, o := s.WriteStats()
	// The first transaction holds the callers the writer found queued when
	// it started (at least one), the second all the others.
	if b-b0 > 2 || o-o0 != callers {
		t.Errorf("%d appends took %d transactions (%d requests counted); want at most 2", callers, b-b0, o-o0)
	}
	// Durable means committed: another connection sees every row.
	conn, err := pgx.Connect(bg, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(bg)
	var n int
	if err := conn.QueryRow(bg, `SELECT count(*) FROM archive WHERE owner = 'a@x'`).Scan(&n); err != nil || n != callers {
		t.Errorf("another connection sees %d rows (%v), want %d", n, err, callers)
	}
	seen := map[int64]bool{}
	for _, m := range msgs {
		if m.ID == 0 || seen[m.ID] {
			t.Errorf("id %d zero or given twice", m.ID)
		}
		seen[m.ID] = true
	}
}

// TestSynchronousCommitForced: appends promise durability, so every
// connection runs with synchronous_commit=on even when the DSN (or the
// server) says otherwise.
func TestSynchronousCommitForced(t *testing.T) {
	dsn := pgtest.WithParam(pgtest.DSN(t), "synchronous_commit", "off")
	s := openDSN(t, dsn, Options{})
	var v string
	if err := s.pool.QueryRow(bg, `SHOW synchronous_commit`).Scan(&v); err != nil || v != "on" {
		t.Fatalf("synchronous_commit = %q (%v), want on", v, err)
	}
}

// TestBatchFailureIsolated: a batch holding a request PostgreSQL refuses
// is retried request by request: the bad one fails alone, the others of
// its batch are stored, and the counts stay right.
func TestBatchFailureIsolated(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := openDSN(t, dsn, Options{})
	release := holdArchiveLock(t, dsn, s)
	var wg sync.WaitGroup
	wg.Go(func() { appendOne(t, s, "first@x", time.Time{}) }) // waits for the lock
	time.Sleep(100 * time.Millisecond)
	errs := make([]error, 4)
	for i := range errs {
		body := "fine"
		if i == 2 {
			body = "nul \x00 byte" // text cannot hold NUL
		}
		wg.Go(func() {
			errs[i] = s.AppendArchive(bg, []*storage.ArchivedMessage{{Owner: "a@x", With: "b@x", Body: body}})
		})
	}
	time.Sleep(200 * time.Millisecond) // all four queued: they form one batch
	b0, _ := s.WriteStats()            // the first append's transaction is counted already
	release()
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (i == 2) {
			t.Errorf("append %d: %v", i, err)
		}
	}
	if b, _ := s.WriteStats(); b-b0 != 1+4 {
		t.Errorf("%d more transactions, want 5: the failed batch, four retries", b-b0)
	}
	if n, err := s.CountArchive(bg, storage.ArchiveQuery{Owner: "a@x", AfterID: 0, With: "b@x"}, 0); err != nil || n != 3 {
		t.Errorf("%d items stored (%v), want 3", n, err)
	}
	checkCounts(t, s)
}

// TestCancelledWhileQueued: a caller whose context ends while its request
// waits for the writer gets the context's error and nothing is stored.
func TestCancelledWhileQueued(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := openDSN(t, dsn, Options{})
	release := holdArchiveLock(t, dsn, s)
	var wg sync.WaitGroup
	wg.Go(func() { appendOne(t, s, "first@x", time.Time{}) }) // the writer waits in its transaction
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(bg, 100*time.Millisecond)
	defer cancel()
	err := s.AppendArchive(ctx, []*storage.ArchivedMessage{{Owner: "late@x", With: "b@x"}})
	if err != context.DeadlineExceeded {
		t.Errorf("queued append with an expired context: %v", err)
	}
	release()
	wg.Wait()
	if n, _ := s.CountArchive(bg, storage.ArchiveQuery{Owner: "late@x"}, 0); n != 0 {
		t.Errorf("the cancelled append stored %d items", n)
	}
}
