package muc

import (
	"context"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// handlePresence serves presence to a room or occupant JID: entering,
// presence updates, nick changes and leaving (§7.2, §7.6, §7.7, §7.14).
func (m *Module) handlePresence(ctx context.Context, s *router.Session, st *xml.Element, to jid.JID) error {
	typ := st.Attr("type")
	if to.Local() == "" || (typ != "" && typ != "unavailable" && typ != "error") {
		return nil // to the service itself, or subscriptions: nothing to do
	}
	if !to.IsFull() {
		if typ != "" {
			return nil
		}
		return stanza.E(stanza.JIDMalformed, "a room nickname is required") // §7.2.1
	}
	if typ != "" {
		// Leaving; an error bounced by an occupant's client ends its
		// presence too, with 333 (ghost.go).
		rm := m.lockRoom(to.Bare())
		if rm == nil {
			return nil
		}
		defer rm.mu.Unlock()
		if o := rm.bySession[s.JID()]; o != nil {
			if typ == "error" {
				m.ghostLocked(rm, o, s)
				return nil
			}
			m.leaveLocked(rm, o, s, presencePayload(st))
		}
		return nil
	}
	nick := to.Resource()
	if len(nick) > m.cfg.MaxNickLength {
		return stanza.E(stanza.NotAcceptable, "nickname too long")
	}
	if invisibleNick(nick) {
		return stanza.E(stanza.JIDMalformed, "a nickname must show something") // §17.1
	}
	rm := m.lockRoom(to.Bare())
	if rm != nil {
		if o := rm.bySession[s.JID()]; o != nil {
			defer rm.mu.Unlock()
			if o.nick == nick {
				o.sessions[s.JID()] = presencePayload(st)
				if x := st.Child(NS, "x"); x != nil {
					// A join presence from a session that is in: its
					// client lost the room's state (a reloaded web
					// client resuming its stream, a failed XEP-0410
					// self-ping) and waits for the whole join of §7.2.3,
					// up to the subject, before it shows the room.
					m.rejoinLocked(rm, o, s.JID(), x)
					return nil
				}
				m.broadcastPresence(rm, o, nil)
				return nil
			}
			return m.changeNickLocked(rm, o, s, nick, st)
		}
		rm.mu.Unlock()
	}
	return m.enter(ctx, s, st, to)
}

// enter has a session enter a room, creating the room if it does not exist
// (§7.2, §10.1).
func (m *Module) enter(_ context.Context, s *router.Session, st *xml.Element, to jid.JID) error {
	var rm *room
	var created bool
	if m.isRemote(s.JID()) {
		// Users of other servers enter rooms; they create none (remote.go).
		if rm = m.lockRoom(to.Bare()); rm == nil {
			return stanza.E(stanza.NotAllowed, "only users of this server may create rooms") // §10.1.1
		}
	} else {
		var err error
		if rm, created, err = m.lockOrCreate(to.Bare(), s.JID()); err != nil {
			return err
		}
	}
	defer rm.mu.Unlock()
	nick, bare := to.Resource(), s.JID().Bare()
	x := st.Child(NS, "x")
	aff := rm.affiliation(bare)
	if created {
		aff = affOwner
		rm.setAffiliation(bare, affOwner)
		if x == nil {
			// A client that does not speak MUC (groupchat 1.0) cannot
			// configure the room: it gets an instant room (§10.1.1).
			rm.locked = false
		}
	}
	if err := m.mayEnter(rm, aff, bare, nick, x); err != nil {
		return err
	}
	// A session that ended while this presence was on its way (a new
	// connection binding the same full JID ends the old one from another
	// goroutine) must not enter: SessionEnded has run, or is running,
	// and would leave a ghost. The room goes into the session's set
	// before the check: an end after the check finds it there and waits
	// on rm.mu; an end before it is seen by the check (Router.Unbind
	// takes the session out of the table before telling observers).
	joined := joinedOf(s)
	joined.set(rm.jid, true)
	if !m.stillBound(s) {
		joined.set(rm.jid, false)
		m.emptiedLocked(rm)
		return nil
	}
	if m.isRemote(s.JID()) {
		if err := m.admitRemote(s.JID()); err != nil {
			return err
		}
	}
	o := rm.occupants[nick]
	newNick := o == nil
	if newNick {
		o = &occupant{nick: nick, bare: bare, role: rm.defaultRole(aff), sessions: make(map[jid.JID]*xml.Element)}
		rm.occupants[nick] = o
	}
	o.sessions[s.JID()] = presencePayload(st)
	o.order = append(o.order, s.JID())
	rm.bySession[s.JID()] = o

	// The others' presence first, then (for a new nick) the newcomer's
	// to the others, then its self-presence last (§7.2.3).
	m.sendOccupantsLocked(rm, o, s.JID())
	if newNick {
		for _, v := range rm.sortedOccupants() {
			if v != o {
				for _, sj := range v.order {
					m.send(sj, m.presenceFor(rm, o, v, false, nil))
				}
			}
		}
	}
	m.sendJoinedLocked(rm, o, s.JID(), created, x)
	return nil
}

// sendOccupantsLocked sends a session entering as o the presence of
// every other occupant (§7.2.3, first in the order of events).
func (m *Module) sendOccupantsLocked(rm *room, o *occupant, to jid.JID) {
	for _, v := range rm.sortedOccupants() {
		if v != o {
			m.send(to, m.presenceFor(rm, v, o, false, nil))
		}
	}
}

// sendJoinedLocked ends a join (§7.2.3): the self-presence with its
// status codes, the discussion history asked for in x, the subject.
func (m *Module) sendJoinedLocked(rm *room, o *occupant, to jid.JID, created bool, x *xml.Element) {
	codes := []string{}
	if rm.cfg.WhoisAnyone {
		codes = append(codes, statusNonAnonymous)
	}
	if rm.cfg.Archiving {
		codes = append(codes, statusLogging)
	}
	if created {
		codes = append(codes, statusCreated)
	}
	codes = append(codes, statusSelf)
	m.send(to, m.presenceFor(rm, o, o, true, codes))
	m.sendHistory(rm, to, x.Child(NS, "history"))
	m.send(to, m.subjectMessage(rm))
}

// rejoinLocked answers a join presence from a session already in the room
// as o with the whole join of §7.2.3; the other occupants, and o's other
// sessions, see only its updated presence.
func (m *Module) rejoinLocked(rm *room, o *occupant, full jid.JID, x *xml.Element) {
	for _, v := range rm.sortedOccupants() {
		for _, sj := range v.order {
			if sj == full {
				continue
			}
			var codes []string
			if v == o {
				codes = []string{statusSelf}
			}
			m.send(sj, m.presenceFor(rm, o, v, v == o, codes))
		}
	}
	m.sendOccupantsLocked(rm, o, full)
	m.sendJoinedLocked(rm, o, full, false, x)
}

// mayEnter checks a user's entering in the order of §7.2.
func (m *Module) mayEnter(rm *room, aff string, bare jid.JID, nick string, x *xml.Element) error {
	o := rm.occupants[nick]
	switch {
	case rm.locked && aff != affOwner:
		return stanza.E(stanza.ItemNotFound, "the room is being created") // §10.1.1
	case aff == affOutcast:
		return stanza.E(stanza.Forbidden, "you are banned from this room") // §7.2.8
	case rm.cfg.MembersOnly && affRank[aff] < affRank[affMember]:
		return stanza.E(stanza.RegistrationRequired, "this room is members-only") // §7.2.7
	case rm.cfg.Password != "" && x.ChildText(NS, "password") != rm.cfg.Password:
		return stanza.E(stanza.NotAuthorized, "a password is required") // §7.2.6
	case o != nil && o.bare != bare:
		return stanza.E(stanza.ConflictCond, "that nickname is in use") // §7.2.9
	case rm.nickReservedFor(nick, bare):
		return stanza.E(stanza.ConflictCond, "that nickname is reserved") // §7.2.8, §7.12
	case o == nil && len(rm.occupants) >= rm.cfg.MaxUsers && affRank[aff] < affRank[affAdmin]:
		return &stanza.Error{Type: stanza.Wait, Condition: stanza.ServiceUnavailable, Text: "the room is full"} // §7.2.10
	}
	return nil
}

// changeNickLocked renames an occupant (§7.6): every occupant sees the old
// nick leave with status 303 and the new one arrive. All the account's
// sessions in the room change nick together.
func (m *Module) changeNickLocked(rm *room, o *occupant, s *router.Session, nick string, st *xml.Element) error {
	if other := rm.occupants[nick]; other != nil {
		return stanza.E(stanza.ConflictCond, "that nickname is in use") // §7.6.2
	}
	if rm.nickReservedFor(nick, o.bare) {
		return stanza.E(stanza.ConflictCond, "that nickname is reserved") // §7.6
	}
	o.sessions[s.JID()] = presencePayload(st)
	for _, v := range rm.sortedOccupants() {
		for _, sj := range v.order {
			codes := []string{statusNickChanged}
			if v == o {
				codes = append(codes, statusSelf)
			}
			p := m.presenceFor(rm, o, v, v == o, codes)
			markUnavailable(p)
			p.Child(NSUser, "x").Child(NSUser, "item").SetAttr("nick", nick)
			m.send(sj, p)
		}
	}
	delete(rm.occupants, o.nick)
	o.nick = nick
	rm.occupants[nick] = o
	m.broadcastPresence(rm, o, nil)
	return nil
}

// broadcastPresence sends o's current presence to every occupant; o's
// own sessions get status 110 too.
func (m *Module) broadcastPresence(rm *room, o *occupant, codes []string) {
	for _, v := range rm.sortedOccupants() {
		c := codes
		if v == o {
			c = append(append([]string(nil), codes...), statusSelf)
		}
		for _, sj := range v.order {
			m.send(sj, m.presenceFor(rm, o, v, v == o, c))
		}
	}
}

// leaveLocked takes one session of o out of the room (§7.14): it gets
// unavailable self-presence; when o has no session left, every other
// occupant sees o leave. An empty room that is not persistent is removed.
// s may be an ended session; payload is the leaving presence's children
// (status text), nil if none.
func (m *Module) leaveLocked(rm *room, o *occupant, s *router.Session, payload *xml.Element) {
	m.leaveCodesLocked(rm, o, s, payload, nil)
}

// leaveCodesLocked is leaveLocked with status codes for everyone (333 for
// a session removed after an error, ghost.go); the session's own
// presence carries 110 too.
func (m *Module) leaveCodesLocked(rm *room, o *occupant, s *router.Session, payload *xml.Element, codes []string) {
	full := s.JID()
	last := o.sessions[full]
	delete(o.sessions, full)
	for i, sj := range o.order {
		if sj == full {
			o.order = append(o.order[:i:i], o.order[i+1:]...)
			break
		}
	}
	m.dropSessionLocked(rm, full)
	joinedOf(s).set(rm.jid, false)
	role := o.role
	o.role = roleNone // unavailable presence shows role none (§7.14)
	self := m.presenceFor(rm, o, o, true, append(append([]string(nil), codes...), statusSelf))
	markUnavailable(self)
	self.Child(NSUser, "x").Child(NSUser, "item").SetAttr("jid", full.String())
	if rm.locked && len(rm.occupants) == 1 && len(o.order) == 0 {
		// §10.1.3: the owner of a room never configured leaves it, and
		// the room is destroyed (emptiedLocked, below).
		self.Child(NSUser, "x").Append(xml.New(NSUser, "destroy"))
	}
	withStatusText(self, payload)
	m.send(full, self)
	if len(o.order) > 0 {
		o.role = role
		return
	}
	delete(rm.occupants, o.nick)
	// The others see the session that left, as they saw it last.
	o.order, o.sessions[full] = []jid.JID{full}, last
	for _, v := range rm.sortedOccupants() {
		for _, sj := range v.order {
			p := m.presenceFor(rm, o, v, false, codes)
			markUnavailable(p)
			withStatusText(p, payload)
			m.send(sj, p)
		}
	}
	o.order, o.sessions = nil, map[jid.JID]*xml.Element{}
	m.emptiedLocked(rm)
}

// emptiedLocked removes a room nobody is in unless it is persistent and
// configured (§10.1.3: a room left locked by its creator goes too).
func (m *Module) emptiedLocked(rm *room) {
	if len(rm.occupants) == 0 && (!rm.cfg.Persistent || rm.locked) {
		m.removeLocked(rm)
	}
}

// removeOccupantLocked takes every session of o out, each with
// unavailable self-presence carrying codes and 110, the others seeing the
// same without 110 (kick 307, ban 301, §8.2, §9.1). item is added to the
// muc#user element (actor, reason), nil for none.
func (m *Module) removeOccupantLocked(rm *room, o *occupant, codes []string, extra ...*xml.Element) {
	o.role = roleNone
	for _, full := range o.order {
		p := m.presenceFor(rm, o, o, true, append(append([]string(nil), codes...), statusSelf))
		markUnavailable(p)
		addToItem(p, extra)
		p.Child(NSUser, "x").Child(NSUser, "item").SetAttr("jid", full.String()) // each session its own
		m.send(full, p)
		m.dropSessionLocked(rm, full)
	}
	delete(rm.occupants, o.nick)
	for _, v := range rm.sortedOccupants() {
		for _, sj := range v.order {
			p := m.presenceFor(rm, o, v, false, codes)
			markUnavailable(p)
			addToItem(p, extra)
			m.send(sj, p)
		}
	}
	o.order, o.sessions = nil, map[jid.JID]*xml.Element{}
}

func addToItem(p *xml.Element, extra []*xml.Element) {
	item := p.Child(NSUser, "x").Child(NSUser, "item")
	for _, e := range extra {
		if e != nil {
			item.Append(e.Clone())
		}
	}
}

// presencePayload keeps what an occupant's presence shows others: its
// children but the MUC elements and any forged occupant id (XEP-0421: the
// room's id is the only one).
func presencePayload(st *xml.Element) *xml.Element {
	p := xml.New(nsClient, "presence")
	for _, c := range st.Elements() {
		switch c.Space {
		case NS, NSUser, nsOccupantID:
			continue
		}
		p.Append(c.Clone())
	}
	return p
}

// withStatusText copies a leaving presence's <status/> text.
func withStatusText(p, payload *xml.Element) {
	if payload == nil {
		return
	}
	for _, c := range payload.ChildrenNamed(nsClient, "status") {
		p.Append(c.Clone())
	}
}

// presenceFor builds o's presence (its latest session's) as viewer sees
// it: from room@service/nick, with affiliation and role, the real JID if
// the room is non-anonymous or the viewer a moderator (§7.2.3, §7.2.4),
// the status codes given, and o's occupant id (XEP-0421).
func (m *Module) presenceFor(rm *room, o, viewer *occupant, self bool, codes []string) *xml.Element {
	var payload *xml.Element
	var full jid.JID
	if n := len(o.order); n > 0 {
		full = o.order[n-1]
		payload = o.sessions[full]
	}
	p := xml.New(nsClient, "presence", "from", rm.occupantJID(o.nick).String())
	if payload != nil {
		for _, c := range payload.Elements() {
			p.Append(c.Clone())
		}
	}
	item := xml.New(NSUser, "item", "affiliation", rm.affiliation(o.bare), "role", o.role)
	if self || rm.seesRealJID(viewer) {
		if full.IsZero() {
			item.SetAttr("jid", o.bare.String())
		} else {
			item.SetAttr("jid", full.String())
		}
	}
	x := xml.New(NSUser, "x").Append(item)
	for _, c := range codes {
		x.Append(xml.New(NSUser, "status", "code", c))
	}
	p.Append(x)
	p.Append(xml.New(nsOccupantID, "occupant-id", "id", m.occupantID(rm.jid, o.bare)))
	return p
}

// send addresses st to a session and queues it; st must not be reused.
func (m *Module) send(to jid.JID, st *xml.Element) {
	st.SetAttr("to", to.String())
	m.r.SendTo(to, st)
}

// markUnavailable makes an occupant's presence the unavailable one: what
// it showed (show, status, caps) is dropped; the MUC parts stay.
func markUnavailable(p *xml.Element) {
	p.SetAttr("type", "unavailable")
	p.RemoveChildren(func(c *xml.Element) bool { return c.Space != NSUser && c.Space != nsOccupantID })
}
