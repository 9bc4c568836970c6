package component

import "github.com/skald-xmpp/skald/internal/metrics"

// counters are the component metrics, counted where they happen.
type counters struct {
	connections       metrics.Counter // TCP connections accepted
	refused           metrics.Counter // connections closed at once: max_pending_connections
	handshakes        metrics.Counter // components authenticated
	handshakeFailures metrics.Counter // streams ended before authenticating: bad secret, unknown domain, conflict, timeout, bad header
	stanzasIn         metrics.Counter
	stanzasOut        metrics.Counter
	slowConsumer      metrics.Counter // components cut off for a full queue
	bounced           metrics.Counter // queued stanzas that never reached the socket, answered to their senders
}

var _ metrics.Source = (*Server)(nil)

// RegisterMetrics implements metrics.Source.
func (s *Server) RegisterMetrics(r *metrics.Registry) {
	c := &s.counters
	r.GaugeFunc("skald_component_connected", "External components (XEP-0114) with an authenticated stream.", func() float64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		return float64(len(s.byDomain))
	})
	r.Counter("skald_component_connections_total", "Connections accepted on the component listener.", &c.connections)
	r.Counter("skald_component_connections_refused_total", "Connections closed at once because max_pending_connections had not authenticated yet.", &c.refused)
	r.Counter("skald_component_handshakes_total", "Components authenticated by their handshake.", &c.handshakes)
	r.Counter("skald_component_handshake_failures_total", "Component streams ended before authenticating (wrong secret, unknown domain, conflict, timeout, bad header).", &c.handshakeFailures)
	r.Counter("skald_component_stanzas_received_total", "Stanzas received from components.", &c.stanzasIn)
	r.Counter("skald_component_stanzas_sent_total", "Stanzas queued for components.", &c.stanzasOut)
	r.Counter("skald_component_stanzas_bounced_total", "Stanzas queued for a component that never reached its socket (a failed write, a cut-off), answered with errors to their senders.", &c.bounced)
	r.Counter("skald_component_slow_consumer_disconnects_total", "Components cut off because their outgoing queue was full.", &c.slowConsumer)
}
