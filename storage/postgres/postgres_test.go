package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/postgres/pgtest"
	"github.com/skald-xmpp/skald/storage/storagetest"
)

var bg = context.Background()

// openTest opens a store on a fresh schema (pgtest.DSN), closed at
// cleanup.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	return openDSN(t, pgtest.DSN(t), opts)
}

func openDSN(t testing.TB, dsn string, opts Options) *Store {
	t.Helper()
	s, err := Open(bg, dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// TestContract runs the storagetest contract suite, with a tiny
// DeleteBatch so that every purge, trim and expiry crosses transaction
// boundaries.
func TestContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return openTest(t, Options{DeleteBatch: 3, MaxConns: 4})
	})
}

// TestCountsConsistent runs the model test and then checks the maintained
// per-owner counts against a full count.
func TestCountsConsistent(t *testing.T) {
	storagetest.RunModel(t, func(t *testing.T) storage.Store {
		s := openTest(t, Options{DeleteBatch: 2, MaxConns: 4})
		t.Cleanup(func() { checkCounts(t, s) }) // runs before Close
		return s
	}, storagetest.ModelConfig{Seeds: []uint64{42}, Ops: 500})
}

// checkCounts compares archive_count with the rows of each owner.
func checkCounts(t testing.TB, s *Store) {
	t.Helper()
	var n int
	err := s.pool.QueryRow(bg, `SELECT count(*) FROM (
		(SELECT owner, count(*) FROM archive GROUP BY owner EXCEPT SELECT owner, n FROM archive_count)
		UNION ALL
		(SELECT owner, n FROM archive_count EXCEPT SELECT owner, count(*) FROM archive GROUP BY owner)) d`).Scan(&n)
	if err != nil {
		t.Error(err)
	} else if n != 0 {
		t.Errorf("%d owners with a wrong archive_count", n)
	}
}

func appendOne(t testing.TB, s *Store, owner string, stamp time.Time) *storage.ArchivedMessage {
	t.Helper()
	m := &storage.ArchivedMessage{Owner: owner, With: "peer@example.net", Stamp: stamp, Body: "hi", Stanza: []byte("<message/>")}
	if err := s.AppendArchive(bg, []*storage.ArchivedMessage{m}); err != nil {
		t.Fatal(err)
	}
	return m
}

func pageIDs(p storage.ArchivePage) []int64 {
	var out []int64
	for _, m := range p.Messages {
		out = append(out, m.ID)
	}
	return out
}
