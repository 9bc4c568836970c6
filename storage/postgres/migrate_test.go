package postgres

import (
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/postgres/pgtest"
)

func schemaVersions(t *testing.T, s *Store) (rows, max int) {
	t.Helper()
	if err := s.pool.QueryRow(bg, `SELECT count(*), coalesce(max(version), 0) FROM schema_version`).Scan(&rows, &max); err != nil {
		t.Fatal(err)
	}
	return rows, max
}

// TestMigrateIdempotent: reopening a migrated database applies nothing
// again and keeps the data.
func TestMigrateIdempotent(t *testing.T) {
	ms, err := storage.ReadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.DSN(t)
	first, err := Open(bg, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := appendOne(t, first, "a@x", nilTime)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	s := openDSN(t, dsn, Options{})
	if rows, max := schemaVersions(t, s); rows != len(ms) || max != len(ms) {
		t.Errorf("schema_version: %d rows up to %d, want %d", rows, max, len(ms))
	}
	if next := appendOne(t, s, "a@x", nilTime); next.ID <= m.ID {
		t.Errorf("id %d after reopening, before it %d", next.ID, m.ID)
	}
	if n, err := s.CountArchive(bg, archiveOf("a@x"), 0); err != nil || n != 2 {
		t.Errorf("count after reopening: %d %v", n, err)
	}
}

// TestMigrateConcurrent: processes starting at once on a new database
// all open it, and each migration is applied once (the migration lock).
func TestMigrateConcurrent(t *testing.T) {
	dsn := pgtest.DSN(t)
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	for i := range stores {
		wg.Go(func() {
			s, err := Open(bg, dsn, Options{MaxConns: 2})
			if err != nil {
				t.Error(err)
				return
			}
			stores[i] = s
		})
	}
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			t.Cleanup(func() { s.Close() })
		}
	}
	if t.Failed() {
		return
	}
	ms, _ := storage.ReadMigrations(migrationFiles)
	if rows, _ := schemaVersions(t, stores[0]); rows != len(ms) {
		t.Errorf("schema_version has %d rows, want %d", rows, len(ms))
	}
}

// TestMigrateRefusesNewer: a schema written by a newer Skald is left
// alone.
func TestMigrateRefusesNewer(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := openDSN(t, dsn, Options{})
	if _, err := s.pool.Exec(bg, `INSERT INTO schema_version (version, name) VALUES (999, '0999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	if again, err := Open(bg, dsn, Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		if again != nil {
			again.Close()
		}
		t.Fatalf("Open on a newer schema: %v", err)
	}
}

// TestMigrateFailureRollsBack: a migration that fails leaves the schema
// as it was, earlier migrations of the same run included.
func TestMigrateFailureRollsBack(t *testing.T) {
	dsn := pgtest.DSN(t)
	pool, err := pgxpool.New(bg, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	fsys := fstest.MapFS{
		"migrations/0001_a.sql": {Data: []byte("CREATE TABLE a (x integer); CREATE TABLE a2 (y integer);")},
		"migrations/0002_b.sql": {Data: []byte("CREATE TABLE b (;")},
	}
	if err := migrate(bg, pool, 1, fsys); err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
		t.Fatalf("migrate with a broken migration: %v", err)
	}
	var a, sv *string
	if err := pool.QueryRow(bg, `SELECT to_regclass('a')::text, to_regclass('schema_version')::text`).Scan(&a, &sv); err != nil {
		t.Fatal(err)
	}
	if a != nil || sv != nil {
		t.Errorf("tables left behind by the failed run: a %v, schema_version %v", a, sv)
	}
	// Fixed, the same run applies both.
	fsys["migrations/0002_b.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE b (z integer);")}
	if err := migrate(bg, pool, 1, fsys); err != nil {
		t.Fatal(err)
	}
}
