package pep

import (
	"context"
	"errors"
	"strconv"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// maxItemIDBytes bounds item ids, which are stored as keys.
const maxItemIDBytes = 1024

// set handles the pubsub sets: publish (§7.1), retract (§7.2), create
// (§8.1).
func (m *Module) set(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	req, err := onlyChild(iq.Payload)
	if err != nil {
		return nil, err
	}
	switch {
	case req.Is(NSPubSub, "publish"):
		return m.publish(ctx, iq, req, iq.Payload.Child(NSPubSub, "publish-options"))
	case req.Is(NSPubSub, "retract"):
		return m.retract(ctx, iq, req)
	case req.Is(NSPubSub, "create"):
		return m.create(ctx, iq, req, iq.Payload.Child(NSPubSub, "configure"))
	case req.Is(NSPubSub, "subscribe"), req.Is(NSPubSub, "unsubscribe"), req.Is(NSPubSub, "options"):
		// PEP subscriptions come from presence (XEP-0163 §4.3.2).
		return nil, unsupported("subscribe")
	}
	return nil, pubsubError(stanza.FeatureNotImplemented, "")
}

// publish implements XEP-0060 §7.1 with auto-create (§7.1.4) and
// publish-options (§7.1.5).
func (m *Module) publish(ctx context.Context, iq *router.IQ, req, opts *xml.Element) (*xml.Element, error) {
	if err := ownerOnly(iq); err != nil {
		return nil, err
	}
	node := req.Attr("node")
	if node == "" {
		return nil, pubsubError(stanza.BadRequest, "nodeid-required")
	}
	items := req.ChildrenNamed(NSPubSub, "item")
	if len(items) == 0 {
		return nil, pubsubError(stanza.BadRequest, "item-required")
	}
	if len(items) > 1 || len(req.Elements()) > 1 {
		return nil, pubsubError(stanza.BadRequest, "invalid-payload")
	}
	var form *xml.Element
	if opts != nil {
		form = opts.Child(nsData, "x")
	}
	id, payload, err := m.publishItem(ctx, iq.To, node, items[0], form)
	if err != nil {
		return nil, err
	}
	m.observePublish(ctx, iq.To, node, id, payload)
	res := xml.New(NSPubSub, "pubsub").Append(
		xml.New(NSPubSub, "publish", "node", node).Append(xml.New(NSPubSub, "item", "id", id)))
	return stanza.Result(iq.Stanza).Append(res), nil
}

// publishItem publishes item (an <item/> of the pubsub namespace) to the
// owner's node, with the publish-options form (nil for none): the one
// publish of the module, for clients' iqs and the server's own
// (internal.go). It returns the item id (generated when item has none)
// and the payload.
func (m *Module) publishItem(ctx context.Context, owner jid.JID, node string, item, form *xml.Element) (string, *xml.Element, error) {
	payloads := item.Elements()
	if len(payloads) == 0 {
		return "", nil, pubsubError(stanza.BadRequest, "payload-required")
	}
	if len(payloads) > 1 {
		return "", nil, pubsubError(stanza.BadRequest, "invalid-payload")
	}
	id := item.Attr("id")
	if id == "" {
		id = newItemID()
	}
	if len(id) > maxItemIDBytes {
		return "", nil, stanza.E(stanza.NotAcceptable, "item id too long")
	}
	stored := storage.PEPItem{ID: id, Payload: payloads[0].Bytes("")}
	if storage.PEPItemBytes(stored) > m.cfg.MaxItemBytes {
		return "", nil, pubsubError(stanza.NotAcceptable, "payload-too-big") // §7.1.3
	}
	bare := owner.String()
	unlock := m.locks.Lock(bare)
	defer unlock()
	n, err := m.store.PEPNode(ctx, bare, node)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		n = storage.PEPNode{Name: node, Config: defaultNodeConfig()}
		if form != nil {
			// Publish-options configure an auto-created node (§7.1.5).
			if err := applyForm(&n.Config, form, formPublishOptions, m.cfg.MaxItems); err != nil {
				return "", nil, preconditionError()
			}
		}
		err = m.createNode(ctx, bare, n)
	case err == nil && form != nil && !preconditionsMet(n.Config, form, m.cfg.MaxItems):
		err = preconditionError()
	}
	if err == nil {
		err = m.store.PublishPEPItem(ctx, bare, node, stored, m.cfg.MaxBytesPerAccount)
	}
	if errors.Is(err, storage.ErrQuotaExceeded) {
		return "", nil, quotaError(m.cfg.MaxBytesPerAccount)
	}
	if err != nil {
		return "", nil, err
	}
	m.notify(ctx, owner, n, itemsEvent(node, id, payloads[0], n.Config.DeliverPayloads))
	return id, payloads[0], nil
}

