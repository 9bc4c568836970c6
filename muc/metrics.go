package muc

import "github.com/skald-xmpp/skald/internal/metrics"

var _ metrics.Source = (*Module)(nil)

// RegisterMetrics registers the service's metrics (metrics.Source): its
// rooms, occupants and remote occupants' sessions, counted at scrape
// time, and the groupchat messages it broadcast.
func (m *Module) RegisterMetrics(r *metrics.Registry) {
	r.GaugeFunc("skald_muc_rooms", "Multi-user chat rooms that exist (persistent ones included, occupied or not).", func() float64 {
		m.mu.Lock()
		defer m.mu.Unlock()
		return float64(len(m.rooms))
	})
	r.GaugeFunc("skald_muc_occupants", "Nicks present in multi-user chat rooms.", func() float64 {
		n := 0
		for _, rm := range m.roomList() {
			rm.mu.Lock()
			n += len(rm.occupants)
			rm.mu.Unlock()
		}
		return float64(n)
	})
	r.GaugeFunc("skald_muc_remote_occupant_sessions", "Occupant sessions of users of other servers, in all rooms.", func() float64 {
		m.remote.mu.Lock()
		defer m.remote.mu.Unlock()
		n := 0
		for _, c := range m.remote.byDomain {
			n += c
		}
		return float64(n)
	})
	r.Counter("skald_muc_messages_total", "Groupchat messages rooms broadcast.", &m.messages)
	r.Counter("skald_muc_moderations_total", "Archived groupchat messages moderators retracted (XEP-0425).", &m.moderations)
	r.Counter("skald_muc_retractions_total", "Archived groupchat messages their authors retracted (XEP-0424).", &m.retractions)
}

// roomList returns the rooms; their state is read under their own lock.
func (m *Module) roomList() []*room {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*room, 0, len(m.rooms))
	for _, rm := range m.rooms {
		out = append(out, rm)
	}
	return out
}
