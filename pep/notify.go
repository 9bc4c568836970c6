package pep

import (
	"context"
	"errors"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// itemsEvent is the event notification of one published item (XEP-0060
// §7.1.2.1), with its payload unless the node says not to deliver it.
func itemsEvent(node, id string, payload *xml.Element, withPayload bool) *xml.Element {
	item := xml.New(NSPubSubEvent, "item", "id", id)
	if withPayload {
		item.Append(payload.Clone())
	}
	return xml.New(NSPubSubEvent, "event").Append(xml.New(NSPubSubEvent, "items", "node", node).Append(item))
}

// notify sends ev from the owner's bare JID to every available resource
// that may access the node and asked for its notifications
// (XEP-0163 §4.3). Notifications are headlines sent to sessions directly:
// they never pass the archive or offline storage (RFC 6121 §8.5.3.2.1
// drops a headline to a resource that is not there).
func (m *Module) notify(ctx context.Context, owner jid.JID, n storage.PEPNode, ev *xml.Element) {
	for _, s := range m.recipients(ctx, owner, n) {
		m.sendEvent(owner, s, ev)
	}
}

// recipients lists the available sessions that get a node's
// notifications: the owner's and, unless the node is whitelist-only, its
// presence subscribers' (XEP-0163 §4.3.3: the implicit subscription of
// contacts), in both cases only those whose capabilities include
// NODE+notify (§4.2, filtered notifications) and, for contacts, a
// non-negative priority (§4.3.2), and no contact's resource cut off from
// the owner by a block (XEP-0191, §4.3.3).
func (m *Module) recipients(ctx context.Context, owner jid.JID, n storage.PEPNode) []*router.Session {
	out := m.filterNotify(nil, m.r.Sessions(owner.String()), owner, n.Name)
	if n.Config.AccessModel == storage.AccessWhitelist {
		return out
	}
	items, err := m.ros.Items(ctx, owner.String())
	if err != nil {
		m.log.Error("pep: roster unavailable, contacts not notified", "owner", owner.String(), "err", err)
		return out
	}
	for _, it := range items {
		if it.Subscription != storage.SubFrom && it.Subscription != storage.SubBoth {
			continue
		}
		c, err := jid.Parse(it.JID)
		if err != nil {
			continue
		}
		if m.r.IsRemote(c) {
			out = m.remoteRecipients(ctx, out, owner, c, it.Subscription, n.Name)
			continue
		}
		if !m.r.IsLocalAccount(c) {
			continue
		}
		for _, s := range m.filterNotify(nil, m.r.Sessions(c.String()), owner, n.Name) {
			if !m.cut(ctx, owner, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// filterNotify appends the sessions that take owner's notifications of
// node (wantsEvents).
func (m *Module) filterNotify(out, sessions []*router.Session, owner jid.JID, node string) []*router.Session {
	for _, s := range sessions {
		if s.Available() && wantsEvents(s, owner, node) {
			out = append(out, s)
		}
	}
	return out
}

// wantsEvents reports whether s takes owner's events of node: it asked
// for them (NODE+notify) and, unless it is one of the owner's own
// resources, has a non-negative priority (XEP-0163 §4.3.2, §4.3.3).
func wantsEvents(s *router.Session, owner jid.JID, node string) bool {
	return wantsNotify(s, node) && (s.JID().Bare() == owner || s.Priority() >= 0)
}

// sendEvent sends one event notification to s.
func (m *Module) sendEvent(owner jid.JID, s *router.Session, ev *xml.Element) {
	msg := xml.New(stanza.NSClient, "message", "from", owner.String(), "to", s.JID().String(), "type", "headline", "id", newItemID())
	msg.Append(ev.Clone())
	if err := s.Send(msg); err != nil {
		m.log.Debug("pep: event not queued", "to", s.JID().String(), "err", err)
	}
}

// decode parses a stored payload (serialised by Bytes("")).
func decode(b []byte) (*xml.Element, error) {
	els, err := xml.ParseElements(b, xml.Limits{})
	if err != nil {
		return nil, err
	}
	if len(els) != 1 {
		return nil, errors.New("pep: stored payload is not one element")
	}
	return els[0], nil
}
