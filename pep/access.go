package pep

import (
	"context"

	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// mayAccess reports whether requester may retrieve a node's items and be
// notified of them (XEP-0060 §4.5 access models): the owner always, anyone
// for open, contacts with a presence subscription ("from" or "both" in
// the owner's roster) for presence, nobody else for whitelist.
func (m *Module) mayAccess(ctx context.Context, owner, requester jid.JID, c storage.PEPNodeConfig) (bool, error) {
	if requester.Bare() == owner {
		return true, nil
	}
	switch c.AccessModel {
	case storage.AccessOpen:
		return true, nil
	case storage.AccessPresence:
		return m.subscribed(ctx, owner, requester)
	}
	return false, nil
}

// subscribed reports whether contact may see owner's presence.
func (m *Module) subscribed(ctx context.Context, owner, contact jid.JID) (bool, error) {
	it, ok, err := m.ros.Item(ctx, owner.String(), contact.Bare().String())
	if err != nil || !ok {
		return false, err
	}
	return it.Subscription == storage.SubFrom || it.Subscription == storage.SubBoth, nil
}

// accessError is the error for a refused retrieval (XEP-0060 §6.5.9.4,
// §6.5.9.5).
func accessError(c storage.PEPNodeConfig) error {
	if c.AccessModel == storage.AccessPresence {
		return pubsubError(stanza.NotAuthorized, "presence-subscription-required")
	}
	return pubsubError(stanza.NotAllowed, "closed-node")
}
