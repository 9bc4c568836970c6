package postgres

import (
	"errors"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

// TestTextTimeout: a full-text statement is bounded by TextTimeout, as
// SQLite's by its scan budget: a term no index answers (two characters)
// on a big archive walks the owner's rows, and past the bound the query
// and the count fail with ErrTextTooBroad rather than run on; other
// statements are not bounded.
func TestTextTimeout(t *testing.T) {
	s := openTest(t, Options{TextTimeout: time.Millisecond})
	var ms []*storage.ArchivedMessage
	for range 50000 {
		ms = append(ms, &storage.ArchivedMessage{Owner: "a@x", With: "b@x", Body: "filler text", Stanza: []byte("<message/>")})
	}
	if err := s.AppendArchive(bg, ms); err != nil {
		t.Fatal(err)
	}
	q := storage.ArchiveQuery{Owner: "a@x", Text: "zq", Limit: 10}
	if _, err := s.QueryArchive(bg, q); !errors.Is(err, storage.ErrTextTooBroad) {
		t.Errorf("query: err %v, want ErrTextTooBroad", err)
	}
	if _, err := s.CountArchive(bg, q, 0); !errors.Is(err, storage.ErrTextTooBroad) {
		t.Errorf("count: err %v, want ErrTextTooBroad", err)
	}
	q.Text = ""
	if n, err := s.CountArchive(bg, storage.ArchiveQuery{Owner: "a@x", With: "b@x"}, 0); err != nil || n != 50000 {
		t.Errorf("count without text: %d, %v", n, err)
	}
}
