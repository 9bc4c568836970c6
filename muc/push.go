package muc

import "github.com/skald-xmpp/skald/router"

// dormantLocked lists the local sessions of the room's occupants that are
// dormant (detached awaiting XEP-0198 resumption, or inactive, XEP-0352)
// for a message sender o just sent: the router's GroupchatObservers
// (push, XEP-0357) wake their devices, since the room's messages reach
// its occupants without the router's delivery. Live sessions have the
// message, and remote occupants' servers do their own pushing. Nothing
// is collected while no observer listens.
func (m *Module) dormantLocked(rm *room, sender *occupant) []router.GroupchatRecipient {
	if !m.r.WantsGroupchat() {
		return nil
	}
	var out []router.GroupchatRecipient
	for _, v := range rm.occupants {
		for _, sj := range v.order {
			if s := m.r.Session(sj); s != nil && s.Dormant() {
				out = append(out, router.GroupchatRecipient{Session: s, Nick: v.nick, Own: v.bare == sender.bare})
			}
		}
	}
	return out
}
