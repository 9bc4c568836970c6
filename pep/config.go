package pep

import (
	"errors"
	"time"
)

// Config is the [pep] section.
type Config struct {
	// MaxItems caps a node's pubsub#max_items; "max" means this many.
	MaxItems int `toml:"max_items"`
	// MaxNodes caps the nodes of one account.
	MaxNodes int `toml:"max_nodes"`
	// MaxBytesPerAccount caps the bytes (item ids and payloads) of all
	// the items of one account's nodes: without it an account could store
	// max_nodes × max_items stanzas of the largest size.
	MaxBytesPerAccount int `toml:"max_bytes_per_account"`
	// MaxItemBytes caps one item (id and payload).
	MaxItemBytes int `toml:"max_item_bytes"`
	// MaxReplyBytes bounds the items of one items reply (XEP-0060 §6.5):
	// when the requested items do not fit, the newest that do are sent
	// with an RSM <set/> saying how many there are (§6.5.4).
	MaxReplyBytes int `toml:"max_reply_bytes"`
}

// DefaultConfig allows 1000 items per node and 100 nodes per account,
// far above what OMEMO, avatars and bookmarks need, within 10 MiB per
// account; one item may take 128 KiB (an avatar's data node holds the
// image in base64) and one items reply 256 KiB, the default
// max_stanza_bytes, so a client that sends with the server's limits can
// receive every single item.
func DefaultConfig() Config {
	return Config{MaxItems: 1000, MaxNodes: 100, MaxBytesPerAccount: 10 << 20, MaxItemBytes: 128 << 10, MaxReplyBytes: 256 << 10}
}

// replyItemOverhead is what an item's <item id=”></item> wrapper adds
// to its id and payload in an items reply, rounded up.
const replyItemOverhead = 32

// Validate checks the limits are positive and consistent: an item the
// service accepts fits the quota and, alone, a reply.
func (c Config) Validate() error {
	switch {
	case c.MaxItems < 1:
		return errors.New("max_items must be at least 1")
	case c.MaxNodes < 1:
		return errors.New("max_nodes must be at least 1")
	case c.MaxItemBytes < 1:
		return errors.New("max_item_bytes must be at least 1")
	case c.MaxBytesPerAccount < c.MaxItemBytes:
		return errors.New("max_bytes_per_account must be at least max_item_bytes")
	case c.MaxReplyBytes < c.MaxItemBytes+replyItemOverhead:
		return errors.New("max_reply_bytes must exceed max_item_bytes by at least 32")
	}
	return nil
}

// capsQueryTimeout is how long the server waits for a client's answer to
// its disco#info query on an unknown caps ver.
const capsQueryTimeout = 30 * time.Second
