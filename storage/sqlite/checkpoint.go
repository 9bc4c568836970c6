package sqlite

import (
	"github.com/ncruces/go-sqlite3"
)

// Checkpoints copy the pages committed to the WAL back into the database
// file, so that the WAL can start over. SQLite's automatic checkpoint runs
// inside COMMIT on the connection that committed, here the writer: every
// caller of the batch that crossed the threshold would wait for the copy
// and its fsyncs before hearing that its write is durable.
//
// Instead the writer connection's WAL hook (which replaces the automatic
// checkpoint) only notes the WAL size after each commit, and the writer
// goroutine runs a PASSIVE checkpoint itself between two batches, after
// answering the callers of the last one, once the WAL holds
// Options.CheckpointPages pages. Requests that arrive meanwhile queue up
// and form the next batch. With no commit running, the checkpoint can copy
// every frame that no reader still needs, and the next write transaction
// starts the WAL over.
//
// The threshold matters more than where the checkpoint runs: a page
// written by many commits is copied once per checkpoint, so a bigger WAL
// means fewer database writes per row. BenchmarkAppendChat (sync=FULL, 32
// callers) went from about 11k rows/s at SQLite's default of 1000 pages to
// 15k at 4000 and 18k at 10000, with CPU per row down by a third. A
// checkpointer goroutine with a connection of its own, copying while the
// writer commits, was measured too: it never lets the WAL start over by
// itself (the writer keeps appending), so it still needs the writer's
// checkpoint as a backstop, and on two cores it bought no rows/s over the
// writer doing it at 10000 pages while costing more CPU per row.

// hookWAL installs the writer connection's WAL hook. Writer goroutine (or
// before it starts) only.
func (s *Store) hookWAL() {
	s.wconn.db.WALHook(func(_ *sqlite3.Conn, _ string, pages int) error {
		s.walPages = pages // inside COMMIT: note, no more
		return nil
	})
}

// checkpointIfLarge runs between batches on the writer goroutine.
func (s *Store) checkpointIfLarge() {
	if s.walPages < s.opts.CheckpointPages {
		return
	}
	// A failure (BUSY against another process's checkpoint, an I/O error)
	// is retried after the next batch; the WAL keeps every committed frame
	// meanwhile.
	if _, _, err := s.wconn.db.WALCheckpoint("main", sqlite3.CHECKPOINT_PASSIVE); err == nil {
		s.walPages = 0 // the next write transaction starts the WAL over
		s.nCheckpoints.Add(1)
	}
}
