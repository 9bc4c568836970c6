package router

import (
	"context"
	"errors"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/stream"
)

// RemoteRouter carries stanzas to domains the router does not serve: the
// server-to-server transport (package s2s). Without one, such stanzas are
// answered remote-server-not-found (RFC 6120 §10.4.3).
type RemoteRouter interface {
	// SendRemote queues st, from a local JID, for the server of to's
	// domain. It must not block on the network. A stanza it accepts but
	// cannot deliver later comes back through Router.Bounce; one it
	// refuses at once is answered with the error it returns.
	SendRemote(st *xml.Element, from, to jid.JID) error
}

// RemotePresenceHandler takes presence that a remote server sends to a
// local JID (the contact's side of RFC 6121: subscription stanzas,
// probes, availability). from's domain is the verified domain of the
// stream it came on.
type RemotePresenceHandler interface {
	HandleRemotePresence(ctx context.Context, p *xml.Element, from, to jid.JID) error
}

// RemotePresenceObserver sees presence a remote server sends to a local
// account (not to a hosted service), before the presence module takes
// it: pep learns remote contacts' resources and XEP-0115 capabilities
// from it. from is within the stream's verified domain. It must not send
// the presence on.
type RemotePresenceObserver interface {
	RemotePresence(ctx context.Context, p *xml.Element, from, to jid.JID)
}

// SetRemote installs the transport to remote domains. It must be called
// before serving.
func (r *Router) SetRemote(rr RemoteRouter) { r.remote = rr }

// IsRemote reports whether j is on a domain the router does not serve
// itself, neither as a domain of accounts nor as a hosted service domain.
// An external component's JIDs are remote in this sense (component.go):
// what goes to them leaves through a transport, as to a remote server.
func (r *Router) IsRemote(j jid.JID) bool {
	return !j.IsZero() && !r.domains[j.Domain()] && r.services[j.Domain()] == nil
}

// IsHosted reports whether d is served here: a domain of accounts, a
// hosted service domain (Service) or an external component's domain
// (SetComponents). The remote transport accepts streams to, and opens
// streams from, every hosted domain.
func (r *Router) IsHosted(d string) bool {
	return r.domains[d] || r.services[d] != nil || r.components[d]
}

// SendRemote hands st (from a JID on a hosted domain, or from a remote
// JID to a component) to the transport for to: the component's stream
// for a component domain (ComponentRouter), else the remote transport
// for a domain the router does not serve. Without a transport it fails
// with remote-server-not-found.
func (r *Router) SendRemote(st *xml.Element, from, to jid.JID) error {
	if r.components[to.Domain()] {
		return r.comp.SendComponent(st, from, to)
	}
	if r.remote == nil {
		return stanza.E(stanza.RemoteServerNotFound, "")
	}
	return r.remote.SendRemote(st, from, to)
}

// Bounce answers, on behalf of the remote domain, a stanza that the remote
// transport could not deliver (RFC 6120 §8.3.1: the error goes back to
// the sender; an error or an iq result is never answered). The error
// reaches the local sender's session (a full JID) or available resources.
//
// A stanza a hosted service sent from one of its full JIDs (a MUC room's
// presence or message to a remote occupant) is answered to the service,
// as the error reply the recipient's server would have sent: muc then
// removes an occupant it can no longer reach, so that a room keeps no
// remote ghost behind a dead server.
//
// The component transport bounces too (a stanza queued for a component
// whose stream died): one a component sent goes back to it, one a
// remote server sent to a component back over s2s.
func (r *Router) Bounce(st *xml.Element, cond stanza.Condition) {
	typ := st.Attr("type")
	if typ == "error" || (st.Local == "iq" && typ == "result") {
		return
	}
	if st.Local == "message" && typ == "headline" {
		// A server-generated notification (pep's, XEP-0163 §4.3.1: its
		// errors are the service's, not the publishing client's): no
		// client waits for it, and its owner's resources must not
		// receive errors for it.
		return
	}
	to, err := jid.Parse(st.Attr("from"))
	if err != nil {
		return
	}
	if svc := r.services[to.Domain()]; svc != nil {
		r.bounceToService(svc, st, to, cond)
		return
	}
	if r.components[to.Domain()] {
		r.bounceToComponent(st, to, cond)
		return
	}
	if !r.domains[to.Domain()] {
		r.bounceToRemote(st, to, cond)
		return
	}
	reply := stanza.ErrorReply(st, stanza.E(cond, ""))
	reply.RemoveChildren(func(c *xml.Element) bool { return c.Is(nsSID, "stanza-id") })
	if r.bounced(st, reply) {
		return // the server's own query (QueryRemote): no client asked
	}
	if st.Local == "iq" && !to.IsFull() {
		// Clients' iqs carry their full JIDs: one from a bare JID is the
		// server's own (QueryRemote), bounced after its query timed out.
		// An iq to a bare JID reaches no resource (RFC 6121 §8.5.2.1.3).
		return
	}
	if s := r.Session(to); to.IsFull() && s != nil {
		if s.Send(reply) == nil {
			r.messageBounced(st, reply, s)
		}
		return
	}
	r.SendTo(to, reply)
}

