package disco

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// Namespaces.
const (
	NSInfo  = "http://jabber.org/protocol/disco#info"
	NSItems = "http://jabber.org/protocol/disco#items"
	NSCaps  = "http://jabber.org/protocol/caps"
)

// CapsNode identifies the software in XEP-0115 caps (the 'node' attribute).
const CapsNode = "https://skald.im"

// The identities the server shows (XEP-0030 registry: server/im,
// account/registered).
var (
	serverIdentity  = Identity{Category: "server", Type: "im", Name: "Skald"}
	accountIdentity = Identity{Category: "account", Type: "registered"}
)

// Module answers disco#info and disco#items.
type Module struct {
	r   *router.Router
	ros Rosters // nil: nobody but the owner sees an account's disco#info

	mu    sync.Mutex // guards cache
	cache *snapshot
}

// snapshot is what the registered modules advertise.
type snapshot struct {
	modules    int // len(r.Modules()) when taken
	server     []string
	account    []string
	ids        []Identity     // the server's identities: serverIdentity and the modules'
	forms      []*xml.Element // XEP-0128 forms of the server's disco#info
	accountIDs []Identity     // beyond account/registered
	items      []AccountItemsProvider
	nodeInfo   []AccountNodeInfoProvider
	serverNode []ServerNodeProvider
	ver        string
}

// AccountIdentityProvider is a module that adds identities to every
// account's disco#info (PEP: pubsub/pep, XEP-0163 §6.1).
type AccountIdentityProvider interface {
	DiscoAccountIdentities() []Identity
}

// Item is one disco#items entry.
type Item struct {
	JID, Node, Name string
}

// AccountItemsProvider is a module that lists items at accounts' bare
// JIDs (PEP nodes): disco#items without a node lists what every provider
// gives requester. owner may have no account behind it; the provider then
// lists nothing.
type AccountItemsProvider interface {
	DiscoAccountItems(ctx context.Context, owner, requester jid.JID) ([]Item, error)
}

// AccountNodeInfoProvider is a module with nodes at accounts' bare JIDs
// (PEP): disco#info on the account's JID and one of its nodes answers what
// the provider says of it (XEP-0060 §5.3: identity pubsub/leaf).
type AccountNodeInfoProvider interface {
	// DiscoAccountNodeInfo describes owner's node as requester may see
	// it; ok is false when there is no such node or requester may not see
	// it (both answered item-not-found).
	DiscoAccountNodeInfo(ctx context.Context, owner, requester jid.JID, node string) (ids []Identity, features []string, ok bool, err error)
}

// ServerNodeProvider is a module with nodes at the server's domain
// (XEP-0050: the command list and each command). disco#items and
// disco#info on the domain and a node ask every provider in turn; the
// first that knows the node answers. An error (a *stanza.Error such as
// forbidden for a command the requester may not run) is the answer.
type ServerNodeProvider interface {
	// DiscoServerNodeItems lists the items under node as requester may
	// see them; ok is false when the provider has no such node.
	DiscoServerNodeItems(ctx context.Context, server, requester jid.JID, node string) (items []Item, ok bool, err error)
	// DiscoServerNodeInfo describes node; ok as above.
	DiscoServerNodeInfo(ctx context.Context, server, requester jid.JID, node string) (ids []Identity, features []string, ok bool, err error)
}

// New returns the disco module for r. It reads r.Modules() lazily, so it
// may be registered before the modules it describes.
func New(r *router.Router) *Module { return &Module{r: r} }

// Rosters is what disco needs of the roster module (roster.Module has it):
// one item of an account's roster. An interface, so that disco, which does
// not extend the roster, does not import it (ARCHITECTURE.md).
type Rosters interface {
	Item(ctx context.Context, owner, contact string) (storage.RosterItem, bool, error)
}

// SetRoster gives the module the rosters that say who may see an
// account's disco#info (see info). It must be called before serving.
func (m *Module) SetRoster(ros Rosters) { m.ros = ros }

// Name implements router.Module.
func (*Module) Name() string { return "disco" }

// DiscoFeatures implements router.FeatureProvider.
func (*Module) DiscoFeatures() (server, account []string) {
	f := []string{NSInfo, NSItems}
	return f, f
}

