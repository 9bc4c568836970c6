package blocking

import (
	"context"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// blockedError is §3.3's answer to a user's own stanza to a JID the user
// blocks: not-acceptable with <blocked xmlns='urn:xmpp:blocking:errors'/>.
func blockedError() *stanza.Error {
	return &stanza.Error{Type: stanza.Cancel, Condition: stanza.NotAcceptable, App: xml.New(NSErrors, "blocked")}
}

// check decides the fate of a stanza from a local user to a local
// account: nil lets it pass; blockedError when the sender blocks the
// recipient; service-unavailable when the recipient blocks the sender
// (§3.3: the user then appears offline to the contact).
func (m *Module) check(ctx context.Context, from, to jid.JID, inbound bool) error {
	if from.Bare() == to.Bare() {
		return nil
	}
	if b, err := m.Blocks(ctx, from.Bare().String(), to); err != nil || b {
		if err != nil {
			return err
		}
		return blockedError()
	}
	if !inbound {
		return nil
	}
	if b, err := m.Blocks(ctx, to.Bare().String(), from); err != nil || b {
		if err != nil {
			return err
		}
		return stanza.E(stanza.ServiceUnavailable, "")
	}
	return nil
}

// OutboundMessage implements router.OutboundMessageHandler. It runs before
// the archive module's hooks (registered earlier), so a refused message is
// neither archived nor stored offline nor copied (§3.3). A refused message
// of type error is dropped: the router never answers an error.
func (m *Module) OutboundMessage(ctx context.Context, ev *router.MessageEvent) error {
	if ev.Sender == nil || ev.Self {
		return nil
	}
	return m.check(ctx, ev.From, ev.To, ev.Inbound)
}

// OutboundMessages implements router.BatchOutboundMessageHandler, so that
// the archive's batch hook registered after it still gets batches.
func (m *Module) OutboundMessages(ctx context.Context, evs []*router.MessageEvent, errs []error) {
	for i, ev := range evs {
		errs[i] = m.OutboundMessage(ctx, ev)
	}
}

// FilterIQ implements router.IQFilter: §3.3 for iqs. A get or set to a
// JID the sender blocks is not-acceptable/blocked, one from a JID the
// recipient blocks service-unavailable; results and errors are dropped.
func (m *Module) FilterIQ(ctx context.Context, _ *xml.Element, from, to jid.JID) error {
	return m.check(ctx, from, to, true)
}

// InboundMessage implements router.InboundMessageHandler for messages
// from remote senders (a local sender's were checked by OutboundMessage):
// one from a JID the recipient blocks is refused service-unavailable
// before the archive's inbound hook, registered later, sees it (§3.3).
func (m *Module) InboundMessage(ctx context.Context, ev *router.MessageEvent) error {
	if ev.Sender != nil || ev.Self {
		return nil
	}
	if b, err := m.Blocks(ctx, ev.To.Bare().String(), ev.From); err != nil || b {
		if err != nil {
			return err
		}
		// The router answers no error with an error: one of type
		// error is dropped.
		return stanza.E(stanza.ServiceUnavailable, "")
	}
	return nil
}
