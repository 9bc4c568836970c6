package storage

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one step of a SQL backend's schema: the file
// migrations/NNNN_description.sql of the backend's embedded files.
// Parsing them lives here, beside the interfaces, because both SQL
// backends import storage and nothing else of Skald; how a migration is
// applied (transactions, locks, the schema_version table) stays with
// each backend's dialect.
type Migration struct {
	Version int    // NNNN: 1, 2, 3... without gaps
	Name    string // the file name, recorded in schema_version
	SQL     string
}

// ReadMigrations lists the migrations/*.sql files of fsys in version
// order. Files are named NNNN_description.sql and numbered 1, 2, 3...
// without gaps; anything else is an error.
func ReadMigrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []Migration
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
		ms = append(ms, Migration{Version: v, Name: base, SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.Name, i+1)
		}
	}
	return ms, nil
}