// RegisterIQ implements router.IQRegistrar.
func (m *Module) RegisterIQ(r *router.Router) {
	both := router.ToServer | router.ToAccount
	r.HandleIQ(stanza.TypeGet, NSInfo, "query", both, router.IQHandlerFunc(m.info))
	// disco#items answers for accounts that do not exist too (XEP-0030 §8).
	r.HandleIQ(stanza.TypeGet, NSItems, "query", both|router.ToNoAccount, router.IQHandlerFunc(m.items))
}

// Ver returns the XEP-0115 verification string of the server's disco#info.
func (m *Module) Ver() string { return m.snapshot().ver }

// Caps returns the caps element for the stream features (XEP-0115 §6.3).
func (m *Module) Caps() *xml.Element {
	return xml.New(NSCaps, "c", "hash", "sha-1", "node", CapsNode, "ver", m.Ver())
}

func (m *Module) snapshot() *snapshot {
	mods := m.r.Modules()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cache != nil && m.cache.modules == len(mods) {
		return m.cache
	}
	s := &snapshot{modules: len(mods), ids: []Identity{serverIdentity}}
	for _, mod := range mods {
		if fp, ok := mod.(router.FeatureProvider); ok {
			srv, acc := fp.DiscoFeatures()
			s.server = append(s.server, srv...)
			s.account = append(s.account, acc...)
		}
		if ip, ok := mod.(router.ServerInfoProvider); ok {
			ids, forms := ip.DiscoServerInfo()
			for _, id := range ids {
				s.ids = append(s.ids, Identity{Category: id.Category, Type: id.Type, Name: id.Name})
			}
			s.forms = append(s.forms, forms...)
		}
		if ip, ok := mod.(AccountIdentityProvider); ok {
			s.accountIDs = append(s.accountIDs, ip.DiscoAccountIdentities()...)
		}
		if ip, ok := mod.(AccountItemsProvider); ok {
			s.items = append(s.items, ip)
		}
		if np, ok := mod.(AccountNodeInfoProvider); ok {
			s.nodeInfo = append(s.nodeInfo, np)
		}
		if sp, ok := mod.(ServerNodeProvider); ok {
			s.serverNode = append(s.serverNode, sp)
		}
	}
	// Sorted and unique: a feature listed twice makes the caps hash
	// input ill-formed (XEP-0115 §5.4), and order makes answers stable.
	slices.Sort(s.server)
	s.server = slices.Compact(s.server)
	slices.Sort(s.account)
	s.account = slices.Compact(s.account)
	s.ver = CapsVer(s.ids, s.server, s.forms)
	m.cache = s
	return s
}

func (m *Module) info(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	if iq.To.Local() != "" && iq.To != iq.From.Bare() {
		// XEP-0030 §8: the server MUST answer service-unavailable for an
		// account whose presence the requester may not receive, node or
		// not, as it does for an account that does not exist.
		ok, err := m.maySeePresence(ctx, iq.To.String(), iq.From.Bare().String())
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, stanza.E(stanza.ServiceUnavailable, "")
		}
	}
	s := m.snapshot()
	node := iq.Payload.Attr("node")
	ids, features, forms := []Identity{accountIdentity}, s.account, []*xml.Element(nil)
	if iq.To.Local() == "" {
		ids, features, forms = s.ids, s.server, s.forms
		if node != "" && node != CapsNode+"#"+s.ver {
			return m.serverNodeInfo(ctx, iq, s, node)
		}
	} else if node != "" {
		return m.accountNodeInfo(ctx, iq, s, node)
	}
	q := xml.New(NSInfo, "query")
	q.SetAttr("node", node)
	for _, id := range ids {
		q.Append(identityElement(id))
	}
	if iq.To.Local() != "" {
		for _, extra := range s.accountIDs {
			q.Append(identityElement(extra))
		}
	}
	for _, f := range features {
		q.Append(xml.New(NSInfo, "feature", "var", f))
	}
	for _, x := range forms {
		q.Append(x.Clone()) // the snapshot's forms are shared
	}
	return stanza.Result(iq.Stanza).Append(q), nil
}

// accountNodeInfo answers disco#info on an account's node (XEP-0060
// §5.3) from the first provider that knows it.
func (m *Module) accountNodeInfo(ctx context.Context, iq *router.IQ, s *snapshot, node string) (*xml.Element, error) {
	for _, p := range s.nodeInfo {
		ids, features, ok, err := p.DiscoAccountNodeInfo(ctx, iq.To, iq.From.Bare(), node)
		if err != nil {
			return nil, err
		}
		if ok {
			return nodeInfoResult(iq, node, ids, features), nil
		}
	}
	return nil, stanza.E(stanza.ItemNotFound, "")
}

