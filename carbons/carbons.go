package carbons

import (
	"context"
	"slices"
	"strings"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// Namespaces.
const (
	NS           = "urn:xmpp:carbons:2"
	NSRules      = "urn:xmpp:carbons:rules:0"
	NSForward    = "urn:xmpp:forward:0"
	NSHints      = "urn:xmpp:hints"
	NSSID        = "urn:xmpp:sid:0"
	NSChatStates = "http://jabber.org/protocol/chatstates"
	NSReceipts   = "urn:xmpp:receipts"
	NSMarkers    = "urn:xmpp:chat-markers:0"
	NSMUCUser    = "http://jabber.org/protocol/muc#user"
	NSConference = "jabber:x:conference"
)

// Module implements Message Carbons.
type Module struct {
	r       *router.Router
	answers *answerable // eligible messages an error may answer (answers.go)
}

// New returns the carbons module; r finds the sessions to copy to.
func New(r *router.Router) *Module { return &Module{r: r, answers: newAnswerable()} }

// Name implements router.Module.
func (*Module) Name() string { return "carbons" }

// DiscoFeatures implements router.FeatureProvider.
func (*Module) DiscoFeatures() (server, account []string) {
	return []string{NS, NSRules}, []string{NS, NSRules}
}

// RegisterIQ implements router.IQRegistrar.
func (m *Module) RegisterIQ(r *router.Router) {
	r.HandleIQ(stanza.TypeSet, NS, "enable", router.ToAccount, toggle(true))
	r.HandleIQ(stanza.TypeSet, NS, "disable", router.ToAccount, toggle(false))
}

func toggle(on bool) router.IQHandlerFunc {
	return func(_ context.Context, iq *router.IQ) (*xml.Element, error) {
		// §4.1, §5.1: only a client of this server, for itself.
		if iq.Session == nil || iq.To != iq.From.Bare() {
			return nil, stanza.E(stanza.NotAllowed, "")
		}
		iq.Session.SetCarbons(on)
		return stanza.Result(iq.Stanza), nil
	}
}

// OutboundMessage implements router.OutboundMessageHandler: sent carbons.
// It runs after the archive module's hook, so ev.SenderArchiveID is set.
func (m *Module) OutboundMessage(_ context.Context, ev *router.MessageEvent) error {
	if ev.Sender == nil || ev.Self {
		return nil
	}
	bare := ev.Sender.Bare()
	peer, id := ev.To.Bare().String(), ev.Stanza.Attr("id")
	remember := false
	if ev.Stanza.Attr("type") == "error" {
		// The client's answer to a message it received.
		if noCopy(ev.Stanza) || !m.answers.answers(bare, peer, id) {
			return nil
		}
	} else {
		if !eligible(ev.Stanza, false) {
			return nil
		}
		remember = true
	}
	var inner *xml.Element
	for _, s := range m.r.Sessions(bare) {
		if s == ev.Sender || !s.Carbons() || !s.Available() {
			continue
		}
		if remember {
			// Only a message something was copied to is remembered: the
			// common case, an account with one session, costs no shared
			// lock and no memory per message.
			m.answers.remember(bare, peer, id)
			remember = false
		}
		if inner == nil {
			// Cloned now: inbound hooks change ev.Stanza later.
			inner = ev.Stanza.Clone()
			inner.RemoveChildren(func(c *xml.Element) bool {
				return c.Is(NSSID, "stanza-id") && c.Attr("by") == bare
			})
			if ev.SenderArchiveID != "" {
				inner.Append(xml.New(NSSID, "stanza-id", "by", bare, "id", ev.SenderArchiveID))
			}
		}
		send(s, wrap("sent", inner, bare, s.JID()))
	}
	return nil
}

// InboundMessage implements router.InboundMessageHandler: it strips
// <private/> before delivery and remembers it (§9).
func (m *Module) InboundMessage(_ context.Context, ev *router.MessageEvent) error {
	if ev.Stanza.RemoveChildren(func(c *xml.Element) bool { return c.Is(NS, "private") }) > 0 {
		ev.NoCopy = true
	}
	return nil
}

// MessageDelivered implements router.DeliveryObserver: received carbons.
func (m *Module) MessageDelivered(_ context.Context, ev *router.MessageEvent, to []*router.Session) {
	if ev.NoCopy {
		return
	}
	bare := ev.To.Bare().String()
	peer, id := ev.From.Bare().String(), ev.Stanza.Attr("id")
	remember := false
	if ev.Stanza.Attr("type") == "error" {
		// A peer's answer to a message the account sent.
		if noCopy(ev.Stanza) || !m.answers.answers(bare, peer, id) {
			return
		}
	} else {
		if !eligible(ev.Stanza, true) {
			return
		}
		remember = true
	}
	var inner *xml.Element
	for _, s := range m.r.Sessions(bare) {
		if s == ev.Sender || !s.Carbons() || !s.Available() || slices.Contains(to, s) {
			continue
		}
		if remember {
			m.answers.remember(bare, peer, id) // as in OutboundMessage
			remember = false
		}
		if inner == nil {
			// One copy for all wrappers: the original is already queued
			// to the targets and must not be shared with new parents.
			inner = ev.Stanza.Clone()
		}
		send(s, wrap("received", inner, bare, s.JID()))
	}
}

// MessageBounced implements router.BounceObserver: an error the server
// sends a client in answer to an eligible message it sent is copied to
// the account's other sessions as a received carbon (§6, rules:0).
func (m *Module) MessageBounced(original, reply *xml.Element, to *router.Session) {
	if !eligible(original, false) {
		return
	}
	bare := to.JID().Bare().String()
	var inner *xml.Element
	for _, s := range m.r.Sessions(bare) {
		if s == to || !s.Carbons() || !s.Available() {
			continue
		}
		if inner == nil {
			inner = reply.Clone()
		}
		send(s, wrap("received", inner, bare, s.JID()))
	}
}

// wrap builds a carbon copy (§7, §8). inner may be shared by several
// copies, which therefore must never be modified.
func wrap(kind string, inner *xml.Element, bare string, to jid.JID) *xml.Element {
	msg := xml.New(stanza.NSClient, "message", "from", bare, "to", to.String())
	msg.SetAttr("type", inner.Attr("type"))
	return msg.Append(xml.New(NS, kind).Append(xml.New(NSForward, "forwarded").Append(inner)))
}

func send(s *router.Session, st *xml.Element) {
	// A full queue is the transport's business (it drops the slow
	// session); a lost copy is not an error of the original message.
	_ = s.Send(st)
}

// eligible applies the §6 rules to a message; received selects the rules
// for the recipient's side.
func eligible(m *xml.Element, received bool) bool {
	typ := m.Attr("type")
	switch typ {
	case "groupchat", "headline", "error":
		return false
	}
	imPayload := false
	for _, c := range m.Elements() {
		switch {
		case c.Is(NS, "private"), c.Is(NSHints, "no-copy"):
			return false
		case c.Space == NS: // <sent/>, <received/>: already a carbon
			return false
		case c.Local == "result" && strings.HasPrefix(c.Space, "urn:xmpp:mam:"):
			return false
		case c.Space == NSChatStates, c.Space == NSReceipts, c.Space == NSMarkers:
			imPayload = true
		}
	}
	mucUser := m.Child(NSMUCUser, "x")
	if m.Child(NSConference, "x") != nil || mucUser.Child(NSMUCUser, "invite") != nil {
		return true
	}
	if received && mucUser != nil {
		// A MUC private message: the room copies it to every joined
		// client already.
		return false
	}
	return typ == "chat" || imPayload || m.Child(m.Space, "body") != nil
}
