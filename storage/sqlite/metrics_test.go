package sqlite

import (
	"context"
	"testing"

	"github.com/skald-xmpp/skald/internal/metrics"
	"github.com/skald-xmpp/skald/internal/metrics/metricstest"
	"github.com/skald-xmpp/skald/storage"
)

// TestMetrics checks that the registered counters are the writer's.
func TestMetrics(t *testing.T) {
	s := openTest(t, Options{})
	reg := metrics.NewRegistry()
	reg.Register(s)
	val := func(name string) float64 { t.Helper(); return metricstest.Value(t, reg, name) }
	b0, o0 := val("skald_sqlite_write_batches_total"), val("skald_sqlite_write_operations_total")
	if err := s.CreateUser(context.Background(), "metrics@example.com", storage.Credentials{}); err != nil {
		t.Fatal(err)
	}
	if b, o := val("skald_sqlite_write_batches_total"), val("skald_sqlite_write_operations_total"); b != b0+1 || o != o0+1 {
		t.Errorf("after one write: batches %v → %v, operations %v → %v; want one more each", b0, b, o0, o)
	}
	s.nCheckpoints.Add(3)
	if c := val("skald_sqlite_checkpoints_total"); c != float64(s.nCheckpoints.Load()) || c < 3 {
		t.Errorf("checkpoints = %v, store counted %d", c, s.nCheckpoints.Load())
	}
}
