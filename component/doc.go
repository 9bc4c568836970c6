// Package component is the transport of external components (XEP-0114,
// the jabber:component:accept method): gateways and bots (slidge,
// biboumi, spectrum2, matterbridge) that serve a domain of their own,
// such as irc.example.org, over one TCP stream to this server.
//
// Routing. The router knows this package only as a
// router.ComponentRouter (Router.SetComponents). A component domain is
// hosted for s2s (remote servers open streams to it; its stanzas to
// remote JIDs go out from it) and remote for delivery: a local user's
// stanzas to it, or to a JID on it, go through the outbound hooks
// (blocking, the sender's archive, sent carbons) and the presence module
// as stanzas to a trusted remote server would, and then onto the
// component's stream (SendComponent); a remote server's stanzas to it
// are passed on likewise. The component's stanzas enter through
// Router.HandleFromComponent: they must carry both addresses
// (improper-addressing otherwise) and a 'from' on the component's domain
// (any JID there, XEP-0114 §3; else invalid-from); those to local users
// or services follow Router.HandleFromRemote (delivery, MAM archiving of
// the recipient's copy, the contact's side of subscriptions, iq
// handlers whose answers come back over the stream), those to other
// domains go on over s2s, and a bounce of one comes back to the
// component. While no component is connected for its domain, messages
// and iqs to it are answered service-unavailable (RFC 6120 §10.4.2:
// the domain is ours, its entity is absent) before any hook runs, so a
// bounced message is never archived. A subscription request and a
// presence a user directs to it (a room join on an IRC gateway) are
// answered service-unavailable too, so that the client learns it failed;
// the presence the server sends on a user's behalf (broadcasts to
// contacts there, probes) is dropped.
//
// Handshake (conn.go, XEP-0114 §3). The component's header must be in
// jabber:component:accept (else invalid-namespace) and name in 'to' a
// configured domain (else host-unknown). We answer with our header,
// from that domain, with a fresh unguessable stream id; the component
// sends <handshake/> holding the lowercase hex SHA-1 of the stream id
// followed by the secret, compared in constant time (whitespace and
// uppercase forgiven); anything else is not-authorized. Header errors
// follow our header (RFC 6120 §4.9.1.1). The secret is hashed as
// configured: the spec's note on escaping XML entities is not applied,
// as no component implements it.
//
// One stream per domain: a second connection for a domain whose
// component is connected is refused with conflict, at its header and,
// should two race, at its handshake; the connected component keeps the
// domain (a restarting gateway's old stream ends when its TCP
// connection does).
//
// Stanzas from a component may be in jabber:component:accept (the
// stream's default namespace) or carry jabber:client explicitly; they
// are handed to the router in jabber:client, and ours are written in
// the stream's namespace. Anything but message, presence and iq is
// unsupported-stanza-type.
//
// Limits: max_stanza_bytes per stanza (the internal/xml reader with
// limits, as c2s and s2s: policy-violation), handshake_timeout from the
// connection to the handshake (connection-timeout), and a bounded
// outgoing queue of send_queue_bytes: a component that does not read is
// cut off rather than buffered without end, as a slow client is; the
// stanzas queued for a component that never reach its socket (cut off,
// a failed write) bounce service-unavailable to their senders, as s2s
// bounces what is left on a failed stream. At most
// max_pending_connections connections may be waiting to authenticate; one
// more is closed at once, without a header (as s2s refuses one over its
// caps), so that connections that never handshake cannot pile up. An
// authenticated stream has no idle timeout: components stay connected.
//
// Discovery. Component domains under a hosted domain appear in its
// disco#items (XEP-0030) while configured, connected or not (disco
// module): clients cache what they found, and a gateway restarting
// should not vanish from their lists; disco#info to an absent one is
// answered service-unavailable.
//
// Goroutines: each connection has a reader (negotiation, then stanzas
// to the router) and, once authenticated, a writer that exists for the
// stream's life and writes the queue in batches. Both start under
// Server.mu unless shutting down; Shutdown ends every stream with
// system-shutdown and </stream:stream> after what is queued, waits for
// them until its context ends, and cuts what is left then.
//
// Security: the protocol has no TLS, and a component may send from any
// JID on its domain. Bind the listener to loopback or a private
// network; trust the component software (XEP-0114 §4).
//
// Not done: the jabber:component:connect method (the server connecting
// to the component), XEP-0225/XEP-0355 and multiple domains per stream.
//
// Configuration: the [component] section (Config). Metrics:
// skald_component_*.
package component
