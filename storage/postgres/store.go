package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skald-xmpp/skald/storage"
)

// Options tunes a Store. The zero value gives the defaults.
type Options struct {
	// MaxBatch caps how many AppendArchive calls share one transaction
	// (default 256).
	MaxBatch int
	// DeleteBatch is how many archive rows PurgeArchive, TrimArchive,
	// ExpireArchive and DeleteUser delete per transaction (default 1000),
	// so appends interleave with big deletions.
	DeleteBatch int
	// MaxConns caps the connection pool (default 8; the DSN's
	// pool_max_conns wins when given).
	MaxConns int
	// ConnectTimeout bounds each connection attempt (default 10s; the
	// DSN's connect_timeout wins when given).
	ConnectTimeout time.Duration
	// WriteTimeout bounds one append transaction of the writer goroutine
	// (default 30s): its callers wait for its outcome whatever their own
	// contexts say, so something must bound the wait.
	WriteTimeout time.Duration
	// TextTimeout bounds one full-text statement (QueryArchive or
	// CountArchive with Text; default 2s), as SQLite's scan budget bounds
	// its: a term the trigram index cannot answer walks the owner's rows.
	// Past it the query fails with storage.ErrTextTooBroad.
	TextTimeout time.Duration
}

func (o *Options) fill() {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 256
	}
	if o.DeleteBatch <= 0 {
		o.DeleteBatch = 1000
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 8
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 30 * time.Second
	}
	if o.TextTimeout <= 0 {
		o.TextTimeout = 2 * time.Second
	}
}

// Advisory lock classes (the first key of pg_advisory_xact_lock(int, int));
// the second key is the hash of the schema (lockKey), so stores in
// different schemas of one database never wait for each other.
const (
	lockMigrate   int32 = 0x534b0001 // "SK" 1: applying migrations
	lockArchive   int32 = 0x534b0002 // every transaction that writes archive or archive_count
	lockOffline   int32 = 0x534b0003 // one owner's offline messages; key hashes schema and owner
	lockDocuments int32 = 0x534b0004 // one owner's documents of a kind; key hashes schema, owner and kind
	lockPEP       int32 = 0x534b0005 // one owner's PEP nodes (CreatePEPNode's quota); key hashes schema and owner
)

var _ storage.Store = (*Store)(nil)

// Store is a storage.Store on a PostgreSQL database. All methods are safe
// for concurrent use.
type Store struct {
	opts    Options
	pool    *pgxpool.Pool
	lockKey int32 // hashtext(current_schema()): second key of the schema-wide locks

	closed    atomic.Bool
	closeOnce sync.Once
	quit      chan struct{} // closed by Close
	closeErr  error

	// Appends go to the writer goroutine (writer.go).
	appends    chan *appendReq
	writerDone chan struct{}
	nBatches   atomic.Int64 // append transactions committed or tried
	nOps       atomic.Int64 // AppendArchive calls in them
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string, as libpq takes), migrates its schema and starts the
// writer goroutine. The connection parameter search_path (in the DSN)
// selects the schema; every connection runs with synchronous_commit=on,
// whatever the server's default, since appends promise durability, and
// READ COMMITTED, which the archive lock's ordering relies on (doc.go).
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	opts.fill()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("storage/postgres: %w", err)
	}
	if !hasParam(dsn, "pool_max_conns") {
		cfg.MaxConns = int32(opts.MaxConns)
	}
	if !hasParam(dsn, "connect_timeout") {
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	}
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	// The lock-then-read transactions (doc.go) need a snapshot per
	// statement, taken after the lock was granted: a default of
	// repeatable read or serializable would take it before the wait.
	cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "read committed"
	cfg.ConnConfig.RuntimeParams["application_name"] = "skald"
	cfg.ShouldPing = shouldPing // a backend the server ended is never handed out (conncheck.go)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("storage/postgres: %w", err)
	}
	s := &Store{
		opts:       opts,
		pool:       pool,
		quit:       make(chan struct{}),
		appends:    make(chan *appendReq),
		writerDone: make(chan struct{}),
	}
	if err := s.pool.QueryRow(ctx, `SELECT hashtext(coalesce(current_schema(), ''))`).Scan(&s.lockKey); err != nil {
		pool.Close()
		return nil, fmt.Errorf("storage/postgres: connect %s: %w", redact(cfg.ConnConfig), err)
	}
	if err := migrate(ctx, pool, s.lockKey, migrationFiles); err != nil {
		pool.Close()
		return nil, fmt.Errorf("storage/postgres: %w", err)
	}
	if err := s.foldOldBodies(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("storage/postgres: folding archive bodies for text search: %w", err)
	}
	go s.writeLoop()
	return s, nil
}

// redact names the server of a connection config without its password.
func redact(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// hasParam reports whether a DSN (URL or key=value) sets a parameter; the
// Options defaults apply only to those it leaves out.
func hasParam(dsn, name string) bool {
	for i := 0; i+len(name) < len(dsn); i++ {
		if dsn[i:i+len(name)] == name && dsn[i+len(name)] == '=' && (i == 0 || dsn[i-1] == '?' || dsn[i-1] == '&' || dsn[i-1] == ' ') {
			return true
		}
	}
	return false
}

// Name returns "postgres".
func (s *Store) Name() string { return "postgres" }

// WriteStats reports how many append transactions the writer goroutine
// has committed (or tried to) and how many AppendArchive calls they held:
// their ratio is the group commit batch size.
func (s *Store) WriteStats() (transactions, requests int64) {
	return s.nBatches.Load(), s.nOps.Load()
}

// Close lets the writer finish the batch it is running, answers queued
// appends with storage.ErrClosed, waits for running queries and closes the
// pool. Later calls fail with storage.ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.quit)
		<-s.writerDone
		s.pool.Close() // waits for acquired connections to come back
	})
	return s.closeErr
}

// enter is called first by every method: ErrClosed after Close, the
// context's error if it is done already.
func (s *Store) enter(ctx context.Context) error {
	if s.closed.Load() {
		return storage.ErrClosed
	}
	return ctx.Err()
}

// fail maps an error of a call that raced with Close to ErrClosed (the
// pool then refuses with an error of its own).
func (s *Store) fail(err error) error {
	if err != nil && s.closed.Load() && !errors.Is(err, storage.ErrClosed) {
		return fmt.Errorf("%w (%v)", storage.ErrClosed, err)
	}
	return err
}

// queryStrings runs a query of one text column and returns its values,
// nil when there are none (as the other backends answer).
func (s *Store) queryStrings(ctx context.Context, sql string, args ...any) ([]string, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, s.fail(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if len(out) == 0 {
		out = nil
	}
	return out, s.fail(err)
}

// inTx runs fn in one transaction from the pool: committed if fn returns
// nil, rolled back otherwise.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	return s.fail(pgx.BeginFunc(ctx, s.pool, fn))
}

// lockArchiveTx takes the archive lock for the rest of tx (see doc.go).
func (s *Store) lockArchiveTx(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, lockArchive, s.lockKey)
	return err
}
