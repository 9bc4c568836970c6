package router

import (
	"context"

	"github.com/skald-xmpp/skald/internal/xml"
)

// GroupchatObserver learns of a groupchat message a hosted service (a
// MUC room, XEP-0045 §7.4) queued to local sessions that are dormant
// (Session.Dormant): the service sends to its occupants' sessions
// directly, not through delivery, so the DeliveryObservers never see
// such a message. (A room on another server sends to the occupant's full
// JID, which is delivery: those the DeliveryObservers see.) push wakes
// the dormant sessions' devices (XEP-0357).
type GroupchatObserver interface {
	GroupchatQueued(ctx context.Context, msg *xml.Element, to []GroupchatRecipient)
}

// GroupchatRecipient is a local session a service queued a groupchat
// message to.
type GroupchatRecipient struct {
	Session *Session
	// Nick is the recipient's nick in the room.
	Nick string
	// Own says the recipient's account sent the message: the room
	// reflects it to every occupant, the sender's sessions included.
	Own bool
}

// WantsGroupchat reports whether a GroupchatObserver is registered: a
// service need not collect recipients for nobody.
func (r *Router) WantsGroupchat() bool { return len(r.groupObs) > 0 }

// GroupchatQueued tells the GroupchatObservers that a service queued msg
// (as broadcast, without 'to'; it must not be modified) to the dormant
// sessions to. The service calls it with its own locks released: an
// observer may read storage.
func (r *Router) GroupchatQueued(ctx context.Context, msg *xml.Element, to []GroupchatRecipient) {
	if len(to) == 0 {
		return
	}
	for _, o := range r.groupObs {
		o.GroupchatQueued(ctx, msg, to)
	}
}
