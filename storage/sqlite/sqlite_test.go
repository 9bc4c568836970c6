package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/storagetest"
)

// openTest opens a store in a fresh temporary directory. The contract
// suite runs with SyncOff (durability is not what it checks, and fsyncs
// would dominate its run time) and a tiny DeleteBatch so that every purge,
// trim and expiry of the suite and the model test crosses transaction
// boundaries.
//
// Unless opts sets IndexBatch, the background full-text indexer is off:
// tests that count the writer's transactions and requests must see only
// their own. The contract suite indexes through IndexText; the indexer's
// own tests set IndexBatch.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	if opts.IndexBatch == 0 {
		opts.IndexBatch = -1
	}
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "skald.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return openTest(t, Options{Synchronous: SyncOff, DeleteBatch: 3, ReadConns: 2})
	})
}

var bg = context.Background()

func appendOne(t testing.TB, s *Store, owner string, stamp time.Time) *storage.ArchivedMessage {
	t.Helper()
	m := &storage.ArchivedMessage{Owner: owner, With: "peer@example.net", Stamp: stamp, Body: "hi", Stanza: []byte("<message/>")}
	if err := s.AppendArchive(bg, []*storage.ArchivedMessage{m}); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCountsConsistent runs the model test and then checks the maintained
// per-owner counts against a full count.
func TestCountsConsistent(t *testing.T) {
	storagetest.RunModel(t, func(t *testing.T) storage.Store {
		s := openTest(t, Options{Synchronous: SyncOff, DeleteBatch: 2})
		t.Cleanup(func() { checkCounts(t, s) }) // runs before Close
		return s
	}, storagetest.ModelConfig{Seeds: []uint64{42}, Ops: 500})
}

func checkCounts(t *testing.T, s *Store) {
	t.Helper()
	err := s.read(bg, func(c *conn) error {
		st, err := c.prep(`SELECT coalesce(a.owner, c.owner), a.n, c.n FROM
			(SELECT owner, count(*) AS n FROM archive GROUP BY owner) a
			FULL JOIN archive_count c ON a.owner = c.owner
			WHERE a.n IS NOT c.n`)
		if err != nil {
			return err
		}
		defer st.Reset()
		for st.Step() {
			t.Errorf("owner %s: %d rows, archive_count says %d", st.ColumnText(0), st.ColumnInt(1), st.ColumnInt(2))
		}
		return st.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "skald.db")
	s, err := Open(bg, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.CreateUser(bg, "a@b", storage.Credentials{}); err != nil {
		t.Fatal(err)
	}
	m1 := appendOne(t, s, "a@b", t0.Add(time.Hour))
	m2 := appendOne(t, s, "c@d", t0.Add(2*time.Hour))
	if _, err := s.PurgeArchive(bg, "c@d", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(bg, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ok, _ := s.UserExists(bg, "a@b"); !ok {
		t.Fatal("user lost across reopen")
	}
	p, err := s.QueryArchive(bg, storage.ArchiveQuery{Owner: "a@b"})
	if err != nil || len(p.Messages) != 1 || p.Messages[0].ID != m1.ID {
		t.Fatalf("archive after reopen: %v %v", p, err)
	}
	// AUTOINCREMENT: the purged m2's id is not handed out again, and the
	// stamp clamp uses the newest stored item (m1, m2 is gone).
	m3 := appendOne(t, s, "a@b", t0)
	if m3.ID <= m2.ID {
		t.Fatalf("id %d reused after reopen (purged %d)", m3.ID, m2.ID)
	}
	if !m3.Stamp.Equal(m1.Stamp) {
		t.Fatalf("stamp after reopen %v, want clamp to %v", m3.Stamp, m1.Stamp)
	}
	var sync, fk int64
	err = s.read(bg, func(c *conn) error {
		var err error
		if fk, _, err = queryInt(c, `PRAGMA foreign_keys`); err != nil {
			return err
		}
		return nil
	})
	if err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d, %v", fk, err)
	}
	err = s.write(bg, func(w *conn) error {
		var err error
		sync, _, err = queryInt(w, `PRAGMA synchronous`)
		return err
	})
	if err != nil || sync != 2 {
		t.Fatalf("writer synchronous = %d (want 2 = FULL), %v", sync, err)
	}
}

func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	db, err := sqlite3.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	version := func() int {
		v, err := schemaVersion(db)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	fsys := fstest.MapFS{
		"migrations/0001_a.sql": {Data: []byte(`CREATE TABLE a(x); INSERT INTO a VALUES(1);`)},
	}
	if err := migrateFS(bg, db, fsys, nil); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != 1 {
		t.Fatalf("version %d", v)
	}
	// Re-running applies nothing (a second INSERT would be visible).
	if err := migrateFS(bg, db, fsys, nil); err != nil {
		t.Fatal(err)
	}
	// A failing migration is rolled back whole and stops the runner.
	fsys["migrations/0002_b.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE b(y); INSERT INTO nope VALUES(1);`)}
	fsys["migrations/0003_c.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE c(z);`)}
	if err := migrateFS(bg, db, fsys, nil); err == nil {
		t.Fatal("broken migration succeeded")
	}
	if v := version(); v != 1 {
		t.Fatalf("version %d after failed migration", v)
	}
	if err := db.Exec(`SELECT * FROM b`); err == nil {
		t.Fatal("table of the failed migration exists")
	}
	fsys["migrations/0002_b.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE b(y);`)}
	if err := migrateFS(bg, db, fsys, nil); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != 3 {
		t.Fatalf("version %d", v)
	}
	n, _, err := queryInt(&conn{db: db, stmts: map[string]*sqlite3.Stmt{}}, `SELECT count(*) FROM a`)
	if err != nil || n != 1 {
		t.Fatalf("migration 1 ran %d times (%v)", n, err)
	}
	// Gaps and bad names are refused; so is a database newer than us.
	bad := fstest.MapFS{"migrations/0001_a.sql": {}, "migrations/0003_c.sql": {}}
	if err := migrateFS(bg, db, bad, nil); err == nil {
		t.Fatal("gap accepted")
	}
	if err := migrateFS(bg, db, fstest.MapFS{"migrations/x.sql": {}}, nil); err == nil {
		t.Fatal("bad name accepted")
	}
	older := fstest.MapFS{"migrations/0001_a.sql": fsys["migrations/0001_a.sql"]}
	if err := migrateFS(bg, db, older, nil); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("newer database accepted: %v", err)
	}
	// The real migrations apply to an empty database.
	s := openTest(t, Options{})
	err = s.read(bg, func(c *conn) error {
		v, _, err := queryInt(c, `SELECT max(version) FROM schema_version`)
		if err == nil && v < 1 {
			err = errors.New("no schema version recorded")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGroupCommit checks that concurrent appenders share transactions and
// that a failing request does not fail the others of its batch.
func TestGroupCommit(t *testing.T) {
	s := openTest(t, Options{}) // SyncFull: commits take long enough to batch
	const workers, each = 32, 8
	b0, o0 := s.nBatches.Load(), s.nOps.Load()
	var wg sync.WaitGroup
	var dupOK atomic.Int32
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				m := &storage.ArchivedMessage{Owner: "room@muc.example.org", With: "x@y", Stanza: []byte("<m/>")}
				if err := s.AppendArchive(bg, []*storage.ArchivedMessage{m}); err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
				if i == 0 {
					// All workers race to create the same account: exactly one
					// may succeed, in whatever batch.
					err := s.CreateUser(bg, "dup@example.org", storage.Credentials{})
					switch {
					case err == nil:
						dupOK.Add(1)
					case !errors.Is(err, storage.ErrExists):
						t.Errorf("worker %d: %v", w, err)
					}
				}
			}
		})
	}
	wg.Wait()
	batches, ops := s.nBatches.Load()-b0, s.nOps.Load()-o0
	t.Logf("%d write requests in %d transactions (%.1f per commit)", ops, batches, float64(ops)/float64(batches))
	if ops != workers*(each+1) {
		t.Fatalf("%d ops counted", ops)
	}
	if batches >= ops {
		t.Errorf("no group commit: %d transactions for %d requests", batches, ops)
	}
	if dupOK.Load() != 1 {
		t.Fatalf("%d CreateUser calls succeeded", dupOK.Load())
	}
	if n, _ := s.CountArchive(bg, storage.ArchiveQuery{Owner: "room@muc.example.org"}, 0); n != workers*each {
		t.Fatalf("%d items stored", n)
	}
	checkCounts(t, s)
}

// TestLoneWriter checks that a single writer is committed at once, one
// request per transaction, without waiting for company.
func TestLoneWriter(t *testing.T) {
	s := openTest(t, Options{Synchronous: SyncOff})
	b0 := s.nBatches.Load()
	start := time.Now()
	for range 50 {
		appendOne(t, s, "a@b", time.Time{})
	}
	if n := s.nBatches.Load() - b0; n != 50 {
		t.Fatalf("%d transactions for 50 sequential appends", n)
	}
	t.Logf("50 sequential appends (SyncOff) in %v", time.Since(start))
}

// TestQueryPlans pins the plans of the archive statements: every page,
// count, seek and delete step is one index search (or rowid lookups), with
// no full scan and no sort. The plans are what keeps a page as cheap at
// 10^6 rows as at 10^3.
func TestQueryPlans(t *testing.T) {
	s := openTest(t, Options{})
	type planTest struct {
		sql  string
		want []string // substrings of the plan
	}
	var tests []planTest
	timeBounds := func(v int) string {
		lower, upper := "stamp>?", "stamp<?"
		if v&vAfter != 0 {
			lower = "(stamp,seq)>(?,?)"
		}
		if v&vBefore != 0 {
			upper = "(stamp,seq)<(?,?)"
		}
		return "archive_time (owner=? AND " + lower + " AND " + upper + ")"
	}
	for v := range nVariants {
		for _, q := range []string{pageSQL[v], countSQL[v]} {
			if q == "" {
				continue
			}
			var want []string
			switch {
			case v&vIDs != 0:
				want = []string{"SEARCH archive USING INTEGER PRIMARY KEY (rowid=?)", "SCAN json_each"}
			case v&vWith != 0:
				want = []string{"archive_with (owner=? AND with_jid=? AND rowid>? AND rowid<?)"}
			default:
				want = []string{timeBounds(v)}
				// The id bounds' stamps: one rowid seek each.
				if v&vAfter != 0 {
					want = append(want, "SEARCH archive USING INTEGER PRIMARY KEY (rowid<?)")
				}
				if v&vBefore != 0 {
					want = append(want, "SEARCH archive USING INTEGER PRIMARY KEY (rowid>?)")
				}
			}
			tests = append(tests, planTest{q, want})
		}
	}
	// time: 8 pages (asc/desc x after x before) + 4 counts (after x
	// before); peer (with, with+resource): 4 + 2; ids (alone, with,
	// with+resource): 6 + 3.
	if n := len(tests); n != 12+6+9 {
		t.Fatalf("%d page and count statements", n)
	}
	tests = append(tests,
		planTest{firstFromSQL, []string{"archive_time (owner=? AND stamp>?)"}},
		planTest{lastUntilSQL, []string{"archive_time (owner=? AND stamp<?)"}},
		planTest{findOriginSQL, []string{"archive_origin_key (origin_key=?)"}},
		planTest{resendSQL, []string{"archive_origin_key (origin_key=?)"}},
		planTest{idsExistSQL, []string{"SEARCH archive USING INTEGER PRIMARY KEY (rowid=?)"}},
		planTest{purgeLastSQL, []string{"archive_time (owner=?)"}},
		planTest{purgeLastBeforeSQL, []string{"archive_time (owner=? AND stamp<?)"}},
		planTest{purgeStepSQL, []string{"archive_time (owner=? AND (stamp,seq)<(?,?))"}},
		planTest{purgeWithStepSQL, []string{"archive_with (owner=? AND with_jid=? AND rowid<?)"}},
		planTest{trimStepSQL, []string{"archive_time (owner=?)"}},
		planTest{`SELECT n FROM archive_count WHERE owner=?`, []string{"SEARCH archive_count USING PRIMARY KEY (owner=?)"}},
		// Table order: the newest row, and the oldest rows for expiry.
		planTest{`SELECT stamp FROM archive ORDER BY id DESC LIMIT 1`, []string{"SCAN archive"}},
		planTest{`SELECT id, stamp, owner FROM archive ORDER BY id LIMIT ?`, []string{"SCAN archive"}},
	)
	err := s.read(bg, func(c *conn) error {
		for _, tc := range tests {
			st, _, err := c.db.Prepare(`EXPLAIN QUERY PLAN ` + tc.sql)
			if err != nil {
				return fmt.Errorf("%s: %w", tc.sql, err)
			}
			var plan []string
			for st.Step() {
				plan = append(plan, st.ColumnText(3))
			}
			st.Close()
			all := strings.Join(plan, "; ")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("plan of %s\n  is   %s\n  lacks %q", tc.sql, all, w)
				}
			}
			if strings.Contains(all, "TEMP B-TREE") {
				t.Errorf("sort in plan of %s: %s", tc.sql, all)
			}
			if strings.Contains(all, "SCAN archive") && tc.want[0] != "SCAN archive" {
				t.Errorf("full scan in plan of %s: %s", tc.sql, all)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReadInterrupted(t *testing.T) {
	s := openTest(t, Options{Synchronous: SyncOff})
	ctx, cancel := context.WithCancel(bg)
	err := s.read(ctx, func(c *conn) error {
		cancel()
		st, err := c.prep(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) SELECT count(*) FROM n`)
		if err != nil {
			return err
		}
		defer st.Reset()
		st.Step()
		return st.Err()
	})
	if err == nil {
		t.Fatal("endless query was not interrupted")
	}
	// The connection is usable again afterwards.
	for range s.opts.ReadConns + 1 {
		if _, err := s.QueryArchive(bg, storage.ArchiveQuery{Owner: "a@b"}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWritePanic(t *testing.T) {
	s := openTest(t, Options{Synchronous: SyncOff})
	err := s.write(bg, func(w *conn) error {
		if err := w.exec(`INSERT INTO archive_prefs(owner, default_mode) VALUES('x@y', 'always')`); err != nil {
			return err
		}
		panic("boom")
	})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("panicking write: %v", err)
	}
	if _, ok, _ := s.ArchivePrefs(bg, "x@y"); ok {
		t.Fatal("write of the panicking request was committed")
	}
	appendOne(t, s, "a@b", time.Time{}) // the writer still works
}

// TestBatchOptions runs concurrent writers under the batch limits.
func TestBatchOptions(t *testing.T) {
	for _, opts := range []Options{
		{MaxBatch: 1},
		{MaxBatch: 4, MaxBatchDelay: 2 * time.Millisecond},
	} {
		t.Run(fmt.Sprintf("max=%d,delay=%v", opts.MaxBatch, opts.MaxBatchDelay), func(t *testing.T) {
			opts.Synchronous = SyncOff
			s := openTest(t, opts)
			// A lone writer with a delay waits at most MaxBatchDelay.
			start := time.Now()
			appendOne(t, s, "a@b", time.Time{})
			if d := time.Since(start); opts.MaxBatchDelay > 0 && d > opts.MaxBatchDelay+time.Second {
				t.Errorf("lone append took %v", d)
			}
			b0, o0 := s.nBatches.Load(), s.nOps.Load()
			var wg sync.WaitGroup
			for w := range 10 {
				wg.Go(func() {
					for range 5 {
						m := &storage.ArchivedMessage{Owner: "a@b", With: "x@y", Stanza: []byte("<m/>")}
						if err := s.AppendArchive(bg, []*storage.ArchivedMessage{m}); err != nil {
							t.Errorf("worker %d: %v", w, err)
							return
						}
					}
				})
			}
			wg.Wait()
			batches, ops := s.nBatches.Load()-b0, s.nOps.Load()-o0
			if ops != 50 || batches*int64(opts.MaxBatch) < ops {
				t.Errorf("%d requests in %d transactions with MaxBatch %d", ops, batches, opts.MaxBatch)
			}
			if n, _ := s.CountArchive(bg, storage.ArchiveQuery{Owner: "a@b"}, 0); n != 51 {
				t.Errorf("%d items", n)
			}
		})
	}
}

// TestPurgeInBatches checks that a big purge is split into transactions,
// that appends made while it runs are not held up behind it, and that it
// leaves them alone (it deletes only what existed when it started).
func TestPurgeInBatches(t *testing.T) {
	s := openTest(t, Options{Synchronous: SyncOff, DeleteBatch: 20})
	const owner = "big@example.org"
	var ms []*storage.ArchivedMessage
	for i := range 1000 {
		ms = append(ms, &storage.ArchivedMessage{Owner: owner, With: "p@x", Stamp: time.Unix(int64(i), 0), Stanza: []byte("<m/>")})
	}
	if err := s.AppendArchive(bg, ms); err != nil {
		t.Fatal(err)
	}
	o0 := s.nOps.Load()
	done := make(chan int, 1)
	go func() {
		n, err := s.PurgeArchive(bg, owner, "", time.Time{})
		if err != nil {
			t.Error(err)
		}
		done <- n
	}()
	// Once the count drops, the purge has fixed its last id: everything
	// appended from then on must survive it.
	for {
		n, err := s.CountArchive(bg, storage.ArchiveQuery{Owner: owner}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n < 1000 {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	var kept []*storage.ArchivedMessage
	var purged int
loop:
	for {
		select {
		case purged = <-done:
			break loop
		default:
			kept = append(kept, appendOne(t, s, owner, time.Time{}))
		}
	}
	if purged != 1000 {
		t.Fatalf("purged %d, want 1000", purged)
	}
	// Each purge step is its own write request (sequential, so never two
	// in one transaction); the rest of the requests are the appends.
	if steps := s.nOps.Load() - o0 - int64(len(kept)); steps < 1000/20 {
		t.Fatalf("purge ran in %d steps", steps)
	}
	p, err := s.QueryArchive(bg, storage.ArchiveQuery{Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Messages) != len(kept) {
		t.Fatalf("%d items left, %d appended during the purge", len(p.Messages), len(kept))
	}
	for i, m := range p.Messages {
		if m.ID != kept[i].ID {
			t.Fatalf("item %d: id %d, want %d", i, m.ID, kept[i].ID)
		}
	}
	t.Logf("%d appends completed during the purge", len(kept))
	checkCounts(t, s)
}
