package postgres

import (
	"testing"

	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/postgres/pgtest"
)

// Rows stored before migration 0005 (body_fold NULL) are folded by the
// next Open, and text queries then find them.
func TestFoldOldBodies(t *testing.T) {
	dsn := pgtest.DSN(t)
	s, err := Open(bg, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ms []*storage.ArchivedMessage
	for _, b := range []string{"Grüße", "nothing", "GRUSSE"} {
		ms = append(ms, &storage.ArchivedMessage{Owner: "a@x", With: "b@x", Body: b, Stanza: []byte("<message/>")})
	}
	for range foldBatch / 3 { // more than one batch
		if err := s.AppendArchive(bg, ms); err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			m.ID = 0
		}
	}
	if _, err := s.pool.Exec(bg, `UPDATE archive SET body_fold = NULL`); err != nil {
		t.Fatal(err)
	}
	p, err := s.QueryArchive(bg, storage.ArchiveQuery{Owner: "a@x", Text: "grusse"})
	if err != nil || len(p.Messages) != 0 {
		t.Fatalf("before folding: %d items, %v", len(p.Messages), err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openDSN(t, dsn, Options{})
	n, err := s.CountArchive(bg, storage.ArchiveQuery{Owner: "a@x", Text: "grusse"}, 0)
	if want := 2 * (foldBatch / 3); err != nil || n != want {
		t.Fatalf("after reopening: %d items, %v; want %d", n, err, want)
	}
	var unfolded int
	if err := s.pool.QueryRow(bg, `SELECT count(*) FROM archive WHERE body_fold IS NULL`).Scan(&unfolded); err != nil || unfolded != 0 {
		t.Fatalf("%d rows unfolded, %v", unfolded, err)
	}
}
