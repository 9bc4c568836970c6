package router

import (
	"context"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
)

// Module is a feature plugged into the router. Beyond Name, a module
// implements whichever of the optional interfaces below it needs; Register
// discovers them, and the order of registration is the order in which
// hooks run.
type Module interface {
	Name() string
}

// IQRegistrar registers a module's iq handlers.
type IQRegistrar interface {
	RegisterIQ(r *Router)
}

// FeatureProvider lists disco#info features (XEP-0030): those the server
// domain supports and those every account's bare JID supports.
type FeatureProvider interface {
	DiscoFeatures() (server, account []string)
}

// ServerInfoProvider adds to the server domain's disco#info (XEP-0030)
// identities beside the server's own, and extended information forms
// (XEP-0128): <x xmlns='jabber:x:data' type='result'/> elements with a
// hidden FORM_TYPE field. Both are part of the XEP-0115 caps hash, so
// they must not change while the server runs.
type ServerInfoProvider interface {
	DiscoServerInfo() (identities []Identity, forms []*xml.Element)
}

// Identity is a disco#info identity (XEP-0030 §3.1, registry categories).
type Identity struct {
	Category, Type, Name string
}

// IQ is an iq get or set addressed to the server or to an account's bare
// JID, which the server answers itself (RFC 6120 §10.3.3).
type IQ struct {
	Stanza  *xml.Element
	Payload *xml.Element // the single child element
	From    jid.JID      // sender's full JID
	// To is the addressee: the server's domain or a local bare JID (with
	// no account behind it only for ToNoAccount handlers). An iq without
	// 'to' from a client is addressed to the client's own bare JID.
	To      jid.JID
	Session *Session // the sending session; nil if not from a local client
	// AfterReply, when a handler sets it, runs once the reply has been
	// queued for the sender: what must follow the answer on the wire (an
	// account cancellation ends the account's streams after its result).
	AfterReply func()
}

// Type is "get" or "set".
func (iq *IQ) Type() string { return iq.Stanza.Attr("type") }

// IQHandler answers one iq. It returns the full iq result, or an error: a
// *stanza.Error is sent as it is, anything else is logged and answered
// with internal-server-error. It may send other stanzas to iq.Session
// (e.g. MAM results) before returning; the reply always goes last, and the
// router sends exactly one.
type IQHandler interface {
	HandleIQ(ctx context.Context, iq *IQ) (*xml.Element, error)
}

// IQHandlerFunc adapts a function to IQHandler.
type IQHandlerFunc func(ctx context.Context, iq *IQ) (*xml.Element, error)

// HandleIQ calls f.
func (f IQHandlerFunc) HandleIQ(ctx context.Context, iq *IQ) (*xml.Element, error) {
	return f(ctx, iq)
}

// Target says which addressees an iq handler serves.
type Target uint8

// Targets.
const (
	ToServer  Target = 1 << iota // the server domain
	ToAccount                    // a local account's bare JID (own or another's)
	// ToNoAccount is a bare JID on a served domain with no account behind
	// it. Only handlers that must answer for such an address register for
	// it (disco#items: an empty list, XEP-0030 §8); an iq to one that no
	// handler takes is answered service-unavailable, as for any account.
	ToNoAccount
)

// MessageEvent is a message on its way through the router.
type MessageEvent struct {
	Stanza *xml.Element // 'from' already stamped; hooks may modify it
	From   jid.JID
	To     jid.JID
	Sender *Session // the local sending session; nil if not from a local client
	// Self is true when sender and recipient are the same account: the
	// message is archived once, in the outbound step.
	Self bool
	// Inbound is set by the router, before any hook runs, when the
	// recipient is an existing local account: the inbound hooks and
	// delivery follow the outbound hooks. The router then holds the
	// recipient's ordering lock from before the outbound hooks until
	// delivery ends, so an outbound hook may do the recipient's share of
	// its work ahead and leave the result for its inbound hook with
	// SetValue (the archive module writes both archives in one durable
	// transaction). Work done ahead stands even if a later outbound hook
	// fails, so outbound hooks registered after such a module must not fail
	// for reasons the inbound step would not.
	Inbound bool
	// Remote is set by the router, before any hook runs, when the
	// recipient is on a domain the router does not serve and a remote
	// transport is installed (SetRemote): after the outbound hooks the
	// message goes to the transport, with no inbound step.
	Remote bool

	// SenderArchiveID is the id the message got in the sender's archive
	// (set by the archive module in the outbound step, "" if not archived).
	SenderArchiveID string
	// Archived is set when the recipient's archive holds the message; such
	// a message is never bounced for want of offline storage.
	Archived bool
	// NoCopy is set by an inbound hook when the message must not be copied
	// to the recipient's other resources: the carbons module strips
	// XEP-0280 <private/> before delivery and remembers it here.
	NoCopy bool

	values []eventValue
}

