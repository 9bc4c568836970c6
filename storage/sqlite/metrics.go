package sqlite

import "github.com/skald-xmpp/skald/internal/metrics"

var _ metrics.Source = (*Store)(nil)

// RegisterMetrics registers the writer's counters (metrics.Source): the
// group commit batch size is writes over batches.
func (s *Store) RegisterMetrics(r *metrics.Registry) {
	r.CounterFunc("skald_sqlite_write_batches_total", "Write transactions the writer goroutine committed or tried to (group commits).", func() uint64 {
		return uint64(s.nBatches.Load())
	})
	r.CounterFunc("skald_sqlite_write_operations_total", "Write requests the writer goroutine ran, in those transactions.", func() uint64 {
		return uint64(s.nOps.Load())
	})
	r.CounterFunc("skald_sqlite_checkpoints_total", "WAL checkpoints the writer goroutine ran between batches.", func() uint64 {
		return uint64(s.nCheckpoints.Load())
	})
	r.CounterFunc("skald_sqlite_text_indexed_rows_total", "Archive rows the full-text indexer has indexed (its steps are write requests too).", func() uint64 {
		return uint64(s.nIndexed.Load())
	})
}
