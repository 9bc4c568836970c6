package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/fts5"

	"github.com/skald-xmpp/skald/storage"
)

// SyncMode is the PRAGMA synchronous setting of the writer connection.
type SyncMode int

const (
	// SyncFull (the default) fsyncs the WAL on every COMMIT: a write that
	// returned survives power loss. This is what the archive promises.
	SyncFull SyncMode = iota
	// SyncNormal fsyncs only at checkpoints: a power loss can lose the most
	// recent commits (never corrupt the database). For benchmarks and
	// throwaway test databases.
	SyncNormal
	// SyncOff never fsyncs. For tests only.
	SyncOff
)

func (m SyncMode) pragma() string {
	switch m {
	case SyncNormal:
		return "NORMAL"
	case SyncOff:
		return "OFF"
	}
	return "FULL"
}

// Options tunes a Store. The zero value gives the defaults.
type Options struct {
	// MaxBatch caps how many write requests share one transaction
	// (default 256).
	MaxBatch int
	// MaxBatchDelay, if positive, lets the writer wait up to this long after
	// the first request of a batch for more requests before it commits.
	// The default 0 never waits: a batch is committed as soon as no further
	// request is queued, so a lone writer pays no added latency.
	MaxBatchDelay time.Duration
	// ReadConns is the size of the read connection pool (default 4).
	ReadConns int
	// BusyTimeout bounds waits for locks held by other processes
	// (default 5s).
	BusyTimeout time.Duration
	// Synchronous is the durability mode (default SyncFull).
	Synchronous SyncMode
	// DeleteBatch is how many archive rows PurgeArchive, TrimArchive,
	// ExpireArchive and DeleteUser delete per transaction (default 1000),
	// so other writes interleave with big deletions.
	DeleteBatch int
	// CheckpointPages is the WAL size in pages past which the writer
	// copies it back into the database between two batches (default
	// 10000, 40 MiB of 4 KiB pages). See checkpoint.go.
	CheckpointPages int
	// IndexBatch is how many archive rows one step of the background
	// full-text indexer indexes at most (default 1000; negative: no
	// background indexing, queries scan every row above the mark).
	IndexBatch int
	// IndexPause is how long the writer must have been idle before the
	// indexer runs a step (default 10ms). See fulltext_index.go.
	IndexPause time.Duration
	// TextScanBudget bounds the candidate rows one full-text query
	// examines (default 20000). See fulltext_query.go.
	TextScanBudget int
	// OnMigration, if set, is called before each schema migration Open
	// applies (some rewrite every archive row: 0008 took about 20 µs per
	// row here, minutes at 10^7 rows), so that the server can say why it
	// is slow to start.
	OnMigration func(name string)
}

func (o *Options) fill() {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 256
	}
	if o.ReadConns <= 0 {
		o.ReadConns = 4
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.DeleteBatch <= 0 {
		o.DeleteBatch = 1000
	}
	if o.CheckpointPages <= 0 {
		o.CheckpointPages = 10000
	}
	if o.IndexBatch == 0 {
		o.IndexBatch = 1000
	}
	if o.IndexPause <= 0 {
		o.IndexPause = 10 * time.Millisecond
	}
	if o.TextScanBudget <= 0 {
		o.TextScanBudget = 20000
	}
}

// Store is a storage.Store backed by one SQLite database file. All methods
// are safe for concurrent use.
type Store struct {
	opts Options
	path string

	closed    atomic.Bool
	closeOnce sync.Once
	quit      chan struct{} // closed by Close
	closeErr  error

	// Writes: requests go to the writer goroutine, which owns wconn.
	ops        chan *writeOp // unbuffered; see writer.go
	writerDone chan struct{}
	wconn      *conn
	// Group commit counters, for tests and benchmarks.
	nBatches, nOps atomic.Int64
	// Writer-goroutine-only cache of the newest archive stamp, valid
	// while wstampOK and while the file's data_version (bumped by other
	// processes' commits) is still wdataVersion.
	wstamp       int64
	wstampOK     bool
	wdataVersion int64
	// archive_count changes of the running batch; writer goroutine only.
	counts countDeltas
	// WAL frames after the last commit, set by the writer connection's WAL
	// hook; writer goroutine only. See checkpoint.go.
	walPages int
	// Checkpoints run by the writer, for tests and benchmarks.
	nCheckpoints atomic.Int64
	// The background full-text indexer's state; writer goroutine only.
	index indexState
	// Archive rows the full-text indexer has read, for metrics.
	nIndexed atomic.Int64

	// Reads: a fixed pool of connections.
	readers chan *conn
	nread   int
}

