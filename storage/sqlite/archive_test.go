package sqlite

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/skald-xmpp/skald/storage"
)

// TestPagingOverEqualStamps: the messages of one AppendArchive call share
// a stamp, and so do all messages appended while the wall clock is behind
// the newest stamp (clamping). Paging by id through such a run must still
// be one seek plus Limit rows: archive_time seeks on the (stamp, seq) row
// value, not on the stamp alone and then skip the run's earlier rows.
func TestPagingOverEqualStamps(t *testing.T) {
	s := openTest(t, Options{Synchronous: SyncOff})
	const owner, other, n = "a@x", "b@x", 3000
	var ms []*storage.ArchivedMessage
	for i := range n {
		owner := owner
		if i%3 == 2 {
			owner = other
		}
		ms = append(ms, &storage.ArchivedMessage{Owner: owner, With: "p@x", Body: fmt.Sprint(i), Stanza: []byte("<m/>")})
	}
	if err := s.AppendArchive(bg, ms); err != nil {
		t.Fatal(err)
	}
	var mine, theirs []int64 // the two owners' ids, in order
	for _, m := range ms {
		if !m.Stamp.Equal(ms[0].Stamp) {
			t.Fatalf("stamps differ: %v, %v", m.Stamp, ms[0].Stamp)
		}
		if m.Owner == owner {
			mine = append(mine, m.ID)
		} else {
			theirs = append(theirs, m.ID)
		}
	}
	mid := len(mine) / 2
	// The first id of the other owner's after mine[mid], and mine after it.
	otherID := theirs[slices.IndexFunc(theirs, func(id int64) bool { return id > mine[mid] })]
	afterOther := mine[slices.IndexFunc(mine, func(id int64) bool { return id > otherID }):]
	tests := []struct {
		name string
		q    storage.ArchiveQuery
		want []int64
	}{
		{"after", storage.ArchiveQuery{AfterID: mine[mid]}, mine[mid+1 : mid+11]},
		{"after other owner's id", storage.ArchiveQuery{AfterID: otherID}, afterOther[:10]},
		{"before, last", storage.ArchiveQuery{BeforeID: mine[mid], Last: true}, mine[mid-10 : mid]},
		{"after and before", storage.ArchiveQuery{AfterID: mine[mid], BeforeID: mine[mid+4]}, mine[mid+1 : mid+4]},
		{"after with start", storage.ArchiveQuery{AfterID: mine[mid], Start: ms[0].Stamp}, mine[mid+1 : mid+11]},
		{"start after the run", storage.ArchiveQuery{AfterID: mine[mid], Start: ms[0].Stamp.Add(time.Microsecond)}, nil},
		{"before with end", storage.ArchiveQuery{BeforeID: mine[mid], End: ms[0].Stamp, Last: true}, mine[mid-10 : mid]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Owner, q.Limit = owner, 10
			p, err := s.QueryArchive(bg, q)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fmt.Sprint(pageIDs(p)), fmt.Sprint(tc.want); got != want {
				t.Fatalf("page %s, want %s", got, want)
			}
			// The same page at the level of the statement: how many rows
			// did it visit?
			steps := vmSteps(t, s, func(c *conn) (*sqlite3.Stmt, error) { return pageStmt(c, q) })
			// A page of 11 rows takes a few hundred VM steps; walking half
			// the run would take tens of thousands.
			if steps > 1000 {
				t.Errorf("%d VM steps for a page of %d", steps, len(p.Messages))
			}
		})
	}
}

