package mam

import (
	"context"
	"fmt"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// Room archives (XEP-0313 "MUC archives"). A multi-user chat room is an
// archive of its own, owned by the room's bare JID, in the same store and
// with the same archive ids as users' archives; the muc module, which
// extends this one (ARCHITECTURE.md), decides who may read it and calls
// the two methods below. The room's messages never reach users' archives
// (archivedCopy refuses groupchat).

// AppendRoomMessage stores a groupchat message as the room broadcasts it
// (from room@service/nick) in the room's archive, and returns its archive
// id for the <stanza-id by='room@service'/> the room adds to every copy it
// sends. It returns "" when the message holds nothing worth keeping (only
// a chat state, a no-store hint), under the same rules as a user's
// archive. The room's own stanza-ids and any muc#user <x/> are removed
// from the stored copy, which instead gets the room's own <x
// xmlns='…muc#user'><item jid='sender'/></x> naming the sender's bare JID
// (unless sender is zero); QueryRoom shows it only to requesters who may
// see real JIDs.
func (m *Module) AppendRoomMessage(ctx context.Context, room jid.JID, nick string, sender jid.JID, st *xml.Element) (string, error) {
	room = room.Bare()
	// archivedCopy keeps groupchat out of users' archives; here the type is
	// what makes it the room's, so it is classified as a normal message.
	probe := *st
	probe.Attrs = nil
	for _, a := range st.Attrs {
		if a.Space != "" || a.Local != "type" {
			probe.Attrs = append(probe.Attrs, a)
		}
	}
	// Any muc#user <x/> came from the sender, not the room: an occupant
	// could plant a real JID in the history with it. XEP-0313 "MUC
	// message spoofing": the archiving entity MUST strip it before
	// archiving, and it is not worth keeping on its own.
	probe.Nodes = nil
	for _, n := range st.Nodes {
		if c, ok := n.(*xml.Element); ok && c.Is(nsMUCUser, "x") {
			continue
		}
		probe.Nodes = append(probe.Nodes, n)
	}
	cp, ok := archivedCopy(&probe, m.set.dontNS)
	if !ok {
		return "", nil
	}
	cp.SetAttr("type", "groupchat")
	stripStanzaIDs(cp, room)
	if !sender.IsZero() {
		cp.Append(xml.New(nsMUCUser, "x").Append(xml.New(nsMUCUser, "item", "jid", sender.Bare().String())))
	}
	e := entry{ok: true, item: &storage.ArchivedMessage{
		Owner:        room.String(),
		With:         room.String(),
		WithResource: nick,
		Stamp:        m.now().Truncate(time.Microsecond),
		OriginID:     originID(st),
		Body:         st.ChildText(st.Space, "body"),
		Stanza:       []byte(cp.String()),
	}}
	if err := m.appendEntries(ctx, &e); err != nil {
		return "", err
	}
	return e.id, nil
}

// QueryRoom answers an archive request that a client addressed to a room
// (get <query/>: the form, set <query/>: a query, get <metadata/>: the
// archive's first and last items), from the room's archive; result
// messages come from the room's bare JID. The caller has checked that
// the requester may read the room's history, and tells whether it may
// see occupants' real JIDs now (XEP-0313 "MUC Archives": a non-anonymous
// room, or a moderator): if not, the muc#user <x/> naming each sender is
// left out of the results.
func (m *Module) QueryRoom(ctx context.Context, iq *router.IQ, room jid.JID, realJIDs bool) (*xml.Element, error) {
	if iq.Session == nil {
		return nil, stanza.E(stanza.Forbidden, "")
	}
	switch {
	case iq.Type() == stanza.TypeGet && iq.Payload.Local == "query":
		return stanza.Result(iq.Stanza).Append(queryForm(false)), nil
	case iq.Type() == stanza.TypeSet && iq.Payload.Local == "query":
		res, err := m.query(ctx, iq, room.Bare(), room.Bare(), queryOpts{room: true, hideMUCUser: !realJIDs})
		if err != nil {
			m.counters.queryErrors.Inc()
		} else {
			m.counters.queries.Inc()
		}
		return res, err
	case iq.Type() == stanza.TypeGet && iq.Payload.Local == "metadata":
		// Required of every archive advertising urn:xmpp:mam:2#extended,
		// as rooms do (XEP-0313 "Determining support").
		return m.metadata(ctx, iq, room.Bare())
	}
	return nil, stanza.E(stanza.FeatureNotImplemented, fmt.Sprintf("%s on a room archive", iq.Payload.Local))
}

// PurgeRoom deletes a room's whole archive: a room that is destroyed, or
// a temporary one that ends, takes its history with it, so that a new
// room of the same name never shows it.
func (m *Module) PurgeRoom(ctx context.Context, room jid.JID) error {
	if _, err := m.store.PurgeArchive(ctx, room.Bare().String(), "", time.Time{}); err != nil {
		return fmt.Errorf("mam: purging room archive: %w", err)
	}
	m.cmu.Lock()
	delete(m.counts, room.Bare().String())
	m.cmu.Unlock()
	return nil
}

// RoomMessage is a message of a room's archive as the room sent it.
type RoomMessage struct {
	Stanza *xml.Element // from room@service/nick, without 'to', the room's stanza-id or a muc#user <x/>
	Stamp  time.Time
	ID     string // archive id, for the stanza-id
}

// RoomHistory returns the newest messages with a body (or retracted:
// their tombstones) of a room's archive, at most n, oldest first: a persistent room that starts again
// shows them to newcomers as its discussion history (XEP-0045 §7.2.15).
// Items that cannot be read are skipped.
func (m *Module) RoomHistory(ctx context.Context, room jid.JID, n int) ([]RoomMessage, error) {
	if n <= 0 {
		return nil, nil
	}
	// Subject changes are archived too but are no history: ask for a few
	// more than n and keep the messages with a body.
	page, err := m.store.QueryArchive(ctx, storage.ArchiveQuery{Owner: room.Bare().String(), Last: true, Limit: 2 * n})
	if err != nil {
		return nil, fmt.Errorf("mam: room history: %w", err)
	}
	var out []RoomMessage
	for _, it := range page.Messages {
		st, err := decodeStanza(it.Stanza)
		// A retracted message is shown as its tombstone, as the room
		// does until it stops (XEP-0424 "Business Rules").
		if err != nil || (st.Child(st.Space, "body") == nil && !IsTombstone(st)) {
			continue
		}
		// Discussion history shows no real JIDs (XEP-0045 §7.2.15).
		st.RemoveChildren(func(c *xml.Element) bool { return c.Is(nsMUCUser, "x") })
		out = append(out, RoomMessage{Stanza: st, Stamp: it.Stamp, ID: m.ids.encode(it.ID)})
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out, nil
}

// IsQuery reports whether an iq payload is one QueryRoom serves.
func IsQuery(payload *xml.Element) bool {
	return payload.Is(NS, "query") || payload.Is(NS, "metadata")
}