// quotaError answers a publish that would take the account's items over
// max_bytes_per_account. XEP-0060 §7.1.3 has no case for an account's
// storage quota: payload-too-big would tell the client to shrink an item
// that may be small, and resource-constraint is of type wait although
// waiting frees nothing. policy-violation (RFC 6120 §8.3.3.12, type
// modify) says a local limit refused it, as the private module does for
// its quota; the client must retract or delete items first. The account
// may have created the node for this publish (auto-create, §7.1.4): it
// stays, empty, which is what a create then a refused publish would
// leave.
func quotaError(limit int) error {
	return stanza.E(stanza.PolicyViolation, "the account's PEP items would exceed "+strconv.Itoa(limit)+" bytes")
}

// preconditionError is XEP-0060 §7.1.5's answer to publish-options the
// node does not meet.
func preconditionError() error {
	return pubsubError(stanza.ConflictCond, "precondition-not-met")
}

// createNode stores a new node within the account's node quota.
func (m *Module) createNode(ctx context.Context, owner string, n storage.PEPNode) error {
	err := m.store.CreatePEPNode(ctx, owner, n, m.cfg.MaxNodes)
	switch {
	case errors.Is(err, storage.ErrExists):
		return pubsubError(stanza.ConflictCond, "")
	case errors.Is(err, storage.ErrQuotaExceeded):
		return pubsubError(stanza.NotAllowed, "max-nodes-exceeded")
	}
	return err
}

// retract implements XEP-0060 §7.2.
func (m *Module) retract(ctx context.Context, iq *router.IQ, req *xml.Element) (*xml.Element, error) {
	if err := ownerOnly(iq); err != nil {
		return nil, err
	}
	node := req.Attr("node")
	if node == "" {
		return nil, pubsubError(stanza.BadRequest, "nodeid-required")
	}
	items := req.ChildrenNamed(NSPubSub, "item")
	if len(items) != 1 || items[0].Attr("id") == "" {
		return nil, pubsubError(stanza.BadRequest, "item-required")
	}
	id := items[0].Attr("id")
	notify, _ := parseBool(req.Attr("notify"))
	if err := m.retractItem(ctx, iq.To, node, id, notify); err != nil {
		return nil, err
	}
	m.observeRetract(ctx, iq.To, node, id)
	return stanza.Result(iq.Stanza), nil
}

// retractItem removes an item from the owner's node and notifies the
// retraction if notify or the node's notify_retract says so: the one
// retract of the module, for clients' iqs and the server's own.
func (m *Module) retractItem(ctx context.Context, owner jid.JID, node, id string, notify bool) error {
	bare := owner.String()
	unlock := m.locks.Lock(bare)
	defer unlock()
	n, err := m.store.PEPNode(ctx, bare, node)
	removed := false
	if err == nil {
		removed, err = m.store.RetractPEPItem(ctx, bare, node, id)
	}
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !removed) {
		return pubsubError(stanza.ItemNotFound, "")
	}
	if err != nil {
		return err
	}
	if notify || n.Config.NotifyRetract {
		ev := xml.New(NSPubSubEvent, "event").Append(
			xml.New(NSPubSubEvent, "items", "node", node).Append(xml.New(NSPubSubEvent, "retract", "id", id)))
		m.notify(ctx, owner, n, ev)
	}
	return nil
}

// create implements XEP-0060 §8.1 (PEP has no instant nodes: a node name
// is required).
func (m *Module) create(ctx context.Context, iq *router.IQ, req, configure *xml.Element) (*xml.Element, error) {
	if err := ownerOnly(iq); err != nil {
		return nil, err
	}
	node := req.Attr("node")
	if node == "" {
		return nil, pubsubError(stanza.NotAcceptable, "nodeid-required")
	}
	n := storage.PEPNode{Name: node, Config: defaultNodeConfig()}
	if configure != nil {
		if form := configure.Child(nsData, "x"); form != nil {
			if err := applyForm(&n.Config, form, formNodeConfig, m.cfg.MaxItems); err != nil {
				return nil, formError(err)
			}
		}
	}
	unlock := m.locks.Lock(iq.To.String())
	defer unlock()
	err := m.createNode(ctx, iq.To.String(), n)
	if err != nil {
		return nil, err
	}
	return stanza.Result(iq.Stanza), nil
}

// formError is the answer to a node configuration form Skald cannot
// apply (XEP-0060 §8.1.3, §8.2.5).
func formError(err error) error {
	var ce *configError
	if errors.As(err, &ce) && ce.unsupportedAccess {
		return pubsubError(stanza.NotAcceptable, "unsupported-access-model")
	}
	return stanza.E(stanza.NotAcceptable, "unsupported node configuration")
}