var _ storage.Store = (*Store)(nil)

// conn is one SQLite connection with its prepared statement cache. A conn
// is used by one goroutine at a time: the writer goroutine, or the reader
// that took it from the pool.
type conn struct {
	db    *sqlite3.Conn
	stmts map[string]*sqlite3.Stmt
}

// prep returns the cached prepared statement for query, preparing it on
// first use. The caller must Reset it when done.
func (c *conn) prep(query string) (*sqlite3.Stmt, error) {
	if st := c.stmts[query]; st != nil {
		return st, nil
	}
	st, tail, err := c.db.PrepareFlags(query, sqlite3.PREPARE_PERSISTENT)
	if err != nil {
		return nil, err
	}
	if st == nil || strings.TrimSpace(tail) != "" {
		st.Close()
		return nil, fmt.Errorf("storage/sqlite: not exactly one statement: %q", query)
	}
	c.stmts[query] = st
	return st, nil
}

// exec runs a cached statement that returns no rows.
func (c *conn) exec(query string, args ...any) error {
	st, err := c.prep(query)
	if err != nil {
		return err
	}
	if err := bind(st, args...); err != nil {
		st.Reset()
		return err
	}
	return st.Exec()
}

// queryRow runs a cached statement that gives at most one row, with args
// bound as by exec, and hands the row to scan, if any (its columns are
// valid only there). It reports whether there was a row. For cold paths,
// like exec.
func (c *conn) queryRow(query string, scan func(*sqlite3.Stmt) error, args ...any) (bool, error) {
	st, err := c.prep(query)
	if err != nil {
		return false, err
	}
	defer st.Reset()
	if err := bind(st, args...); err != nil {
		return false, err
	}
	if !st.Step() {
		return false, st.Err()
	}
	if scan == nil {
		return true, nil
	}
	return true, scan(st)
}

func (c *conn) close() error {
	if c == nil || c.db == nil {
		return nil
	}
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
	err := c.db.Close()
	c.db = nil
	return err
}

