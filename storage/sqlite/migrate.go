package sqlite

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the embedded migrations in order. Files are named
// NNNN_description.sql and numbered 1, 2, 3... without gaps.
func migrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", base)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// migrate brings the schema of db up to the newest embedded migration.
// Each migration runs in its own IMMEDIATE transaction together with the
// schema_version row that records it, and the current version is re-read
// inside that transaction, so two processes opening the same new database
// cannot both apply a migration.
func migrate(ctx context.Context, db *sqlite3.Conn) error {
	return migrateFS(ctx, db, migrationFiles)
}

func migrateFS(ctx context.Context, db *sqlite3.Conn, fsys fs.FS) error {
	ms, err := migrations(fsys)
	if err != nil {
		return err
	}
	if err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER PRIMARY KEY,
		name    TEXT NOT NULL,
		applied INTEGER NOT NULL
	)`); err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		done, err := migrateOne(db, ms)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next pending migration; done reports that there
// was none.
func migrateOne(db *sqlite3.Conn, ms []migration) (done bool, err error) {
	tx, err := db.BeginImmediate()
	if err != nil {
		return false, err
	}
	defer tx.End(&err)
	cur, err := schemaVersion(db)
	if err != nil {
		return false, err
	}
	if cur > len(ms) {
		return false, fmt.Errorf("schema version %d is newer than this program knows (%d)", cur, len(ms))
	}
	if cur == len(ms) {
		return true, nil
	}
	m := ms[cur]
	if err := db.Exec(m.sql); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	st, _, err := db.Prepare(`INSERT INTO schema_version(version, name, applied) VALUES(?, ?, ?)`)
	if err != nil {
		return false, err
	}
	defer st.Close()
	if err := bind(st, m.version, m.name, time.Now().UnixMicro()); err != nil {
		return false, err
	}
	return false, st.Exec()
}

func schemaVersion(db *sqlite3.Conn) (int, error) {
	st, _, err := db.Prepare(`SELECT coalesce(max(version), 0) FROM schema_version`)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if !st.Step() {
		return 0, st.Err()
	}
	return st.ColumnInt(0), nil
}