// TestCountBetweenIDs: a count bounded by AfterID/BeforeID is the page's
// index range scan without the page's LIMIT: it reads the rows between the
// bounds, not the owner's whole archive, both over distinct stamps and
// inside a run of equal ones, in the time and the peer family.
func TestCountBetweenIDs(t *testing.T) {
	s := openTest(t, Options{Synchronous: SyncOff})
	const owner, other, n = "a@x", "b@x", 3000
	base := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	var ms []*storage.ArchivedMessage
	for i := range n {
		owner, with := owner, "p@x"
		if i%3 == 2 {
			owner = other
		}
		if i%2 == 1 {
			with = "q@x"
		}
		// Distinct stamps for the first half, then one run of equal ones.
		stamp := base.Add(time.Duration(min(i, n/2)) * time.Microsecond)
		ms = append(ms, &storage.ArchivedMessage{Owner: owner, With: with, Stamp: stamp, Body: fmt.Sprint(i), Stanza: []byte("<m/>")})
	}
	if err := s.AppendArchive(bg, ms); err != nil {
		t.Fatal(err)
	}
	var mine []*storage.ArchivedMessage
	for _, m := range ms {
		if m.Owner == owner {
			mine = append(mine, m)
		}
	}
	id := func(i int) int64 { return mine[i].ID }
	distinct, equal := len(mine)/4, 3*len(mine)/4 // inside each half
	if !mine[equal].Stamp.Equal(mine[equal+20].Stamp) || mine[distinct].Stamp.Equal(mine[distinct+1].Stamp) {
		t.Fatal("fixture stamps")
	}
	withP := 0 // p@x's items strictly between mine[equal] and mine[equal+30]
	for _, m := range mine[equal+1 : equal+30] {
		if m.With == "p@x" {
			withP++
		}
	}
	tests := []struct {
		name string
		q    storage.ArchiveQuery
		want int
	}{
		{"after and before", storage.ArchiveQuery{AfterID: id(distinct), BeforeID: id(distinct + 11)}, 10},
		{"after and before, equal stamps", storage.ArchiveQuery{AfterID: id(equal), BeforeID: id(equal + 11)}, 10},
		{"after near the end", storage.ArchiveQuery{AfterID: id(len(mine) - 11)}, 10},
		{"before near the start", storage.ArchiveQuery{BeforeID: id(10)}, 10},
		{"after with end", storage.ArchiveQuery{AfterID: id(distinct), End: mine[distinct+10].Stamp}, 10},
		{"with, after and before", storage.ArchiveQuery{With: "p@x", AfterID: id(equal), BeforeID: id(equal + 30)}, withP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Owner = owner
			got, err := s.CountArchive(bg, q, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("CountArchive = %d, want %d", got, tc.want)
			}
			steps := vmSteps(t, s, func(c *conn) (*sqlite3.Stmt, error) { return countStmt(c, q, -1) })
			// Counting 10 to 30 rows takes a few hundred VM steps; walking
			// the owner's 2000 rows, or half of them, tens of thousands.
			t.Logf("%d VM steps", steps)
			if steps > 1000 {
				t.Errorf("%d VM steps to count %d rows", steps, got)
			}
		})
	}
}

