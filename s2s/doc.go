// Package s2s is the server-to-server transport (RFC 6120 federation): it
// carries stanzas between Skald's domains and the domains of other
// servers. It is the router's RemoteRouter (router.SetRemote) for
// outgoing stanzas and hands stanzas from verified remote domains to
// router.HandleFromRemote, which trusts a stanza's 'from' only inside the
// domain the stream verified.
//
// Hosted domains. "Local domain" below is any domain the router hosts
// (router.IsHosted): a domain of accounts or a hosted service domain
// (muc's conference.<domain>) or an external component's domain
// (XEP-0114, package component: the router forwards what arrives for it
// to the component's stream). Such a domain takes incoming streams
// addressed to it, is verified by dialback and answers db:verify like any
// other, is offered SASL EXTERNAL by peers when our certificate names it,
// and opens outgoing streams from itself (a room's stanzas to remote
// occupants go from conference.<domain>). Operators publish SRV records
// for it as for their domains.
//
// Outgoing (out.go, connect.go). One stream per (local domain, remote
// domain), made on demand by the first stanza and closed after
// idle_timeout without traffic (RFC 6120 streams are one-way, so a peer's
// stanzas come on its own stream to our listener). The remote server is
// found by static route ([s2s.routes]), else by the SRV records
// _xmpps-server._tcp (direct TLS, XEP-0368) and _xmpp-server._tcp
// (STARTTLS) merged by priority, else the domain on port 5269 (RFC 6120
// §3.2). TLS is negotiated when offered and required with
// require_encryption (§5, §13.7.2). The stream is authenticated with
// SASL EXTERNAL when the peer's certificate is valid for its domain and
// it offers the mechanism (§6, XEP-0178), else (or when the peer refuses
// EXTERNAL and offers dialback) with dialback (XEP-0220),
// for which a self-signed certificate is accepted: dialback
// authenticates the peer through DNS, not through the certificate.
// Stanzas queue meanwhile, at most queue_stanzas per stream; a full queue
// refuses a stanza with resource-constraint, and when the stream fails,
// queued stanzas bounce to their local senders: remote-server-not-found
// for a domain that does not resolve, remote-server-timeout for one that
// could not be reached or authenticated (§8.3.3.15-16).
//
// Back-off (backoff.go). A failed attempt puts the remote domain in
// back-off for 10 s, doubling per consecutive failure up to
// retry_backoff_max (10 min; 0 turns it off): meanwhile a stanza that
// would start a stream to it is refused at once with the condition the
// attempt ended with, without a lookup or connection. A stream to the
// domain that becomes ready (the first after the wait) or an incoming
// stream it authenticates (it is alive) ends the back-off. Stanzas
// joining a stream already being set up are unaffected. At most 10000
// domains are remembered, the oldest failure forgotten first; a failure
// long after the last wait ended starts again from 10 s.
//
// Incoming (in.go, verify.go). The listener ([s2s] address) answers a
// stream header whose 'to' we do not serve with host-unknown and a
// non-server namespace with invalid-namespace (§4.9.3), offers STARTTLS
// (required with require_encryption), SASL EXTERNAL to a peer whose
// certificate is valid for the header's 'from', and dialback. A
// db:result is verified by connecting back to the originating domain's
// authoritative server with db:verify (XEP-0220 §2.3); we answer the
// db:verify of others ourselves. Keys are XEP-0185's HMAC-SHA256 of the
// dialback secret, the two domains and the stream id. A stanza before
// any domain is verified ends the stream with not-authorized, one from a
// domain not verified for its 'to' domain with invalid-from: a
// verification is for one (receiving, originating) pair (XEP-0220 §2).
// Domains in headers, db:result and db:verify are normalised as jid does
// (RFC 7622 §3.2); one with a localpart or resource is invalid-from
// ('from') or host-unknown ('to').
//
// With require_valid_certificates a peer is trusted only with a
// certificate valid for its domain, both ways: an outgoing stream to a
// peer without one fails (stanzas bounce remote-server-timeout), and an
// incoming db:result from one is answered type='error' (policy-
// violation). A certificate must allow serverAuth when the peer is the
// receiving server, clientAuth or serverAuth when it initiates (RFC 6120
// §13.7.1.3); any other usage is refused.
//
// Limits. max_outgoing_streams caps outgoing streams: a stanza that needs
// one more is refused with resource-constraint (RFC 6120 §8.3.3.18: our
// lack of resources, not a remote server's timeout). max_incoming_streams
// and connections_per_ip cap incoming streams; a connection over them is
// closed at once. At most 8 SRV targets and 4 addresses per target are
// tried. An incoming stream may make 10 dialback requests (then policy-
// violation), of which 3 may go unanswered (then remote-connection-
// failed), and 3 refused SASL attempts (RFC 6120 §6.4.5; then policy-
// violation); it must verify a domain within 2×connect_timeout of its
// connection however much it sends (then connection-timeout).
//
// Goroutines: each outgoing stream has one (its writer, which also
// connects) and, once ready, a reader that notices the peer's end; each
// incoming stream has one. All start under Server.mu unless shutting
// down and Shutdown waits for them, after ending every stream with
// </stream:stream>.
//
// Not done: XEP-0288 bidirectional streams, DANE, dialback piggybacking
// (several originating domains on one stream: a db:result for a domain
// other than the header's 'from' ends the stream with invalid-from),
// XEP-0198 on server streams, an incoming direct TLS listener (outgoing
// direct TLS to _xmpps-server targets is implemented but untested), and a
// db:result before STARTTLS is refused
// with policy-violation under require_encryption rather than answered
// type='error'.
//
// Configuration: the [s2s] section (Config). Metrics: skald_s2s_*.
package s2s
