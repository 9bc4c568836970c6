package presence

import (
	"context"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// NSBlockingErrors is XEP-0191's error namespace.
const NSBlockingErrors = "urn:xmpp:blocking:errors"

// Blocker tells whether an account blocks a JID (XEP-0191; the blocking
// module implements it). An interface so that presence does not import
// that module.
type Blocker interface {
	// Blocks reports whether owner, a local bare JID, blocks peer.
	Blocks(ctx context.Context, owner string, peer jid.JID) (bool, error)
}

// SetBlocker installs the blocklists presence honours. It must be called
// before serving; without it nothing is blocked.
func (m *Module) SetBlocker(b Blocker) { m.blocker = b }

// blocks reports whether owner blocks peer; a failed lookup counts as
// blocked, so presence never leaks for want of a storage read.
func (m *Module) blocks(ctx context.Context, owner, peer jid.JID) bool {
	if m.blocker == nil || owner.Bare() == peer.Bare() {
		return false
	}
	b, err := m.blocker.Blocks(ctx, owner.Bare().String(), peer)
	if err != nil {
		m.log.Error("presence: blocklist unavailable", "owner", owner.Bare().String(), "err", err)
		return true
	}
	return b
}

// cut reports whether presence between from and to must not flow because
// either blocks the other (XEP-0191 §3.3: the user's server does not send
// to a blocked contact, and the contact's server drops presence from a JID
// its user blocks, probes included).
func (m *Module) cut(ctx context.Context, from, to jid.JID) bool {
	return m.blocks(ctx, from, to) || m.blocks(ctx, to, from)
}

// blockedError answers a client's presence to a JID it blocks (§3.3).
func blockedError() *stanza.Error {
	return &stanza.Error{Type: stanza.Cancel, Condition: stanza.NotAcceptable, App: xml.New(NSBlockingErrors, "blocked")}
}

// sendTo is router.SendTo for presence from a local JID: a full JID gets
// st if bound, a bare JID on each available resource, skipping those cut
// off from from by a block; a JID on a remote domain gets it over the
// remote transport.
func (m *Module) sendTo(ctx context.Context, from, to jid.JID, st *xml.Element) {
	if m.r.IsRemote(to) {
		// The contact's server applies the contact's blocklist.
		if !m.blocks(ctx, from, to) {
			if err := m.r.SendRemote(st, from, to); err != nil {
				m.log.Debug("presence not routed", "to", to.String(), "err", err)
			}
		}
		return
	}
	var targets []*router.Session
	if to.IsFull() {
		if t := m.r.Session(to); t != nil {
			targets = append(targets, t)
		}
	} else {
		for _, t := range m.r.Sessions(to.String()) {
			if t.Available() {
				targets = append(targets, t)
			}
		}
	}
	for _, t := range targets {
		if !m.cut(ctx, from, t.JID()) {
			m.send(t, st)
		}
	}
}

// Blocked is told by the blocking module that user now blocks the JIDs
// match accepts: each available resource of the user sends unavailable
// presence to each resource of such a contact that may see the user's
// presence (a 'from' or 'both' subscription, or directed presence),
// XEP-0191 §3.3.
func (m *Module) Blocked(ctx context.Context, user jid.JID, match func(jid.JID) bool) {
	user = user.Bare()
	own := m.r.Sessions(user.String())
	unavailable := func(s *router.Session, to jid.JID) {
		m.deliverRaw(to, xml.New(stanza.NSClient, "presence",
			"type", typeUnavailable, "from", s.JID().String(), "to", to.String()))
	}
	items, err := m.rost.Items(ctx, user.String())
	if err != nil {
		m.log.Error("presence: roster unavailable at block", "jid", user.String(), "err", err)
	}
	for _, it := range items {
		c, err := jid.Parse(it.JID)
		if err != nil || !hasFrom(it) || !m.r.IsLocalAccount(c) || c.Bare() == user {
			continue
		}
		for _, cs := range m.r.Sessions(c.String()) {
			if !cs.Available() || !match(cs.JID()) {
				continue
			}
			for _, s := range own {
				if s.Available() {
					unavailable(s, cs.JID())
				}
			}
		}
	}
	for _, s := range own {
		d, ok := s.Value(directedKey{}).(*directedSet)
		if !ok || !s.Available() {
			continue
		}
		d.mu.Lock()
		var gone []jid.JID
		for j := range d.to {
			if match(j) {
				gone = append(gone, j)
				delete(d.to, j)
			}
		}
		d.mu.Unlock()
		for _, j := range gone {
			unavailable(s, j)
		}
	}
}

// Unblocked is told by the blocking module that user no longer blocks the
// JIDs match accepts: each available resource's current presence goes to
// such contacts with a 'from' or 'both' subscription (XEP-0191 §3.4), and
// the user's resources get the presence of such contacts they are
// subscribed to, as a probe would bring it.
func (m *Module) Unblocked(ctx context.Context, user jid.JID, match func(jid.JID) bool) {
	user = user.Bare()
	items, err := m.rost.Items(ctx, user.String())
	if err != nil {
		m.log.Error("presence: roster unavailable at unblock", "jid", user.String(), "err", err)
		return
	}
	own := m.r.Sessions(user.String())
	for _, it := range items {
		c, err := jid.Parse(it.JID)
		if err != nil || !m.r.IsLocalAccount(c) || c.Bare() == user {
			continue
		}
		for _, cs := range m.r.Sessions(c.String()) {
			if !cs.Available() || !match(cs.JID()) {
				continue
			}
			for _, s := range own {
				if hasFrom(it) {
					if pres := s.Presence(); pres != nil && !m.cut(ctx, s.JID(), cs.JID()) {
						m.send(cs, addressed(pres, c))
					}
				}
				if hasTo(it) && s.Available() {
					if pres := cs.Presence(); pres != nil && !m.cut(ctx, cs.JID(), s.JID()) {
						theirs, ok, err := m.rost.Item(ctx, c.String(), user.String())
						if err == nil && ok && hasFrom(theirs) {
							m.send(s, addressed(pres, s.JID()))
						}
					}
				}
			}
		}
	}
}

// deliverRaw is deliver without the block check, for the unavailable
// presence a block itself sends.
func (m *Module) deliverRaw(to jid.JID, st *xml.Element) {
	if t := m.r.Session(to); t != nil {
		m.send(t, st)
	}
}
