package router

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/stream"
)

// UserDirectory tells whether a local account exists.
type UserDirectory interface {
	UserExists(ctx context.Context, bare string) (bool, error)
}

// Config configures a Router.
type Config struct {
	Domains []string
	Users   UserDirectory
	Log     *slog.Logger
}

type iqKey struct{ typ, space, local string }

type iqRoute struct {
	targets Target
	h       IQHandler
}

// Router routes stanzas between local sessions and modules.
type Router struct {
	log     *slog.Logger
	domains map[string]bool
	users   UserDirectory

	modules         []Module
	iq              map[iqKey][]iqRoute
	iqFilters       []IQFilter
	outbound        []OutboundMessageHandler
	inbound         []InboundMessageHandler
	delivered       []DeliveryObserver
	bounceObservers []BounceObserver
	detachObs       []DetachObserver
	groupObs        []GroupchatObserver
	offline         OfflineStorer
	presence        PresenceHandler
	remote          RemoteRouter    // nil: no federation, see remote.go
	comp            ComponentRouter // nil: no external components, see component.go
	components      map[string]bool // component domains (SetComponents)
	sessObs         []SessionObserver
	availObs        []AvailabilityObserver
	prioRaised      []PriorityRaisedObserver
	unavail         []UnavailabilityObserver
	// unavailDone see broadcast unavailable presence once handled.
	unavailDone []UnavailablePresenceObserver
	services    map[string]Service // hosted service domain -> its module
	presObs     []PresenceObserver
	presRewrite []PresenceRewriter
	remPresObs  []RemotePresenceObserver
	subObs      []SubscriptionObserver

	queries pendingQueries // iqs the server sent clients, see serveriq.go

	mu       sync.RWMutex                   // guards sessions only; never held across calls out
	sessions map[string]map[string]*Session // bare JID -> resource -> session

	stripes [256]sync.Mutex // per-recipient ordering of archive and delivery, see routeMessages
	// batchedOutbound is how many outbound hooks, from the first, take
	// batches (BatchOutboundMessageHandler).
	batchedOutbound int
}