// TestMigrationKeepsArchive opens a database written with schema version
// 1 (before archive_time) and checks that migrating it keeps every item
// and its id, and that the migrated archive answers like a new one.
func TestMigrationKeepsArchive(t *testing.T) {
	path := t.TempDir() + "/v1.db"
	db, err := sqlite3.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := storage.ReadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	v1 := ms[0]
	if err := db.Exec(`CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied INTEGER NOT NULL);` +
		v1.SQL + `; INSERT INTO schema_version VALUES(1, '` + v1.Name + `', 0)`); err != nil {
		t.Fatal(err)
	}
	// 0001's writer: ids 1..6, stamps never decreasing, two owners, the
	// two last items sharing a stamp.
	rows := []struct {
		owner string
		stamp int64
	}{{"a@x", 10}, {"b@x", 20}, {"a@x", 20}, {"a@x", 30}, {"b@x", 40}, {"a@x", 40}}
	for _, r := range rows {
		if err := db.Exec(fmt.Sprintf(`INSERT INTO archive(owner, with_jid, outgoing, stamp, origin_id, stanza)
			VALUES('%s', 'p@x', 1, %d, 'o%d', x'00')`, r.owner, r.stamp, r.stamp)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Exec(`INSERT INTO archive_count VALUES('a@x', 4), ('b@x', 2); DELETE FROM archive WHERE id=6;
		UPDATE archive_count SET n=3 WHERE owner='a@x'`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	var announced []string
	s, err := Open(bg, path, Options{Synchronous: SyncOff, OnMigration: func(name string) { announced = append(announced, name) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// An upgraded database announces every migration it gets (the server
	// logs them: some take minutes on a big archive); a new one none.
	if len(announced) != len(ms)-1 || announced[0] != ms[1].Name || announced[len(announced)-1] != ms[len(ms)-1].Name {
		t.Errorf("announced migrations %q, want %s..%s", announced, ms[1].Name, ms[len(ms)-1].Name)
	}
	checkCounts(t, s)
	// Migration 0008 gave the rows stored before it their origin_key: the
	// origin-id lookups and the resend check find them.
	if m, ok, err := s.FindByOriginID(bg, "a@x", "p@x", true, "o30"); err != nil || !ok || m.ID != 4 {
		t.Fatalf("FindByOriginID(o30) after migration: %v %v %v", m.ID, ok, err)
	}
	if _, ok, err := s.FindByOriginID(bg, "a@x", "p@x", false, "o30"); err != nil || ok {
		t.Fatalf("FindByOriginID(o30, incoming) after migration: %v %v", ok, err)
	}
	resend := []*storage.ArchivedMessage{{Owner: "b@x", With: "p@x", Outgoing: true, OriginID: "o20", Stanza: []byte{0}}}
	if dup, err := s.AppendArchiveOnce(bg, resend); err != nil || !dup[0] || resend[0].ID != 2 {
		t.Fatalf("resend of o20 after migration: dup %v id %d err %v", dup, resend[0].ID, err)
	}
	p, err := s.QueryArchive(bg, storage.ArchiveQuery{Owner: "a@x"})
	if err != nil || fmt.Sprint(pageIDs(p)) != "[1 3 4]" {
		t.Fatalf("a@x after migration: %v %v", pageIDs(p), err)
	}
	p, err = s.QueryArchive(bg, storage.ArchiveQuery{Owner: "a@x", AfterID: 2, Start: time.UnixMicro(20)})
	if err != nil || fmt.Sprint(pageIDs(p)) != "[3 4]" {
		t.Fatalf("a@x after 2 from 20µs: %v %v", pageIDs(p), err)
	}
	// AUTOINCREMENT survives: id 6 was deleted and is not handed out again,
	// and the new item is clamped to the newest stamp (40, of id 5).
	m := appendOne(t, s, "a@x", time.UnixMicro(1))
	if m.ID != 7 || m.Stamp.UnixMicro() != 40 {
		t.Fatalf("appended id %d stamp %d, want 7 and 40", m.ID, m.Stamp.UnixMicro())
	}
	p, err = s.QueryArchive(bg, storage.ArchiveQuery{Owner: "a@x", BeforeID: 7, Last: true, Limit: 1})
	if err != nil || fmt.Sprint(pageIDs(p)) != "[4]" {
		t.Fatalf("a@x last before 7: %v %v", pageIDs(p), err)
	}
	var integrity string
	err = s.read(bg, func(c *conn) error {
		st, err := c.prep(`PRAGMA integrity_check`)
		if err != nil {
			return err
		}
		defer st.Reset()
		if st.Step() {
			integrity = st.ColumnText(0)
		}
		return st.Err()
	})
	if err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q %v", integrity, err)
	}
}

func pageIDs(p storage.ArchivePage) []int64 {
	out := make([]int64, len(p.Messages))
	for i, m := range p.Messages {
		out[i] = m.ID
	}
	return out
}

// vmSteps runs the statement stmt prepares (nil: nothing can match) to
// its end on a reader connection and returns how many steps of SQLite's
// bytecode engine it took: how much of the index it walked.
func vmSteps(t *testing.T, s *Store, stmt func(*conn) (*sqlite3.Stmt, error)) int {
	t.Helper()
	var steps int
	err := s.read(bg, func(c *conn) error {
		st, err := stmt(c)
		if err != nil || st == nil {
			return err
		}
		defer st.Reset()
		st.Status(sqlite3.STMTSTATUS_VM_STEP, true)
		for st.Step() {
		}
		steps = st.Status(sqlite3.STMTSTATUS_VM_STEP, false)
		return st.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return steps
}
