package bosh

import "github.com/skald-xmpp/skald/internal/metrics"

// counters are the BOSH server's metrics counted where they happen.
type counters struct {
	created  metrics.Counter // sessions created
	requests metrics.Counter // requests of sessions (creation excluded)
	terminal metrics.Counter // terminal binding errors sent
}

// countTerminal counts a terminal binding error sent.
func (s *Server) countTerminal(string) { s.counters.terminal.Inc() }

var _ metrics.Source = (*Server)(nil)

// RegisterMetrics registers the BOSH metrics (metrics.Source).
func (s *Server) RegisterMetrics(r *metrics.Registry) {
	r.GaugeFunc("skald_bosh_sessions", "BOSH sessions open now.", func() float64 { return float64(s.Sessions()) })
	r.Counter("skald_bosh_sessions_created_total", "BOSH sessions created.", &s.counters.created)
	r.Counter("skald_bosh_requests_total", "BOSH requests of existing sessions.", &s.counters.requests)
	r.GaugeFunc("skald_bosh_connections", "HTTP connections open now on the BOSH listener.", func() float64 { return float64(s.connLimit.Open()) })
	r.CounterFunc("skald_bosh_connections_refused_total", "HTTP connections closed at accept, beyond max_connections.", s.connLimit.Refused)
	r.Counter("skald_bosh_terminal_errors_total", "Responses with a terminal binding condition (XEP-0124 §17.2): bad requests, unknown sessions, policy violations, stream errors.", &s.counters.terminal)
}
