package sqlite

import (
	"fmt"
	"hash/fnv"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/ext/fts5"

	"github.com/skald-xmpp/skald/storage"
)

// TestOriginKey pins originKey to 64-bit FNV-1a of the zero-terminated
// fields: stored keys were computed by earlier runs (and by migration
// 0008), so the function may never change.
func TestOriginKey(t *testing.T) {
	tests := []struct {
		owner, with string
		outgoing    bool
		origin      string
	}{
		{"juliet@example.com", "romeo@example.net", true, "de305d54-75b4-431b-adb2-eb6b9e546013"},
		{"juliet@example.com", "romeo@example.net", false, "de305d54-75b4-431b-adb2-eb6b9e546013"},
		{"room@conference.example.com", "room@conference.example.com", false, "x"},
		{"a@b", "", false, ""},
	}
	seen := map[int64]bool{}
	for _, tc := range tests {
		dir := "0"
		if tc.outgoing {
			dir = "1"
		}
		h := fnv.New64a()
		h.Write([]byte(tc.owner + "\x00" + tc.with + "\x00" + dir + "\x00" + tc.origin + "\x00"))
		got := originKey(tc.owner, tc.with, tc.outgoing, tc.origin)
		if got != int64(h.Sum64()) {
			t.Errorf("originKey(%q, %q, %v, %q) = %d, want FNV-1a %d", tc.owner, tc.with, tc.outgoing, tc.origin, got, int64(h.Sum64()))
		}
		if seen[got] {
			t.Errorf("originKey(%q, %q, %v, %q) = %d repeats an earlier key", tc.owner, tc.with, tc.outgoing, tc.origin, got)
		}
		seen[got] = true
	}
	// One literal value, so that a change of both the function and the
	// reference above cannot pass.
	if got := originKey("a@b", "c@d", true, "o"); got != 0x44486f9186f2aed7 {
		t.Errorf("originKey(a@b, c@d, true, o) = %#x", got)
	}
}

