package sqlite

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/skald-xmpp/skald/storage"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate brings the schema of db up to the newest embedded migration.
// Each migration runs in its own IMMEDIATE transaction together with the
// schema_version row that records it, and the current version is re-read
// inside that transaction, so two processes opening the same new database
// cannot both apply a migration.
// announce, if not nil, is called with each migration's name before it
// runs, unless the database is new.
func migrateFS(ctx context.Context, db *sqlite3.Conn, fsys fs.FS, announce func(name string)) error {
	ms, err := storage.ReadMigrations(fsys)
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
	if v, err := schemaVersion(db); err != nil {
		return err
	} else if v == 0 {
		announce = nil // a new database: nothing to upgrade, nothing slow
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		done, err := migrateOne(db, ms, announce)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next pending migration; done reports that there
// was none.
func migrateOne(db *sqlite3.Conn, ms []storage.Migration, announce func(string)) (done bool, err error) {
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
	if announce != nil {
		announce(m.Name)
	}
	if err := db.Exec(m.SQL); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	st, _, err := db.Prepare(`INSERT INTO schema_version(version, name, applied) VALUES(?, ?, ?)`)
	if err != nil {
		return false, err
	}
	defer st.Close()
	if err := bind(st, m.Version, m.Name, time.Now().UnixMicro()); err != nil {
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
