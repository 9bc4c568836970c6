package pep

import (
	"context"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// unsupported is XEP-0060's answer to a request for a feature the service
// lacks: feature-not-implemented + <unsupported feature=.../>.
func unsupported(feature string) error {
	e := stanza.E(stanza.FeatureNotImplemented, "")
	e.App = xml.New(NSPubSubErrors, "unsupported", "feature", feature)
	return e
}

// affiliations answers an entity's request for its affiliations (§5.7):
// the owner owns every node of its service (or the one named); anybody
// else has none. Skald keeps no other affiliations.
func (m *Module) affiliations(ctx context.Context, iq *router.IQ, req *xml.Element) (*xml.Element, error) {
	out := xml.New(NSPubSub, "affiliations")
	if iq.From.Bare() == iq.To {
		nodes, err := m.nodesNamed(ctx, iq.To.String(), req.Attr("node"))
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			out.Append(xml.New(NSPubSub, "affiliation", "node", n.Name, "affiliation", "owner"))
		}
	}
	return stanza.Result(iq.Stanza).Append(xml.New(NSPubSub, "pubsub").Append(out)), nil
}

// subscriptions answers an entity's request for its subscriptions (§5.6):
// PEP subscriptions are implicit, from presence (XEP-0163 §4.3.2), so
// there are none to list.
func (m *Module) subscriptions(iq *router.IQ) (*xml.Element, error) {
	return stanza.Result(iq.Stanza).Append(xml.New(NSPubSub, "pubsub").Append(xml.New(NSPubSub, "subscriptions"))), nil
}

// nodeAffiliations answers the owner's request for a node's affiliations
// (§8.9.1): the owner alone.
func (m *Module) nodeAffiliations(ctx context.Context, iq *router.IQ, req *xml.Element) (*xml.Element, error) {
	n, err := m.ownedNode(ctx, iq, req)
	if err != nil {
		return nil, err
	}
	out := xml.New(NSPubSubOwner, "affiliations", "node", n.Name).Append(
		xml.New(NSPubSubOwner, "affiliation", "jid", iq.To.String(), "affiliation", "owner"))
	return stanza.Result(iq.Stanza).Append(xml.New(NSPubSubOwner, "pubsub").Append(out)), nil
}

// nodesNamed returns all the owner's nodes, or the one named (none if it
// does not exist).
func (m *Module) nodesNamed(ctx context.Context, owner, node string) ([]storage.PEPNode, error) {
	nodes, err := m.store.PEPNodes(ctx, owner)
	if err != nil || node == "" {
		return nodes, err
	}
	for _, n := range nodes {
		if n.Name == node {
			return []storage.PEPNode{n}, nil
		}
	}
	return nil, nil
}