// TestNewDatabaseAnnouncesNoMigration: creating a database is not an
// upgrade, and the server must not warn about one at a first start.
func TestNewDatabaseAnnouncesNoMigration(t *testing.T) {
	var announced []string
	s, err := Open(bg, t.TempDir()+"/new.db", Options{Synchronous: SyncOff, OnMigration: func(name string) { announced = append(announced, name) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(announced) != 0 {
		t.Errorf("a new database announced migrations %q", announced)
	}
}

// TestOriginKeyMigrationOnSchema7 builds an archive with the real
// migrations 0001..0007 (the schema before archive_origin_key), with rows
// with and without origin-ids, the same origin-id under other owners,
// peers and directions, and non-ASCII values, then opens it: migration
// 0008 must give every row with an origin-id the key Skald computes and
// leave the others NULL, and the lookups must find exactly what the old
// index found, with the new index's plan.
func TestOriginKeyMigrationOnSchema7(t *testing.T) {
	path := t.TempDir() + "/v7.db"
	db, err := sqlite3.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := fts5.Register(db); err != nil {
		t.Fatal(err)
	}
	v7 := fstest.MapFS{}
	for v := 1; v <= 7; v++ {
		names, err := fs.Glob(migrationFiles, fmt.Sprintf("migrations/%04d_*.sql", v))
		if err != nil || len(names) != 1 {
			t.Fatalf("migration %d: %q %v", v, names, err)
		}
		b, err := fs.ReadFile(migrationFiles, names[0])
		if err != nil {
			t.Fatal(err)
		}
		v7[names[0]] = &fstest.MapFile{Data: b}
	}
	if err := migrateFS(bg, db, v7, nil); err != nil {
		t.Fatal(err)
	}
	type row struct {
		owner, with string
		outgoing    bool
		origin      string // "": NULL
		body        string
	}
	rows := []row{
		{"a@x", "p@x", true, "o1", "first"},
		{"a@x", "p@x", false, "o1", "incoming o1"},
		{"a@x", "q@x", true, "o1", "to q"},
		{"b@x", "p@x", true, "o1", "b's o1"},
		{"a@x", "p@x", true, "", "no origin"},
		{"a@x", "p@x", true, "o1", "o1 again"}, // the newest (a, p, out, o1)
		{"ünï@x", "p@x", true, "ид-😀", "unicode"},
		{"a@x", "p@x", true, "", ""},
		{"room@muc.x", "room@muc.x", false, "m1", "groupchat"},
	}
	for i, r := range rows {
		var origin any
		if r.origin != "" {
			origin = r.origin
		}
		st, _, err := db.Prepare(`INSERT INTO archive(owner, with_jid, outgoing, stamp, origin_id, body, stanza) VALUES(?,?,?,?,?,?,x'00')`)
		if err != nil {
			t.Fatal(err)
		}
		if err := bind(st, r.owner, r.with, r.outgoing, int64(10*(i+1)), origin, r.body); err != nil {
			t.Fatal(err)
		}
		if err := st.Exec(); err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(bg, path, Options{Synchronous: SyncOff})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// Every row's key is what originKey computes; NULL without an origin-id.
	err = s.read(bg, func(c *conn) error {
		st, err := c.prep(`SELECT id, origin_key FROM archive ORDER BY id`)
		if err != nil {
			return err
		}
		defer st.Reset()
		i := 0
		for ; st.Step(); i++ {
			r := rows[i]
			if id := st.ColumnInt64(0); id != int64(i+1) {
				t.Errorf("row %d has id %d", i+1, id)
			}
			null := st.ColumnType(1) == sqlite3.NULL
			switch {
			case r.origin == "" && !null:
				t.Errorf("row %d without origin-id has origin_key %d", i+1, st.ColumnInt64(1))
			case r.origin != "" && null:
				t.Errorf("row %d (%q) has no origin_key", i+1, r.origin)
			case r.origin != "" && st.ColumnInt64(1) != originKey(r.owner, r.with, r.outgoing, r.origin):
				t.Errorf("row %d: origin_key %d, want %d", i+1, st.ColumnInt64(1), originKey(r.owner, r.with, r.outgoing, r.origin))
			}
		}
		if i != len(rows) {
			t.Errorf("%d rows after migration, want %d", i, len(rows))
		}
		return st.Err()
	})
	if err != nil {
		t.Fatal(err)
	}

	// A colliding key (forced: a row whose key is that of another
	// origin-id) costs a row read, never a wrong answer.
	collide := []*storage.ArchivedMessage{{Owner: "a@x", With: "p@x", Outgoing: true, OriginID: "other", Body: "o1 again", Stanza: []byte{0}}}
	if err := s.AppendArchive(bg, collide); err != nil {
		t.Fatal(err)
	}
	if err := s.writeBatchAtomic(bg, func(w *conn) error {
		return w.exec(`UPDATE archive SET origin_key=? WHERE id=?`, originKey("a@x", "p@x", true, "o1"), collide[0].ID)
	}); err != nil {
		t.Fatal(err)
	}

	finds := []struct {
		owner, with string
		outgoing    bool
		origin      string
		want        int64 // 0: none
	}{
		{"a@x", "p@x", true, "o1", 6},
		{"a@x", "p@x", false, "o1", 2},
		{"a@x", "q@x", true, "o1", 3},
		{"a@x", "q@x", false, "o1", 0},
		{"b@x", "p@x", true, "o1", 4},
		{"ünï@x", "p@x", true, "ид-😀", 7},
		{"room@muc.x", "room@muc.x", false, "m1", 9},
		{"a@x", "p@x", true, "", 0},
		{"a@x", "p@x", true, "o2", 0},
	}
	for _, f := range finds {
		m, ok, err := s.FindByOriginID(bg, f.owner, f.with, f.outgoing, f.origin)
		if err != nil || ok != (f.want != 0) || (ok && m.ID != f.want) {
			t.Errorf("FindByOriginID(%s, %s, %v, %q) = id %d, %v, %v; want id %d", f.owner, f.with, f.outgoing, f.origin, m.ID, ok, err, f.want)
		}
	}
	// The resend check sees the migrated rows, and only the same
	// owner, peer, direction, origin-id and body.
	resends := []struct {
		m     storage.ArchivedMessage
		dup   bool
		dupID int64
	}{
		{storage.ArchivedMessage{Owner: "a@x", With: "p@x", Outgoing: true, OriginID: "o1", Body: "o1 again"}, true, 6},
		{storage.ArchivedMessage{Owner: "a@x", With: "p@x", Outgoing: false, OriginID: "o1", Body: "incoming o1"}, true, 2},
		{storage.ArchivedMessage{Owner: "ünï@x", With: "p@x", Outgoing: true, OriginID: "ид-😀", Body: "unicode"}, true, 7},
		{storage.ArchivedMessage{Owner: "a@x", With: "p@x", Outgoing: true, OriginID: "o1", Body: "first"}, false, 0}, // an older item's body: an edit back, not a resend
		{storage.ArchivedMessage{Owner: "a@x", With: "p@x", Outgoing: true, OriginID: "other", Body: "o1 again"}, false, 0},
	}
	for _, r := range resends {
		m := r.m
		m.Stanza = []byte{0}
		dup, err := s.AppendArchiveOnce(bg, []*storage.ArchivedMessage{&m})
		if err != nil || dup[0] != r.dup || (r.dup && m.ID != r.dupID) {
			t.Errorf("AppendArchiveOnce(%+v) = dup %v id %d, %v; want dup %v id %d", r.m, dup, m.ID, err, r.dup, r.dupID)
		}
	}

	// The old index is gone, the new one is used, and the file is sound.
	err = s.read(bg, func(c *conn) error {
		for _, q := range []string{findOriginSQL, resendSQL} {
			st, _, err := c.db.Prepare(`EXPLAIN QUERY PLAN ` + q)
			if err != nil {
				return err
			}
			var plan []string
			for st.Step() {
				plan = append(plan, st.ColumnText(3))
			}
			st.Close()
			if all := strings.Join(plan, "; "); !strings.Contains(all, "USING INDEX archive_origin_key (origin_key=?)") || strings.Contains(all, "TEMP B-TREE") {
				t.Errorf("plan of %s: %s", q, all)
			}
		}
		n, _, err := queryInt(c, `SELECT count(*) FROM sqlite_schema WHERE type='index' AND name='archive_origin'`)
		if err != nil || n != 0 {
			t.Errorf("archive_origin still there: %d %v", n, err)
		}
		st, err := c.prep(`PRAGMA integrity_check`)
		if err != nil {
			return err
		}
		defer st.Reset()
		if !st.Step() || st.ColumnText(0) != "ok" {
			t.Errorf("integrity_check: %q %v", st.ColumnText(0), st.Err())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
