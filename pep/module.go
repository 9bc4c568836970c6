package pep

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"

	"github.com/skald-xmpp/skald/disco"
	"github.com/skald-xmpp/skald/internal/keylock"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// Namespaces (XEP-0060 §14).
const (
	NSPubSub       = "http://jabber.org/protocol/pubsub"
	NSPubSubOwner  = NSPubSub + "#owner"
	NSPubSubEvent  = NSPubSub + "#event"
	NSPubSubErrors = NSPubSub + "#errors"
	NSRSM          = "http://jabber.org/protocol/rsm" // XEP-0059, marking partial items replies
)

// features are the XEP-0060 features the PEP service implements (§10),
// advertised on the server and on every account (XEP-0163 §6).
var features = []string{
	NSPubSub + "#access-open",
	NSPubSub + "#access-presence",
	NSPubSub + "#access-whitelist",
	NSPubSub + "#auto-create",
	NSPubSub + "#auto-subscribe",
	NSPubSub + "#config-node",
	NSPubSub + "#create-and-configure",
	NSPubSub + "#create-nodes",
	NSPubSub + "#delete-items",
	NSPubSub + "#delete-nodes",
	NSPubSub + "#filtered-notifications",
	NSPubSub + "#item-ids",
	NSPubSub + "#last-published",
	NSPubSub + "#persistent-items",
	NSPubSub + "#publish",
	NSPubSub + "#publish-options",
	NSPubSub + "#purge-nodes",
	NSPubSub + "#retract-items",
	NSPubSub + "#retrieve-affiliations",
	NSPubSub + "#retrieve-items",
	NSPubSub + "#retrieve-subscriptions",
}

// Rosters is what PEP needs of the roster module (roster.Module has it):
// who may see an account's presence, and so its nodes of the presence
// access model.
type Rosters interface {
	Item(ctx context.Context, owner, contact string) (storage.RosterItem, bool, error)
	Items(ctx context.Context, owner string) ([]storage.RosterItem, error)
}

// Module is the PEP service of every local account.
type Module struct {
	cfg   Config
	store storage.PEP
	ros   Rosters
	r     *router.Router
	log   *slog.Logger
	// blocker, if set, keeps events from crossing a block (SetBlocker).
	blocker Blocker
	// observers learn of the accounts' own publishes and retractions
	// (AddObserver).
	observers []Observer

	// locks serialises the changes to one account's service, so that
	// auto-create and publish, or a precondition check and the publish it
	// guards, are one step. Taken before any storage call; never held
	// while waiting for a client.
	locks keylock.Locks

	caps       capsCache
	remote     remoteContacts    // remote contacts' resources (remote.go)
	remoteCaps remoteCapsQueries // caps queries out to them (remote.go)
}

// New returns the PEP module.
func New(cfg Config, store storage.PEP, ros Rosters, r *router.Router, log *slog.Logger) *Module {
	if log == nil {
		log = slog.Default()
	}
	return &Module{cfg: cfg, store: store, ros: ros, r: r, log: log}
}

// Name implements router.Module.
func (*Module) Name() string { return "pep" }

// DiscoFeatures implements router.FeatureProvider.
func (*Module) DiscoFeatures() (server, account []string) { return features, features }

// DiscoAccountIdentities implements disco.AccountIdentityProvider: every
// account is a PEP service (XEP-0163 §6.1).
func (*Module) DiscoAccountIdentities() []disco.Identity {
	return []disco.Identity{{Category: "pubsub", Type: "pep"}}
}

// DiscoAccountItems implements disco.AccountItemsProvider: the nodes the
// requester may retrieve items from (XEP-0060 §5.2).
func (m *Module) DiscoAccountItems(ctx context.Context, owner, requester jid.JID) ([]disco.Item, error) {
	nodes, err := m.store.PEPNodes(ctx, owner.String())
	if err != nil {
		return nil, err
	}
	var out []disco.Item
	for _, n := range nodes {
		ok, err := m.mayAccess(ctx, owner, requester, n.Config)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, disco.Item{JID: owner.String(), Node: n.Name})
		}
	}
	return out, nil
}

// DiscoAccountNodeInfo implements disco.AccountNodeInfoProvider: a node
// the requester may retrieve items from is a leaf node (XEP-0060 §5.3);
// one it may not see is answered as if it did not exist.
func (m *Module) DiscoAccountNodeInfo(ctx context.Context, owner, requester jid.JID, node string) ([]disco.Identity, []string, bool, error) {
	n, err := m.store.PEPNode(ctx, owner.String(), node)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	ok, err := m.mayAccess(ctx, owner, requester, n.Config)
	if err != nil || !ok {
		return nil, nil, false, err
	}
	return []disco.Identity{{Category: "pubsub", Type: "leaf"}}, []string{NSPubSub}, true, nil
}

// RegisterIQ implements router.IQRegistrar. Only accounts have a PEP
// service: iqs to the server domain get service-unavailable.
func (m *Module) RegisterIQ(r *router.Router) {
	r.HandleIQ(stanza.TypeSet, NSPubSub, "pubsub", router.ToAccount, router.IQHandlerFunc(m.set))
	r.HandleIQ(stanza.TypeGet, NSPubSub, "pubsub", router.ToAccount, router.IQHandlerFunc(m.get))
	r.HandleIQ(stanza.TypeSet, NSPubSubOwner, "pubsub", router.ToAccount, router.IQHandlerFunc(m.ownerSet))
	r.HandleIQ(stanza.TypeGet, NSPubSubOwner, "pubsub", router.ToAccount, router.IQHandlerFunc(m.ownerGet))
}

// pubsubError is a stanza error with a pubsub#errors condition (XEP-0060
// §14.2); app "" for none.
func pubsubError(c stanza.Condition, app string) *stanza.Error {
	e := stanza.E(c, "")
	if app != "" {
		e.App = xml.New(NSPubSubErrors, app)
	}
	return e
}

// onlyChild returns the payload's one element child, or a bad-request.
func onlyChild(p *xml.Element) (*xml.Element, error) {
	kids := p.Elements()
	if len(kids) == 0 {
		return nil, stanza.E(stanza.BadRequest, "empty pubsub request")
	}
	return kids[0], nil
}

// newItemID makes an id for an item published without one (XEP-0060
// §7.1.2: the service MUST generate one).
func newItemID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ownerOnly refuses a change to another account's service (XEP-0163
// §4.3: only the account owner publishes to its PEP nodes).
func ownerOnly(iq *router.IQ) error {
	if iq.From.Bare() != iq.To {
		return pubsubError(stanza.Forbidden, "")
	}
	return nil
}
