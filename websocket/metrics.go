package websocket

import "github.com/skald-xmpp/skald/internal/metrics"

var _ metrics.Source = (*Server)(nil)

// RegisterMetrics registers the WebSocket listener's metrics
// (metrics.Source): its connections and those refused by its caps. The
// streams themselves are c2s's.
func (s *Server) RegisterMetrics(r *metrics.Registry) {
	r.GaugeFunc("skald_websocket_connections", "HTTP connections open now on the WebSocket listener (upgraded or not).", func() float64 { return float64(s.connLimit.Open()) })
	r.CounterFunc("skald_websocket_connections_refused_total", "HTTP connections closed at accept, beyond max_connections.", s.connLimit.Refused)
	r.Counter("skald_websocket_refused_per_ip_total", "WebSocket handshakes refused with 429, beyond max_connections_per_ip.", &s.refusedPerIP)
}
