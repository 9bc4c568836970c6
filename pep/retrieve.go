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
	fit := newestThatFit(items, m.cfg.MaxReplyBytes)
	out := xml.New(NSPubSub, "items", "node", node)
	// Oldest first, as published: the storage gives them newest first.
	for _, it := range slices.Backward(fit) {
		el := xml.New(NSPubSub, "item", "id", it.ID)
		p, err := decode(it.Payload)
		if err != nil {
			return nil, err
		}
		out.Append(el.Append(p))
	}
	res := xml.New(NSPubSub, "pubsub").Append(out)
	if len(fit) < len(items) {
		res.Append(partialSet(fit, len(items)))
	}
	return stanza.Result(iq.Stanza).Append(res), nil
}

// newestThatFit returns the longest run of items (newest first) from
// the newest whose ids, payloads and <item/> wrappers total at most
// budget bytes: the reply stays bounded whatever the node holds, and
// an item that fits alone (Config.Validate) is always sent.
func newestThatFit(items []storage.PEPItem, budget int) []storage.PEPItem {
	used := 0
	for i, it := range items {
		used += storage.PEPItemBytes(it) + replyItemOverhead
		if used > budget {
			return items[:i]
		}
	}
	return items
}

// partialSet is the RSM <set/> (XEP-0059) that marks an items reply as
// a subset (XEP-0060 §6.5.4): first and last are the ids of the oldest
// and newest items sent, first's index its position among all count
// items the request matched, oldest first.
func partialSet(fit []storage.PEPItem, count int) *xml.Element {
	set := xml.New(NSRSM, "set")
	if len(fit) > 0 {
		set.Append(
			xml.New(NSRSM, "first", "index", strconv.Itoa(count-len(fit))).AppendText(fit[len(fit)-1].ID),
			xml.New(NSRSM, "last").AppendText(fit[0].ID))
	}
	return set.Append(xml.New(NSRSM, "count").AppendText(strconv.Itoa(count)))
}
