package c2s

import (
	"sync/atomic"

	"github.com/skald-xmpp/skald/internal/metrics"
)

// counters are the c2s server's metrics that are counted where they
// happen; each is one atomic add. The gauges (connections, parked
// connections) are read from the server's own state at scrape time.
type counters struct {
	accepted     metrics.Counter // connections accepted and started
	stanzasIn    metrics.Counter // message, presence and iq elements read from clients
	authFailures metrics.Counter // failed or refused SASL authentications
	sasl2Logins  metrics.Counter // successful XEP-0388 authentications
	authDisabled metrics.Counter // right credentials of a disabled account
	fastLogins   metrics.Counter // successful XEP-0484 token authentications
	fastIssued   metrics.Counter // XEP-0484 tokens issued (requested or rotated)
	slowConsumer metrics.Counter // connections cut off for a full outgoing queue
	refusedTotal metrics.Counter // connections refused over MaxConnections
	refusedPerIP metrics.Counter // connections refused over MaxConnectionsPerIP
	sessions     atomic.Int64    // bound sessions (in the router), detached ones included
}

var _ metrics.Source = (*Server)(nil)

// RegisterMetrics registers the c2s metrics (metrics.Source).
func (s *Server) RegisterMetrics(r *metrics.Registry) {
	r.GaugeFunc("skald_c2s_connections", "Client connections open now, parked ones included.", func() float64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		return float64(len(s.conns))
	})
	r.Counter("skald_c2s_connections_accepted_total", "Client connections accepted.", &s.counters.accepted)
	r.GaugeFunc("skald_c2s_connections_parked", "Idle client connections parked without a goroutine (Linux epoll set).", func() float64 {
		return float64(s.parker.count())
	})
	r.GaugeFunc("skald_c2s_sessions", "Bound client sessions, including sessions detached and awaiting XEP-0198 resumption.", func() float64 {
		return float64(s.counters.sessions.Load())
	})
	r.Counter("skald_c2s_stanzas_received_total", "Stanzas (message, presence, iq) received from clients.", &s.counters.stanzasIn)
	r.Counter("skald_c2s_auth_failures_total", "Failed or rate-limited SASL authentication attempts.", &s.counters.authFailures)
	r.Counter("skald_c2s_connections_refused_total", "TCP client connections refused at accept, beyond max_connections (resource-constraint).", &s.counters.refusedTotal)
	r.Counter("skald_c2s_connections_refused_per_ip_total", "TCP client connections refused at accept, beyond max_connections_per_ip (policy-violation).", &s.counters.refusedPerIP)
	r.Counter("skald_c2s_sasl2_logins_total", "Successful XEP-0388 SASL2 authentications (the others used RFC 6120 SASL).", &s.counters.sasl2Logins)
	r.Counter("skald_c2s_auth_disabled_total", "SASL authentications with the right credentials refused because the account is disabled.", &s.counters.authDisabled)
	r.Counter("skald_c2s_fast_logins_total", "Successful XEP-0484 FAST authentications with a token (counted in the SASL2 logins too).", &s.counters.fastLogins)
	r.Counter("skald_c2s_fast_tokens_issued_total", "XEP-0484 FAST tokens issued, on request or by rotation.", &s.counters.fastIssued)
	r.Counter("skald_c2s_slow_consumer_disconnects_total", "Client connections cut off because their outgoing queue was full or they left too many stanzas unacknowledged (XEP-0198).", &s.counters.slowConsumer)
}
