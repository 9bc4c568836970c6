package postgres

import "github.com/skald-xmpp/skald/internal/metrics"

var _ metrics.Source = (*Store)(nil)

// RegisterMetrics registers the writer's counters and the pool's state
// (metrics.Source): the group commit batch size is operations over
// batches.
func (s *Store) RegisterMetrics(r *metrics.Registry) {
	r.CounterFunc("skald_postgres_write_batches_total", "Append transactions the writer goroutine committed or tried to (group commits).", func() uint64 {
		return uint64(s.nBatches.Load())
	})
	r.CounterFunc("skald_postgres_write_operations_total", "AppendArchive calls the writer goroutine ran, in those transactions.", func() uint64 {
		return uint64(s.nOps.Load())
	})
	r.GaugeFunc("skald_postgres_pool_connections", "Connections of the pool, open (idle or in use).", func() float64 {
		return float64(s.pool.Stat().TotalConns())
	})
	r.GaugeFunc("skald_postgres_pool_acquired_connections", "Connections of the pool in use.", func() float64 {
		return float64(s.pool.Stat().AcquiredConns())
	})
}
