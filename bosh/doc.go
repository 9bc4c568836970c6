// Package bosh serves XMPP over BOSH: XEP-0124 (Bidirectional-streams
// Over Synchronous HTTP, version 1.11.2) carrying XEP-0206 (XMPP Over
// BOSH, version 1.4), for web clients (Converse.js, JSXC, Strophe.js) and
// networks where WebSocket does not get through. It is off unless [bosh]
// address is set.
//
// Design, as package websocket: a BOSH session is handed to c2s as a
// net.Conn carrying the byte stream of an ordinary RFC 6120 stream
// (conn.go), so stream negotiation, SASL, resource binding, XEP-0198,
// XEP-0352, limits, rate limits and routing are c2s's own. The adapter
// translates at the edge (session.go):
//
//   - the session creation request (rid, to, xml:lang, ver, wait, hold,
//     content, xmpp:version; route, from, ack and the key attributes are
//     ignored) becomes a stream header; the response waits for the stream
//     features and carries the session's parameters: sid (128 bits from
//     crypto/rand), wait, requests (hold+1), hold, inactivity, polling,
//     ver, from, secure, ack, authid, xmpp:version and
//     xmpp:restartlogic='true';
//   - the children of every later <body/> become the bytes of stanzas, in
//     rid order; elements in the wrapper's namespace (stanzas written
//     without xmlns, as many clients send them, XEP-0206 §2) are read as
//     jabber:client;
//   - an empty request with xmpp:restart='true', allowed only after a
//     SASL <success/> went out, becomes a new stream header (XEP-0206
//     §5); the new features come back in a response;
//   - an empty request is a space on the stream: c2s counts it as a
//     keepalive, so its idle timeout does not end a session that polls;
//   - what c2s writes is cut into elements (internal/xmlcut, as websocket
//     does), queued and returned in the oldest held request's response,
//     each with the namespace declarations it inherited from the stream
//     header (xmlns='jabber:client' on stanzas, the stream prefix declared
//     on the wrapper for <stream:features/>); c2s's whitespace keepalives
//     are dropped (BOSH's is the empty response after 'wait');
//   - type='terminate' from the client forwards its payloads and ends the
//     stream with its end tag (a clean end); a stream c2s ends reaches
//     the client as type='terminate', with condition='remote-stream-error'
//     and the <stream:error/> inside when c2s wrote one.
//
// XEP-0124 rules enforced: requests are handled and answered in rid order;
// one ahead of its turn waits (within the window of 'requests' rids) for
// those before it (§14.2); a rid beyond the window, or already answered
// and no longer cached, ends the session with item-not-found; a repeated
// rid gets its cached response byte for byte (the last 'requests'
// responses are kept, fewer once the client acknowledges them with 'ack',
// §9.2, §14.3), and a repeat of a request still held makes the first copy
// get type='error' (§17.3). At most 'hold' requests are held, each at most
// 'wait', then answered empty (§8). More unanswered requests than
// 'requests' (§11), a polling session (hold 0) polling again within
// 'polling' after an empty answer (§12), or a restart that is not allowed
// end the session with policy-violation, as does a body beyond the limit
// below (its session named by the wrapper's start tag); a body that breaks the syntax
// with bad-request. A session with no request for longer than
// 'inactivity' ends without telling the client (§10); its stream then
// ends as a broken TCP connection does, so a XEP-0198 session hibernates
// and can be resumed (over BOSH or another transport) as for TCP.
// Responses carry 'ack' when they answer another rid than the highest
// received (§9.1). Terminal errors are HTTP 200 with a body of
// type='terminate' (§17.2), but for a legacy client (no 'ver' in its
// creation request), which gets 400, 403 or 404 (§17.1), and for a body
// that does not parse, whose version nobody knows (400 and the body).
// Session creation: a missing 'to' is improper-addressing, a domain not
// served host-unknown, max_sessions reached undefined-condition,
// max_sessions_per_ip reached policy-violation, a server
// shutting down system-shutdown. A missing xmpp:version is taken as 1.0
// (XMPP over BOSH is RFC 6120 streams), not refused.
//
// Limits: a request's body is at most four of the largest stanzas plus
// 16 KiB (XEP-0124 has no attribute announcing a body limit, and clients
// batch what they have queued into one request, so one stanza's worth
// would refuse two large stanzas c2s accepts one by one); each
// payload gets c2s's limits (size, depth, attributes); 'wait' is at most
// max_wait, 'hold' at most max_hold; what waits for the client's next
// request is bounded (1 MiB), beyond which c2s's writes block until its
// write timeout cuts a client that does not poll; each response is
// written within 30 s (a client that does not read it would hold its
// handler and connection); sessions are at most max_sessions, and
// max_sessions_per_ip from one client address (an IPv6 /64). c2s has no
// per-address cap for TCP, but a BOSH session, unlike a TCP stream,
// costs its creator no open connection, so one host could otherwise fill
// max_sessions with a burst of creation requests. max_connections (20000:
// a session with hold 1 keeps up to two) caps the HTTP connections open
// at once; one more is accepted and closed at once, as for WebSocket
// (httpfront.ConnLimiter; see websocket/doc.go for why).
//
// Security: as websocket: plain http:// only on a loopback address or
// with behind_tls_proxy; https with the server's certificate when tls =
// true. A session counts as encrypted (secure='true', PLAIN offered,
// SCRAM -PLUS bound to the TLS served here) only over https or behind a
// declared TLS proxy. A session is its sid: unguessable, and the only
// thing that ties requests to it. CORS: by default any Origin may use the
// endpoint (XMPP logins carry no cookies, see websocket/doc.go);
// origins narrows it, and requests from other origins are
// refused with 403. The client's 'content' is honoured only for XML and
// plain-text types, and responses carry nosniff and a sandboxing
// Content-Security-Policy, so that nobody can make a browser render the
// elements other users sent as a page on this origin.
//
// Discovery: XEP-0156 host-meta (internal/hostmeta) announces the
// endpoint as urn:xmpp:alt-connections:xbosh: from the WebSocket listener
// when there is one (with [bosh] url, else the host the client asked for
// with the BOSH listener's port), else from the BOSH listener itself.
//
// Not done, and why: session pauses (§10 'pause'; no 'maxpause' is
// announced, which tells clients not to ask); the key sequence of §15 (an
// optional protection of unencrypted sessions: use TLS); multiple streams
// per session (§16; the 'stream' attribute is ignored, as the XEP says a
// connection manager without the feature must); 'report'/'time' (§9.2,
// optional); compression of responses (Content-Encoding; 'accept' is not
// announced) and character sets other than UTF-8 ('charsets').
//
// Metrics: skald_bosh_sessions (open now), skald_bosh_sessions_created_total,
// skald_bosh_requests_total, skald_bosh_terminal_errors_total.
//
// Goroutines: none per session of its own: each HTTP request's handler
// waits for its answer; one sweeper, every second, ends inactive sessions
// and does what the handlers of requests whose clients went away no
// longer do (answers, into the cache, a request held past 'wait'); c2s's
// goroutines run the stream, its reader waiting in conn.Read.
// session.mu guards a session and its conn and is taken before
// Server.mu, a leaf.
//
// Layering: bosh is a transport like websocket, above c2s: it imports
// c2s, stream, internal/xml, internal/xmlcut and internal/hostmeta; only
// internal/server and tests import it.
package bosh
