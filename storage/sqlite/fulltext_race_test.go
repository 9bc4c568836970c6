package sqlite

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

// TestTextQueryWhileIndexing: with appends, deletions and the background
// indexer running at once, every text query sees, in id order and exactly
// once, every matching row committed before it started and not deleted,
// whether the row is in the index or the tail; paging with AfterID
// across the mark neither skips nor repeats a row.
func TestTextQueryWhileIndexing(t *testing.T) {
	s := openTest(t, Options{Synchronous: SyncOff, IndexBatch: 7, IndexPause: 100 * time.Microsecond})
	var committed atomic.Int64 // the highest id of a matching row whose append returned
	var stop atomic.Bool
	var wg sync.WaitGroup
	// Before the store closes (cleanups run last first), also on Fatal.
	t.Cleanup(func() { stop.Store(true); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			ms := appendBodies(t, s, "a@x", fmt.Sprintf("needle %d", i), "hay", fmt.Sprintf("other %d", i))
			committed.Store(ms[0].ID)
			if i%10 == 0 {
				// Deletes a hay row (never a needle), maybe indexed, maybe not.
				if _, err := s.TrimArchive(bg, "b@x", 0); err != nil {
					t.Error(err)
					return
				}
				appendBodies(t, s, "b@x", "needle elsewhere")
			}
			time.Sleep(50 * time.Microsecond)
		}
	}()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		before := committed.Load()
		var got []int64
		// The set ends at a fixed id, so that paging never chases the appends.
		q := storage.ArchiveQuery{Owner: "a@x", Text: "NEEDLE", Limit: 50, BeforeID: before + 10}
		for {
			p, err := s.QueryArchive(bg, q)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, idsOf(p.Messages)...)
			if p.Complete || len(p.Messages) == 0 {
				break
			}
			q.AfterID = p.Messages[len(p.Messages)-1].ID
		}
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] {
				t.Fatalf("ids out of order or repeated: %v", got)
			}
			if got[i]-got[i-1] != 3 && got[i]-got[i-1] != 4 {
				t.Fatalf("a needle skipped between %d and %d: %v", got[i-1], got[i], got)
			}
		}
		if before > 0 && (len(got) == 0 || got[len(got)-1] < before) {
			t.Fatalf("the needle %d committed before the query is missing: last %v", before, got[max(len(got)-3, 0):])
		}
	}
	stop.Store(true)
	wg.Wait()
	if mark, _ := indexRows(t, s); mark == 0 {
		t.Errorf("the indexer never ran")
	}
}
