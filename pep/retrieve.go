package pep

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// get handles the pubsub gets: retrieve items (§6.5), the requester's
// subscriptions (§5.6) and affiliations (§5.7).
func (m *Module) get(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	req, err := onlyChild(iq.Payload)
	if err != nil {
		return nil, err
	}
	switch {
	case req.Is(NSPubSub, "items"):
		return m.items(ctx, iq, req)
	case req.Is(NSPubSub, "subscriptions"):
		return m.subscriptions(iq)
	case req.Is(NSPubSub, "affiliations"):
		return m.affiliations(ctx, iq, req)
	case req.Is(NSPubSub, "options"), req.Is(NSPubSub, "default"):
		return nil, unsupported("subscription-options")
	}
	return nil, pubsubError(stanza.FeatureNotImplemented, "")
}

// items retrieves a node's items (§6.5).
func (m *Module) items(ctx context.Context, iq *router.IQ, req *xml.Element) (*xml.Element, error) {
	var err error
	node := req.Attr("node")
	if node == "" {
		return nil, pubsubError(stanza.BadRequest, "nodeid-required")
	}
	max := 0
	if v := req.Attr("max_items"); v != "" {
		if max, err = strconv.Atoi(v); err != nil || max < 1 {
			return nil, stanza.E(stanza.BadRequest, "max_items must be a positive integer")
		}
	}
	var ids []string
	for _, it := range req.ChildrenNamed(NSPubSub, "item") {
		if id := it.Attr("id"); id != "" {
			ids = append(ids, id)
		}
	}
	n, err := m.store.PEPNode(ctx, iq.To.String(), node)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, pubsubError(stanza.ItemNotFound, "")
	}
	if err != nil {
		return nil, err
	}
	ok, err := m.mayAccess(ctx, iq.To, iq.From, n.Config)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, accessError(n.Config)
	}
	items, err := m.store.PEPItems(ctx, iq.To.String(), node, ids, max)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, pubsubError(stanza.ItemNotFound, "") // deleted meanwhile
	}
	if err != nil {
		return nil, err
	}
	out := xml.New(NSPubSub, "items", "node", node)
	// Oldest first, as published: the storage gives them newest first.
	for _, it := range slices.Backward(items) {
		el := xml.New(NSPubSub, "item", "id", it.ID)
		p, err := decode(it.Payload)
		if err != nil {
			return nil, err
		}
		out.Append(el.Append(p))
	}
	return stanza.Result(iq.Stanza).Append(xml.New(NSPubSub, "pubsub").Append(out)), nil
}
