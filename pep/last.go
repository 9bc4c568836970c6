package pep

import (
	"context"
	"slices"

	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
)

// SessionAvailable implements router.AvailabilityObserver: a resource
// that comes online with known capabilities gets the last published items
// now; one whose capabilities are being asked for gets them when the
// answer comes (learned).
func (m *Module) SessionAvailable(ctx context.Context, s *router.Session) {
	m.lastItemsOnce(ctx, s)
}

// lastItemsOnce sends s the last published items, once per session, as
// soon as its +notify nodes are known.
func (m *Module) lastItemsOnce(ctx context.Context, s *router.Session) {
	cc := capsOf(s)
	if cc == nil {
		return
	}
	cc.mu.Lock()
	send := cc.notify != nil && !cc.lastDone
	if send {
		cc.lastDone = true
	}
	cc.mu.Unlock()
	if send {
		m.sendLastItems(ctx, s)
	}
}

// sendLastItems sends s the newest item of every node it wants
// notifications of, may access, and that is configured to send it on
// presence (XEP-0163 §4.3.4, XEP-0060 send_last_published_item
// on_sub_and_presence): of its own account's nodes and of those of every
// contact whose presence it is subscribed to (§4.3.5).
func (m *Module) sendLastItems(ctx context.Context, s *router.Session) {
	if m.r.IsRemote(s.JID()) {
		// A remote contact's resource: the accounts it sent its
		// presence to are the owners whose items it gets.
		for _, owner := range m.remoteOwners(s.JID()) {
			if err := m.sendLastOf(ctx, owner, s, storage.SendLastOnSubAndPresence); err != nil {
				m.log.Error("pep: last items not sent", "owner", owner.String(), "to", s.JID().String(), "err", err)
			}
		}
		return
	}
	user := s.JID().Bare()
	owners := []jid.JID{user}
	items, err := m.ros.Items(ctx, user.String())
	if err != nil {
		m.log.Error("pep: roster unavailable, no last items sent", "jid", s.JID().String(), "err", err)
	}
	for _, it := range items {
		if it.Subscription != storage.SubTo && it.Subscription != storage.SubBoth {
			continue
		}
		if c, err := jid.Parse(it.JID); err == nil && m.r.IsLocalAccount(c) {
			owners = append(owners, c)
		}
	}
	for _, owner := range owners {
		if err := m.sendLastOf(ctx, owner, s, storage.SendLastOnSubAndPresence); err != nil {
			m.log.Error("pep: last items not sent", "owner", owner.String(), "to", s.JID().String(), "err", err)
		}
	}
}

// PresenceSubscribed implements router.SubscriptionObserver: the new
// subscriber's available resources that want a node's notifications get
// its last item now (XEP-0163 §4.3.2: the presence subscription is the
// subscription to the owner's nodes; send_last_published_item on_sub and
// on_sub_and_presence). Resources whose capabilities are not known yet
// get it with the others when they are (lastItemsOnce).
func (m *Module) PresenceSubscribed(ctx context.Context, owner, contact jid.JID) {
	sessions := m.r.Sessions(contact.String())
	if m.r.IsRemote(contact) {
		if sessions = m.remoteSessions(contact); len(sessions) == 0 {
			// Nothing known of its resources (its server sends us its
			// presence only if it sees ours): one copy of each last
			// item to its bare JID (XEP-0163 §4.3.2 item 2).
			bare := router.NewSession(contact.Bare(), "s2s-pep:"+contact.Domain(), remoteSender{m.r})
			if err := m.sendLastOf(ctx, owner, bare, storage.SendLastOnSub, storage.SendLastOnSubAndPresence); err != nil {
				m.log.Error("pep: last items not sent", "owner", owner.String(), "to", contact.String(), "err", err)
			}
			return
		}
	}
	for _, s := range sessions {
		if !s.Available() || !lastItemsSent(s) {
			continue
		}
		if err := m.sendLastOf(ctx, owner, s, storage.SendLastOnSub, storage.SendLastOnSubAndPresence); err != nil {
			m.log.Error("pep: last items not sent", "owner", owner.String(), "to", s.JID().String(), "err", err)
		}
	}
}

// lastItemsSent reports whether s got its last items on coming online.
func lastItemsSent(s *router.Session) bool {
	cc := capsOf(s)
	if cc == nil {
		return false
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.lastDone
}

// sendLastOf sends s the last items of owner's nodes whose
// send_last_published_item is one of when. It holds owner's lock (taken
// alone, never with another account's) from the read to the Send, so a
// publish cannot store and notify a newer item in between and be
// overtaken by the older one.
func (m *Module) sendLastOf(ctx context.Context, owner jid.JID, s *router.Session, when ...string) error {
	unlock := m.locks.Lock(owner.String())
	defer unlock()
	if m.cut(ctx, owner, s) {
		return nil
	}
	nodes, err := m.store.PEPNodes(ctx, owner.String())
	if err != nil {
		return err
	}
	for _, n := range nodes {
		// A bare JID's session is a remote contact of whom nothing is
		// known: no caps to filter by (PresenceSubscribed).
		filtered := s.JID().IsFull() && !wantsEvents(s, owner, n.Name)
		if !slices.Contains(when, n.Config.SendLastPublishedItem) || filtered {
			continue
		}
		ok, err := m.mayAccess(ctx, owner, s.JID(), n.Config)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		items, err := m.store.PEPItems(ctx, owner.String(), n.Name, nil, 1)
		if err != nil || len(items) == 0 {
			continue // none, or the node went away meanwhile
		}
		p, err := decode(items[0].Payload)
		if err != nil {
			return err
		}
		m.sendEvent(owner, s, itemsEvent(n.Name, items[0].ID, p, n.Config.DeliverPayloads))
	}
	return nil
}
