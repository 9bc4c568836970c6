package muc

import (
	"context"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/mam"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// Retractions: a moderator's (XEP-0425 0.3.0, urn:xmpp:message-moderate:1)
// and an author's own (XEP-0424 0.4, urn:xmpp:message-retract:1). Both
// name the message by the room's stanza-id, which is its id in the room's
// archive, so only archived messages can be retracted. The archived
// message becomes a tombstone (mam.Tombstone) and so does its copy in the
// discussion history newcomers get; the retraction itself is archived and
// broadcast like any message.

// nsModerate is XEP-0425's namespace (its version 0.3.0). The older
// urn:xmpp:message-moderate:0 wrapped the request in XEP-0422 fastening,
// which the XEP has dropped; current clients speak :1 (doc.go).
const nsModerate = "urn:xmpp:message-moderate:1"

// moderateLocked serves a moderator's <moderate/> request (XEP-0425 §3):
// forbidden unless the requester is a moderator of the room,
// item-not-found unless the stanza-id names an item of the room's archive.
// A message already retracted is answered with a result and nothing more.
func (m *Module) moderateLocked(ctx context.Context, rm *room, o *occupant, iq *router.IQ) (*xml.Element, error) {
	p := iq.Payload
	if iq.Type() != stanza.TypeSet {
		return nil, stanza.E(stanza.BadRequest, "")
	}
	if o == nil || o.role != roleModerator {
		return nil, stanza.E(stanza.Forbidden, "only moderators may retract other occupants' messages")
	}
	id := p.Attr("id")
	if id == "" || p.Child(mam.NSRetract, "retract") == nil {
		return nil, stanza.E(stanza.BadRequest, "a moderation request names a message and retracts it")
	}
	if m.archive == nil {
		return nil, stanza.E(stanza.ItemNotFound, "")
	}
	orig, ok, err := m.archive.RoomItem(ctx, rm.jid, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, stanza.E(stanza.ItemNotFound, "no such message in this room's archive")
	}
	if mam.IsTombstone(orig) {
		return stanza.Result(iq.Stanza), nil
	}
	// What says who retracted and why goes both into the broadcast
	// retraction and the tombstone (XEP-0425 §3.1, §4). 'by' is the
	// moderator's occupant JID, as in the XEP's example: a real JID
	// would tell who moderates in a semi-anonymous room.
	moderated := xml.New(nsModerate, "moderated", "by", rm.occupantJID(o.nick).String()).
		Append(xml.New(nsOccupantID, "occupant-id", "id", m.occupantID(rm.jid, o.bare)))
	var reason *xml.Element
	if r := p.Child(nsModerate, "reason"); r != nil && r.Text() != "" {
		reason = xml.New(mam.NSRetract, "reason").AppendText(r.Text())
	}
	retraction := xml.New(nsClient, "message", "type", "groupchat", "id", newForwardID(), "from", rm.jid.String())
	retract := xml.New(mam.NSRetract, "retract", "id", id).Append(moderated)
	if reason != nil {
		retract.Append(reason)
	}
	retraction.Append(retract)
	if rm.cfg.Archiving {
		// XEP-0424 "Business Rules": the retraction is archived, so
		// that clients catching up learn of it.
		sid, err := m.archive.AppendRoomMessage(ctx, rm.jid, "", jid.JID{}, retraction)
		if err != nil {
			return nil, err
		}
		if sid != "" {
			retraction.Append(xml.New(nsSID, "stanza-id", "by", rm.jid.String(), "id", sid))
		}
	}
	retracted := xml.New(mam.NSRetract, "retracted", "id", retraction.Attr("id"), "stamp", mam.FormatDateTime(time.Now().UTC())).
		Append(moderated.Clone())
	if reason != nil {
		retracted.Append(reason.Clone())
	}
	ok, err = m.archive.ReplaceRoomItem(ctx, rm.jid, id, mam.Tombstone(orig, retracted))
	if err != nil {
		return nil, err
	}
	if !ok { // expired or trimmed meanwhile
		return nil, stanza.E(stanza.ItemNotFound, "no such message in this room's archive")
	}
	rm.retractHistory(id, retracted)
	m.broadcastLocked(rm, retraction)
	m.moderations.Inc()
	return stanza.Result(iq.Stanza), nil
}

// retractOwnLocked makes the archived message id a tombstone when an
// occupant retracts it (XEP-0424), once the retraction (out, as
// broadcast, with its stanza-id sid) is archived. Only the author's own
// messages: the archived copy's occupant id, which the room stamps from
// the sender's bare JID, must be the retracting occupant's. A retraction
// of somebody else's message is broadcast anyway (clients check the
// author too, XEP-0424 "Business Rules") but changes nothing here.
func (m *Module) retractOwnLocked(ctx context.Context, rm *room, o *occupant, out *xml.Element, id, sid string) {
	orig, ok, err := m.archive.RoomItem(ctx, rm.jid, id)
	if err != nil {
		m.log.Error("muc: reading a retracted message failed", "room", rm.jid.String(), "err", err)
		return
	}
	if !ok || mam.IsTombstone(orig) || orig.Child(nsOccupantID, "occupant-id").Attr("id") != m.occupantID(rm.jid, o.bare) {
		return
	}
	// The tombstone's id is the retraction's message id (XEP-0424
	// "Tombstones"); a client that sent none gets the room's stanza-id.
	rid := out.Attr("id")
	if rid == "" {
		rid = sid
	}
	retracted := xml.New(mam.NSRetract, "retracted", "id", rid, "stamp", mam.FormatDateTime(time.Now().UTC()))
	if _, err := m.archive.ReplaceRoomItem(ctx, rm.jid, id, mam.Tombstone(orig, retracted)); err != nil {
		m.log.Error("muc: storing a retraction tombstone failed", "room", rm.jid.String(), "err", err)
		return
	}
	rm.retractHistory(id, retracted)
	m.retractions.Inc()
}

// retractHistory replaces the discussion history's copy of the message
// with room stanza-id id, if it holds one, by its tombstone.
func (r *room) retractHistory(id string, retracted *xml.Element) {
	for i, it := range r.history {
		for _, sid := range it.msg.ChildrenNamed(nsSID, "stanza-id") {
			if sid.Attr("by") == r.jid.String() && sid.Attr("id") == id {
				tomb := mam.Tombstone(it.msg, retracted.Clone())
				size := len(tomb.String())
				r.historyB += size - it.size
				r.history[i].msg, r.history[i].size = tomb, size
				return
			}
		}
	}
}

// broadcastLocked sends a message to every session of every occupant.
func (m *Module) broadcastLocked(rm *room, msg *xml.Element) {
	for _, v := range rm.sortedOccupants() {
		for _, sj := range v.order {
			m.send(sj, msg.Clone())
		}
	}
}
