// Package pgtest gives tests a PostgreSQL schema of their own.
//
// The server is named by SKALD_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). When it
// cannot be reached the test is skipped, unless SKALD_REQUIRE_POSTGRES=1
// (as .ci/run sets), when it fails.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultDSN is the server the tests use without SKALD_TEST_POSTGRES.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerDSN returns the DSN of the test server.
func ServerDSN() string {
	if dsn := os.Getenv("SKALD_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// DSN creates a fresh schema with a unique name for t, dropped with
// everything in it at cleanup, and returns a DSN whose search_path is
// that schema, so tests and packages running in parallel never collide.
// It skips t when the server is unreachable (see the package doc).
func DSN(t testing.TB) string {
	t.Helper()
	base := ServerDSN()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("SKALD_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL at %s is required (SKALD_REQUIRE_POSTGRES=1): %v", base, err)
		}
		t.Skipf("PostgreSQL unreachable at %s (set SKALD_TEST_POSTGRES): %v", base, err)
	}
	defer conn.Close(context.Background())
	var b [8]byte
	rand.Read(b[:])
	schema := "skald_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Exec(t, base, `DROP SCHEMA `+schema+` CASCADE`) })
	// Extensions are per database: pg_trgm (migration 0005) is created
	// once in public, which follows each test's schema in its
	// search_path, so that no test schema owns it (dropping that schema
	// would drop it, and the indexes of every other test using it).
	// Under an advisory lock: concurrent CREATE EXTENSION IF NOT EXISTS
	// can collide.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(8224, 1)`); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public`)
	if _, uerr := conn.Exec(ctx, `SELECT pg_advisory_unlock(8224, 1)`); err == nil {
		err = uerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return WithParam(base, "search_path", schema+",public")
}

// WithParam adds a connection parameter to a DSN, in URL or key=value
// form.
func WithParam(dsn, key, value string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + key + "=" + value
	}
	return dsn + " " + key + "=" + value
}

// Exec runs statements on a connection of its own to dsn.
func Exec(t testing.TB, dsn string, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Errorf("%s: %v", sql, err)
	}
}
