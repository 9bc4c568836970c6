package presence

import (
	"context"
	"errors"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// The subscription state machine, RFC 6121 Appendix A. The outbound side
// (A.2) runs on the sender's roster, the inbound side (A.3) on the
// recipient's; each is one roster Update, so the two rosters are never
// locked together.

// inbound is the recipient side of one subscription stanza type.
type inbound func(ctx context.Context, owner, peer jid.JID, st *xml.Element) error

// outbound handles a subscription stanza from user to contact (both bare).
func (m *Module) outbound(ctx context.Context, user, contact jid.JID, typ string, p *xml.Element) error {
	if user == contact {
		return nil // an account's resources share presence anyway (§4.2.2)
	}
	st := p.Clone()
	st.SetAttr("from", user.String())
	st.SetAttr("to", contact.String())
	owner, peer := user.String(), contact.String()
	switch typ {
	case typeSubscribe:
		// §3.1.2. Routed even when nothing changes: a contact who already
		// approved us then answers 'subscribed' and heals our state.
		_, _, err := m.rost.Update(ctx, owner, peer, func(it *storage.RosterItem) {
			if !hasTo(*it) {
				it.AskOut = true
			}
		})
		if err != nil {
			return err
		}
		return m.route(ctx, user, contact, st, m.inSubscribe)

	case typeSubscribed:
		// §3.1.5 approval, or §3.4 pre-approval when nothing is pending.
		before, after, err := m.rost.Update(ctx, owner, peer, func(it *storage.RosterItem) {
			switch {
			case hasFrom(*it):
			case it.PendingIn:
				it.PendingIn, it.PreApproved = false, false
				setSub(it, hasTo(*it), true)
			default:
				it.PreApproved = true
			}
		})
		if err != nil {
			return err
		}
		if !before.PendingIn || after.PendingIn {
			return nil // a pre-approval stays local until the request comes
		}
		m.dropRequest(ctx, user, peer)
		if err := m.route(ctx, user, contact, st, m.inSubscribed); err != nil {
			return err
		}
		m.sendPresence(ctx, user, contact)
		m.subscribed(ctx, user, contact)
		return nil

	case typeUnsubscribe:
		// §3.3.2.
		_, _, err := m.rost.Update(ctx, owner, peer, func(it *storage.RosterItem) {
			it.AskOut = false
			setSub(it, false, hasFrom(*it))
		})
		if err != nil {
			return err
		}
		return m.route(ctx, user, contact, st, m.inUnsubscribe)

	case typeUnsubscribed:
		// §3.2.2: cancels the contact's subscription, denies a pending
		// request, or withdraws a pre-approval.
		before, _, err := m.rost.Update(ctx, owner, peer, func(it *storage.RosterItem) {
			it.PendingIn, it.PreApproved = false, false
			setSub(it, hasTo(*it), false)
		})
		if err != nil {
			return err
		}
		if before.PendingIn {
			m.dropRequest(ctx, user, peer) // denied
		}
		// §3.2.2: the unavailable presence goes while the contact is
		// still subscribed, before the unsubscribed.
		if hasFrom(before) {
			m.sendUnavailable(ctx, user, contact)
		}
		return m.route(ctx, user, contact, st, m.inUnsubscribed)
	}
	return stanza.E(stanza.BadRequest, "")
}

// route hands a subscription stanza to the contact's side: to the contact's
// server over the remote transport when the contact is on another domain,
// else to the contact's side of the state machine here if the contact is a
// local account that exists. One for a local account that does not exist
// is dropped (existence is never revealed); one for a remote domain with
// no transport is answered remote-server-not-found.
func (m *Module) route(ctx context.Context, from, to jid.JID, st *xml.Element, in inbound) error {
	if m.r.IsRemote(to) {
		return m.r.SendRemote(st, from, to)
	}
	if !m.r.IsLocalAccount(to) {
		return unroutable(m.r, to)
	}
	ok, err := m.r.UserExists(ctx, to.String())
	if err != nil || !ok {
		return err
	}
	if m.blocks(ctx, to, from) {
		return nil // XEP-0191 §3.3: dropped, unanswered, on the contact's side
	}
	return in(ctx, to, from, st)
}

// inSubscribe: peer asks to see owner's presence (§3.1.3, A.3.1).
func (m *Module) inSubscribe(ctx context.Context, owner, peer jid.JID, st *xml.Element) error {
	before, after, err := m.rost.Update(ctx, owner.String(), peer.String(), func(it *storage.RosterItem) {
		switch {
		case hasFrom(*it):
		case it.PreApproved:
			it.PreApproved, it.PendingIn = false, false
			setSub(it, hasTo(*it), true)
		default:
			it.PendingIn = true
		}
	})
	if err != nil {
		return err
	}
	switch {
	case hasFrom(after):
		// Already approved, or pre-approved: answered for the owner.
		reply := xml.New(stanza.NSClient, "presence",
			"from", owner.String(), "to", peer.String(), "type", typeSubscribed)
		if m.r.IsRemote(peer) {
			// The peer's side runs on the peer's server.
			if err := m.r.SendRemote(reply, owner, peer); err != nil {
				return err
			}
		} else if err := m.inSubscribed(ctx, peer, owner, reply); err != nil {
			return err
		}
		m.sendPresence(ctx, owner, peer)
		if !hasFrom(before) {
			m.subscribed(ctx, owner, peer) // a pre-approval answered
		}
	case !before.PendingIn:
		// A new request: to the owner's available resources now, and to
		// each new session until answered (kept as it came, §3.1.3).
		m.keepRequest(ctx, owner, peer, st)
		m.r.SendTo(owner, st)
	}
	return nil
}

// inSubscribed: peer approved owner's request (§3.1.6, A.3.3).
func (m *Module) inSubscribed(ctx context.Context, owner, peer jid.JID, st *xml.Element) error {
	_, _, err := m.rost.UpdateThen(ctx, owner.String(), peer.String(), func(it *storage.RosterItem) {
		if it.AskOut {
			it.AskOut = false
			setSub(it, true, hasFrom(*it))
		}
	}, func(before, _ storage.RosterItem) {
		if before.AskOut {
			m.toInterested(owner, st)
		}
	})
	return err
}

// inUnsubscribe: peer no longer wants owner's presence, or withdraws its
// request (§3.3.3, A.3.2).
func (m *Module) inUnsubscribe(ctx context.Context, owner, peer jid.JID, st *xml.Element) error {
	before, _, err := m.rost.UpdateThen(ctx, owner.String(), peer.String(), func(it *storage.RosterItem) {
		it.PendingIn = false
		setSub(it, hasTo(*it), false)
	}, func(before, _ storage.RosterItem) {
		if before.PendingIn || hasFrom(before) {
			m.toInterested(owner, st)
		}
	})
	if err != nil {
		return err
	}
	if before.PendingIn {
		m.dropRequest(ctx, owner, peer.String()) // withdrawn
	}
	if hasFrom(before) {
		m.sendUnavailable(ctx, owner, peer)
	}
	return nil
}

// inUnsubscribed: peer denied owner's request or cancelled owner's
// subscription (§3.2.3, A.3.4).
func (m *Module) inUnsubscribed(ctx context.Context, owner, peer jid.JID, st *xml.Element) error {
	_, _, err := m.rost.UpdateThen(ctx, owner.String(), peer.String(), func(it *storage.RosterItem) {
		it.AskOut = false
		setSub(it, false, hasFrom(*it))
	}, func(before, _ storage.RosterItem) {
		if before.AskOut || hasTo(before) {
			m.toInterested(owner, st)
		}
	})
	return err
}

// toInterested delivers an inbound subscribed, unsubscribe or unsubscribed
// to owner, ahead of the roster push it causes: RFC 6121 §3.1.6, §3.2.3
// and §3.3.3 deliver these to every interested resource (one that has
// requested the roster, available or not), where requests go to available
// resources only (§3.1.3). Available resources that never requested the
// roster get them too, as they get requests.
func (m *Module) toInterested(owner jid.JID, st *xml.Element) {
	for _, s := range m.r.Sessions(owner.String()) {
		if s.Interested() || s.Available() {
			m.send(s, st)
		}
	}
}

// sendPresence sends the current presence of each of user's available
// resources to contact, who may now see it (§3.1.5).
func (m *Module) sendPresence(ctx context.Context, user, contact jid.JID) {
	if !m.reachable(contact) {
		return
	}
	for _, s := range m.r.Sessions(user.String()) {
		if pres := s.Presence(); pres != nil {
			m.sendTo(ctx, s.JID(), contact, addressed(pres, contact))
		}
	}
}

// subscribed tells the subscription observers (pep) that contact, an
// account here or a user of another server, may now see user's presence.
func (m *Module) subscribed(ctx context.Context, user, contact jid.JID) {
	if m.r.IsLocalAccount(contact) || (m.r.IsRemote(contact) && contact.Local() != "") {
		m.r.NotifySubscribed(ctx, user, contact)
	}
}

// sendUnavailable tells contact, who may no longer see user's presence,
// that each of user's available resources is gone (§3.2.2, §3.3.3).
func (m *Module) sendUnavailable(ctx context.Context, user, contact jid.JID) {
	if !m.reachable(contact) {
		return
	}
	for _, s := range m.r.Sessions(user.String()) {
		if s.Available() {
			m.sendTo(ctx, s.JID(), contact, xml.New(stanza.NSClient, "presence",
				"type", typeUnavailable, "from", s.JID().String(), "to", contact.String()))
		}
	}
}

// RosterItemRemoving implements roster.RemoveHandler: removing an item
// cancels both directions of its subscription and any request pending
// either way (RFC 6121 §2.5.2).
func (m *Module) RosterItemRemoving(ctx context.Context, owner jid.JID, it storage.RosterItem) error {
	user := owner.Bare()
	contact, err := jid.Parse(it.JID)
	if err != nil || contact == user {
		return nil
	}
	if hasTo(it) || it.AskOut {
		st := xml.New(stanza.NSClient, "presence",
			"from", user.String(), "to", contact.String(), "type", typeUnsubscribe)
		if err := m.route(ctx, user, contact, st, m.inUnsubscribe); err != nil && !isUnroutable(err) {
			return err
		}
	}
	if it.PendingIn {
		m.dropRequest(ctx, user, it.JID)
	}
	if hasFrom(it) || it.PendingIn {
		st := xml.New(stanza.NSClient, "presence",
			"from", user.String(), "to", contact.String(), "type", typeUnsubscribed)
		if hasFrom(it) {
			m.sendUnavailable(ctx, user, contact) // before unsubscribed (§3.2.2)
		}
		if err := m.route(ctx, user, contact, st, m.inUnsubscribed); err != nil && !isUnroutable(err) {
			return err
		}
	}
	return nil
}

// reachable reports whether presence can go to contact: a local account,
// or a JID on a remote domain (over the remote transport; without one,
// sendTo drops it).
func (m *Module) reachable(contact jid.JID) bool {
	return m.r.IsLocalAccount(contact) || m.r.IsRemote(contact)
}

// unroutable is the answer to a client's presence for a JID that is not a
// local account and cannot go to a remote server: nil for the server's
// own domains (a JID without a localpart takes no presence),
// remote-server-not-found for any other domain (federation off): RFC
// 6120 §10.4.3 says a server that cannot route a stanza to a remote
// domain MUST return an error to the sender. The local side of a
// subscription change (§3.1.2: ask="subscribe") stays as it was made.
func unroutable(r *router.Router, to jid.JID) error {
	if r.IsLocalDomain(to.Domain()) {
		return nil
	}
	return stanza.E(stanza.RemoteServerNotFound, "")
}

// isUnroutable reports whether err is unroutable's error, or a remote
// transport's refusal: what a roster removal sends to a remote contact is
// then dropped, with no client stanza to answer.
func isUnroutable(err error) bool {
	var se *stanza.Error
	return errors.As(err, &se) && (se.Condition == stanza.RemoteServerNotFound ||
		se.Condition == stanza.RemoteServerTimeout || se.Condition == stanza.ResourceConstraint)
}
