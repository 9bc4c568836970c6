package muc

import (
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// statusErrorRemoved tells that an occupant was removed because a stanza
// to it failed (XEP-0045 status 333: "an error reply", such as a server
// link that failed).
const statusErrorRemoved = "333"

// goneConditions are the delivery errors after which an occupant's
// session is not there any more: its server says the resource is gone,
// or its server cannot be reached (router.Bounce for remote occupants).
// Others (a client refusing one message, policy-violation) keep it in.
var goneConditions = map[stanza.Condition]bool{
	stanza.Gone:                 true,
	stanza.ItemNotFound:         true,
	stanza.RecipientUnavailable: true,
	stanza.Redirect:             true,
	stanza.RemoteServerNotFound: true,
	stanza.RemoteServerTimeout:  true,
	stanza.ServiceUnavailable:   true,
}

// messageError handles a message error an occupant's session sent back
// to the room or an occupant JID: a delivery-related one removes that
// session (XEP-0045 asks the service to remove an occupant when a
// delivery-related stanza error occurs), with status 333 when the
// occupant goes with it, so that rooms keep no ghost of a client or a
// server that went away without unavailable presence.
func (m *Module) messageError(s *router.Session, st *xml.Element, to jid.JID) {
	if to.Local() == "" || !goneConditions[errorCondition(st)] {
		return
	}
	rm := m.lockRoom(to.Bare())
	if rm == nil {
		return
	}
	defer rm.mu.Unlock()
	o := rm.bySession[s.JID()]
	if o == nil {
		return
	}
	if len(o.order) > 1 {
		// Its other sessions stay: only this one leaves.
		m.leaveLocked(rm, o, s, nil)
		return
	}
	m.removeOccupantLocked(rm, o, []string{statusErrorRemoved})
	m.emptiedLocked(rm)
}

// errorCondition returns the defined condition of an error stanza.
func errorCondition(st *xml.Element) stanza.Condition {
	for _, c := range st.Child(nsClient, "error").Elements() {
		if c.Space == stanza.NSStanzas && c.Local != "text" {
			return stanza.Condition(c.Local)
		}
	}
	return ""
}
