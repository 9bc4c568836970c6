package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

// TestTwoStoresOneFile: the server and `skald archive import` may write
// the same database at once. Each writer's cached newest stamp must not
// outlive the other's commits, or an append clamped to a stale stamp puts
// a stamp below an earlier id's and pages by (stamp, id) go out of order.
func TestTwoStoresOneFile(t *testing.T) {
	T := time.Unix(1700000000, 0)
	tests := []struct {
		name string
		// run appends through the server store a and the importer b and
		// returns the query to check and the ids it must give, in order.
		run func(a, b *Store) (storage.ArchiveQuery, []int64)
	}{
		{"import of old messages while serving", func(a, b *Store) (storage.ArchiveQuery, []int64) {
			appendOne(t, b, "old@x", T)                      // b caches stamp T
			m1 := appendOne(t, a, "x@x", T.Add(time.Minute)) // a live message
			m2 := appendOne(t, b, "x@x", T.Add(-time.Hour))  // must clamp to m1's stamp, not T
			m3 := appendOne(t, a, "x@x", T.Add(2*time.Minute))
			return storage.ArchiveQuery{Owner: "x@x", AfterID: m1.ID}, []int64{m2.ID, m3.ID}
		}},
		{"whole archive in id order", func(a, b *Store) (storage.ArchiveQuery, []int64) {
			appendOne(t, b, "old@x", T)
			m1 := appendOne(t, a, "x@x", T.Add(time.Minute))
			m2 := appendOne(t, b, "x@x", T.Add(-time.Hour))
			m3 := appendOne(t, a, "x@x", T.Add(2*time.Minute))
			return storage.ArchiveQuery{Owner: "x@x"}, []int64{m1.ID, m2.ID, m3.ID}
		}},
		{"after another owner's id", func(a, b *Store) (storage.ArchiveQuery, []int64) {
			appendOne(t, a, "x@x", T.Add(10*time.Second))
			m2 := appendOne(t, b, "y@x", T.Add(20*time.Second))
			m3 := appendOne(t, a, "x@x", T.Add(15*time.Second)) // a cached 10 s
			return storage.ArchiveQuery{Owner: "x@x", AfterID: m2.ID}, []int64{m3.ID}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "skald.db")
			a, b := openAt(t, path), openAt(t, path)
			q, want := tc.run(a, b)
			for _, s := range []*Store{a, b} {
				p, err := s.QueryArchive(bg, q)
				if got := pageIDs(p); err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%+v: %v %v, want %v", q, got, err, want)
				}
			}
			checkCountsMatch(t, a)
		})
	}
}

func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(bg, path, Options{Synchronous: SyncOff})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// checkCountsMatch compares archive_count with the rows of each owner.
func checkCountsMatch(t *testing.T, s *Store) {
	t.Helper()
	err := s.read(bg, func(c *conn) error {
		n, _, err := queryInt(c, `SELECT count(*) FROM (SELECT owner, count(*) AS n FROM archive GROUP BY owner
			EXCEPT SELECT owner, n FROM archive_count)`)
		if err == nil && n != 0 {
			err = fmt.Errorf("%d owners with a wrong archive_count", n)
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
}
