package pep

import (
	"context"
	"errors"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// ownerGet handles the owner gets: the node configuration form (§8.2),
// the node's affiliations (§8.9.1, the owner alone) and subscriptions
// (§8.8.1, none: PEP's are implicit).
func (m *Module) ownerGet(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	if err := ownerOnly(iq); err != nil {
		return nil, err
	}
	req, err := onlyChild(iq.Payload)
	if err != nil {
		return nil, err
	}
	switch {
	case req.Is(NSPubSubOwner, "affiliations"):
		return m.nodeAffiliations(ctx, iq, req)
	case req.Is(NSPubSubOwner, "subscriptions"):
		if _, err := m.ownedNode(ctx, iq, req); err != nil {
			return nil, err
		}
		out := xml.New(NSPubSubOwner, "subscriptions", "node", req.Attr("node"))
		return stanza.Result(iq.Stanza).Append(xml.New(NSPubSubOwner, "pubsub").Append(out)), nil
	case !req.Is(NSPubSubOwner, "configure"):
		return nil, pubsubError(stanza.FeatureNotImplemented, "")
	}
	n, err := m.ownedNode(ctx, iq, req)
	if err != nil {
		return nil, err
	}
	conf := xml.New(NSPubSubOwner, "configure", "node", n.Name).Append(configForm(n.Config, "form"))
	return stanza.Result(iq.Stanza).Append(xml.New(NSPubSubOwner, "pubsub").Append(conf)), nil
}

// ownerSet handles the owner sets: configure (§8.2), delete (§8.4) and
// purge (§8.5).
func (m *Module) ownerSet(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	if err := ownerOnly(iq); err != nil {
		return nil, err
	}
	req, err := onlyChild(iq.Payload)
	if err != nil {
		return nil, err
	}
	switch {
	case req.Is(NSPubSubOwner, "configure"):
		return m.configure(ctx, iq, req)
	case req.Is(NSPubSubOwner, "delete"):
		return m.deleteNode(ctx, iq, req)
	case req.Is(NSPubSubOwner, "purge"):
		return m.purge(ctx, iq, req)
	case req.Is(NSPubSubOwner, "affiliations"):
		return nil, unsupported("modify-affiliations")
	case req.Is(NSPubSubOwner, "subscriptions"):
		return nil, unsupported("manage-subscriptions")
	}
	return nil, pubsubError(stanza.FeatureNotImplemented, "")
}

// ownedNode reads the node a request names.
func (m *Module) ownedNode(ctx context.Context, iq *router.IQ, req *xml.Element) (storage.PEPNode, error) {
	node := req.Attr("node")
	if node == "" {
		return storage.PEPNode{}, pubsubError(stanza.BadRequest, "nodeid-required")
	}
	n, err := m.store.PEPNode(ctx, iq.To.String(), node)
	if errors.Is(err, storage.ErrNotFound) {
		return n, pubsubError(stanza.ItemNotFound, "")
	}
	return n, err
}

// configure applies a submitted configuration form (§8.2.4); a cancelled
// form changes nothing.
func (m *Module) configure(ctx context.Context, iq *router.IQ, req *xml.Element) (*xml.Element, error) {
	owner := iq.To.String()
	unlock := m.locks.Lock(owner)
	defer unlock()
	n, err := m.ownedNode(ctx, iq, req)
	if err != nil {
		return nil, err
	}
	form := req.Child(nsData, "x")
	if form == nil {
		return nil, stanza.E(stanza.BadRequest, "configuration form required")
	}
	switch form.Attr("type") {
	case "cancel":
		return stanza.Result(iq.Stanza), nil
	case "submit":
	default:
		return nil, stanza.E(stanza.BadRequest, "form type must be submit or cancel")
	}
	c := n.Config
	if err := applyForm(&c, form, formNodeConfig, m.cfg.MaxItems); err != nil {
		return nil, formError(err)
	}
	if err := m.store.ConfigurePEPNode(ctx, owner, n.Name, c); err != nil {
		return nil, err
	}
	return stanza.Result(iq.Stanza), nil
}

// deleteNode removes a node and tells those notified of it (§8.4.2).
func (m *Module) deleteNode(ctx context.Context, iq *router.IQ, req *xml.Element) (*xml.Element, error) {
	owner := iq.To.String()
	unlock := m.locks.Lock(owner)
	defer unlock()
	n, err := m.ownedNode(ctx, iq, req)
	if err == nil {
		err = m.store.DeletePEPNode(ctx, owner, n.Name)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, pubsubError(stanza.ItemNotFound, "")
	}
	if err != nil {
		return nil, err
	}
	m.notify(ctx, iq.To, n, xml.New(NSPubSubEvent, "event").Append(xml.New(NSPubSubEvent, "delete", "node", n.Name)))
	return stanza.Result(iq.Stanza), nil
}

// purge removes every item of a node and tells those notified of it
// (§8.5).
func (m *Module) purge(ctx context.Context, iq *router.IQ, req *xml.Element) (*xml.Element, error) {
	owner := iq.To.String()
	unlock := m.locks.Lock(owner)
	defer unlock()
	n, err := m.ownedNode(ctx, iq, req)
	var items []storage.PEPItem
	if err == nil {
		items, err = m.store.PEPItems(ctx, owner, n.Name, nil, 0)
	}
	for _, it := range items {
		if err != nil {
			break
		}
		_, err = m.store.RetractPEPItem(ctx, owner, n.Name, it.ID)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, pubsubError(stanza.ItemNotFound, "")
	}
	if err != nil {
		return nil, err
	}
	m.notify(ctx, iq.To, n, xml.New(NSPubSubEvent, "event").Append(xml.New(NSPubSubEvent, "purge", "node", n.Name)))
	return stanza.Result(iq.Stanza), nil
}
