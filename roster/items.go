package roster

import (
	"context"
	"errors"
	"hash/fnv"
	"slices"
	"strconv"
	"sync"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// Item returns owner's item for contact (a bare JID string), Hidden ones
// included, and whether there is one.
func (m *Module) Item(ctx context.Context, owner, contact string) (storage.RosterItem, bool, error) {
	it, err := m.store.RosterItem(ctx, owner, contact)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.RosterItem{}, false, nil
	}
	if err != nil {
		return storage.RosterItem{}, false, err
	}
	return normalized(it), true, nil
}

// Items returns all of owner's items, Hidden ones included.
func (m *Module) Items(ctx context.Context, owner string) ([]storage.RosterItem, error) {
	items, _, err := m.store.Roster(ctx, owner)
	if err != nil {
		return nil, err
	}
	for i := range items {
		items[i] = normalized(items[i])
	}
	return items, nil
}

// Update changes owner's item for contact: fn gets the current item (or,
// when there is none, a Hidden one with subscription none, so that mere
// bookkeeping stays invisible unless fn shows it) and edits it in place.
// Update then persists the result, deletes a Hidden item left with no
// state at all, and pushes the item to owner's interested resources if
// what they can see changed. Updates of one roster are serialised; fn runs
// under that lock and must only edit the item.
//
// An item that ends with a subscription, a pending outbound request or a
// pre-approval is made visible (RFC 6121 §3.1.2, §3.1.5, §3.4).
//
// It returns the item before and after; they are equal when nothing
// changed (and nothing was written).
func (m *Module) Update(ctx context.Context, owner, contact string, fn func(it *storage.RosterItem)) (before, after storage.RosterItem, err error) {
	return m.UpdateThen(ctx, owner, contact, fn, nil)
}

// UpdateThen is Update with first, which (if not nil) is called with the
// item before and after once the change is stored, or found to be none, and
// before any roster push: RFC 6121 §3.1.6, §3.2.3 and §3.3.3 have the
// server deliver an inbound subscription stanza to the user ahead of the
// roster push it causes. first runs under the roster's lock; it may only
// queue stanzas (Session.Send, Router.SendTo), never touch a roster.
func (m *Module) UpdateThen(ctx context.Context, owner, contact string, fn func(it *storage.RosterItem), first func(before, after storage.RosterItem)) (before, after storage.RosterItem, err error) {
	mu := m.lock(owner)
	mu.Lock()
	defer mu.Unlock()

	cur, exists, err := m.Item(ctx, owner, contact)
	if err != nil {
		return cur, cur, err
	}
	if !exists {
		cur = storage.RosterItem{JID: contact, Subscription: storage.SubNone, Hidden: true}
	}
	next := clone(cur)
	fn(&next)
	next.JID = contact
	next = normalized(next)
	if first == nil {
		first = func(before, after storage.RosterItem) {}
	}
	if equal(cur, next) {
		first(cur, next)
		return cur, next, nil
	}
	// The version changes exactly when a push announces the change
	// (RFC 6121 §2.6): bookkeeping the user cannot see leaves it.
	shown := visibleChange(cur, next)
	var ver string
	switch {
	case next.Hidden && empty(next):
		if !exists {
			first(cur, next)
			return cur, next, nil
		}
		ver, err = m.store.DeleteRosterItem(ctx, owner, contact, shown != nil)
	default:
		ver, err = m.store.PutRosterItem(ctx, owner, next, shown != nil)
	}
	if err != nil {
		return cur, cur, err
	}
	first(cur, next)
	if shown != nil {
		m.push(owner, shown, ver)
	}
	return cur, next, nil
}

// remove deletes a visible item and pushes its removal.
func (m *Module) remove(ctx context.Context, owner, contact string) error {
	mu := m.lock(owner)
	mu.Lock()
	defer mu.Unlock()
	ver, err := m.store.DeleteRosterItem(ctx, owner, contact, true)
	if errors.Is(err, storage.ErrNotFound) {
		return stanza.E(stanza.ItemNotFound, "")
	}
	if err != nil {
		return err
	}
	gone := xml.New(NS, "item", "jid", contact, "subscription", "remove")
	m.push(owner, gone, ver)
	return nil
}

