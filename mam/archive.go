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
// For a local recipient (ev.Inbound) the recipient's copy is prepared here
// too, exactly as InboundMessage would (the router holds the recipient's
// ordering lock already, and no inbound hook runs before ours), and both
// copies are appended in one call: one commit makes the message durable in
// both archives. InboundMessage then only stamps the delivered copy.
//
// The hook returns after the store has made the items durable; an error
// aborts routing, so a message is never sent without being archived.
func (m *Module) OutboundMessage(ctx context.Context, ev *router.MessageEvent) error {
	var errs [1]error
	m.OutboundMessages(ctx, []*router.MessageEvent{ev}, errs[:])
	return errs[0]
}

// OutboundMessages implements router.BatchOutboundMessageHandler: it does
// OutboundMessage's work for every message of a batch, with one append
// for all of them, so that one commit makes the whole batch durable in
// every archive it touches. Items are appended in the batch's order, which
// is the delivery order.
func (m *Module) OutboundMessages(ctx context.Context, evs []*router.MessageEvent, errs []error) {
	if m.once == nil && len(evs) > 1 {
		// prepare's resend check reads the store before the append: a
		// resend inside the same batch would not be seen. Stores that check
		// inside the append (onceAppender) take the batch whole.
		for i := range evs {
			m.OutboundMessages(ctx, evs[i:i+1], errs[i:i+1])
		}
		return
	}
	entries := make([]entry, 2*len(evs))
	sent, rcvd := entries[:len(evs)], entries[len(evs):]
	all := make([]*entry, 0, 2*len(evs))
	for i, ev := range evs {
		owner := ev.From.Bare()
		stripStanzaIDs(ev.Stanza, owner)
		if errs[i] = m.prepare(ctx, &sent[i], ev.Stanza, owner, ev.To, true, false); errs[i] != nil {
			continue
		}
		if ev.Inbound && !ev.Self {
			// The inbound step strips the recipient's stanza-ids from the
			// stanza before archiving it; here only the archived copy is
			// stripped, so that what the sender's carbons show is unchanged.
			if errs[i] = m.prepare(ctx, &rcvd[i], ev.Stanza, ev.To.Bare(), ev.From, false, true); errs[i] != nil {
				continue
			}
		}
		all = append(all, &sent[i], &rcvd[i])
	}
	if err := m.appendEntries(ctx, all...); err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return
	}
	for i, ev := range evs {
		if errs[i] != nil {
			continue
		}
		if sent[i].ok {
			ev.SenderArchiveID = sent[i].id
			if ev.Self {
				ev.Archived = true
			}
		}
		m.retractChat(ctx, ev.Stanza, ev.From.Bare(), ev.To.Bare(), true)
		if ev.Inbound && !ev.Self {
			m.retractChat(ctx, ev.Stanza, ev.To.Bare(), ev.From, false)
		}
		switch {
		case ev.Inbound && !ev.Self:
			ev.SetValue(inboundKey{}, inboundDone{id: rcvd[i].id})
		case ev.Self && ev.Inbound:
			// Archived once, here: the inbound step only stamps it.
			ev.SetValue(inboundKey{}, inboundDone{id: ev.SenderArchiveID})
		}
	}
}

// inboundKey keys the inboundDone an outbound hook leaves in an event.
type inboundKey struct{}

// inboundDone is the recipient's archiving, done by OutboundMessage: the
// recipient's archive id, "" if the message is not in that archive.
type inboundDone struct{ id string }

// InboundMessage implements router.InboundMessageHandler: a message to a
// local account goes into the recipient's archive before delivery.
//
// Every stanza-id whose 'by' is the recipient's bare JID is removed
// (whoever sent it, it is not ours); if the message is archived, our own
// stanza-id is added to the copy delivered to the recipient's resources
// and ev.Archived is set. A message from a local client was archived for
// the recipient by OutboundMessage already (for a message to oneself, once,
// as the sender's); only the stanza-id is added here.
func (m *Module) InboundMessage(ctx context.Context, ev *router.MessageEvent) error {
	owner := ev.To.Bare()
	stripStanzaIDs(ev.Stanza, owner)
	if done, ok := ev.Value(inboundKey{}).(inboundDone); ok {
		if done.id != "" {
			ev.Stanza.Append(stanzaID(owner, done.id))
			ev.Archived = true
		}
		return nil
	}
	var e entry
	if err := m.prepare(ctx, &e, ev.Stanza, owner, ev.From, false, false); err != nil || !e.ok {
		return err
	}
	if err := m.appendEntries(ctx, &e, nil); err != nil {
		return err
	}
	m.retractChat(ctx, ev.Stanza, owner, ev.From, false)
	ev.Stanza.Append(stanzaID(owner, e.id))
	ev.Archived = true
	return nil
}