type eventValue struct{ key, v any }

// Value returns what a hook attached to the event under key, or nil.
func (ev *MessageEvent) Value(key any) any {
	for _, kv := range ev.values {
		if kv.key == key {
			return kv.v
		}
	}
	return nil
}

// SetValue attaches v to the event under key, for a later hook of the same
// module (an outbound hook leaving work done ahead for its inbound hook).
// Use an unexported key type, as with context values. An event is handled
// by one goroutine at a time: no locking.
func (ev *MessageEvent) SetValue(key, v any) {
	for i := range ev.values {
		if ev.values[i].key == key {
			ev.values[i].v = v
			return
		}
	}
	ev.values = append(ev.values, eventValue{key, v})
}

// IQFilter vets an iq a local client sends to another local account that
// exists (its bare JID, or a bound full JID) before the router answers or
// forwards it. An iq of type get or set is refused with the error
// returned; a result or error is dropped silently when err is non-nil
// (RFC 6120 §8.3.1: an error is never answered with an error). The
// blocking module uses it (XEP-0191 §3.3).
type IQFilter interface {
	FilterIQ(ctx context.Context, st *xml.Element, from, to jid.JID) error
}

// OutboundMessageHandler sees a message a local user sends, before it is
// routed. An error aborts routing and is returned to the sender. For a
// local recipient (ev.Inbound) it runs under the recipient's ordering lock.
type OutboundMessageHandler interface {
	OutboundMessage(ctx context.Context, ev *MessageEvent) error
}

// BatchOutboundMessageHandler is an OutboundMessageHandler that can also
// take several messages at once: messages one client sent back to back are
// routed together (Router.HandleMessagesFromClient), and a module that
// writes them to storage can do so in one transaction. The batch form is
// used only while every outbound hook registered before the module takes
// batches too; otherwise OutboundMessage is called per message.
//
// OutboundMessages must do for each event exactly what OutboundMessage
// would, in order. errs has one slot per event, nil on entry; the handler
// sets errs[i] for a message that must go no further (it is bounced with
// that error). Under the same lock as OutboundMessage: the stripes of all
// the batch's local recipients.
type BatchOutboundMessageHandler interface {
	OutboundMessageHandler
	OutboundMessages(ctx context.Context, evs []*MessageEvent, errs []error)
}

// InboundMessageHandler sees a message to a local account that exists,
// before delivery. An error aborts delivery and is returned to the sender.
type InboundMessageHandler interface {
	InboundMessage(ctx context.Context, ev *MessageEvent) error
}

// DeliveryObserver learns which sessions a message to a local account was
// delivered to (empty when it went to offline storage).
type DeliveryObserver interface {
	MessageDelivered(ctx context.Context, ev *MessageEvent, to []*Session)
}

// BounceObserver learns of each error the server itself sends a local
// session in answer to a message the session sent (the recipient does
// not exist, a filter refused it, the remote domain cannot be reached):
// original is that message, reply the error as queued to the session.
// Both must not be modified.
type BounceObserver interface {
	MessageBounced(original, reply *xml.Element, to *Session)
}

// DetachObserver learns that a session's connection dropped while stanzas
// it queued were not acknowledged (XEP-0198), and that the session waits
// for resumption holding them: its client may never have read them.
// queued are those stanzas, oldest first.
type DetachObserver interface {
	SessionDetached(ctx context.Context, s *Session, queued []*xml.Element)
}

