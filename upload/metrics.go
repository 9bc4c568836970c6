package upload

import "github.com/skald-xmpp/skald/internal/metrics"

// counters are the module's metrics, each one atomic add where it
// happens.
type counters struct {
	slots     metrics.Counter // slots granted
	refusals  metrics.Counter // slot requests refused (§5 errors, bad requests)
	stored    metrics.Counter // uploads stored (PUT answered 201)
	putErrors metrics.Counter // PUTs refused or cut short
	expired   metrics.Counter // files removed by the cleanup job
}

var _ metrics.Source = (*Module)(nil)

// RegisterMetrics registers the upload service's metrics (metrics.Source).
func (m *Module) RegisterMetrics(r *metrics.Registry) {
	r.Counter("skald_upload_slots_total", "Upload slots granted (XEP-0363).", &m.counters.slots)
	r.Counter("skald_upload_slot_refusals_total", "Upload slot requests refused: too large, over quota or rate, bad request, other domain.", &m.counters.refusals)
	r.Counter("skald_upload_files_stored_total", "Uploads stored (HTTP PUT answered 201).", &m.counters.stored)
	r.Counter("skald_upload_put_errors_total", "HTTP PUTs refused (bad or used slot, size, type, quota) or cut short.", &m.counters.putErrors)
	r.Counter("skald_upload_files_expired_total", "Uploaded files removed by the cleanup job (expires_after).", &m.counters.expired)
	r.GaugeFunc("skald_upload_files", "Uploaded files stored now.", func() float64 {
		n, _ := m.files.totals()
		return float64(n)
	})
	r.GaugeFunc("skald_upload_bytes", "Bytes of the uploaded files stored now and of uploads in progress.", func() float64 {
		_, b := m.files.totals()
		return float64(b)
	})
}
