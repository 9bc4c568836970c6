package mam

import (
	"context"

	"github.com/skald-xmpp/skald/internal/metrics"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
)

// counters are the module's metrics, each one atomic add where it
// happens.
type counters struct {
	archived    metrics.Counter // archive items stored (a resend stored once counts once)
	queries     metrics.Counter // archive queries answered with a result
	queryErrors metrics.Counter // archive queries answered with an error
}

var _ metrics.Source = (*Module)(nil)

// RegisterMetrics registers the archive's metrics (metrics.Source).
func (m *Module) RegisterMetrics(r *metrics.Registry) {
	r.Counter("skald_mam_messages_archived_total", "Archive items stored: a message between two local accounts is archived twice, once per archive.", &m.counters.archived)
	r.Counter("skald_mam_queries_total", "Archive queries (XEP-0313) answered with a result.", &m.counters.queries)
	r.Counter("skald_mam_query_errors_total", "Archive queries (XEP-0313) answered with an error.", &m.counters.queryErrors)
}

// countedQuery is handleQuery, counted.
func (m *Module) countedQuery(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	res, err := m.handleQuery(ctx, iq)
	if err != nil {
		m.counters.queryErrors.Inc()
	} else {
		m.counters.queries.Inc()
	}
	return res, err
}
