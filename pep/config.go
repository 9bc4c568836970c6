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
}

// DefaultConfig allows 1000 items per node and 100 nodes per account:
// far above what OMEMO, avatars and bookmarks need.
func DefaultConfig() Config { return Config{MaxItems: 1000, MaxNodes: 100} }

// Validate checks the limits are positive.
func (c Config) Validate() error {
	if c.MaxItems < 1 {
		return errors.New("max_items must be at least 1")
	}
	if c.MaxNodes < 1 {
		return errors.New("max_nodes must be at least 1")
	}
	return nil
}

// capsQueryTimeout is how long the server waits for a client's answer to
// its disco#info query on an unknown caps ver.
const capsQueryTimeout = 30 * time.Second
