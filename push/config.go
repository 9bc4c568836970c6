package push

import (
	"errors"
	"fmt"
	"time"

	"github.com/skald-xmpp/skald/router"
)

// maxInFlightLimit is the largest max_in_flight: publishes wait in the
// router's table of pending server queries, which PEP's caps queries to
// clients share; push may take half of it.
const maxInFlightLimit = router.MaxPendingQueries / 2

// Config is the [push] section.
type Config struct {
	// Enabled offers XEP-0357 to clients. It costs nothing until a
	// client enables push for its account.
	Enabled bool `toml:"enabled"`
	// IncludeBody sends the last message's body to the app server
	// (last-message-body). Off by default: the body would pass through
	// servers run by the client's developers (XEP-0357 §9).
	IncludeBody bool `toml:"include_body"`
	// IncludeSender sends the last message's sender (last-message-sender).
	// Off by default: it would tell the client's developers who writes to
	// whom (XEP-0357 §9); clients show a generic notification and fetch
	// the message.
	IncludeSender bool `toml:"include_sender"`
	// ImportantBody, when not empty and IncludeBody is off, is sent as
	// last-message-body instead of the body: app servers (iOS ones) that
	// send a visible, high-priority push only when there is a body see one
	// without learning what was said.
	ImportantBody string `toml:"important_body"`
	// MaxRegistrations bounds the (jid, node) pairs one account may
	// enable; enabling one more replaces the least recently enabled.
	MaxRegistrations int `toml:"max_registrations"`
	// CoalesceInterval is the shortest time between two pushes to one
	// registration: messages arriving meanwhile are counted and pushed
	// once when it ends. 0 pushes every message.
	CoalesceInterval time.Duration `toml:"coalesce_interval"`
	// Timeout is how long an app server has to answer a publish.
	Timeout time.Duration `toml:"timeout"`
	// MaxInFlight bounds the publishes waiting for an answer, server-wide:
	// beyond it a push is dropped (and counted) rather than queued. At
	// most half the router's pending-query table (5000).
	MaxInFlight int `toml:"max_in_flight"`
	// MaxErrors is how many errors in a row (other than those that say the
	// registration is gone, which disable it at once, and temporary ones)
	// disable a registration.
	MaxErrors int `toml:"max_errors"`
	// Groupchat says which room messages queued to a dormant session push
	// (doc.go, "Group chats"): "mentions" (the default) those that name
	// the account's nick in the room or its bare JID, "all" every one with
	// a body, "none" none.
	Groupchat string `toml:"groupchat"`
}

// The values of Config.Groupchat.
const (
	GroupchatMentions = "mentions"
	GroupchatAll      = "all"
	GroupchatNone     = "none"
)

// DefaultConfig enables push with privacy-preserving notifications.
func DefaultConfig() Config {
	return Config{
		Enabled:          true,
		MaxRegistrations: 5,
		CoalesceInterval: 10 * time.Second,
		Timeout:          30 * time.Second,
		MaxInFlight:      1000,
		MaxErrors:        16,
		Groupchat:        GroupchatMentions,
	}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	switch {
	case c.MaxRegistrations < 1 || c.MaxRegistrations > 100:
		return errors.New("push: max_registrations must be between 1 and 100")
	case c.CoalesceInterval < 0:
		return errors.New("push: coalesce_interval must not be negative")
	case c.Timeout < time.Second:
		return errors.New("push: timeout must be at least 1s")
	case c.MaxInFlight < 1 || c.MaxInFlight > maxInFlightLimit:
		return fmt.Errorf("push: max_in_flight must be between 1 and %d", maxInFlightLimit)
	case c.MaxErrors < 1:
		return errors.New("push: max_errors must be at least 1")
	case c.Groupchat != GroupchatMentions && c.Groupchat != GroupchatAll && c.Groupchat != GroupchatNone:
		return fmt.Errorf("push: groupchat must be %q, %q or %q", GroupchatMentions, GroupchatAll, GroupchatNone)
	case len(c.ImportantBody) > 1024:
		return errors.New("push: important_body must be at most 1024 bytes")
	}
	return nil
}
