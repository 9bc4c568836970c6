package pep

import (
	"context"

	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
)

// Blocker tells whether an account blocks a JID (XEP-0191; the blocking
// module implements it). An interface so that pep does not import that
// module.
type Blocker interface {
	// Blocks reports whether owner, a local bare JID, blocks peer.
	Blocks(ctx context.Context, owner string, peer jid.JID) (bool, error)
}

// SetBlocker installs the blocklists PEP honours. It must be called before
// serving; without it nothing is blocked. Retrieval needs none of it: the
// router's IQ filter refuses iqs between accounts that block each other.
func (m *Module) SetBlocker(b Blocker) { m.blocker = b }

// cut reports whether events from owner must not reach s because either
// blocks the other (XEP-0191 §3.3: no stanza from the user reaches a
// blocked contact, and none from a contact the user blocks reaches the
// user). A failed lookup counts as blocked, so nothing leaks for want of a
// storage read.
func (m *Module) cut(ctx context.Context, owner jid.JID, s *router.Session) bool {
	if m.blocker == nil || s.JID().Bare() == owner {
		return false
	}
	return m.blocks(ctx, owner.String(), s.JID()) || m.blocks(ctx, s.Bare(), owner)
}

// blocks reports whether the account blocks peer; true if the blocklist
// cannot be read.
func (m *Module) blocks(ctx context.Context, account string, peer jid.JID) bool {
	b, err := m.blocker.Blocks(ctx, account, peer)
	if err != nil {
		m.log.Error("pep: blocklist unavailable", "account", account, "err", err)
		return true
	}
	return b
}
