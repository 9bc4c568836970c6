package muc

import (
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
)

const statusShutdown = "332"

// Shutdown tells every occupant that the service is going away (§11.2):
// each session gets one unavailable presence from its occupant JID with
// role none and status codes 110 and 332, and leaves the room, so that
// the end of its session does not send it another. Rooms stay as they
// are stored (a temporary room, now empty, ends). internal/server calls it
// before it ends the client streams.
func (m *Module) Shutdown() {
	for _, rm := range m.roomList() {
		rm.mu.Lock()
		if !rm.gone {
			m.shutdownRoomLocked(rm)
		}
		rm.mu.Unlock()
	}
}

func (m *Module) shutdownRoomLocked(rm *room) {
	for _, o := range rm.sortedOccupants() {
		for _, sj := range o.order {
			x := xml.New(NSUser, "x").Append(
				xml.New(NSUser, "item", "affiliation", rm.affiliation(o.bare), "role", roleNone, "jid", sj.String()),
				xml.New(NSUser, "status", "code", statusSelf),
				xml.New(NSUser, "status", "code", statusShutdown))
			m.send(sj, xml.New(nsClient, "presence", "from", rm.occupantJID(o.nick).String(), "type", "unavailable").Append(x,
				xml.New(nsOccupantID, "occupant-id", "id", m.occupantID(rm.jid, o.bare)))) // XEP-0421 §4
			// Out of the session index, the session's room set and its
			// domain's count of remote occupants (remote.go).
			m.dropSessionLocked(rm, sj)
		}
	}
	rm.occupants, rm.bySession = map[string]*occupant{}, map[jid.JID]*occupant{}
	m.emptiedLocked(rm)
}
