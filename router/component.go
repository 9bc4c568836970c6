package router

import (
	"context"
	"errors"
	"sort"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/stream"
)

// ComponentRouter carries stanzas to external components (XEP-0114,
// package component): programs that serve a domain of their own over a
// stream to this server (gateways, bots). The router treats a component
// domain as it treats a trusted remote server's domain: for delivery, the
// presence module, the archive and the blocking lists its JIDs are remote
// (IsRemote), and what goes to them goes through ComponentRouter instead
// of the RemoteRouter. For the s2s transport the domain is hosted
// (IsHosted): remote servers open streams to it, and its stanzas to
// remote JIDs go out from it.
type ComponentRouter interface {
	// ComponentDomains lists the configured component domains,
	// connected or not. It is read once, by SetComponents.
	ComponentDomains() []string
	// ComponentConnected reports whether the component of domain d has
	// an authenticated stream now.
	ComponentConnected(d string) bool
	// SendComponent queues st, from any JID, for the component serving
	// to's domain. It must not block on the network; without a
	// connected component it fails with service-unavailable (RFC 6120
	// §10.4: the domain is ours, the entity serving it is not there).
	SendComponent(st *xml.Element, from, to jid.JID) error
}

// SetComponents installs the transport to external components and
// their domains. It must be called before serving, after Register; a
// component domain that is a domain of accounts or a service domain
// is a configuration error the caller checks first (it panics here).
func (r *Router) SetComponents(c ComponentRouter) {
	r.comp = c
	r.components = make(map[string]bool)
	for _, d := range c.ComponentDomains() {
		if r.domains[d] || r.services[d] != nil || r.components[d] {
			panic("router: component domain " + d + " is served twice")
		}
		r.components[d] = true
	}
}

// IsComponentDomain reports whether d is served by an external
// component (SetComponents), connected or not.
func (r *Router) IsComponentDomain(d string) bool { return r.components[d] }

// ComponentDomains returns the component domains, sorted.
func (r *Router) ComponentDomains() []string {
	out := make([]string, 0, len(r.components))
	for d := range r.components {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// HandleFromComponent processes one stanza from the component that
// authenticated for domain (XEP-0114 §3). The stanza is in jabber:client
// (the transport translates jabber:component:accept).
//
// Both addresses are mandatory, as in jabber:server: a missing one is
// improper-addressing (RFC 6120 §4.9.3.7). The 'from' must be on the
// component's domain, any JID there (XEP-0114 §3: the only restriction);
// another or a malformed one is invalid-from (§4.9.3.9). A stanza to a
// domain served here (accounts, a service) then goes the way of a remote
// server's stanza (HandleFromRemote: delivery and the inbound hooks, the
// contact's side of the presence state machine, the iq handlers with
// replies back to the component); one to another domain (a remote
// server's, another component's) goes on over the transport, and a
// refusal there is answered to the component.
func (r *Router) HandleFromComponent(ctx context.Context, domain string, st *xml.Element) error {
	if st.Attr("from") == "" || st.Attr("to") == "" {
		return stream.New(stream.ImproperAddressing, "")
	}
	from, err := jid.Parse(st.Attr("from"))
	if err != nil || from.Domain() != domain {
		return stream.New(stream.InvalidFrom, "")
	}
	to, err := jid.Parse(st.Attr("to"))
	if err != nil {
		return stream.New(stream.ImproperAddressing, "")
	}
	if r.domains[to.Domain()] || r.services[to.Domain()] != nil {
		return r.HandleFromRemote(ctx, domain, st)
	}
	st.SetAttr("from", from.String())
	st.SetAttr("to", to.String())
	return r.forward(NewSession(from, "component:"+domain, remotePeer{r, from, to.DomainJID()}), st, from, to)
}

// forward hands a stanza from a remote server or a component, not for a
// domain the router serves itself, to the transport of its 'to' (another
// component's stream, s2s). A refusal is answered to the sender's
// transient session s.
func (r *Router) forward(s *Session, st *xml.Element, from, to jid.JID) error {
	switch st.Local {
	case "message", "presence", "iq":
	default:
		return stream.New(stream.UnsupportedStanzaType, "")
	}
	if err := r.SendRemote(st, from, to); err != nil {
		var se *stanza.Error
		if !errors.As(err, &se) {
			r.log.Error("stanza not forwarded", "from", from.String(), "to", to.String(), "err", err)
			se = stanza.E(stanza.InternalServerError, "")
		}
		r.replyError(s, st, se)
	}
	return nil
}

// bounceToComponent answers, on behalf of the unreachable recipient, a
// stanza a component sent to a remote JID that the remote transport
// could not deliver.
func (r *Router) bounceToComponent(st *xml.Element, origin jid.JID, cond stanza.Condition) {
	peer, err := jid.Parse(st.Attr("to"))
	if err != nil {
		return
	}
	reply := stanza.ErrorReply(st, stanza.E(cond, ""))
	reply.SetAttr("from", peer.String())
	reply.SetAttr("to", origin.String())
	if err := r.comp.SendComponent(reply, peer, origin); err != nil {
		r.log.Debug("bounce to component not queued", "to", origin.String(), "err", err)
	}
}

// bounceToRemote answers over s2s, on behalf of the unreachable
// recipient, a remote server's stanza to a component that the component
// transport took but could not deliver (its stream ended first), as
// forward answers one refused at once. Stanzas between two remote JIDs
// are none of ours to answer.
func (r *Router) bounceToRemote(st *xml.Element, origin jid.JID, cond stanza.Condition) {
	peer, err := jid.Parse(st.Attr("to"))
	if err != nil || !r.components[peer.Domain()] || r.remote == nil || origin.IsZero() {
		return
	}
	reply := stanza.ErrorReply(st, stanza.E(cond, ""))
	reply.SetAttr("from", peer.String())
	reply.SetAttr("to", origin.String())
	if err := r.remote.SendRemote(reply, peer, origin); err != nil {
		r.log.Debug("bounce to remote not queued", "to", origin.String(), "err", err)
	}
}
