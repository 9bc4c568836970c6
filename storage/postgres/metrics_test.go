package postgres

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/metrics"
	"github.com/skald-xmpp/skald/internal/metrics/metricstest"
)

// TestMetrics checks that the registered counters are the writer's.
func TestMetrics(t *testing.T) {
	s := openTest(t, Options{})
	reg := metrics.NewRegistry()
	reg.Register(s)
	val := func(name string) float64 { t.Helper(); return metricstest.Value(t, reg, name) }
	b0, o0 := val("skald_postgres_write_batches_total"), val("skald_postgres_write_operations_total")
	appendOne(t, s, "metrics@x", nilTime)
	if b, o := val("skald_postgres_write_batches_total"), val("skald_postgres_write_operations_total"); b != b0+1 || o != o0+1 {
		t.Errorf("after one append: batches %v → %v, operations %v → %v; want one more each", b0, b, o0, o)
	}
	if c := val("skald_postgres_pool_connections"); c < 1 {
		t.Errorf("pool connections = %v after a query", c)
	}
}