// bind binds args to st's parameters 1..len(args). For cold paths only:
// hot paths bind directly to avoid the interface conversions.
func bind(st *sqlite3.Stmt, args ...any) error {
	for i, a := range args {
		var err error
		switch v := a.(type) {
		case nil:
			err = st.BindNull(i + 1)
		case int:
			err = st.BindInt64(i+1, int64(v))
		case int64:
			err = st.BindInt64(i+1, v)
		case bool:
			err = st.BindBool(i+1, v)
		case string:
			err = st.BindText(i+1, v)
		case []byte:
			err = st.BindBlob(i+1, v)
		default:
			err = fmt.Errorf("storage/sqlite: cannot bind %T", a)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writerCacheKiB is the writer connection's page cache (SQLite's default
// is 2 MiB). An append touches one leaf page of each archive index per
// row, at the owner's place in it; with the default cache most of those
// pages had to be read back for every batch (3.5 cache misses per row in
// BenchmarkAppendChat, 0.6 with 32 MiB, most of them cold starts). Read
// connections keep the default: a page scan reads few pages. The Wasm
// build caps each connection's memory at 256 MiB.
const writerCacheKiB = 32 << 10

// Open opens (creating if needed) the database at path, migrates its
// schema and starts the writer goroutine.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	opts.fill()
	s := &Store{
		opts:       opts,
		path:       path,
		quit:       make(chan struct{}),
		ops:        make(chan *writeOp),
		writerDone: make(chan struct{}),
		readers:    make(chan *conn, opts.ReadConns),
	}
	ok := false
	defer func() {
		if !ok {
			s.wconn.close()
			for range s.nread {
				(<-s.readers).close()
			}
		}
	}()

	w, err := openConn(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	s.wconn = w
	if err := w.db.Exec(`PRAGMA journal_mode=WAL`); err != nil {
		return nil, fmt.Errorf("storage/sqlite: %s: %w", path, err)
	}
	if mode, err := pragmaText(w, `PRAGMA journal_mode`); err != nil {
		return nil, err
	} else if mode != "wal" {
		return nil, fmt.Errorf("storage/sqlite: %s: cannot enable WAL (journal_mode=%s)", path, mode)
	}
	if err := w.db.Exec(`PRAGMA synchronous=` + opts.Synchronous.pragma() +
		`; PRAGMA journal_size_limit=67108864` +
		`; PRAGMA cache_size=-` + strconv.Itoa(writerCacheKiB)); err != nil {
		return nil, err
	}
	if err := originKeyFunc(w.db); err != nil {
		return nil, err
	}
	if err := migrateFS(ctx, w.db, migrationFiles, opts.OnMigration); err != nil {
		return nil, fmt.Errorf("storage/sqlite: %s: %w", path, err)
	}
	for range opts.ReadConns {
		r, err := openConn(ctx, path, opts)
		if err != nil {
			return nil, err
		}
		if err := r.db.Exec(`PRAGMA query_only=ON`); err != nil {
			r.close()
			return nil, err
		}
		s.readers <- r
		s.nread++
	}
	s.hookWAL()
	// Catch up with what earlier runs (or older versions) left unindexed.
	s.index.behind = true
	if s.index.high, _, err = queryInt(w, `SELECT coalesce(max(id), 0) FROM archive`); err != nil {
		return nil, err
	}
	if s.index.mark, _, err = queryInt(w, `SELECT id FROM archive_fts_mark WHERE one=0`); err != nil {
		return nil, err
	}
	go s.writeLoop()
	ok = true
	return s, nil
}

func openConn(ctx context.Context, path string, opts Options) (*conn, error) {
	db, err := sqlite3.OpenContext(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("storage/sqlite: open %s: %w", path, err)
	}
	c := &conn{db: db, stmts: make(map[string]*sqlite3.Stmt)}
	// FTS5 is a loadable extension in this build: every connection needs
	// it, since the archive's delete trigger writes archive_fts.
	if err := fts5.Register(db); err != nil {
		c.close()
		return nil, fmt.Errorf("storage/sqlite: open %s: fts5: %w", path, err)
	}
	if err := db.BusyTimeout(opts.BusyTimeout); err != nil {
		c.close()
		return nil, err
	}
	if err := db.Exec(`PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY`); err != nil {
		c.close()
		return nil, fmt.Errorf("storage/sqlite: open %s: %w", path, err)
	}
	return c, nil
}

func pragmaText(c *conn, q string) (string, error) {
	st, _, err := c.db.Prepare(q)
	if err != nil {
		return "", err
	}
	defer st.Close()
	if !st.Step() {
		return "", errors.Join(st.Err(), errors.New("storage/sqlite: no result from "+q))
	}
	return st.ColumnText(0), nil
}

// WriteStats reports how many write transactions the writer goroutine has
// committed (or tried to) and how many write requests they held: their
// ratio is the group commit batch size. For benchmarks and monitoring.
func (s *Store) WriteStats() (transactions, requests int64) {
	return s.nBatches.Load(), s.nOps.Load()
}

// Name returns "sqlite".
func (s *Store) Name() string { return "sqlite" }

// Path returns the database file name given to Open.
func (s *Store) Path() string { return s.path }

// Close waits for queued writes and running reads to finish, then closes
// every connection. Later calls fail with storage.ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.quit)
		<-s.writerDone // the writer closes wconn
		errs := []error{s.closeErr}
		for range s.nread {
			errs = append(errs, (<-s.readers).close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// read runs fn on a pooled read connection. ctx cancellation interrupts
// running statements.
func (s *Store) read(ctx context.Context, fn func(c *conn) error) error {
	return s.doRead(ctx, false, fn)
}

// readTx is read inside one read transaction, so that a multi-statement
// read sees one snapshot.
func (s *Store) readTx(ctx context.Context, fn func(c *conn) error) error {
	return s.doRead(ctx, true, fn)
}

func (s *Store) doRead(ctx context.Context, tx bool, fn func(c *conn) error) (err error) {
	if s.closed.Load() {
		return storage.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var c *conn
	select {
	case c = <-s.readers:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.quit:
		return storage.ErrClosed
	}
	defer func() { s.readers <- c }()
	if ctx.Done() != nil {
		c.db.SetInterrupt(ctx)
		defer c.db.SetInterrupt(context.Background())
	}
	if !tx {
		return fn(c)
	}
	if err := c.exec(`BEGIN`); err != nil {
		return err
	}
	err = fn(c)
	if err == nil {
		err = c.exec(`COMMIT`)
	}
	if err != nil && !c.db.GetAutocommit() {
		// ROLLBACK even if ctx was cancelled.
		old := c.db.SetInterrupt(context.Background())
		_ = c.exec(`ROLLBACK`)
		c.db.SetInterrupt(old)
	}
	return err
}
