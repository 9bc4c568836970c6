package muc

import (
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
)

// Ghost occupants (§18.1.2, §11.1): a session that answers the room's
// stanzas with errors is no longer there to read them. The service removes
// it as if it had sent unavailable presence, and says why with status 333
// (removed after an error, §11.1; no 307, which would read as a kick):
// the removed session gets 110 and 333, the others 333.
//
// What counts: presence of type error from an occupant's session to the
// room (a client that bounces the room's presence), and a message of type
// error with a delivery-related condition (§18.1.2: gone, item-not-found,
// recipient-unavailable, redirect, remote-server-not-found,
// remote-server-timeout, and service-unavailable, which servers answer for
// a message to a resource that is gone; router.Bounce hands the room such
// an error when a remote occupant's server cannot be reached). Other
// message errors (a client refusing one message) and iq errors (answers to iqs
// passed between occupants, forward.go) leave the occupant in.
//
// Sessions that end without unavailable presence are not ghosts: their
// server leaves the rooms for them (RFC 6121 §4.6.3, Module.SessionEnded),
// an ordinary exit.

const statusErrorRemoval = "333"

// deliveryConditions are the error conditions of §18.1.2 that tell a
// stanza did not reach the occupant.
var deliveryConditions = map[string]bool{
	"gone":                    true,
	"item-not-found":          true,
	"recipient-unavailable":   true,
	"redirect":                true,
	"remote-server-not-found": true,
	"remote-server-timeout":   true,
	// Not in §18.1.2's list, but what a server answers for a groupchat
	// message to a full JID that has no session any more (RFC 6121
	// §8.5.3.2.1): the commonest sign that a remote occupant is gone.
	"service-unavailable": true,
}

// ghostLocked removes session s of occupant o after an error (333).
func (m *Module) ghostLocked(rm *room, o *occupant, s *router.Session) {
	m.leaveCodesLocked(rm, o, s, nil, []string{statusErrorRemoval})
}

// bouncedMessage handles a message of type error from s to a room or
// occupant JID: an occupant's session bouncing with a delivery-related
// condition leaves the room as a ghost.
func (m *Module) bouncedMessage(s *router.Session, st *xml.Element, to jid.JID) {
	if to.Local() == "" || !deliveryConditions[errorCondition(st)] {
		return
	}
	rm := m.lockRoom(to.Bare())
	if rm == nil {
		return
	}
	defer rm.mu.Unlock()
	if o := rm.bySession[s.JID()]; o != nil {
		m.ghostLocked(rm, o, s)
	}
}

// errorCondition returns the defined condition of an error stanza, "" if
// it has none.
func errorCondition(st *xml.Element) string {
	for _, c := range st.Child(nsClient, "error").Elements() {
		if c.Space == nsStanzas && c.Local != "text" {
			return c.Local
		}
	}
	return ""
}
