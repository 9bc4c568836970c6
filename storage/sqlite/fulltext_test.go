package sqlite

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/storagetest"
)

func appendBodies(t testing.TB, s *Store, owner string, bodies ...string) []*storage.ArchivedMessage {
	t.Helper()
	var ms []*storage.ArchivedMessage
	for _, b := range bodies {
		ms = append(ms, &storage.ArchivedMessage{Owner: owner, With: "peer@example.net", Body: b, Stanza: []byte("<message/>")})
	}
	if err := s.AppendArchive(bg, ms); err != nil {
		t.Fatal(err)
	}
	return ms
}

// indexRows returns the mark and the number of index entries.
func indexRows(t *testing.T, s *Store) (mark, entries int64) {
	t.Helper()
	err := s.read(bg, func(c *conn) error {
		var err error
		if mark, _, err = queryInt(c, `SELECT id FROM archive_fts_mark WHERE one=0`); err != nil {
			return err
		}
		entries, _, err = queryInt(c, `SELECT count(*) FROM archive_fts`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return mark, entries
}

// Appends write nothing to the index; IndexText does; every delete
// removes the entries of the rows it deletes.
func TestTextIndexMaintenance(t *testing.T) {
	s := openTest(t, Options{Synchronous: SyncOff, IndexBatch: -1, DeleteBatch: 2})
	appendBodies(t, s, "a@x", "one", "two", "three", "")
	appendBodies(t, s, "b@x", "four", "five")
	if mark, n := indexRows(t, s); mark != 0 || n != 0 {
		t.Fatalf("after appends: mark %d, %d entries; want none", mark, n)
	}
	if err := s.IndexText(bg); err != nil {
		t.Fatal(err)
	}
	if mark, n := indexRows(t, s); mark != 6 || n != 5 { // the empty body has no entry
		t.Fatalf("after IndexText: mark %d, %d entries; want 6, 5", mark, n)
	}
	if n := s.nIndexed.Load(); n != 6 {
		t.Errorf("skald_sqlite_text_indexed_rows_total source = %d, want 6", n)
	}
	if _, err := s.PurgeArchive(bg, "a@x", "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, n := indexRows(t, s); n != 2 {
		t.Errorf("after purge: %d entries, want 2", n)
	}
	appendBodies(t, s, "b@x", "six") // not indexed: deleting it touches no entry
	if err := s.CreateUser(bg, "b@x", storage.Credentials{}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(bg, "b@x"); err != nil {
		t.Fatal(err)
	}
	if mark, n := indexRows(t, s); mark != 6 || n != 0 {
		t.Errorf("after DeleteUser: mark %d, %d entries; want 6, 0", mark, n)
	}
	appendBodies(t, s, "c@x", "seven", "eight")
	if err := s.IndexText(bg); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ExpireArchive(bg, time.Now().Add(time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	if mark, n := indexRows(t, s); mark != 9 || n != 0 {
		t.Errorf("after expiry: mark %d, %d entries; want 9, 0", mark, n)
	}
}

// The background indexer catches up by itself once the writer is idle,
// including rows of a database written before (a reopened store).
func TestTextIndexBackground(t *testing.T) {
	path := t.TempDir() + "/db"
	s, err := Open(bg, path, Options{Synchronous: SyncOff, IndexBatch: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		appendBodies(t, s, "a@x", fmt.Sprintf("message %d", i))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(bg, path, Options{Synchronous: SyncOff, IndexBatch: 7, IndexPause: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		mark, n := indexRows(t, s2)
		if mark == 30 && n == 30 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("indexer stuck at mark %d, %d entries", mark, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	p, err := s2.QueryArchive(bg, storage.ArchiveQuery{Owner: "a@x", Text: "MESSAGE 2"})
	if err != nil || len(p.Messages) != 12 { // 2, 12, 20..29
		t.Errorf("query: %d items, %v", len(p.Messages), err)
	}
}

// The cost bound: a query examines at most TextScanBudget candidates; a
// page it could not fill is incomplete and the next page goes on from
// its last item; with nothing found it is ErrTextTooBroad.
func TestTextScanBudget(t *testing.T) {
	s := openTest(t, Options{Synchronous: SyncOff, IndexBatch: -1, TextScanBudget: 5})
	var bodies []string
	for i := range 12 {
		b := "filler"
		if i == 1 || i == 3 || i == 11 {
			b = "xy match"
		}
		bodies = append(bodies, b)
	}
	ms := appendBodies(t, s, "a@x", bodies...)
	q := storage.ArchiveQuery{Owner: "a@x", Text: "xy", Limit: 10}
	p, err := s.QueryArchive(bg, q)
	if err != nil || p.Complete || !slices.Equal(idsOf(p.Messages), []int64{ms[1].ID, ms[3].ID}) {
		t.Fatalf("first page: %v complete=%v err=%v", idsOf(p.Messages), p.Complete, err)
	}
	q.AfterID = ms[3].ID
	if _, err := s.QueryArchive(bg, q); !errors.Is(err, storage.ErrTextTooBroad) {
		t.Errorf("page over fillers: err %v, want ErrTextTooBroad", err)
	}
	q.AfterID = ms[7].ID
	p, err = s.QueryArchive(bg, q)
	if err != nil || !p.Complete || !slices.Equal(idsOf(p.Messages), []int64{ms[11].ID}) {
		t.Errorf("last page: %v complete=%v err=%v", idsOf(p.Messages), p.Complete, err)
	}
	if _, err := s.CountArchive(bg, storage.ArchiveQuery{Owner: "a@x", Text: "xy"}, 0); !errors.Is(err, storage.ErrTextTooBroad) {
		t.Errorf("count: err %v, want ErrTextTooBroad", err)
	}
}

func idsOf(ms []storage.ArchivedMessage) []int64 {
	var out []int64
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

// User input never reaches FTS5 as syntax: each term is one quoted string.
func TestFTSMatchQuoting(t *testing.T) {
	got := ftsMatch("a@x", []string{`ab"c`, `x*y`, `or`})
	want := `o:"` + ownerMarker("a@x") + `" AND b:"ab""c" AND b:"x*y" AND b:"or"`
	if got != want {
		t.Errorf("ftsMatch = %s, want %s", got, want)
	}
	if n := len([]rune(ownerMarker("someone@example.org"))); n != 3 {
		t.Errorf("marker of %d runes", n)
	}
}

// The contract suite with the background indexer stepping a few rows at
// a time whenever the writer pauses: queries must not care where the
// mark is, nor deletes whether a row was indexed.
func TestContractBackgroundIndex(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return openTest(t, Options{Synchronous: SyncOff, DeleteBatch: 3, ReadConns: 2, IndexBatch: 3, IndexPause: time.Microsecond})
	})
}

// ReplaceArchived (a retraction's tombstone) replaces an indexed row's
// entry: its old words find it no more, its new ones do; a row not yet
// indexed is left to the indexer, which reads the new body.
func TestTextIndexReplace(t *testing.T) {
	s := openTest(t, Options{Synchronous: SyncOff, IndexBatch: -1})
	ms := appendBodies(t, s, "a@x", "secret plans", "dull notes")
	if err := s.IndexText(bg); err != nil {
		t.Fatal(err)
	}
	later := appendBodies(t, s, "a@x", "secret too")
	search := func(text string) []int64 {
		t.Helper()
		page, err := s.QueryArchive(bg, storage.ArchiveQuery{Owner: "a@x", Text: text, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return idsOf(page.Messages)
	}
	for _, r := range []struct {
		id   int64
		body string
	}{{ms[0].ID, ""}, {ms[1].ID, "fresh words"}, {later[0].ID, ""}} {
		if ok, err := s.ReplaceArchived(bg, "a@x", r.id, r.body, []byte("<message/>")); err != nil || !ok {
			t.Fatalf("ReplaceArchived(%d): %v %v", r.id, ok, err)
		}
	}
	for _, tc := range []struct {
		text string
		want []int64
	}{{"secret", nil}, {"dull", nil}, {"fresh", []int64{ms[1].ID}}} {
		if got := search(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("search %q: %v, want %v", tc.text, got, tc.want)
		}
	}
	if err := s.IndexText(bg); err != nil {
		t.Fatal(err)
	}
	if _, n := indexRows(t, s); n != 1 {
		t.Errorf("%d index entries after indexing the rest, want 1 (fresh words)", n)
	}
	if got := search("secret"); got != nil {
		t.Errorf("search secret after indexing: %v", got)
	}
}