func (m *Module) items(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	node := iq.Payload.Attr("node")
	if iq.To.Local() != "" {
		// An account lists only what the providers (PEP nodes) let the
		// requester see, and nothing under a node: XEP-0030 §8 has the
		// server answer an empty list (MUST) for an account that does not
		// exist, with or without a node, and an error for one that does
		// would tell which accounts exist.
		q := xml.New(NSItems, "query")
		q.SetAttr("node", node)
		if node == "" {
			for _, p := range m.snapshot().items {
				items, err := p.DiscoAccountItems(ctx, iq.To, iq.From.Bare())
				if err != nil {
					return nil, err
				}
				for _, it := range items {
					q.Append(itemElement(it))
				}
			}
		}
		return stanza.Result(iq.Stanza).Append(q), nil
	}
	if node != "" {
		return m.serverNodeItems(ctx, iq, node)
	}
	// The services modules host (router.Service) under this domain, such
	// as its conference.<domain>: XEP-0045 §6.1 has clients find a MUC
	// service among the server's items.
	// External components (XEP-0114) are listed the same way, while
	// configured, connected or not: clients (Conversations, Gajim) find
	// gateways here and cache what they found.
	q := xml.New(NSItems, "query")
	for _, d := range append(m.r.ServiceDomains(), m.r.ComponentDomains()...) {
		if strings.HasSuffix(d, "."+iq.To.Domain()) {
			q.Append(xml.New(NSItems, "item", "jid", d))
		}
	}
	return stanza.Result(iq.Stanza).Append(q), nil
}

// serverNodeInfo answers disco#info on a node of the server's domain
// (XEP-0050 commands) from the first provider that knows it.
func (m *Module) serverNodeInfo(ctx context.Context, iq *router.IQ, s *snapshot, node string) (*xml.Element, error) {
	for _, p := range s.serverNode {
		ids, features, ok, err := p.DiscoServerNodeInfo(ctx, iq.To, iq.From, node)
		if err != nil {
			return nil, err
		}
		if ok {
			return nodeInfoResult(iq, node, ids, features), nil
		}
	}
	return nil, stanza.E(stanza.ItemNotFound, "")
}

// serverNodeItems answers disco#items on a node of the server's domain.
func (m *Module) serverNodeItems(ctx context.Context, iq *router.IQ, node string) (*xml.Element, error) {
	for _, p := range m.snapshot().serverNode {
		items, ok, err := p.DiscoServerNodeItems(ctx, iq.To, iq.From, node)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		q := xml.New(NSItems, "query", "node", node)
		for _, it := range items {
			q.Append(itemElement(it))
		}
		return stanza.Result(iq.Stanza).Append(q), nil
	}
	return nil, stanza.E(stanza.ItemNotFound, "")
}

// itemElement is one disco#items <item/>; empty node and name are left out.
func itemElement(it Item) *xml.Element {
	e := xml.New(NSItems, "item", "jid", it.JID)
	e.SetAttr("node", it.Node)
	e.SetAttr("name", it.Name)
	return e
}

// nodeInfoResult is the disco#info result on node with its identities and features.
func nodeInfoResult(iq *router.IQ, node string, ids []Identity, features []string) *xml.Element {
	q := xml.New(NSInfo, "query", "node", node)
	for _, id := range ids {
		q.Append(identityElement(id))
	}
	for _, f := range features {
		q.Append(xml.New(NSInfo, "feature", "var", f))
	}
	return stanza.Result(iq.Stanza).Append(q)
}

// maySeePresence reports whether contact has a subscription to owner's
// presence: "from" or "both" in owner's roster (RFC 6121 §2.1.2.5).
func (m *Module) maySeePresence(ctx context.Context, owner, contact string) (bool, error) {
	if m.ros == nil {
		return false, nil
	}
	it, ok, err := m.ros.Item(ctx, owner, contact)
	if err != nil || !ok {
		return false, err
	}
	return it.Subscription == storage.SubFrom || it.Subscription == storage.SubBoth, nil
}

func identityElement(id Identity) *xml.Element {
	e := xml.New(NSInfo, "identity", "category", id.Category, "type", id.Type)
	e.SetAttr("name", id.Name)
	if id.Lang != "" {
		e.Attrs = append(e.Attrs, xml.Attr{Space: xml.NSXML, Local: "lang", Value: id.Lang})
	}
	return e
}
