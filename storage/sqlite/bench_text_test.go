package sqlite

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

// BenchmarkTextQuery: full-text queries on one owner's archive of 10^5
// rows (textRows), indexed, plus textTail rows appended after the index
// ran (scanned directly), bodies "message <n> about <w1> and <w2>" from a
// vocabulary of 20 words.
//
//	go test -run '^$' -bench TextQuery ./storage/sqlite
const (
	textRows = 100_000
	textTail = 1000
)

var textWords = []string{"coffee", "tea", "weather", "train", "meeting", "lunch", "book", "music", "garden", "photo",
	"holiday", "ticket", "dinner", "project", "birthday", "movie", "recipe", "football", "concert", "museum"}

func textBody(i int) string {
	return "message " + strconv.Itoa(i) + " about " + textWords[i%len(textWords)] + " and " + textWords[(i/7)%len(textWords)]
}

func BenchmarkTextQuery(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "text.db"), Options{Synchronous: SyncOff, IndexBatch: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	const owner = "owner@example.org"
	add := func(from, to int) {
		for lo := from; lo < to; lo += 1000 {
			var ms []*storage.ArchivedMessage
			for i := lo; i < min(lo+1000, to); i++ {
				ms = append(ms, &storage.ArchivedMessage{Owner: owner, With: "peer" + strconv.Itoa(i%10) + "@example.org",
					Stamp: benchT0.Add(time.Duration(i) * time.Second), Body: textBody(i), Stanza: benchStanza(i)})
			}
			if err := s.AppendArchive(context.Background(), ms); err != nil {
				b.Fatal(err)
			}
		}
	}
	add(0, textRows)
	if err := s.IndexText(context.Background()); err != nil {
		b.Fatal(err)
	}
	add(textRows, textRows+textTail)

	cases := []struct {
		name string
		q    storage.ArchiveQuery
	}{
		// "message 4242" is in 11 bodies (4242, 42420..42429).
		{"rare/all", storage.ArchiveQuery{Text: "message 4242"}},
		// One row in the scanned tail.
		{"rare-tail/all", storage.ArchiveQuery{Text: "message 100999"}},
		// Every row matches "about": the newest page of 50.
		{"common/last-page", storage.ArchiveQuery{Text: "about", Limit: 50, Last: true}},
		// About 1 in 20 rows: a page of 50 from the start.
		{"word/first-page", storage.ArchiveQuery{Text: "museum", Limit: 50}},
		// Two words, about 1 in 400 rows, with a peer: a page of 50.
		{"two-words-with/first-page", storage.ArchiveQuery{Text: "COFFEE concert", With: "peer0@example.org", Limit: 50}},
		// A two-letter term cannot use trigrams: a scan of the range
		// until the page is full.
		{"short-term/first-page", storage.ArchiveQuery{Text: "te", Limit: 50}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			q := c.q
			q.Owner = owner
			n := 0
			for b.Loop() {
				p, err := s.QueryArchive(context.Background(), q)
				if err != nil {
					b.Fatal(err)
				}
				n = len(p.Messages)
			}
			b.ReportMetric(float64(n), "items")
		})
	}
}
