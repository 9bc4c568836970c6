package pep

import (
	"context"
	"errors"
	"slices"
	"sort"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/storage"
)

// The server's own access to its accounts' services: other modules (the
// conversions of XEP-0398 and XEP-0402) read and write an account's nodes
// through interfaces of their own that internal/server fills with these
// methods. A change goes through the same path as a client's publish or
// retract (checks, auto-create, publish-options, quotas, notifications)
// as if the account had sent it, but it is not handed to the Observer:
// a conversion's own writes never start another conversion.

// Publish publishes item (an <item/> in the pubsub namespace, with one
// payload and usually an id) to the owner's node, as the owner would with
// publish-options whose fields are options (nil for none; XEP-0060
// §7.1.5: a node they do not match refuses the publish with conflict +
// <precondition-not-met/>, and an auto-created node takes them). It
// returns the item's id.
func (m *Module) Publish(ctx context.Context, owner jid.JID, node string, item *xml.Element, options map[string]string) (string, error) {
	var form *xml.Element
	if len(options) > 0 {
		form = publishOptionsForm(options)
	}
	id, _, err := m.publishItem(ctx, owner.Bare(), node, item, form)
	return id, err
}

// Retract removes an item from the owner's node and notifies the
// retraction (as a client's retract with notify='true', which XEP-0402
// asks clients to send).
func (m *Module) Retract(ctx context.Context, owner jid.JID, node, id string) error {
	return m.retractItem(ctx, owner.Bare(), node, id, true)
}

// Items returns the owner's node's items (<item/> elements in the pubsub
// namespace with their payloads, oldest first), only those of ids if any
// are given; exists is false when the node does not exist.
func (m *Module) Items(ctx context.Context, owner jid.JID, node string, ids ...string) (items []*xml.Element, exists bool, err error) {
	stored, err := m.store.PEPItems(ctx, owner.Bare().String(), node, ids, 0)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	for _, it := range slices.Backward(stored) {
		p, err := decode(it.Payload)
		if err != nil {
			return nil, true, err
		}
		items = append(items, xml.New(NSPubSub, "item", "id", it.ID).Append(p))
	}
	return items, true, nil
}

// MaxNodeItems is the most items one node keeps: [pep] max_items, what
// pubsub#max_items "max" means.
func (m *Module) MaxNodeItems() int { return m.cfg.MaxItems }

// publishOptionsForm is the publish-options form (XEP-0060 §7.1.5) of
// options, fields in name order.
func publishOptionsForm(options map[string]string) *xml.Element {
	x := xml.New(nsData, "x", "type", "submit")
	field := func(name, v string) {
		x.Append(xml.New(nsData, "field", "var", name).Append(xml.New(nsData, "value").AppendText(v)))
	}
	field("FORM_TYPE", formPublishOptions)
	names := make([]string, 0, len(options))
	for name := range options {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		field(name, options[name])
	}
	return x
}

// Observer learns of what the accounts publish and retract themselves
// (not of the server's own changes through Publish and Retract): the
// XEP-0398 avatar and XEP-0402 bookmark conversions. It is called after
// the change is stored and notified, with no lock held.
type Observer interface {
	PEPPublished(ctx context.Context, owner jid.JID, node, id string, payload *xml.Element)
	PEPRetracted(ctx context.Context, owner jid.JID, node, id string)
}

// AddObserver installs o (before the server starts); observers are
// called in the order they were added.
func (m *Module) AddObserver(o Observer) { m.observers = append(m.observers, o) }

func (m *Module) observePublish(ctx context.Context, owner jid.JID, node, id string, payload *xml.Element) {
	for _, o := range m.observers {
		o.PEPPublished(ctx, owner, node, id, payload)
	}
}

func (m *Module) observeRetract(ctx context.Context, owner jid.JID, node, id string) {
	for _, o := range m.observers {
		o.PEPRetracted(ctx, owner, node, id)
	}
}