// visibleChange returns the item to push when the change from before to
// after shows in the roster the user sees, nil when it is bookkeeping
// only (Hidden items, pending inbound requests).
func visibleChange(before, after storage.RosterItem) *xml.Element {
	switch {
	case before.Hidden && after.Hidden:
		return nil
	case after.Hidden:
		return xml.New(NS, "item", "jid", after.JID, "subscription", "remove")
	case before.Hidden:
		return Render(after)
	default:
		b, a := Render(before), Render(after)
		if b.String() != a.String() {
			return a
		}
		return nil
	}
}

// push sends a roster push (RFC 6121 §2.1.6) to every interested resource
// of owner. Pushes carry no 'from': clients accept pushes without one or
// from their own bare JID.
func (m *Module) push(owner string, item *xml.Element, ver string) {
	for _, s := range m.r.Sessions(owner) {
		if !s.Interested() {
			continue
		}
		iq := xml.New(stanza.NSClient, "iq",
			"type", "set",
			"id", "push"+strconv.FormatUint(m.pushSeq.Add(1), 10),
			"to", s.JID().String())
		iq.Append(xml.New(NS, "query", "ver", version(ver)).Append(item.Clone()))
		// A full queue is the transport's problem (it cuts the client
		// off); the roster itself is already stored.
		_ = s.Send(iq)
	}
}

// Render returns the <item/> a client sees for it (RFC 6121 §2.1.2):
// pending inbound requests and the Hidden flag are server bookkeeping and
// never shown.
func Render(it storage.RosterItem) *xml.Element {
	e := xml.New(NS, "item", "jid", it.JID)
	e.SetAttr("name", it.Name)
	sub := it.Subscription
	if sub == "" {
		sub = storage.SubNone
	}
	e.SetAttr("subscription", sub)
	if it.AskOut {
		e.SetAttr("ask", "subscribe")
	}
	if it.PreApproved {
		e.SetAttr("approved", "true")
	}
	for _, g := range it.Groups {
		e.Append(xml.New(NS, "group").AppendText(g))
	}
	return e
}

// lockStripes bounds the lock table; two rosters sharing a stripe only
// wait for each other, as no code holds two roster locks at once.
const lockStripes = 64

func (m *Module) lock(owner string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(owner))
	return &m.locks[h.Sum32()%lockStripes]
}

// version maps a backend's version of a never-changed roster to "0", so
// that the 'ver' clients see is never empty (an empty 'ver' in a request
// means "I have no cached roster", XEP-0237 §2.3).
func version(v string) string {
	if v == "" {
		return "0"
	}
	return v
}

func normalized(it storage.RosterItem) storage.RosterItem {
	if it.Subscription == "" {
		it.Subscription = storage.SubNone
	}
	if it.Hidden && (it.Subscription != storage.SubNone || it.AskOut || it.PreApproved) {
		it.Hidden = false
	}
	return it
}

// empty reports an item with no subscription state at all.
func empty(it storage.RosterItem) bool {
	return it.Subscription == storage.SubNone && !it.AskOut && !it.PendingIn && !it.PreApproved
}

func clone(it storage.RosterItem) storage.RosterItem {
	it.Groups = slices.Clone(it.Groups)
	return it
}

func equal(a, b storage.RosterItem) bool {
	return a.JID == b.JID && a.Name == b.Name && a.Subscription == b.Subscription &&
		a.AskOut == b.AskOut && a.PendingIn == b.PendingIn && a.PreApproved == b.PreApproved &&
		a.Hidden == b.Hidden && slices.Equal(a.Groups, b.Groups)
}

// HasRoomFor reports whether owner's roster may take an item for contact
// that a remote server asks for (an inbound subscription request): an
// existing item always, a new one only while the roster, Hidden items
// included, holds fewer than max_items. A remote domain names its
// senders freely, so without this one domain could grow a roster
// without bound.
func (m *Module) HasRoomFor(ctx context.Context, owner, contact string) (bool, error) {
	if _, ok, err := m.Item(ctx, owner, contact); err != nil || ok {
		return ok, err
	}
	items, err := m.Items(ctx, owner)
	if err != nil {
		return false, err
	}
	return len(items) < m.cfg.MaxItems, nil
}
