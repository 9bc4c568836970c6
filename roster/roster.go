package roster

import (
	"context"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// Namespaces.
const (
	NS = "jabber:iq:roster"
	// NSVersioning is the stream feature announcing roster versioning
	// (XEP-0237 §2.2); the c2s transport advertises it.
	NSVersioning = "urn:xmpp:features:rosterver"
)

// RemoveHandler cancels the subscriptions of an item being removed by a
// roster set (RFC 6121 §2.5.2): the presence module implements it.
type RemoveHandler interface {
	// RosterItemRemoving is called with the item as it is, before it is
	// deleted. An error keeps the item and fails the roster set.
	RosterItemRemoving(ctx context.Context, owner jid.JID, item storage.RosterItem) error
}

// Module serves jabber:iq:roster and performs every roster write.
type Module struct {
	cfg     Config
	store   storage.Rosters
	r       *router.Router
	remover RemoveHandler
	pushSeq atomic.Uint64
	locks   [lockStripes]sync.Mutex
}

// New returns the roster module. cfg must be valid.
func New(cfg Config, store storage.Rosters, r *router.Router) *Module {
	return &Module{cfg: cfg, store: store, r: r}
}

// SetRemoveHandler installs the handler run before a roster set removes an
// item. It must be called before serving.
func (m *Module) SetRemoveHandler(h RemoveHandler) { m.remover = h }

// Name implements router.Module.
func (m *Module) Name() string { return "roster" }

// RegisterIQ implements router.IQRegistrar.
func (m *Module) RegisterIQ(r *router.Router) {
	r.HandleIQ(stanza.TypeGet, NS, "query", router.ToAccount, router.IQHandlerFunc(m.get))
	r.HandleIQ(stanza.TypeSet, NS, "query", router.ToAccount, router.IQHandlerFunc(m.set))
}

// get answers a roster get (RFC 6121 §2.2, XEP-0237 §2.3-2.4).
func (m *Module) get(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	if iq.To != iq.From.Bare() {
		return nil, stanza.E(stanza.Forbidden, "")
	}
	if iq.Payload.Child(NS, "item") != nil {
		// RFC 6121 §2.1.3: the <query/> of a roster get MUST NOT
		// contain <item/> elements.
		return nil, stanza.E(stanza.BadRequest, "a roster get carries no items")
	}
	// Interested first: a change made while the roster is being read is
	// then pushed rather than lost.
	if iq.Session != nil {
		iq.Session.SetInterested()
	}
	items, ver, err := m.store.Roster(ctx, iq.To.String())
	if err != nil {
		return nil, err
	}
	ver = version(ver)
	res := xml.New(stanza.NSClient, "iq", "type", stanza.TypeResult)
	q := xml.New(NS, "query")
	if iq.Payload.HasAttr("ver") {
		if cv := iq.Payload.Attr("ver"); cv != "" && cv == ver {
			return res, nil // the client's cache is current
		}
		q.SetAttr("ver", ver)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].JID < items[j].JID })
	for _, it := range items {
		it = normalized(it)
		if it.Hidden {
			continue
		}
		q.Append(Render(it))
	}
	return res.Append(q), nil
}

// set handles a roster set: add, update or remove one item (RFC 6121
// §2.3-2.5).
func (m *Module) set(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	if iq.To != iq.From.Bare() {
		return nil, stanza.E(stanza.Forbidden, "")
	}
	owner := iq.To.String()
	items := iq.Payload.ChildrenNamed(NS, "item")
	if len(items) != 1 {
		return nil, stanza.E(stanza.BadRequest, "a roster set carries exactly one item")
	}
	el := items[0]
	if !el.HasAttr("jid") {
		return nil, stanza.E(stanza.BadRequest, "item without jid")
	}
	contact, err := jid.Parse(el.Attr("jid"))
	if err != nil {
		return nil, stanza.E(stanza.JIDMalformed, "")
	}
	if contact.IsFull() {
		return nil, stanza.E(stanza.BadRequest, "roster items are bare JIDs")
	}
	// 'ask', 'approved' and any subscription other than remove are the
	// server's to set and are ignored (RFC 6121 §2.1.2).
	if el.Attr("subscription") == "remove" {
		return m.removeItem(ctx, iq.To, contact.String())
	}
	name := el.Attr("name")
	if len(name) > m.cfg.MaxNameLength {
		return nil, stanza.E(stanza.NotAcceptable, "name too long")
	}
	groups, err := m.groups(el)
	if err != nil {
		return nil, err
	}
	cur, exists, err := m.Item(ctx, owner, contact.String())
	if err != nil {
		return nil, err
	}
	if !exists || cur.Hidden {
		if err := m.checkRoom(ctx, owner); err != nil {
			return nil, err
		}
	}
	_, _, err = m.Update(ctx, owner, contact.String(), func(it *storage.RosterItem) {
		it.Name = name
		it.Groups = groups
		it.Hidden = false
	})
	if err != nil {
		return nil, err
	}
	return xml.New(stanza.NSClient, "iq", "type", stanza.TypeResult), nil
}

// groups validates an item's groups (RFC 6121 §2.3.3).
func (m *Module) groups(el *xml.Element) ([]string, error) {
	var out []string
	for _, g := range el.ChildrenNamed(NS, "group") {
		name := g.Text()
		switch {
		case name == "":
			return nil, stanza.E(stanza.NotAcceptable, "empty group name")
		case len(name) > m.cfg.MaxGroupLength:
			return nil, stanza.E(stanza.NotAcceptable, "group name too long")
		case slices.Contains(out, name):
			return nil, stanza.E(stanza.BadRequest, "duplicate group")
		}
		out = append(out, name)
	}
	if len(out) > m.cfg.MaxGroups {
		return nil, stanza.E(stanza.NotAcceptable, "too many groups")
	}
	return out, nil
}

// checkRoom refuses a new visible item in a full roster.
func (m *Module) checkRoom(ctx context.Context, owner string) error {
	items, err := m.Items(ctx, owner)
	if err != nil {
		return err
	}
	n := 0
	for _, it := range items {
		if !it.Hidden {
			n++
		}
	}
	if n >= m.cfg.MaxItems {
		return stanza.E(stanza.NotAllowed, "roster is full")
	}
	return nil
}

// removeItem handles subscription='remove' (RFC 6121 §2.5): the
// subscriptions are cancelled first, then the item is deleted and the
// removal pushed.
func (m *Module) removeItem(ctx context.Context, owner jid.JID, contact string) (*xml.Element, error) {
	it, exists, err := m.Item(ctx, owner.String(), contact)
	if err != nil {
		return nil, err
	}
	if !exists || it.Hidden {
		return nil, stanza.E(stanza.ItemNotFound, "")
	}
	if m.remover != nil {
		if err := m.remover.RosterItemRemoving(ctx, owner, it); err != nil {
			return nil, err
		}
	}
	if err := m.remove(ctx, owner.String(), contact); err != nil {
		return nil, err
	}
	return xml.New(stanza.NSClient, "iq", "type", stanza.TypeResult), nil
}
