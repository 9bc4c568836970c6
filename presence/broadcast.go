package presence

import (
	"context"
	"sync"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// broadcast handles presence without 'to' (RFC 6121 §4.2, §4.4, §4.5);
// prio is the priority of an available presence.
//
// The session's presence is recorded before the roster is read. A
// subscription change on another goroutine writes the roster first and
// then looks at the sessions (inSubscribe's SendTo, sendPresence,
// sendUnavailable), so one of the two always sees the other: a request,
// approval or new subscriber that lands after the roster read finds the
// session already in its new state. Read the other way round, a change
// between the read and SetPresence was missed by both (a request never
// delivered, a contact's presence or this session's unavailable never
// sent).
func (m *Module) broadcast(ctx context.Context, s *router.Session, p *xml.Element, prio int) error {
	user := s.JID().Bare()
	if p.Attr("type") == typeUnavailable {
		// Services (MUC rooms) the session is present at learn it is gone,
		// available before or not (a client may enter rooms first).
		m.r.NotifyUnavailable(ctx, s)
		prev, prevPrio := s.Presence(), s.Priority()
		if !s.SetPresence(nil, 0) {
			m.endDirected(ctx, s, nil)
			return nil
		}
		items, err := m.rost.Items(ctx, s.Bare())
		if err != nil {
			s.SetPresence(prev, prevPrio)
			return err
		}
		covered := m.toSubscribers(ctx, s.JID(), items, p)
		m.toOwnResources(user, p)
		m.endDirected(ctx, s, covered)
		return nil
	}
	prev, prevPrio := s.Presence(), s.Priority()
	initial := !s.SetPresence(p.Clone(), prio)
	items, err := m.rost.Items(ctx, s.Bare())
	if err != nil {
		s.SetPresence(prev, prevPrio)
		return err
	}
	m.toSubscribers(ctx, s.JID(), items, p)
	m.toOwnResources(user, p)
	if initial {
		m.initial(ctx, s, items)
	} else if prevPrio < 0 && prio >= 0 {
		// Now the session takes messages to the bare JID (RFC 6121
		// §8.5.2.1.1): what waited offline because its initial presence
		// had a negative priority is due (XEP-0160 §2).
		m.r.NotifyPriorityRaised(ctx, s)
	}
	return nil
}

// toSubscribers sends p, from the session from, to the available
// resources of every local contact with a 'from' or 'both' subscription,
// addressed to the contact's bare JID, except where a block cuts them off
// (XEP-0191). It returns the contacts it covered.
func (m *Module) toSubscribers(ctx context.Context, from jid.JID, items []storage.RosterItem, p *xml.Element) map[jid.JID]bool {
	covered := make(map[jid.JID]bool)
	for _, it := range items {
		if !hasFrom(it) {
			continue
		}
		c, err := jid.Parse(it.JID)
		if err != nil || !m.reachable(c) {
			continue
		}
		covered[c] = true
		m.sendTo(ctx, from, c, addressed(p, c))
	}
	return covered
}

// toOwnResources sends p to every available resource of the account.
func (m *Module) toOwnResources(user jid.JID, p *xml.Element) {
	m.r.SendTo(user, addressed(p, user))
}

// initial completes a session's first available presence (RFC 6121
// §4.2.2, §3.1.3): the presence of the contacts it may see and of the
// account's other resources, the pending subscription requests, then the
// availability hooks (offline messages).
func (m *Module) initial(ctx context.Context, s *router.Session, items []storage.RosterItem) {
	user := s.JID().Bare()
	for _, it := range items {
		if !hasTo(it) {
			continue
		}
		c, err := jid.Parse(it.JID)
		if err != nil || !m.reachable(c) {
			continue
		}
		if m.cut(ctx, s.JID(), c) {
			// XEP-0191 §3.3: no probe to a contact the user blocks, and
			// none answered by a contact who blocks the user.
			continue
		}
		if m.r.IsRemote(c) {
			// RFC 6121 §4.3.1: the probe goes from the user's bare JID;
			// the contact's server answers with the contact's presence.
			m.probeRemote(user, c)
			continue
		}
		// The probe's answer, checked against the contact's own roster
		// as the contact's server would (RFC 6121 §4.3.2).
		theirs, ok, err := m.rost.Item(ctx, c.String(), user.String())
		if err != nil {
			m.log.Error("presence: probe failed", "contact", c.String(), "err", err)
			continue
		}
		if !ok || !hasFrom(theirs) {
			// The contact's server SHOULD answer such a probe with
			// unsubscribed (RFC 6121 §4.3.2), which cancels the user's
			// stale subscription as §3.2.3 says (a pre-approval stays).
			un := xml.New(stanza.NSClient, "presence",
				"from", c.String(), "to", user.String(), "type", typeUnsubscribed)
			if err := m.probeRefused(ctx, user, c, un); err != nil {
				m.log.Error("presence: probe answer failed", "contact", c.String(), "err", err)
			}
			continue
		}
		m.presenceOf(ctx, c, s)
	}
	for _, o := range m.r.Sessions(s.Bare()) {
		if o == s {
			continue
		}
		if pres := o.Presence(); pres != nil {
			m.send(s, addressed(pres, s.JID()))
		}
	}
	for _, it := range items {
		if it.PendingIn {
			if c, err := jid.Parse(it.JID); err == nil && m.cut(ctx, s.JID(), c) {
				continue // XEP-0191 §3.3
			}
			m.send(s, m.pendingRequest(ctx, user, it.JID))
		}
	}
	m.r.NotifyAvailable(ctx, s)
}

// clientProbe processes a probe a client sent itself (RFC 6121 §4.3: the
// server probes for its clients, but one a client sends SHOULD be routed
// or processed). The contact's server answers it as it answers the
// server's probes (§4.3.2): with the presence of each of the contact's
// available resources if the user is subscribed, here to the probing
// session alone. A probe never reveals more than the subscription grants;
// a refusal answers unsubscribed as at login (probeRefused), and a
// contact that does not exist is not revealed either.
func (m *Module) clientProbe(ctx context.Context, s *router.Session, contact jid.JID) error {
	user := s.JID().Bare()
	if contact == user {
		return nil // the account's resources see each other's presence anyway
	}
	if m.r.IsRemote(contact) {
		// The contact's server answers, to the probing resource.
		probe := xml.New(stanza.NSClient, "presence",
			"from", s.JID().String(), "to", contact.String(), "type", typeProbe)
		m.sendTo(ctx, s.JID(), contact, probe)
		return nil
	}
	if !m.r.IsLocalAccount(contact) {
		return unroutable(m.r, contact)
	}
	if ok, err := m.r.UserExists(ctx, contact.String()); err != nil || !ok {
		return err
	}
	if m.cut(ctx, s.JID(), contact) {
		return nil // XEP-0191 §3.3
	}
	theirs, ok, err := m.rost.Item(ctx, contact.String(), user.String())
	if err != nil {
		return err
	}
	if !ok || !hasFrom(theirs) {
		un := xml.New(stanza.NSClient, "presence",
			"from", contact.String(), "to", user.String(), "type", typeUnsubscribed)
		return m.probeRefused(ctx, user, contact, un)
	}
	m.presenceOf(ctx, contact, s)
	return nil
}

// probeRefused is inUnsubscribed for the contact's answer to a probe of a
// subscription the roster snapshot showed: it cancels that subscription if
// the user's item still has it and the contact's roster, read again under
// the user's roster lock, still refuses it. Meanwhile the contact may have
// cancelled the old subscription and another resource asked again: a
// request still pending (AskOut) is left alone, and so is a subscription
// approved since, whose 'from' the contact's side stores before the
// approval takes the user's lock to store 'to'.
func (m *Module) probeRefused(ctx context.Context, user, contact jid.JID, un *xml.Element) error {
	_, _, err := m.rost.UpdateThen(ctx, user.String(), contact.String(), func(it *storage.RosterItem) {
		if !hasTo(*it) {
			return
		}
		theirs, ok, err := m.rost.Item(ctx, contact.String(), user.String())
		if err != nil || (ok && hasFrom(theirs)) {
			return // approved since, or unknown: keep it
		}
		it.AskOut = false
		setSub(it, false, hasFrom(*it))
	}, func(before, after storage.RosterItem) {
		if hasTo(before) && !hasTo(after) {
			m.toInterested(user, un)
		}
	})
	return err
}

// presenceOf sends the last presence of each available resource of
// contact to session s, except a resource cut off by a block.
func (m *Module) presenceOf(ctx context.Context, contact jid.JID, s *router.Session) {
	for _, cs := range m.r.Sessions(contact.String()) {
		if pres := cs.Presence(); pres != nil && !m.cut(ctx, cs.JID(), s.JID()) {
			m.send(s, addressed(pres, s.JID()))
		}
	}
}

// directedKey keys a session's directed-presence recipients.
type directedKey struct{}

// directedSet is the set of JIDs a session sent directed available
// presence to (RFC 6121 §4.6): they get unavailable when it goes away.
type directedSet struct {
	mu sync.Mutex
	to map[jid.JID]bool
}

func directedOf(s *router.Session) *directedSet {
	if d, ok := s.Value(directedKey{}).(*directedSet); ok {
		return d
	}
	d := &directedSet{to: make(map[jid.JID]bool)}
	s.SetValue(directedKey{}, d)
	return d
}

// directed routes presence addressed to a JID (RFC 6121 §4.6.2).
func (m *Module) directed(ctx context.Context, s *router.Session, p *xml.Element, to jid.JID) error {
	if m.r.IsRemote(to) {
		if err := m.r.SendRemote(p, s.JID(), to); err != nil {
			return err
		}
	} else if !m.r.IsLocalAccount(to) {
		return unroutable(m.r, to) // the server itself takes none
	} else if ok, err := m.r.UserExists(ctx, to.Bare().String()); err != nil {
		return err
	} else if !ok {
		return nil // never reveal whether an account exists
	} else {
		m.sendTo(ctx, s.JID(), to, p)
	}
	d := directedOf(s)
	d.mu.Lock()
	if p.Attr("type") == typeUnavailable {
		delete(d.to, to)
	} else {
		d.to[to] = true
	}
	d.mu.Unlock()
	return nil
}

// endDirected sends unavailable to the recipients of directed presence not
// already told by a broadcast (covered), and forgets them.
func (m *Module) endDirected(ctx context.Context, s *router.Session, covered map[jid.JID]bool) {
	d, ok := s.Value(directedKey{}).(*directedSet)
	if !ok {
		return
	}
	d.mu.Lock()
	to := d.to
	d.to = make(map[jid.JID]bool)
	d.mu.Unlock()
	for j := range to {
		if covered[j.Bare()] {
			continue
		}
		m.sendTo(ctx, s.JID(), j, xml.New(stanza.NSClient, "presence",
			"type", typeUnavailable, "from", s.JID().String(), "to", j.String()))
	}
}
