package presence

import (
	"context"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
)

// Presence with contacts on other servers (RFC 6121 over RFC 6120
// server-to-server streams): the local side of the state machine runs
// here, the contact's side on the contact's server, and the two talk in
// subscription stanzas, probes and availability.

// probeRemote asks a remote contact's server for the contact's presence
// on behalf of user (RFC 6121 §4.3.1: from the user's bare JID).
func (m *Module) probeRemote(user, contact jid.JID) {
	probe := xml.New(stanza.NSClient, "presence",
		"from", user.String(), "to", contact.String(), "type", typeProbe)
	if err := m.r.SendRemote(probe, user, contact); err != nil {
		m.log.Debug("presence: probe not routed", "to", contact.String(), "err", err)
	}
}

// HandleRemotePresence implements router.RemotePresenceHandler: presence
// a remote server sends to a local JID. Presence to an account that does
// not exist, or from a JID the account blocks (XEP-0191 §3.3), is dropped
// silently, as for local senders.
func (m *Module) HandleRemotePresence(ctx context.Context, p *xml.Element, from, to jid.JID) error {
	if to.Local() == "" {
		return nil // the server itself takes no presence
	}
	owner, peer := to.Bare(), from.Bare()
	ok, err := m.r.UserExists(ctx, owner.String())
	if err != nil || !ok {
		return err
	}
	if m.blocks(ctx, owner, from) {
		return nil
	}
	subscription := func(in inbound) error {
		// Subscription stanzas are between bare JIDs (RFC 6121 §3.1.3).
		st := p.Clone()
		st.SetAttr("from", peer.String())
		st.SetAttr("to", owner.String())
		return in(ctx, owner, peer, st)
	}
	switch typ := p.Attr("type"); typ {
	case typeSubscribe:
		// Each new remote sender would be a stored pending-in item: a
		// full roster takes no more, and the request goes unanswered, as
		// one the user never approves.
		if ok, err := m.rost.HasRoomFor(ctx, owner.String(), peer.String()); err != nil || !ok {
			return err
		}
		return subscription(m.inSubscribe)
	case typeSubscribed:
		return subscription(m.inSubscribed)
	case typeUnsubscribe:
		return subscription(m.inUnsubscribe)
	case typeUnsubscribed:
		return subscription(m.inUnsubscribed)
	case typeProbe:
		return m.answerProbe(ctx, owner, from)
	case typeAvailable, typeUnavailable:
		// RFC 6121 §4.4.3 and §4.6.3: broadcast or directed presence
		// from a contact goes to the available resources (or the one
		// full JID) addressed.
		m.sendTo(ctx, from, to, p)
		return nil
	case typeError:
		if to.IsFull() {
			m.sendTo(ctx, from, to, p)
		}
		return nil
	default:
		return stanza.E(stanza.BadRequest, "unknown presence type")
	}
}

// answerProbe answers a remote contact's probe of owner's presence (RFC
// 6121 §4.3.2): with the presence of each available resource when the
// contact is subscribed, else with unsubscribed, which tells the
// contact's server the subscription is gone. The subscription is the
// prober's bare JID's, but the presence goes "to the user" who probed:
// the bare JID when its server probes (§4.3.1), the one resource when a
// client probed itself (§4.3), so the account's other resources do not
// get presence they did not ask for. The unsubscribed answer is a
// subscription stanza and so goes between bare JIDs (§3.1.3).
func (m *Module) answerProbe(ctx context.Context, owner, prober jid.JID) error {
	peer := prober.Bare()
	it, ok, err := m.rost.Item(ctx, owner.String(), peer.String())
	if err != nil {
		return err
	}
	if !ok || !hasFrom(it) {
		un := xml.New(stanza.NSClient, "presence",
			"from", owner.String(), "to", peer.String(), "type", typeUnsubscribed)
		return m.r.SendRemote(un, owner, peer)
	}
	m.sendPresence(ctx, owner, prober)
	return nil
}
