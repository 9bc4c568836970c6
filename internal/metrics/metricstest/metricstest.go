// Package metricstest helps tests read a metrics.Registry.
package metricstest

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/metrics"
)

// Value reads one metric of r, failing the test if it is not registered.
func Value(t testing.TB, r *metrics.Registry, name string) float64 {
	t.Helper()
	v, ok := r.Value(name)
	if !ok {
		t.Fatalf("metric %s is not registered", name)
	}
	return v
}