// New returns a router for the configured domains.
func New(cfg Config) *Router {
	r := &Router{
		log:      cfg.Log,
		domains:  make(map[string]bool),
		users:    cfg.Users,
		iq:       make(map[iqKey][]iqRoute),
		services: make(map[string]Service),
		sessions: make(map[string]map[string]*Session),
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	for _, d := range cfg.Domains {
		r.domains[d] = true
	}
	return r
}

// Register adds modules in order. It must be called before serving.
func (r *Router) Register(mods ...Module) {
	for _, m := range mods {
		r.modules = append(r.modules, m)
		if x, ok := m.(IQRegistrar); ok {
			x.RegisterIQ(r)
		}
		if x, ok := m.(IQFilter); ok {
			r.iqFilters = append(r.iqFilters, x)
		}
		if x, ok := m.(OutboundMessageHandler); ok {
			r.outbound = append(r.outbound, x)
			if _, batch := x.(BatchOutboundMessageHandler); batch && r.batchedOutbound == len(r.outbound)-1 {
				r.batchedOutbound++
			}
		}
		if x, ok := m.(InboundMessageHandler); ok {
			r.inbound = append(r.inbound, x)
		}
		if x, ok := m.(DeliveryObserver); ok {
			r.delivered = append(r.delivered, x)
		}
		if x, ok := m.(BounceObserver); ok {
			r.bounceObservers = append(r.bounceObservers, x)
		}
		if x, ok := m.(DetachObserver); ok {
			r.detachObs = append(r.detachObs, x)
		}
		if x, ok := m.(GroupchatObserver); ok {
			r.groupObs = append(r.groupObs, x)
		}
		if x, ok := m.(OfflineStorer); ok {
			r.offline = x
		}
		if x, ok := m.(PresenceHandler); ok {
			r.presence = x
		}
		if x, ok := m.(SessionObserver); ok {
			r.sessObs = append(r.sessObs, x)
		}
		if x, ok := m.(AvailabilityObserver); ok {
			r.availObs = append(r.availObs, x)
		}
		if x, ok := m.(PriorityRaisedObserver); ok {
			r.prioRaised = append(r.prioRaised, x)
		}
		if x, ok := m.(UnavailabilityObserver); ok {
			r.unavail = append(r.unavail, x)
		}
		if x, ok := m.(UnavailablePresenceObserver); ok {
			r.unavailDone = append(r.unavailDone, x)
		}
		if x, ok := m.(Service); ok {
			for _, d := range x.ServiceDomains() {
				if r.domains[d] || r.services[d] != nil {
					panic("router: service domain " + d + " is served twice")
				}
				r.services[d] = x
			}
		}
		if x, ok := m.(PresenceObserver); ok {
			r.presObs = append(r.presObs, x)
		}
		if x, ok := m.(PresenceRewriter); ok {
			r.presRewrite = append(r.presRewrite, x)
		}
		if x, ok := m.(RemotePresenceObserver); ok {
			r.remPresObs = append(r.remPresObs, x)
		}
		if x, ok := m.(SubscriptionObserver); ok {
			r.subObs = append(r.subObs, x)
		}
	}
}

// Modules returns the registered modules in order.
func (r *Router) Modules() []Module { return r.modules }

// HandleIQ registers h for iqs of type typ ("get" or "set") whose payload
// is {space}local, sent to the given targets.
func (r *Router) HandleIQ(typ, space, local string, targets Target, h IQHandler) {
	k := iqKey{typ, space, local}
	r.iq[k] = append(r.iq[k], iqRoute{targets, h})
}

// IsLocalDomain reports whether the router serves domain d.
func (r *Router) IsLocalDomain(d string) bool { return r.domains[d] }

// Domains returns the served domains, sorted.
func (r *Router) Domains() []string {
	out := make([]string, 0, len(r.domains))
	for d := range r.domains {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// ServiceDomains returns the hosted service domains (Service), sorted.
func (r *Router) ServiceDomains() []string {
	out := make([]string, 0, len(r.services))
	for d := range r.services {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// IsServiceDomain reports whether a module hosts domain d (Service).
func (r *Router) IsServiceDomain(d string) bool { return r.services[d] != nil }

// Bind adds a session. A session already bound to the same full JID is
// replaced: it is closed with a conflict stream error (RFC 6120 §7.7.2.2).
func (r *Router) Bind(ctx context.Context, s *Session) {
	r.mu.Lock()
	res := r.sessions[s.bare]
	if res == nil {
		res = make(map[string]*Session)
		r.sessions[s.bare] = res
	}
	old := res[s.jid.Resource()]
	res[s.jid.Resource()] = s
	r.mu.Unlock()
	if old != nil {
		old.out.Close(string(stream.Conflict))
		r.ended(ctx, old)
	}
	for _, o := range r.sessObs {
		o.SessionBound(ctx, s)
	}
}

// Unbind removes a session if it is still the one bound to its JID, and
// tells the observers (the presence module broadcasts unavailable).
func (r *Router) Unbind(ctx context.Context, s *Session) {
	r.mu.Lock()
	res := r.sessions[s.bare]
	current := res[s.jid.Resource()] == s
	if current {
		delete(res, s.jid.Resource())
		if len(res) == 0 {
			delete(r.sessions, s.bare)
		}
	}
	r.mu.Unlock()
	if current {
		r.ended(ctx, s)
	}
}

func (r *Router) ended(ctx context.Context, s *Session) {
	for _, o := range r.sessObs {
		o.SessionEnded(ctx, s)
	}
}

// Session returns the session bound to a full JID, or nil.
func (r *Router) Session(full jid.JID) *Session {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.sessions[full.Bare().String()][full.Resource()]
}

// Sessions returns the sessions of an account, ordered by resource.
func (r *Router) Sessions(bare string) []*Session {
	r.mu.RLock()
	res := r.sessions[bare]
	out := make([]*Session, 0, len(res))
	for _, s := range res {
		out = append(out, s)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].jid.Resource() < out[j].jid.Resource() })
	return out
}

// NotifyAvailable is called by the presence module when a session sends
// its initial available presence.
func (r *Router) NotifyAvailable(ctx context.Context, s *Session) {
	for _, o := range r.availObs {
		o.SessionAvailable(ctx, s)
	}
}

// NotifyPriorityRaised is called by the presence module when an
// available session's priority goes from negative to non-negative.
func (r *Router) NotifyPriorityRaised(ctx context.Context, s *Session) {
	for _, o := range r.prioRaised {
		o.SessionPriorityRaised(ctx, s)
	}
}

// NotifyUnavailable is called by the presence module when a session sends
// broadcast unavailable presence.
func (r *Router) NotifyUnavailable(ctx context.Context, s *Session) {
	for _, o := range r.unavail {
		o.SessionUnavailable(ctx, s)
	}
}

// NotifySubscribed is called by the presence module when contact (a bare
// JID, local or remote) has just been allowed to see owner's presence.
func (r *Router) NotifySubscribed(ctx context.Context, owner, contact jid.JID) {
	for _, o := range r.subObs {
		o.PresenceSubscribed(ctx, owner, contact)
	}
}

// UserExists reports whether a local account exists.
func (r *Router) UserExists(ctx context.Context, bare string) (bool, error) {
	return r.users.UserExists(ctx, bare)
}

// HandleFromClient processes one stanza from a bound client session. Stanza
// errors are answered to the client here; the returned error is non-nil
// only when the stream must end (a *stream.Error) or the context ended.
func (r *Router) HandleFromClient(ctx context.Context, s *Session, st *xml.Element) error {
	if st.Local == "message" {
		_, err := r.HandleMessagesFromClient(ctx, s, []*xml.Element{st})
		return err
	}
	to, err := r.stampAddresses(s, st)
	if err != nil {
		var se *stream.Error
		if errors.As(err, &se) {
			return se
		}
		r.replyError(s, st, r.stanzaError(err, st))
		return nil
	}
	if st.Local == "presence" && st.Attr("type") == "" {
		for _, w := range r.presRewrite {
			w.RewritePresence(ctx, s, st)
		}
	}
	switch svc := r.services[to.Domain()]; {
	case st.Local != "presence" && st.Local != "iq":
		return stream.New(stream.UnsupportedStanzaType, "")
	case svc != nil:
		err = svc.HandleServiceStanza(ctx, s, st, to)
	case st.Local == "presence":
		if to.IsZero() && st.Attr("type") == "" {
			for _, o := range r.presObs {
				o.BroadcastPresence(ctx, s, st)
			}
		}
		if r.presence != nil {
			err = r.presence.HandlePresence(ctx, s, st, to)
		}
		if err == nil && to.IsZero() && st.Attr("type") == "unavailable" {
			for _, o := range r.unavailDone {
				o.UnavailablePresenceHandled(ctx, s, st)
			}
		}
	default:
		err = r.routeIQ(ctx, s, st, to)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.replyError(s, st, r.stanzaError(err, st))
	}
	return nil
}

// stampAddresses checks and stamps a client stanza's addresses (RFC 6120
// §8.1.2.1: the server stamps 'from'; a client may only claim its own full
// or bare JID) and returns the parsed 'to' (zero if absent). A bad 'from'
// is a *stream.Error, a bad 'to' a *stanza.Error.
func (r *Router) stampAddresses(s *Session, st *xml.Element) (jid.JID, error) {
	if from := st.Attr("from"); from != "" {
		f, err := jid.Parse(from)
		if err != nil || (f != s.jid && f != s.jid.Bare()) {
			return jid.JID{}, stream.New(stream.InvalidFrom, "")
		}
	}
	st.SetAttr("from", s.jid.String())
	var to jid.JID
	if st.HasAttr("to") {
		// An empty 'to' is no address either (RFC 7622 §3.2); a stanza
		// for the server has no 'to' at all (RFC 6120 §8.1.1.1).
		var err error
		if to, err = jid.Parse(st.Attr("to")); err != nil {
			return jid.JID{}, stanza.E(stanza.JIDMalformed, "")
		}
		st.SetAttr("to", to.String())
	}
	return to, nil
}

// stanzaError turns a handler error into the stanza error sent on the
// wire; internal causes are logged, never sent.
func (r *Router) stanzaError(err error, st *xml.Element) *stanza.Error {
	var se *stanza.Error
	if errors.As(err, &se) {
		return se
	}
	r.log.Error("stanza handling failed", "kind", st.Local, "from", st.Attr("from"), "err", err)
	return stanza.E(stanza.InternalServerError, "")
}

// replyError answers st with an error unless st is itself an error (RFC
// 6120 §8.3.1: never answer an error with an error).
func (r *Router) replyError(s *Session, st *xml.Element, e *stanza.Error) {
	if st.Attr("type") == "error" {
		return
	}
	if st.Local == "iq" && st.Attr("type") == "result" {
		return
	}
	reply := stanza.ErrorReply(st, e)
	// Hooks may have added the recipient's archive id to the message: it
	// must never reach the sender (XEP-0359: only the archive owner sees it).
	reply.RemoveChildren(func(c *xml.Element) bool { return c.Is(nsSID, "stanza-id") })
	reply.SetAttr("to", s.jid.String())
	if err := s.Send(reply); err != nil {
		r.log.Debug("error reply not queued", "to", s.jid.String(), "err", err)
		return
	}
	r.messageBounced(st, reply, s)
}

// messageBounced tells the BounceObservers of an error reply to a message.
func (r *Router) messageBounced(original, reply *xml.Element, to *Session) {
	if original.Local != "message" {
		return
	}
	for _, o := range r.bounceObservers {
		o.MessageBounced(original, reply, to)
	}
}

func (r *Router) routeIQ(ctx context.Context, s *Session, st *xml.Element, to jid.JID) error {
	typ := st.Attr("type")
	if st.Attr("id") == "" && typ != "result" && typ != "error" {
		return stanza.E(stanza.BadRequest, "iq without id")
	}
	switch typ {
	case "get", "set", "result", "error":
	default:
		return stanza.E(stanza.BadRequest, "bad iq type")
	}
	if r.IsRemote(to) {
		if typ == "get" || typ == "set" {
			if len(st.Elements()) != 1 {
				return stanza.E(stanza.BadRequest, "iq get/set must have exactly one child")
			}
		}
		if r.IsRemote(s.jid) {
			// Remote to remote: HandleFromRemote refuses it first.
			return stanza.E(stanza.NotAllowed, "")
		}
		// The user's blocklist applies to remote JIDs too (XEP-0191).
		if err := r.filterIQ(ctx, st, s.jid, to); err != nil {
			if typ == "result" || typ == "error" {
				return nil
			}
			return err
		}
		return r.SendRemote(st, s.jid, to)
	}
	switch typ {
	case "get", "set":
	case "result", "error":
		if to.IsZero() {
			// RFC 6120 §8.1.1.1: to the account's bare JID.
			to = s.jid.Bare()
		}
		if to.Resource() == "" && r.domains[to.Domain()] {
			// An answer to a query the server sent (QueryClient), or
			// sent on an account's behalf (QueryRemote: to its bare JID).
			r.answered(st, s.jid)
			return nil
		}
		// Responses to a bare JID answer nothing we asked.
		if to.IsFull() && to.Local() != "" {
			if t := r.Session(to); t != nil {
				if r.filterIQ(ctx, st, s.jid, to) != nil {
					return nil
				}
				return t.Send(st)
			}
		}
		return nil
	default:
		return stanza.E(stanza.BadRequest, "bad iq type")
	}
	payloads := st.Elements()
	if len(payloads) != 1 {
		return stanza.E(stanza.BadRequest, "iq get/set must have exactly one child")
	}
	if to.IsZero() {
		to = s.jid.Bare()
	}
	if to.IsFull() && to.Local() != "" {
		t := r.Session(to)
		if t == nil {
			return stanza.E(stanza.ServiceUnavailable, "")
		}
		if err := r.filterIQ(ctx, st, s.jid, to); err != nil {
			return err
		}
		return t.Send(st)
	}
	target := ToAccount
	if to.Local() == "" {
		if to.IsFull() {
			// The server has no resources of its own: domain/resource is
			// no address of the server's handlers (RFC 6120 §10.5.2), and
			// answering as the bare domain would answer for an entity
			// that does not exist. The error comes from the address.
			return stanza.E(stanza.ServiceUnavailable, "")
		}
		target = ToServer
	} else if to.Bare() != s.jid.Bare() {
		ok, err := r.users.UserExists(ctx, to.String())
		if err != nil {
			return err
		}
		if !ok {
			// Answered service-unavailable below unless a handler
			// serves addresses without an account.
			target = ToNoAccount
		} else if err := r.filterIQ(ctx, st, s.jid, to); err != nil {
			return err
		}
	}
	p := payloads[0]
	for _, route := range r.iq[iqKey{typ, p.Space, p.Local}] {
		if route.targets&target == 0 {
			continue
		}
		iq := &IQ{Stanza: st, Payload: p, From: s.jid, To: to, Session: s}
		reply, err := route.h.HandleIQ(ctx, iq)
		if err != nil {
			return err
		}
		if reply == nil {
			return stanza.E(stanza.InternalServerError, "")
		}
		reply.SetAttr("id", st.Attr("id"))
		reply.SetAttr("to", s.jid.String())
		if to != s.jid.Bare() {
			reply.SetAttr("from", to.String())
		} else {
			reply.SetAttr("from", "")
		}
		err = s.Send(reply)
		if iq.AfterReply != nil {
			iq.AfterReply()
		}
		return err
	}
	return stanza.E(stanza.ServiceUnavailable, "")
}

// AnswerIQ answers an iq get or set addressed to a local account's bare
// JID on behalf of a service module, as routeIQ would answer a client's:
// the account must exist, the iq filters (blocking) run, and the handler
// registered for the payload and ToAccount answers, with no session. A
// MUC room uses it to pass an occupant's vCard request on to the account
// behind another occupant. The reply is the caller's to address and send.
func (r *Router) AnswerIQ(ctx context.Context, st *xml.Element, from, to jid.JID) (*xml.Element, error) {
	payloads := st.Elements()
	if len(payloads) != 1 {
		return nil, stanza.E(stanza.BadRequest, "iq get/set must have exactly one child")
	}
	to = to.Bare()
	ok, err := r.users.UserExists(ctx, to.String())
	if err != nil {
		return nil, err
	}
	if !ok || !r.domains[to.Domain()] {
		return nil, stanza.E(stanza.ServiceUnavailable, "")
	}
	if err := r.filterIQ(ctx, st, from, to); err != nil {
		return nil, err
	}
	p := payloads[0]
	for _, route := range r.iq[iqKey{st.Attr("type"), p.Space, p.Local}] {
		if route.targets&ToAccount != 0 {
			reply, err := route.h.HandleIQ(ctx, &IQ{Stanza: st, Payload: p, From: from, To: to})
			if err == nil && reply == nil {
				err = stanza.E(stanza.InternalServerError, "")
			}
			return reply, err
		}
	}
	return nil, stanza.E(stanza.ServiceUnavailable, "")
}

// filterIQ runs the IQ filters over an iq between two local accounts.
func (r *Router) filterIQ(ctx context.Context, st *xml.Element, from, to jid.JID) error {
	if from.Bare() == to.Bare() {
		return nil
	}
	for _, f := range r.iqFilters {
		if err := f.FilterIQ(ctx, st, from, to); err != nil {
			return err
		}
	}
	return nil
}

// RouteMessage routes a message. For messages from local clients it runs
// the outbound hooks first (archiving, sent carbons), then delivers. The
// recipient is checked before any hook runs, so a message that bounces is
// never archived. See routeMessages for the ordering guarantees.
func (r *Router) RouteMessage(ctx context.Context, ev *MessageEvent) error {
	var errs [1]error
	r.routeMessages(ctx, []*MessageEvent{ev}, errs[:])
	return errs[0]
}

// deliverMessage implements RFC 6121 §8.5 for a local recipient.
func (r *Router) deliverMessage(ctx context.Context, ev *MessageEvent) error {
	typ := ev.Stanza.Attr("type")
	bare := ev.To.Bare().String()
	for _, h := range r.inbound {
		if err := h.InboundMessage(ctx, ev); err != nil {
			return err
		}
	}
	var targets []*Session
	if ev.To.IsFull() {
		if s := r.Session(ev.To); s != nil {
			targets = []*Session{s}
		}
	}
	if targets == nil {
		switch {
		case typ == "error":
			// Errors go to the full JID they answer or nowhere: to a bare
			// JID, or a resource that is gone, the server MUST silently
			// ignore them (RFC 6121 §8.5.2.1.1, §8.5.2.2.1, §8.5.3.2.1).
			return nil
		case ev.To.IsFull() && typ == "headline":
			// Headlines to an unavailable resource are dropped (§8.5.3.2.1).
			return nil
		case ev.To.IsFull() && goneResourceBounces(typ) && ev.Archived:
			// The resource went away after admit let the message through
			// and the recipient's archive took it: bouncing it now would
			// have the sender resend what both archives hold. §8.5.3.2.1
			// allows ignoring it; the recipient finds it in the archive.
			return nil
		case ev.To.IsFull() && goneResourceBounces(typ), typ == "groupchat":
			// admit refuses these when the resource is gone already; here
			// it went away since.
			return stanza.E(stanza.ServiceUnavailable, "")
		}
		targets = r.bareTargets(bare)
	}
	// Only sessions that queued the message count as delivered: if none
	// did (queues full or closing), it is kept offline rather than lost.
	reached := targets[:0:0]
	for _, s := range targets {
		if err := s.Send(ev.Stanza); err != nil {
			r.log.Debug("message not queued", "to", s.jid.String(), "err", err)
			continue
		}
		reached = append(reached, s)
	}
	targets = reached
	if len(targets) == 0 {
		if typ == "headline" || typ == "error" {
			return nil
		}
		if r.offline != nil {
			stored, err := r.offline.StoreOffline(ctx, ev)
			if err != nil {
				if !ev.Archived {
					return err
				}
				// The archive holds it: the user gets it from there.
				r.log.Error("offline storage failed for an archived message", "to", bare, "err", err)
			}
			if !stored && !ev.Archived {
				return stanza.E(stanza.ServiceUnavailable, "")
			}
		} else if !ev.Archived {
			return stanza.E(stanza.ServiceUnavailable, "")
		}
	}
	for _, o := range r.delivered {
		o.MessageDelivered(ctx, ev, targets)
	}
	return nil
}

// goneResourceBounces reports whether a message of type typ to a local
// full JID with no such resource is bounced rather than delivered as if to
// the bare JID. RFC 6121 §8.5.3.2.1 treats only chat as addressed to the
// bare JID; normal (also an absent or unknown type, §5.2.2) and groupchat
// the server MUST either silently ignore or answer with an error, which
// SHOULD be service-unavailable: Skald answers, so the sender knows.
// Headline and error are dropped.
func goneResourceBounces(typ string) bool {
	switch typ {
	case "chat", "headline", "error":
		return false
	}
	return true
}

// bareTargets picks the resources a message to a bare JID goes to: every
// available resource with non-negative priority (RFC 6121 §8.5.2.1.1
// allows this for chat and normal, and modern clients expect it).
func (r *Router) bareTargets(bare string) []*Session {
	var out []*Session
	for _, s := range r.Sessions(bare) {
		if s.Available() && s.Priority() >= 0 {
			out = append(out, s)
		}
	}
	return out
}

// SendTo delivers a server-generated stanza to a local full JID (if bound)
// or to every available resource of a bare JID, or, for a JID on a remote
// domain, queues it for the remote transport when its 'from' is on a
// hosted domain (counted as one). It reports how many sessions it
// reached.
func (r *Router) SendTo(to jid.JID, st *xml.Element) int {
	if r.IsRemote(to) {
		// A hosted service's stanza to a remote JID (a MUC room's to a
		// remote occupant) goes over the remote transport, from the
		// hosted JID in its 'from'; one that cannot be queued is lost,
		// as one to a session that cannot take it.
		from, err := jid.Parse(st.Attr("from"))
		if err != nil || !r.IsHosted(from.Domain()) || r.SendRemote(st, from, to) != nil {
			return 0
		}
		return 1
	}
	if to.IsFull() {
		if s := r.Session(to); s != nil && s.Send(st) == nil {
			return 1
		}
		return 0
	}
	n := 0
	for _, s := range r.Sessions(to.String()) {
		if s.Available() && s.Send(st) == nil {
			n++
		}
	}
	return n
}

// IsLocalAccount reports whether j is an account JID on a local domain
// (whether or not the account exists).
func (r *Router) IsLocalAccount(j jid.JID) bool {
	return j.Local() != "" && r.domains[j.Domain()]
}

// Detached tells the DetachObservers that s lost its connection with
// queued still unacknowledged, and waits for resumption (XEP-0198).
func (r *Router) Detached(ctx context.Context, s *Session, queued []*xml.Element) {
	for _, o := range r.detachObs {
		o.SessionDetached(ctx, s, queued)
	}
}

// Undelivered takes back messages a session accepted but whose client never
// acknowledged them (XEP-0198): they are kept in offline storage so they
// reach the user at the next login rather than vanish. Only messages that
// are worth keeping go there; archive results and carbon copies are
// fetched again by the client itself.
func (r *Router) Undelivered(ctx context.Context, s *Session, msgs []*xml.Element) {
	if r.offline == nil {
		return
	}
	for _, st := range msgs {
		if st.Local != "message" || !undeliveredKeepable(st) {
			continue
		}
		ev := &MessageEvent{Stanza: st, To: s.jid.Bare(), Archived: hasStanzaIDBy(st, s.bare)}
		if from, err := jid.Parse(st.Attr("from")); err == nil {
			ev.From = from
		}
		if _, err := r.offline.StoreOffline(ctx, ev); err != nil {
			r.log.Error("keeping unacknowledged message offline failed", "to", s.bare, "err", err)
		}
	}
}

func undeliveredKeepable(st *xml.Element) bool {
	switch st.Attr("type") {
	case "groupchat", "headline", "error":
		return false
	}
	for _, c := range st.Elements() {
		switch c.Space {
		case "urn:xmpp:mam:2", "urn:xmpp:carbons:2":
			return false
		}
	}
	return true
}

// nsSID is XEP-0359's namespace: the router knows stanza-ids only to keep
// them from leaking to the wrong party.
const nsSID = "urn:xmpp:sid:0"

func hasStanzaIDBy(st *xml.Element, by string) bool {
	for _, c := range st.ChildrenNamed(nsSID, "stanza-id") {
		if c.Attr("by") == by {
			return true
		}
	}
	return false
}

// OnlineAccounts reports the accounts of domain with a bound session:
// how many there are, how many sessions they have, and the first max of
// their bare JIDs in order (all when max < 0). The XEP-0133 online-users
// commands (adhoc) ask; the session table is read once, under its lock.
func (r *Router) OnlineAccounts(domain string, max int) (bares []string, accounts, sessions int) {
	r.mu.RLock()
	for bare, res := range r.sessions {
		if len(res) == 0 || !strings.HasSuffix(bare, "@"+domain) {
			continue
		}
		accounts++
		sessions += len(res)
		if max != 0 {
			bares = append(bares, bare)
		}
	}
	r.mu.RUnlock()
	sort.Strings(bares)
	if max >= 0 && len(bares) > max {
		bares = bares[:max]
	}
	return bares, accounts, sessions
}
