package mam

import (
	"context"
	"fmt"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
)

// OutboundMessage implements router.OutboundMessageHandler: a message a
// local user sends goes into the sender's archive, before it is routed.
//
// Any stanza-id claiming to be from the sender's archive is removed first
// (the sender's other clients would trust it through carbons). The
// message is then archived if archivedCopy and the sender's preferences
// allow, and its archive id is left in ev.SenderArchiveID for the carbons
// module; the id is never added to the stanza itself, which goes to the
// recipient (XEP-0313 "Communicating the archive ID": MUST NOT). A message to oneself (ev.Self) is
// archived here only, once, and ev.Archived is set.
//
// The hook returns after the store has made the item durable; an error
// aborts routing, so a message is never sent without being archived.
func (m *Module) OutboundMessage(ctx context.Context, ev *router.MessageEvent) error {
	owner := ev.From.Bare()
	stripStanzaIDs(ev.Stanza, owner)
	id, ok, err := m.archive(ctx, ev.Stanza, owner, ev.To, true)
	if err != nil || !ok {
		return err
	}
	ev.SenderArchiveID = id
	if ev.Self {
		ev.Archived = true
	}
	return nil
}

// InboundMessage implements router.InboundMessageHandler: a message to a
// local account goes into the recipient's archive before delivery.
//
// Every stanza-id whose 'by' is the recipient's bare JID is removed
// (whoever sent it, it is not ours); if the message is archived, our own
// stanza-id is added to the copy delivered to the recipient's resources
// and ev.Archived is set. A message the sender archived as a message to
// itself only gets that stanza-id here.
func (m *Module) InboundMessage(ctx context.Context, ev *router.MessageEvent) error {
	owner := ev.To.Bare()
	stripStanzaIDs(ev.Stanza, owner)
	if ev.Self && ev.Sender != nil {
		// Archived once, in the outbound step.
		if ev.SenderArchiveID != "" {
			ev.Stanza.Append(stanzaID(owner, ev.SenderArchiveID))
		}
		return nil
	}
	id, ok, err := m.archive(ctx, ev.Stanza, owner, ev.From, false)
	if err != nil || !ok {
		return err
	}
	ev.Stanza.Append(stanzaID(owner, id))
	ev.Archived = true
	return nil
}

// archive stores st in owner's archive unless the rules or preferences
// say otherwise, and returns its archive id. A resent message (same
// origin-id and body from the same peer in the same direction as an item
// already archived, as after a stream-management resend or a client
// retry) is not stored again: the earlier item's id is returned.
func (m *Module) archive(ctx context.Context, st *xml.Element, owner, peer jid.JID, outgoing bool) (string, bool, error) {
	cp, ok := archivedCopy(st, m.set.dontNS)
	if !ok {
		return "", false, nil
	}
	if ok, err := m.shouldArchive(ctx, owner, peer); err != nil || !ok {
		return "", false, err
	}
	body := st.ChildText(st.Space, "body")
	oid := originID(st)
	with := peer.Bare().String()
	if oid != "" {
		prev, found, err := m.store.FindByOriginID(ctx, owner.String(), with, outgoing, oid)
		if err != nil {
			return "", false, fmt.Errorf("mam: origin-id lookup: %w", err)
		}
		// The body must match too: a client that reuses origin-ids for
		// different messages must not lose the second one.
		if found && prev.Body == body {
			return m.ids.encode(prev.ID), true, nil
		}
	}
	item := &storage.ArchivedMessage{
		Owner:        owner.String(),
		With:         with,
		WithResource: peer.Resource(),
		Outgoing:     outgoing,
		Stamp:        m.now().Truncate(time.Microsecond),
		OriginID:     oid,
		Body:         body,
		Stanza:       []byte(cp.String()),
	}
	if err := m.store.AppendArchive(ctx, []*storage.ArchivedMessage{item}); err != nil {
		return "", false, fmt.Errorf("mam: append: %w", err)
	}
	m.appended(ctx, item.Owner)
	return m.ids.encode(item.ID), true, nil
}

// appended enforces archive_max_items after an append to owner's archive:
// the store is asked to trim only when the tracked count exceeds the cap.
// Failures are logged, not returned: the message is archived already.
func (m *Module) appended(ctx context.Context, owner string) {
	limit := m.set.maxItems
	if limit <= 0 {
		return
	}
	m.cmu.Lock()
	n, known := m.counts[owner]
	if known {
		n++
		m.counts[owner] = n
	}
	m.cmu.Unlock()
	if !known {
		stats, err := m.store.ArchiveStats(ctx, owner)
		if err != nil {
			m.log.Warn("mam: archive size unknown", "owner", owner, "err", err)
			return
		}
		n = stats[owner]
		m.setCount(owner, n)
	}
	if n <= limit {
		return
	}
	deleted, err := m.store.TrimArchive(ctx, owner, limit)
	if err != nil {
		m.log.Warn("mam: trimming archive failed", "owner", owner, "err", err)
		return
	}
	if deleted > 0 {
		m.setCount(owner, limit)
	} else {
		// The count was stale (items expired or purged): learn it anew.
		m.cmu.Lock()
		delete(m.counts, owner)
		m.cmu.Unlock()
	}
}

func (m *Module) setCount(owner string, n int) {
	m.cmu.Lock()
	if len(m.counts) >= maxCounted {
		clear(m.counts)
	}
	m.counts[owner] = n
	m.cmu.Unlock()
}

// forgetCounts drops every tracked count (after bulk deletions).
func (m *Module) forgetCounts() {
	m.cmu.Lock()
	clear(m.counts)
	m.cmu.Unlock()
}
