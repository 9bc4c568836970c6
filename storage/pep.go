package storage

import "context"

// PEP access models (XEP-0060 §4.5) that Skald's PEP service supports.
const (
	AccessPresence  = "presence"  // contacts with a "from" or "both" subscription
	AccessOpen      = "open"      // anyone
	AccessWhitelist = "whitelist" // only the owner (Skald keeps no whitelist of others)
)

// send_last_published_item values (XEP-0060 §16.4.3).
const (
	SendLastNever            = "never"
	SendLastOnSub            = "on_sub"
	SendLastOnSubAndPresence = "on_sub_and_presence"
)

// PEPNodeConfig is the configuration of one PEP node (the
// pubsub#node_config fields Skald supports, XEP-0060 §16.4.3).
type PEPNodeConfig struct {
	AccessModel           string // AccessPresence, AccessOpen or AccessWhitelist
	PersistItems          bool
	MaxItems              int // > 0; the service caps "max" to its own limit
	SendLastPublishedItem string
	NotifyRetract         bool
	DeliverPayloads       bool
}

// PEPNode is one node of an account's PEP service with its configuration.
type PEPNode struct {
	Name   string
	Config PEPNodeConfig
}

// PEPItem is one published item: its id, unique within the node, and its
// payload, one XML element serialised with its namespace declared
// (internal/xml Element.Bytes("")).
type PEPItem struct {
	ID      string
	Payload []byte
}

// PEPItemBytes is what one item counts against its owner's PEP quota:
// the bytes of its id and of its payload.
func PEPItemBytes(it PEPItem) int { return len(it.ID) + len(it.Payload) }

// PEP stores the Personal Eventing Protocol service of each account
// (XEP-0163): its nodes with their configuration and each node's items in
// publish order. It is part of Store: every backend has it, and
// DeleteUser removes the account's nodes and items.
//
// Owners are normalised bare JIDs, nodes any non-empty string. Items are
// ordered by publication: publishing an id that exists replaces the item
// and makes it the newest (XEP-0060 §7.1.2).
type PEP interface {
	// PEPNodes returns the owner's nodes sorted by name.
	PEPNodes(ctx context.Context, owner string) ([]PEPNode, error)
	// PEPNode returns one node, or ErrNotFound.
	PEPNode(ctx context.Context, owner, node string) (PEPNode, error)
	// CreatePEPNode creates a node: ErrExists if it exists,
	// ErrQuotaExceeded if the owner has maxNodes nodes already (maxNodes
	// <= 0: no limit).
	CreatePEPNode(ctx context.Context, owner string, n PEPNode, maxNodes int) error
	// ConfigurePEPNode replaces a node's configuration and drops the
	// oldest items beyond its new MaxItems; ErrNotFound if there is no
	// such node.
	ConfigurePEPNode(ctx context.Context, owner, node string, c PEPNodeConfig) error
	// DeletePEPNode removes a node and its items; ErrNotFound if there is
	// no such node.
	DeletePEPNode(ctx context.Context, owner, node string) error
	// PublishPEPItem stores it as the node's newest item, replacing an
	// item with the same id, then drops the oldest items beyond the node's
	// MaxItems, in one transaction; ErrNotFound if there is no such node.
	// With maxBytes > 0, if the owner's items of all nodes would then
	// total more than maxBytes (PEPItemBytes each), nothing changes and
	// the error is ErrQuotaExceeded; the check and the write are atomic
	// against the owner's other publishes.
	PublishPEPItem(ctx context.Context, owner, node string, it PEPItem, maxBytes int) error
	// RetractPEPItem removes one item and reports whether it was there;
	// ErrNotFound if there is no such node.
	RetractPEPItem(ctx context.Context, owner, node, id string) (bool, error)
	// PEPItems returns a node's items, newest first: those with the given
	// ids if ids is not empty (in publish order, unknown ids skipped),
	// else the newest max of them (max <= 0: all). ErrNotFound if there is
	// no such node.
	PEPItems(ctx context.Context, owner, node string, ids []string, max int) ([]PEPItem, error)
}
