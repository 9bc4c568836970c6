package s2s

import "github.com/skald-xmpp/skald/internal/metrics"

// counters are the s2s metrics, counted where they happen.
type counters struct {
	outStreams      metrics.Counter // outgoing streams started
	outFailed       metrics.Counter // outgoing streams that never became ready
	inStreams       metrics.Counter // incoming streams accepted
	refused         metrics.Counter // incoming connections over connections_per_ip or max_incoming_streams
	refusedOut      metrics.Counter // stanzas refused over max_outgoing_streams
	stanzasOut      metrics.Counter
	stanzasIn       metrics.Counter
	bounced         metrics.Counter // stanzas bounced after being queued
	overflow        metrics.Counter // stanzas refused by a full queue
	dialbackValid   metrics.Counter // keys verified valid (as receiving or authoritative server)
	dialbackInvalid metrics.Counter
	saslExternal    metrics.Counter // streams authenticated with SASL EXTERNAL, both ways
	backoffRefused  metrics.Counter // stanzas refused because their domain is in back-off
}

var _ metrics.Source = (*Server)(nil)

// RegisterMetrics implements metrics.Source.
func (s *Server) RegisterMetrics(r *metrics.Registry) {
	c := &s.counters
	r.GaugeFunc("skald_s2s_streams_out", "Outgoing server-to-server streams open or being set up.", func() float64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		return float64(len(s.out))
	})
	r.GaugeFunc("skald_s2s_streams_in", "Incoming server-to-server streams open.", func() float64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		return float64(len(s.in))
	})
	r.GaugeFunc("skald_s2s_domains_backoff", "Remote domains in back-off after failed attempts: stanzas for them are refused at once.", func() float64 {
		s.mu.Lock()
		defer s.mu.Unlock()
		return float64(s.backoff.active(s.now()))
	})
	r.Counter("skald_s2s_backoff_refused_total", "Stanzas refused at once because their remote domain is in back-off.", &c.backoffRefused)
	r.Counter("skald_s2s_streams_out_total", "Outgoing server-to-server streams started.", &c.outStreams)
	r.Counter("skald_s2s_streams_out_failed_total", "Outgoing streams that could not be connected, secured or authenticated.", &c.outFailed)
	r.Counter("skald_s2s_streams_in_total", "Incoming server-to-server connections accepted.", &c.inStreams)
	r.Counter("skald_s2s_connections_refused_total", "Incoming connections refused over connections_per_ip or max_incoming_streams.", &c.refused)
	r.Counter("skald_s2s_streams_out_refused_total", "Stanzas refused because a new outgoing stream would exceed max_outgoing_streams.", &c.refusedOut)
	r.Counter("skald_s2s_stanzas_sent_total", "Stanzas written to remote servers.", &c.stanzasOut)
	r.Counter("skald_s2s_stanzas_received_total", "Stanzas received from verified remote servers.", &c.stanzasIn)
	r.Counter("skald_s2s_stanzas_bounced_total", "Queued stanzas bounced because their stream failed or closed.", &c.bounced)
	r.Counter("skald_s2s_queue_overflow_total", "Stanzas refused because their remote domain's queue was full.", &c.overflow)
	r.Counter("skald_s2s_dialback_valid_total", "XEP-0220 dialback keys of incoming streams verified valid.", &c.dialbackValid)
	r.Counter("skald_s2s_dialback_invalid_total", "XEP-0220 dialback keys of incoming streams found invalid.", &c.dialbackInvalid)
	r.Counter("skald_s2s_sasl_external_total", "Streams authenticated with SASL EXTERNAL (either way).", &c.saslExternal)
}
