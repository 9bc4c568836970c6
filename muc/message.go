package muc

import (
	"context"
	"strconv"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/mam"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// handleMessage serves messages to the service, a room or an occupant.
func (m *Module) handleMessage(ctx context.Context, s *router.Session, st *xml.Element, to jid.JID) error {
	typ := st.Attr("type")
	if typ == "error" {
		// Nothing here asked for an answer; but a delivery error from
		// an occupant's session makes it a ghost (ghost.go).
		m.bouncedMessage(s, st, to)
		return nil
	}
	if to.Local() == "" {
		return stanza.E(stanza.ServiceUnavailable, "")
	}
	rm := m.lockRoom(to.Bare())
	if rm == nil {
		return stanza.E(stanza.ItemNotFound, "no such room")
	}
	var invites []*xml.Element // invitations and declines, routed after
	// a groupchat message and the dormant sessions it was queued to,
	// told to the router's observers after (push.go)
	var broadcast *xml.Element
	var dormant []router.GroupchatRecipient
	err := func() error {
		defer rm.mu.Unlock()
		o := rm.bySession[s.JID()]
		switch {
		case to.IsFull():
			return m.privateMessageLocked(rm, o, st, to.Resource())
		case typ == "groupchat":
			var err error
			broadcast, dormant, err = m.groupchatLocked(ctx, rm, o, s.JID(), st)
			return err
		case st.Child(NSUser, "x").Child(NSUser, "invite") != nil:
			var err error
			invites, err = m.invitationsLocked(rm, o, s.JID(), st)
			return err
		case st.Child(NSUser, "x").Child(NSUser, "decline") != nil:
			// §7.8.2: an invitee declines through the room, which passes
			// the decline on to the inviter from the room's JID. The
			// invitee need not be an occupant, but must have been
			// invited by the room (invite.go).
			var err error
			invites, err = m.declineLocked(rm, s.JID(), st)
			return err
		case o == nil:
			return stanza.E(stanza.NotAcceptable, "only occupants may send messages to the room") // §7.4
		case fieldValue(st.Child(nsData, "x"), "FORM_TYPE") == formRequest:
			return m.voiceRequestLocked(rm, o, s.JID(), st.Child(nsData, "x"))
		}
		return stanza.E(stanza.BadRequest, "messages to the room are of type groupchat")
	}()
	if err != nil {
		return err
	}
	m.r.GroupchatQueued(ctx, broadcast, dormant)
	// Invitations go through the router's delivery (offline storage, the
	// invitee's archive) with the room lock released (doc.go).
	for _, inv := range invites {
		invitee, _ := jid.Parse(inv.Attr("to"))
		if err := m.r.RouteMessage(ctx, &router.MessageEvent{Stanza: inv, From: rm.jid, To: invitee}); err != nil {
			return err
		}
	}
	return nil
}

// groupchatLocked broadcasts an occupant's message to every occupant
// (§7.4), archived once in the room's archive and stamped with its id.
// It returns the message as broadcast and the local dormant sessions it
// went to, for the router's GroupchatObservers (push.go); a subject
// change is none of theirs.
func (m *Module) groupchatLocked(ctx context.Context, rm *room, o *occupant, sender jid.JID, st *xml.Element) (*xml.Element, []router.GroupchatRecipient, error) {
	if o == nil {
		return nil, nil, stanza.E(stanza.NotAcceptable, "only occupants may send messages to the room") // §7.4
	}
	if o.role != roleModerator && o.role != roleParticipant {
		return nil, nil, stanza.E(stanza.Forbidden, "you have no voice in this room") // §7.4
	}
	subject := st.Child(nsClient, "subject")
	// §8.1: a subject without a body or a thread; with either it is a
	// message that happens to carry one.
	isSubject := subject != nil && st.Child(nsClient, "body") == nil && st.Child(nsClient, "thread") == nil
	if isSubject && o.role != roleModerator && !rm.cfg.ChangeSubject {
		return nil, nil, stanza.E(stanza.Forbidden, "only moderators may change the subject") // §8.1
	}
	out := st.Clone()
	out.SetAttr("to", "")
	out.SetAttr("from", rm.occupantJID(o.nick).String())
	// Only the room stamps its stanza-ids and occupant ids (XEP-0359 §4,
	// XEP-0421 §4).
	room := rm.jid.String()
	out.RemoveChildren(func(c *xml.Element) bool {
		return c.Space == nsOccupantID || (c.Is(nsSID, "stanza-id") && c.Attr("by") == room)
	})
	out.Append(xml.New(nsOccupantID, "occupant-id", "id", m.occupantID(rm.jid, o.bare)))
	// Only the room says a retraction is a moderator's (XEP-0425): an
	// occupant's <moderated/> would pass their retraction off as one.
	if r := out.Child(mam.NSRetract, "retract"); r != nil {
		r.RemoveChildren(func(c *xml.Element) bool { return c.Space == nsModerate })
	}
	if rm.cfg.Archiving && m.archive != nil {
		id, err := m.archive.AppendRoomMessage(ctx, rm.jid, o.nick, sender, out)
		if err != nil {
			return nil, nil, err
		}
		if id != "" {
			out.Append(xml.New(nsSID, "stanza-id", "by", room, "id", id))
			if r := st.Child(mam.NSRetract, "retract"); r != nil && r.Attr("id") != "" {
				m.retractOwnLocked(ctx, rm, o, out, r.Attr("id"), id)
			}
		}
	}
	if isSubject {
		rm.subject, rm.subjectBy, rm.subjectID = subject.Text(), o.nick, m.occupantID(rm.jid, o.bare)
		m.persistLocked(rm)
	} else if st.Child(nsClient, "body") != nil {
		rm.addHistory(historyItem{msg: out, stamp: time.Now().UTC(), size: len(out.String())}, m.cfg.HistoryMessages)
	}
	dormant := m.broadcastMessageLocked(rm, out, o, !isSubject)
	m.messages.Inc()
	if len(dormant) == 0 {
		return nil, nil, nil
	}
	return out.Clone(), dormant, nil
}

// privateMessageLocked passes a private message between occupants (§7.5).
func (m *Module) privateMessageLocked(rm *room, o *occupant, st *xml.Element, nick string) error {
	if o == nil {
		return stanza.E(stanza.NotAcceptable, "only occupants may send private messages") // §7.5
	}
	if st.Attr("type") == "groupchat" {
		return stanza.E(stanza.BadRequest, "private messages are not of type groupchat") // §7.5
	}
	target := rm.occupants[nick]
	if target == nil {
		return stanza.E(stanza.ItemNotFound, "no such occupant") // §7.5
	}
	out := st.Clone()
	out.SetAttr("from", rm.occupantJID(o.nick).String())
	// A recipient trusts a stanza-id by the room and the occupant id as
	// the room's (XEP-0359 §3: an entity deletes the stanza-ids in its
	// own name it did not add; XEP-0421 §4).
	room := rm.jid.String()
	out.RemoveChildren(func(c *xml.Element) bool {
		return c.Space == nsOccupantID || (c.Is(nsSID, "stanza-id") && c.Attr("by") == room)
	})
	if out.Child(NSUser, "x") == nil {
		out.Append(xml.New(NSUser, "x")) // marks it a MUC private message (§7.5)
	}
	out.Append(xml.New(nsOccupantID, "occupant-id", "id", m.occupantID(rm.jid, o.bare)))
	for _, sj := range target.order {
		m.send(sj, out.Clone())
	}
	return nil
}

// sendHistory sends the discussion history a newcomer asked for
// (§7.2.15), each message with a delay from the room (XEP-0203).
func (m *Module) sendHistory(rm *room, to jid.JID, req *xml.Element) {
	items := rm.history
	n := min(m.cfg.DefaultHistoryMessages, len(items))
	if v, err := strconv.Atoi(req.Attr("maxstanzas")); err == nil && v >= 0 {
		n = min(v, len(items))
	}
	items = items[len(items)-n:]
	if v, err := strconv.Atoi(req.Attr("seconds")); err == nil && v >= 0 {
		items = after(items, time.Now().Add(-time.Duration(v)*time.Second), true)
	}
	if since, err := mam.ParseDateTime(req.Attr("since")); req.Attr("since") != "" && err == nil {
		items = after(items, since, false)
	}
	if v, err := strconv.Atoi(req.Attr("maxchars")); err == nil && v >= 0 {
		total, k := 0, len(items)
		for k > 0 && total+items[k-1].size <= v {
			total += items[k-1].size
			k--
		}
		items = items[k:]
	}
	for _, it := range items {
		msg := it.msg.Clone()
		msg.Append(xml.New(nsDelay, "delay", "from", rm.jid.String(), "stamp", mam.FormatDateTime(it.stamp)))
		m.send(to, msg)
	}
}

// after returns the items stamped after t (inclusive: at or after).
func after(items []historyItem, t time.Time, inclusive bool) []historyItem {
	for i, it := range items {
		if it.stamp.After(t) || (inclusive && it.stamp.Equal(t)) {
			return items[i:]
		}
	}
	return nil
}

// subjectMessage is the room's subject as sent last on entering (§7.2.16,
// even when empty).
func (m *Module) subjectMessage(rm *room) *xml.Element {
	from := rm.jid
	if rm.subjectBy != "" {
		from = rm.occupantJID(rm.subjectBy)
	}
	subj := xml.New(nsClient, "subject")
	if rm.subject != "" {
		subj.AppendText(rm.subject)
	}
	msg := xml.New(nsClient, "message", "from", from.String(), "type", "groupchat").Append(subj)
	if rm.subjectBy != "" && rm.subjectID != "" {
		// XEP-0421 §4: every message from an occupant JID carries its id.
		msg.Append(xml.New(nsOccupantID, "occupant-id", "id", rm.subjectID))
	}
	return msg
}
