package sqlite

import (
	"context"
	"hash/fnv"
	"time"
)

// The full-text index (migration 0007) is built off the append path: an
// append writes nothing to it. The writer goroutine indexes the rows
// above archive_fts_mark in batches of its own, each one write request
// like any other, run first in a transaction that then takes any request
// already waiting (so it shares their COMMIT):
//
//   - when the writer has been idle for Options.IndexPause since its last
//     batch (so a steady stream of appends never waits for it), and
//   - regardless, at most once per indexForceEvery, once the rows behind
//     the mark exceed indexForceLag, so that a server never idle for
//     IndexPause still works its tail down. indexForceLag is half the
//     default TextScanBudget, so that at the threshold the tail costs a
//     search at most half its budget; a step each indexForceEvery takes
//     at most 2.5 % of a writer that never idles, and indexes about
//     1,500 rows a second. A server whose writer never pauses for
//     IndexPause while it appends more than that (about 750 chat
//     messages a second without a 10 ms gap, sustained) still grows its
//     tail; searches stay exact, and one that cannot find a page within
//     the budget asks the client to narrow it (policy-violation).
//
// One step indexes up to Options.IndexBatch rows but stops after
// indexStepBudget of work, so an append that arrives meanwhile waits at
// most about that long. A query needs no index to be complete: it
// searches the index up to the mark and scans the rows above it
// (fulltext_query.go), in the same snapshot.
const (
	indexStepBudget = 5 * time.Millisecond
	indexForceLag   = 10000
	indexForceEvery = 200 * time.Millisecond
)

// indexState is the writer goroutine's view of the index; writer only.
type indexState struct {
	behind bool      // rows may lie above the mark
	high   int64     // highest archive id this writer appended (a hint)
	mark   int64     // the mark after the last step (a hint)
	last   time.Time // end of the last step
	op     *writeOp  // reused for the background steps
}

// indexWanted reports whether the writer should run an index step before
// waiting for requests: forced catch-up only (see above).
func (s *Store) indexForced(now time.Time) bool {
	ix := &s.index
	return s.opts.IndexBatch > 0 && ix.behind && ix.high-ix.mark > indexForceLag && now.Sub(ix.last) >= indexForceEvery
}

// runIndexBatch runs one index step as the first request of a batch.
func (s *Store) runIndexBatch(pending []*writeOp, timer *time.Timer) []*writeOp {
	ix := &s.index
	if ix.op == nil {
		ix.op = &writeOp{ctx: context.Background(), done: make(chan error, 1)}
		ix.op.fn = func(w *conn) error {
			n, err := s.indexStep(w, s.opts.IndexBatch, indexStepBudget)
			ix.behind = err != nil || n > 0
			return err
		}
	}
	pending = s.runBatch(ix.op, pending, timer)
	if err := <-ix.op.done; err != nil {
		// Retried after the next append, not in a loop.
		ix.behind = false
	}
	ix.last = time.Now()
	return pending
}

// indexStep indexes up to batch rows above the mark, stopping early once
// budget has passed, and moves the mark past them. It returns how many
// rows it read. The mark is read here, under the write lock, so two
// processes on one database never index a row twice.
func (s *Store) indexStep(w *conn, batch int, budget time.Duration) (int, error) {
	mark, _, err := queryInt(w, `SELECT id FROM archive_fts_mark WHERE one=0`)
	if err != nil {
		return 0, err
	}
	sel, err := w.prep(`SELECT id, owner, body FROM archive WHERE id>? ORDER BY id LIMIT ?`)
	if err != nil {
		return 0, err
	}
	defer sel.Reset()
	ins, err := w.prep(`INSERT INTO archive_fts(rowid, o, b) VALUES(?,?,?)`)
	if err != nil {
		return 0, err
	}
	if err := bind(sel, mark, batch); err != nil {
		return 0, err
	}
	start := time.Now()
	n := 0
	var owner, marker string
	for sel.Step() {
		id := sel.ColumnInt64(0)
		if o := sel.ColumnRawText(1); string(o) != owner {
			owner = string(o)
			marker = ownerMarker(owner)
		}
		if body := foldIndexed(sel.ColumnRawText(2)); body != "" {
			// A row without text can match no term: no entry (the
			// delete trigger's DELETE of its rowid is then a no-op).
			if err := bind(ins, id, marker, body); err != nil {
				ins.Reset()
				return 0, err
			}
			if err := ins.Exec(); err != nil {
				return 0, err
			}
		}
		mark = id
		n++
		if n%64 == 0 && time.Since(start) > budget {
			break
		}
	}
	if err := sel.Err(); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	if err := w.exec(`UPDATE archive_fts_mark SET id=? WHERE one=0`, mark); err != nil {
		return 0, err
	}
	s.index.mark = mark
	s.nIndexed.Add(int64(n)) // counted before COMMIT: a hint for operators
	return n, nil
}

// IndexText indexes every archive row appended so far, in steps through
// the writer like the background indexer's. For tests, and for tools that
// want the index complete now.
func (s *Store) IndexText(ctx context.Context) error {
	for {
		var n int
		err := s.write(ctx, func(w *conn) error {
			var err error
			n, err = s.indexStep(w, max(s.opts.IndexBatch, 1000), time.Hour)
			return err
		})
		if err != nil || n == 0 {
			return err
		}
	}
}

// ownerMarker is the o column of an owner's rows: three characters of the
// Supplementary Private Use Area-A chosen by a hash of the owner, exactly
// one trigram, so MATCH 'o:"marker"' is the owner's posting list. Two
// owners may share a marker (48 bits): queries check the owner on the
// row.
func ownerMarker(owner string) string {
	h := fnv.New64a()
	h.Write([]byte(owner))
	v := h.Sum64()
	r := make([]rune, 3)
	for i := range r {
		r[i] = 0xF0000 + rune(v%0xFFFE)
		v /= 0xFFFE
	}
	return string(r)
}