// OfflineStorer keeps a message for an account with no session that can
// take it. It reports whether the message was stored.
type OfflineStorer interface {
	StoreOffline(ctx context.Context, ev *MessageEvent) (bool, error)
}

// PresenceHandler owns presence stanzas sent by local clients (RFC 6121
// §3-4): broadcasts, probes, subscriptions, directed presence.
type PresenceHandler interface {
	HandlePresence(ctx context.Context, s *Session, p *xml.Element, to jid.JID) error
}

// SessionObserver learns of sessions binding and ending.
type SessionObserver interface {
	SessionBound(ctx context.Context, s *Session)
	SessionEnded(ctx context.Context, s *Session)
}

// AvailabilityObserver learns when a session sends its initial available
// presence (offline messages are delivered then).
type AvailabilityObserver interface {
	SessionAvailable(ctx context.Context, s *Session)
}

// PriorityRaisedObserver learns when an available session's priority goes
// from negative to non-negative without a new initial presence: from then
// on it takes messages to the bare JID (RFC 6121 §8.5.2.1.1), so the
// offline messages it could not take at its initial presence are due.
type PriorityRaisedObserver interface {
	SessionPriorityRaised(ctx context.Context, s *Session)
}

// UnavailabilityObserver learns when a bound session sends broadcast
// unavailable presence (RFC 6121 §4.5.2): the services it is present at
// (MUC rooms), which presence's directed-presence bookkeeping does not
// reach, treat it as gone (§4.6.3).
type UnavailabilityObserver interface {
	SessionUnavailable(ctx context.Context, s *Session)
}

// UnavailablePresenceObserver sees the broadcast unavailable presence a
// local client sent (RFC 6121 §4.5.2), after the presence module handled
// it without error: the session is unavailable by then, so an observer
// can tell whether the account still has an available resource.
// lastactivity records the logout time and status text (XEP-0012 §4).
type UnavailablePresenceObserver interface {
	UnavailablePresenceHandled(ctx context.Context, s *Session, p *xml.Element)
}

// Service is a module that hosts service domains of its own (XEP-0045's
// conference.example.com; external components are no Service but a
// ComponentRouter, see component.go). Every stanza a local client
// or a remote server addresses to such a domain or to a JID on it
// (room@service, room@service/nick) goes to HandleServiceStanza instead
// of the delivery rules, the presence module or the iq table: the service
// is the addressee. A remote sender comes with a transient session of its
// full JID whose Send goes back over the remote transport, and the
// service's stanzas to remote JIDs go through SendTo; a bounce of one
// comes back to HandleServiceStanza as the recipient's error reply. A returned error is answered to the sender as for any stanza
// (a *stanza.Error as it is); the service answers everything else itself,
// an iq get or set exactly once, through Router.SendTo.
type Service interface {
	ServiceDomains() []string
	HandleServiceStanza(ctx context.Context, s *Session, st *xml.Element, to jid.JID) error
}

// PresenceRewriter may change the available presence a local client
// sends, broadcast or directed (to a contact, a room, any JID), before
// anything routes it: vcard puts the XEP-0153 photo hash in it on the
// user's behalf (XEP-0398 §4). It changes p in place, quickly (no waiting
// for a client), and never sends it.
type PresenceRewriter interface {
	RewritePresence(ctx context.Context, s *Session, p *xml.Element)
}

// PresenceObserver sees every available presence a local client
// broadcasts (no 'to'), before the presence module handles it, so that
// what it learns (XEP-0115 capabilities) is known when the availability
// observers run. It must not send the presence on.
type PresenceObserver interface {
	BroadcastPresence(ctx context.Context, s *Session, p *xml.Element)
}

// SubscriptionObserver learns when a contact has just been allowed to see
// an account's presence (RFC 6121 §3.1.5: the account approved the
// contact's request, or a pre-approval answered it), right after the
// account's presence went to the contact. pep sends the account's last
// published items then (XEP-0060 send_last_published_item on_sub).
type SubscriptionObserver interface {
	PresenceSubscribed(ctx context.Context, owner, contact jid.JID)
}