// bounceToService tells svc that the remote recipient of st, which svc
// sent from its JID origin, could not be reached.
func (r *Router) bounceToService(svc Service, st *xml.Element, origin jid.JID, cond stanza.Condition) {
	peer, err := jid.Parse(st.Attr("to"))
	if err != nil || !r.IsRemote(peer) || !origin.IsFull() {
		return
	}
	reply := stanza.ErrorReply(st, stanza.E(cond, ""))
	s := NewSession(peer, "s2s:"+peer.Domain(), remotePeer{r, peer, origin.DomainJID()})
	if err := svc.HandleServiceStanza(context.Background(), s, reply, origin); err != nil {
		r.log.Debug("service refused a bounce", "from", peer.String(), "to", origin.String(), "err", err)
	}
}

// HandleFromRemote processes one stanza from a remote server whose domain
// (the stream's verified 'from' domain) is domain. The stanza is in the
// jabber:client namespace (the transport translates jabber:server).
//
// The router trusts the stanza's 'from' only inside the verified domain:
// another domain is a stream error (invalid-from, RFC 6120 §4.9.3.9). A
// missing, empty or malformed 'from' or 'to' is improper-addressing
// (§4.9.3.7, §8.1.1.2, §8.1.2.2: server streams carry both addresses,
// and there is no address to answer a malformed one from), and a 'to'
// on a domain not served here is host-unknown. Stanza errors go back
// over the remote transport, as for a client.
func (r *Router) HandleFromRemote(ctx context.Context, domain string, st *xml.Element) error {
	from, err := jid.Parse(st.Attr("from"))
	if err != nil {
		return stream.New(stream.ImproperAddressing, "")
	}
	if from.Domain() != domain {
		return stream.New(stream.InvalidFrom, "")
	}
	to, err := jid.Parse(st.Attr("to"))
	if err != nil {
		return stream.New(stream.ImproperAddressing, "")
	}
	if !r.IsHosted(to.Domain()) {
		return stream.New(stream.HostUnknown, "")
	}
	st.SetAttr("from", from.String())
	st.SetAttr("to", to.String())
	r.stripOurStanzaIDs(st)
	// A session that is never bound: the router's handlers answer it as
	// they answer a client, and its Send goes back over the transport.
	peer := NewSession(from, "s2s:"+domain, remotePeer{r, from, to.DomainJID()})
	if r.components[to.Domain()] {
		// A remote server's stanza to an external component: it goes on
		// over the component's stream, as it came.
		return r.forward(peer, st, from, to)
	}
	switch svc := r.services[to.Domain()]; {
	case svc != nil && (st.Local == "message" || st.Local == "presence" || st.Local == "iq"):
		// The service is the addressee (a remote user in a MUC room),
		// as for a local client's stanza to it.
		err = svc.HandleServiceStanza(ctx, peer, st, to)
	case st.Local == "message":
		ev := &MessageEvent{Stanza: st, From: from, To: to}
		err = r.RouteMessage(ctx, ev)
	case st.Local == "presence":
		for _, o := range r.remPresObs {
			o.RemotePresence(ctx, st, from, to)
		}
		if h, ok := r.presence.(RemotePresenceHandler); ok {
			err = h.HandleRemotePresence(ctx, st, from, to)
		}
	case st.Local == "iq":
		err = r.routeIQ(ctx, peer, st, to)
	default:
		return stream.New(stream.UnsupportedStanzaType, "")
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var se *stream.Error
		if errors.As(err, &se) {
			return se
		}
		r.replyError(peer, st, r.stanzaError(err, st))
	}
	return nil
}

// remotePeer is the Sender of a remote entity's transient session.
type remotePeer struct {
	r     *Router
	peer  jid.JID
	local jid.JID // the served domain the peer addressed
}

func (p remotePeer) Send(st *xml.Element) error {
	from, err := jid.Parse(st.Attr("from"))
	if err != nil || from.IsZero() {
		// Answers from the server itself carry no 'from' on a client
		// stream; on a server stream both addresses are mandatory.
		from = p.local
		st.SetAttr("from", from.String())
	}
	st.SetAttr("to", p.peer.String())
	return p.r.SendRemote(st, from, p.peer)
}

func (remotePeer) Close(string) {}

// stripOurStanzaIDs removes the stanza-ids of a remote stanza whose 'by'
// is on a domain or service domain served here (a MUC room of ours, an
// account's archive): only we are authoritative for those, so one coming
// from another server is forged (XEP-0359 §3: a stanza-id is trusted
// because the entity in 'by' added it, so a server strips those claiming
// entities it is authoritative for). Recipients, clients and our own
// archives then never mistake it for ours. Ids by remote entities pass.
func (r *Router) stripOurStanzaIDs(st *xml.Element) {
	st.RemoveChildren(func(c *xml.Element) bool {
		if !c.Is(nsSID, "stanza-id") {
			return false
		}
		by, err := jid.Parse(c.Attr("by"))
		// An unparsable 'by' names nobody a client could trust; it goes
		// too, as it might be a variant of ours jid.Parse refuses.
		return err != nil || r.domains[by.Domain()] || r.services[by.Domain()] != nil
	})
}
