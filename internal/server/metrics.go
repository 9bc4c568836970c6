package server

import (
	"errors"
	"net"
	"net/http"
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
		s.C2S,
		s.MAM,
	}
	// The store's own, if it has any (SQLite's writer counters).
	if st, ok := s.Store.(metrics.Source); ok {
		list = append(list, st)
	}
	return list
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
	s.goroutine(func() {
		if err := s.metricsHTTP.Serve(s.metricsListener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics listener stopped", "err", err)
		}
	})
}
