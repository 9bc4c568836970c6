package presence

import (
	"context"
	"errors"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// Stored subscription requests. A request that waits for an answer is a
// pending-in roster item, and RFC 6121 §3.1.3 has the contact's server
// "keep a record of the stanza" and deliver it to each session that
// becomes available until the contact answers: the stanza, with its
// <status/> and extensions (a XEP-0172 nick), not a bare type='subscribe'.
// The stanza is kept as a storage document of kind RequestKind, keyed by
// the requester's bare JID, and emptied once the request is answered or
// withdrawn (the backends have no delete; an account's documents go with
// it). A request too large to keep, or over the account's quota, is
// still pending and delivered without its content.

// RequestKind is the storage.Documents kind of stored requests.
const RequestKind = "subscription-request"

// Bounds on what other accounts and remote servers can make us store: one
// request, and all of an account's requests together.
const (
	maxRequestBytes  = 4 << 10
	maxRequestsBytes = 64 << 10
)

// SetRequestStore installs where pending subscription requests are kept.
// Without one (nil), requests are delivered to later sessions without
// their content. It must be called before serving.
func (m *Module) SetRequestStore(d storage.Documents) { m.requests = d }

// keepRequest stores st, the subscription request peer sent owner, now
// pending.
func (m *Module) keepRequest(ctx context.Context, owner, peer jid.JID, st *xml.Element) {
	if m.requests == nil {
		return
	}
	b := st.Bytes("")
	if len(b) > maxRequestBytes {
		m.dropRequest(ctx, owner, peer.String()) // an older one must not stand in for it
		return
	}
	err := m.requests.PutDocuments(ctx, owner.String(), RequestKind, []storage.Document{{Key: peer.String(), XML: b}}, maxRequestsBytes)
	if errors.Is(err, storage.ErrQuotaExceeded) {
		m.dropRequest(ctx, owner, peer.String())
		return
	}
	if err != nil {
		m.log.Error("presence: keeping a subscription request failed", "owner", owner.String(), "err", err)
	}
}

// dropRequest empties the stored request from peer, answered or withdrawn.
func (m *Module) dropRequest(ctx context.Context, owner jid.JID, peer string) {
	if m.requests == nil {
		return
	}
	if err := m.requests.PutDocuments(ctx, owner.String(), RequestKind, []storage.Document{{Key: peer}}, 0); err != nil {
		m.log.Error("presence: dropping a subscription request failed", "owner", owner.String(), "err", err)
	}
}

// pendingRequest is the request peer's pending-in item stands for, as it
// came if it was kept, addressed to user.
func (m *Module) pendingRequest(ctx context.Context, user jid.JID, peer string) *xml.Element {
	st := xml.New(stanza.NSClient, "presence", "from", peer, "to", user.String(), "type", typeSubscribe)
	if m.requests == nil {
		return st
	}
	b, err := m.requests.Document(ctx, user.String(), RequestKind, peer)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			m.log.Error("presence: reading a subscription request failed", "owner", user.String(), "err", err)
		}
		return st
	}
	els, err := xml.ParseElements(b, xml.Limits{})
	if err != nil || len(els) != 1 {
		return st
	}
	kept := els[0]
	if !kept.Is(stanza.NSClient, "presence") || kept.Attr("type") != typeSubscribe || kept.Attr("from") != peer {
		return st
	}
	kept.SetAttr("to", user.String())
	return kept
}
