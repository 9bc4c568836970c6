package muc

import (
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
)

// broadcastMessageLocked is broadcastLocked for an occupant's groupchat
// message (§7.4) that also returns the local sessions it was queued to
// that are dormant (detached awaiting XEP-0198 resumption, or inactive,
// XEP-0352), when tell is set and a router GroupchatObserver listens:
// push (XEP-0357) wakes their devices, since the room's messages reach
// its occupants without the router's delivery. Live sessions have the
// message, and remote occupants' servers do their own pushing.
//
// It is one walk over the recipients, as broadcastLocked is: each local
// session is looked up once, sent the message, and asked whether it is
// dormant, so a busy room whose occupants are all live pays the
// observers one check of a session it holds per recipient, not a second
// walk with a second lookup (BenchmarkRoomMessage).
func (m *Module) broadcastMessageLocked(rm *room, msg *xml.Element, sender *occupant, tell bool) []router.GroupchatRecipient {
	if !tell || !m.r.WantsGroupchat() {
		m.broadcastLocked(rm, msg)
		return nil
	}
	var dormant []router.GroupchatRecipient
	for _, v := range rm.sortedOccupants() {
		for _, sj := range v.order {
			st := msg.Clone()
			if m.r.IsRemote(sj) {
				m.send(sj, st)
				continue
			}
			st.SetAttr("to", sj.String())
			// as Router.SendTo for a local full JID, keeping the session
			if s := m.r.Session(sj); s != nil && s.Send(st) == nil && s.Dormant() {
				dormant = append(dormant, router.GroupchatRecipient{Session: s, Nick: v.nick, Own: v.bare == sender.bare})
			}
		}
	}
	return dormant
}
