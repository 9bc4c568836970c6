// Package websocket serves XMPP over WebSocket (RFC 7395) for browser
// clients such as Converse.js, and the XEP-0156 host-meta documents
// (/.well-known/host-meta, XRD, and /.well-known/host-meta.json, JRD)
// through which they find the endpoint.
//
// Design: a WebSocket connection is handed to c2s as a net.Conn that
// carries the byte stream of an ordinary RFC 6120 stream (conn.go), so
// stream negotiation, SASL, resource binding, XEP-0198, XEP-0352, limits,
// rate limits and routing are c2s's own, not a second copy. The adapter
// translates at the edge: an incoming <open/> becomes a stream header and
// <close/> the stream's end tag, every other frame must be exactly one
// complete element, parsable on its own, and passes unchanged
// (framing.go); outgoing bytes are cut into one frame per top-level
// element, the stream header becoming <open/>, the end tag <close/>, and
// each element getting the namespace declarations it inherited from the
// header (outbound.go). The alternative, a framing interface inside c2s,
// would have touched every place c2s writes, its queue and its readers,
// for a transport whose cost is dominated by the browser anyway; the
// adapter leaves c2s with one small hook (c2s.Transport): such a
// connection is never offered STARTTLS and never parks in c2s's epoll set
// (it is not a plain socket: its reader goroutine waits in Read).
//
// Security: the handshake must offer the "xmpp" subprotocol, else it is
// refused with 400. Plain ws:// is allowed only on a loopback address or
// with behind_tls_proxy (config.go). A connection counts as encrypted, so
// that SASL PLAIN is offered, only over wss:// served here (then SCRAM
// -PLUS binds to that TLS) or behind a declared TLS proxy; on a loopback
// ws:// only SCRAM is offered. Origins: by default any Origin may connect.
// XMPP authentication carries no ambient authority (no cookies: the user
// types the password into the client), so a page on another origin gains
// nothing a native client could not do, and web clients are commonly
// hosted on another origin than the XMPP server; an operator can list the
// origins to allow instead.
//
// Errors: a frame that is not one complete element is not-well-formed, a
// binary frame unsupported-encoding, a frame larger than the largest
// stanza policy-violation, an <open/> in another namespace (or a stream
// header) invalid-namespace; each is the stream error c2s writes (after
// <open/> if none went out yet), followed by <close/> and the WebSocket
// closing handshake.
//
// Limits: max_connections (10000) caps the HTTP connections the listener
// has open at once, upgraded or not (a WebSocket is one): one more is
// accepted and closed at once (httpfront.ConnLimiter), so a flood of idle
// TCP connections cannot exhaust file descriptors; those admitted but
// idle are cut by the 10 s header timeout. Closing rather than not
// accepting frees the descriptor and tells the client at once, and keeps
// the kernel's backlog from holding stale connections.
// max_connections_per_ip (100) caps the WebSocket connections from one
// client address (an IPv6 /64; behind a TLS proxy the last
// X-Forwarded-For entry, and a request without one is not counted): one
// more is refused before the upgrade with 429. c2s has no per-address
// cap for TCP; behind a proxy every connection comes from the proxy, so
// only the handshake can tell clients apart. Metrics:
// skald_websocket_connections, ..._connections_refused_total,
// ..._refused_per_ip_total.
//
// Goroutines: one per connection reads its frames (conn.readFrames), started
// under the server's lock and counted in its wait group, which Shutdown
// waits for; c2s's goroutines run the stream as for TCP.
//
// Layering: websocket is a transport like c2s, above it: it imports c2s,
// stream and internal/xml; only internal/server and tests import it.
package websocket
