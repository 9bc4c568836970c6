package mam

import (
	"context"
	"fmt"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/storage"
)

// Retraction tombstones (XEP-0424 "Tombstones", XEP-0425 "Tombstones").
// A retracted message stays in its archive under its id, stamp and
// author, so that clients catching up can match it to the retraction
// (which is archived as any message), but its content is gone: the
// stored stanza becomes a tombstone and the stored body empty, so that
// no query, search or discussion history shows it again.

// NSRetract is XEP-0424's namespace; NSRetractTombstone the feature of an
// archive that replaces retracted messages with tombstones.
const (
	NSRetract          = nsRetract
	NSRetractTombstone = nsRetract + "#tombstone"
)

// Tombstone returns a copy of st (an archived or broadcast message) whose
// content is replaced by retracted, a <retracted
// xmlns='urn:xmpp:message-retract:1'/> element. The copy keeps the
// message's attributes and what identifies the message and its author,
// and nothing that could leak its content: stanza-ids, origin-id,
// XEP-0421 occupant-id (XEP-0425: kept for the author) and the muc#user
// <x/> a room archive adds to name the sender, which QueryRoom shows
// only to those who may see real JIDs.
func Tombstone(st, retracted *xml.Element) *xml.Element {
	out := st.Clone()
	out.RemoveChildren(func(c *xml.Element) bool {
		switch {
		case c.Is(NSSID, "stanza-id"), c.Is(NSSID, "origin-id"), c.Is(nsOccupantID, "occupant-id"):
			return false
		case c.Is(nsMUCUser, "x") && c.Child(nsMUCUser, "item") != nil && len(c.Elements()) == 1:
			return false
		}
		return true
	})
	return out.Append(retracted)
}

// IsTombstone reports whether a message is a retraction tombstone.
func IsTombstone(st *xml.Element) bool {
	return st.Child(nsRetract, "retracted") != nil
}

// RoomItem returns the message of a room's archive with archive id id (the
// room's stanza-id of it) as stored: from room@service/nick, with the
// room's muc#user <x/> naming the sender. ok is false when the id is not
// one of this room's items, including items already expired or trimmed.
func (m *Module) RoomItem(ctx context.Context, room jid.JID, id string) (st *xml.Element, ok bool, err error) {
	n, ok := m.ids.decode(id)
	if !ok {
		return nil, false, nil
	}
	page, err := m.store.QueryArchive(ctx, storage.ArchiveQuery{Owner: room.Bare().String(), IDs: []int64{n}, Limit: 1})
	if err != nil {
		return nil, false, fmt.Errorf("mam: reading a room's item: %w", err)
	}
	if len(page.Messages) != 1 {
		return nil, false, nil
	}
	st, err = decodeStanza(page.Messages[0].Stanza)
	if err != nil {
		return nil, false, fmt.Errorf("mam: decoding a room's item: %w", err)
	}
	return st, true, nil
}

// ReplaceRoomItem stores st (a tombstone) in place of the room's item id,
// with no body for searches to find. ok is false when there is no such
// item (any more).
func (m *Module) ReplaceRoomItem(ctx context.Context, room jid.JID, id string, st *xml.Element) (ok bool, err error) {
	n, ok := m.ids.decode(id)
	if !ok {
		return false, nil
	}
	ok, err = m.store.ReplaceArchived(ctx, room.Bare().String(), n, "", []byte(st.String()))
	if err != nil {
		return false, fmt.Errorf("mam: replacing a room's item: %w", err)
	}
	return ok, nil
}

// retractChat applies a user's XEP-0424 retraction of a 1:1 message to
// owner's archive, once the retraction is archived: st is the message
// (anything but groupchat, with <retract id='…'/>), peer the other party
// (bare JIDs both), outgoing whether owner sent it. The retracted item
// must be in the same direction with the same peer, so only the author's
// own message goes (XEP-0424 "Business Rules": original and retraction
// from the same bare JID). It is found by origin-id: XEP-0424 names a
// chat message by its 'id', which the clients that retract (Conversations,
// Gajim, Dino, Converse.js) also send as XEP-0359 origin-id; a message
// without one is left as it is. A MUC private message is the exception
// to "same bare JID": all of a room's occupants write from its bare JID,
// so an incoming one is retracted only from the nick that sent it (peer
// is the full JID then). Store errors are logged: the retraction is
// delivered and archived all the same.
func (m *Module) retractChat(ctx context.Context, st *xml.Element, owner, peer jid.JID, outgoing bool) {
	r := st.Child(nsRetract, "retract")
	if r == nil || r.Attr("id") == "" || st.Attr("type") == "groupchat" {
		return
	}
	prev, found, err := m.store.FindByOriginID(ctx, owner.String(), peer.Bare().String(), outgoing, r.Attr("id"))
	if err != nil || !found {
		if err != nil {
			m.log.Error("mam: looking up a retracted message failed", "err", err)
		}
		return
	}
	orig, err := decodeStanza(prev.Stanza)
	if err != nil || IsTombstone(orig) || orig.Child(nsRetract, "retract") != nil {
		return
	}
	if !outgoing && orig.Child(nsMUCUser, "x") != nil && prev.WithResource != peer.Resource() {
		return // another occupant of the room the private message came through
	}
	retracted := xml.New(nsRetract, "retracted", "stamp", FormatDateTime(m.now().UTC()))
	if id := st.Attr("id"); id != "" {
		retracted.SetAttr("id", id)
	}
	if _, err := m.store.ReplaceArchived(ctx, owner.String(), prev.ID, "", []byte(Tombstone(orig, retracted).String())); err != nil {
		m.log.Error("mam: storing a retraction tombstone failed", "err", err)
	}
}
