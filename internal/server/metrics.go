package server

import (
	"net"
	"net/http"
	rtmetrics "runtime/metrics"
	"time"

	"github.com/skald-xmpp/skald/internal/metrics"
)

// The metrics listener (config metrics_address) serves the operator
// metrics in the Prometheus text format at /metrics, and nothing else.
// Unlike the debug listener it may listen on any address: metrics are
// counts, not memory contents.

// metricSources lists what has metrics, in order.
func metricSources(s *Server) []metrics.Source {
	list := []metrics.Source{
		s, // the process: memory releases, Go runtime
		s.C2S,
		s.MAM,
	}
	if s.Upload != nil {
		list = append(list, s.Upload)
	}
	if s.MUC != nil {
		list = append(list, s.MUC)
	}
	if s.S2S != nil {
		list = append(list, s.S2S)
	}
	if s.Component != nil {
		list = append(list, s.Component)
	}
	if s.Push != nil {
		list = append(list, s.Push)
	}
	if s.BOSH != nil {
		list = append(list, s.BOSH)
	}
	if s.WebSocket != nil {
		list = append(list, s.WebSocket)
	}
	// The store's own, if it has any (SQLite's writer counters).
	if st, ok := s.Store.(metrics.Source); ok {
		list = append(list, st)
	}
	return list
}

var _ metrics.Source = (*Server)(nil)

// RegisterMetrics registers the process's own metrics (metrics.Source):
// the free-memory releases of release_free_memory (memory.go) and a few
// Go runtime basics, read from runtime/metrics at scrape time.
func (s *Server) RegisterMetrics(r *metrics.Registry) {
	r.Counter("skald_memory_releases_total", "Times free memory was returned to the operating system while the server was quiet (release_free_memory).", &s.releases)
	r.GaugeFunc("skald_go_goroutines", "Goroutines that currently exist.", func() float64 {
		return float64(readRuntime("/sched/goroutines:goroutines"))
	})
	r.GaugeFunc("skald_go_heap_live_bytes", "Heap memory occupied by live objects, as of the last garbage collection.", func() float64 {
		return float64(readRuntime("/gc/heap/live:bytes"))
	})
	r.GaugeFunc("skald_go_heap_mapped_bytes", "Heap memory mapped and not returned to the operating system: objects, unused span space and free pages.", func() float64 {
		return float64(readRuntime("/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes", "/memory/classes/heap/free:bytes"))
	})
}

// readRuntime returns the sum of the named runtime/metrics values (0 for
// one this Go version does not have).
func readRuntime(names ...string) uint64 {
	samples := make([]rtmetrics.Sample, len(names))
	for i, n := range names {
		samples[i].Name = n
	}
	rtmetrics.Read(samples)
	var sum uint64
	for _, smp := range samples {
		if smp.Value.Kind() == rtmetrics.KindUint64 {
			sum += smp.Value.Uint64()
		}
	}
	return sum
}

// metricsMux serves reg at /metrics only; every other path is 404.
func metricsMux(reg *metrics.Registry) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/metrics", reg)
	return mux
}

// listenMetrics binds the metrics listener if one is configured.
func (s *Server) listenMetrics() error {
	if s.Config.MetricsAddress == "" {
		return nil
	}
	l, err := net.Listen("tcp", s.Config.MetricsAddress)
	if err != nil {
		return err
	}
	s.metricsListener = l
	s.metricsHTTP = &http.Server{
		Handler:           metricsMux(s.Metrics),
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	return nil
}

// MetricsAddr returns the metrics listener's address, "" if there is none.
func (s *Server) MetricsAddr() string {
	if s.metricsListener == nil {
		return ""
	}
	return s.metricsListener.Addr().String()
}

func (s *Server) serveMetrics() {
	if s.metricsHTTP == nil {
		return
	}
	s.log.Info("serving metrics", "addr", s.MetricsAddr(), "path", "/metrics")
	s.serveHTTP(s.metricsHTTP, s.metricsListener, "metrics")
}