// entry is a message on its way into one archive: ok if it goes there,
// with the item to append or, for a resend already archived, only its
// archive id.
type entry struct {
	ok   bool
	item *storage.ArchivedMessage
	id   string
}

// prepare decides whether st goes into owner's archive, applying the rules
// and preferences, and fills e (e.ok stays false if it does not). strip removes
// owner's stanza-ids from the archived copy (st itself is never modified).
// A resend (same origin-id and body from the same peer in the same
// direction as an item already archived, as after a stream-management
// resend or a client retry) is not stored again: e gets the earlier
// item's id and no item; with a store that checks for resends itself
// (onceAppender), that is left to appendEntries.
func (m *Module) prepare(ctx context.Context, e *entry, st *xml.Element, owner, peer jid.JID, outgoing, strip bool) error {
	cp, ok := archivedCopy(st, m.set.dontNS)
	if !ok {
		return nil
	}
	if ok, err := m.shouldArchive(ctx, owner, peer); err != nil || !ok {
		return err
	}
	if strip {
		stripStanzaIDs(cp, owner)
	}
	body := st.ChildText(st.Space, "body")
	oid := originID(st)
	with := peer.Bare().String()
	if oid != "" && m.once == nil {
		prev, found, err := m.store.FindByOriginID(ctx, owner.String(), with, outgoing, oid)
		if err != nil {
			return fmt.Errorf("mam: origin-id lookup: %w", err)
		}
		// The body must match too: a client that reuses origin-ids for
		// different messages must not lose the second one.
		if found && prev.Body == body {
			e.ok, e.id = true, m.ids.encode(prev.ID)
			return nil
		}
	}
	e.ok = true
	e.item = &storage.ArchivedMessage{
		Owner:        owner.String(),
		With:         with,
		WithResource: peer.Resource(),
		Outgoing:     outgoing,
		Stamp:        m.now().Truncate(time.Microsecond),
		OriginID:     oid,
		Body:         body,
		Stanza:       []byte(cp.String()),
	}
	return nil
}

// appendEntries appends the items of the given entries (nil or not ok
// ones are skipped) in one call, so one transaction makes them durable
// together, and sets their ids.
func (m *Module) appendEntries(ctx context.Context, entries ...*entry) error {
	var buf [2]*storage.ArchivedMessage
	items := buf[:0]
	if len(entries) > len(buf) {
		items = make([]*storage.ArchivedMessage, 0, len(entries))
	}
	for _, e := range entries {
		if e != nil && e.ok && e.item != nil {
			items = append(items, e.item)
		}
	}
	if len(items) == 0 {
		return nil
	}
	var dup []bool
	var err error
	if m.once != nil {
		dup, err = m.once.AppendArchiveOnce(ctx, items)
	} else {
		err = m.store.AppendArchive(ctx, items)
	}
	if err != nil {
		return fmt.Errorf("mam: append: %w", err)
	}
	i, stored := 0, 0
	for _, e := range entries {
		if e != nil && e.ok && e.item != nil {
			e.id = m.ids.encode(e.item.ID)
			if dup == nil || !dup[i] {
				m.appended(ctx, e.item.Owner)
				stored++
			}
			i++
		}
	}
	m.counters.archived.Add(uint64(stored))
	return nil
}

// onceAppender is a store that does prepare's resend check itself, in the
// append transaction (storage/sqlite): prepare then skips FindByOriginID,
// a read per archive and message, and racing copies are stored once.
type onceAppender interface {
	// AppendArchiveOnce appends like AppendArchive, except that a message
	// with an OriginID equal in owner, With, Outgoing and Body to the
	// newest item with that origin-id is not stored: it gets the item's
	// ID, and dup[i] is set.
	AppendArchiveOnce(ctx context.Context, msgs []*storage.ArchivedMessage) (dup []bool, err error)
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
