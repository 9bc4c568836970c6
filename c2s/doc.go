// Package c2s is the client-to-server transport (RFC 6120): it accepts TCP
// connections (STARTTLS on one listener, XEP-0368 direct TLS on another),
// negotiates the stream (TLS, SASL, resource binding), runs XEP-0198 stream
// management and XEP-0352 client state indication (csi.go: an inactive
// client's presence updates are held and its chat states dropped), and
// hands every stanza of a bound session to the router. A session tells the
// router when its client is not reading (router.DormantSender: detached,
// held for resumption, or inactive), and, when it detaches, what its
// client never acknowledged (Router.Detached), for XEP-0357 push
// notifications.
//
// Per connection there is one reader goroutine (the one serving the
// connection) and a bounded outgoing queue written by a flusher goroutine
// that exists only while there is something to write (queue.go). A client
// that reads too slowly overflows its queue and is cut off; the router never
// waits for a client. A connection idle for a second gives up its reader
// goroutine too: on Linux it parks in an epoll set of the server's own, and
// a new goroutine takes it on when its client sends something (park.go), so
// an idle connection holds no goroutine and no read buffer.
//
// Messages a client sends back to back are routed as one batch
// (Router.HandleMessagesFromClient: one archive transaction for all of
// them): after a message the reader takes the next ones only while a whole
// stanza can be had without waiting for the client (readahead.go), so a
// batch never delays a message for input that has not arrived. Stanzas are
// still handled in the order received, and each is counted for XEP-0198
// only once the router has handled it.
//
// XEP-0198 errors (sm.go): an <a/> or <resume/> whose 'h' acknowledges
// more than was sent ends the stream with undefined-condition and
// <handled-count-too-high h send-count/> (§4); a stream still open when
// its session is resumed elsewhere gets a conflict stream error (§5); the
// <failed/> answering a resumption of a session that ended carries the
// 'h' it reached, to its own account only, for an hour (§5); a
// second <enable/> is answered <failed/> with unexpected-request, as
// Prosody and ejabberd do, rather than the stream error §3 suggests.
//
// SASL2 and Bind 2 (sasl2.go). Over TLS the features offer XEP-0388's
// <authentication/> beside the legacy <mechanisms/>, with the same
// mechanisms: one exchange (auth.go, saslExchange) serves both profiles,
// with the same failed-login limits, so only the XML differs. A SASL2
// success is not followed by a stream restart but by the features of the
// authenticated stream (§2.6.1); a failure processes nothing inline
// (§2.6.2); an <authenticate/> after success is a stream error (§6.8); a
// non-empty authzid must be the stream header's 'from' (§2.3). Inline,
// a XEP-0198 <resume/> comes first: its <resumed/> (the session's full JID
// authorized) or its <failed/> goes in the <success/>, and after a
// failure a XEP-0386 <bind/> binds. Bind 2 binds through the same
// session setup as RFC 6120 binding (conn.bind), so presence, offline
// delivery and replacement behave alike; it is answered by <bound/> in the
// <success/>, with <enabled/> for an inline XEP-0198 <enable/> and what
// Config.BoundInfo adds (mam: the archive's <metadata/> at binding);
// carbons and a XEP-0352 starting state need no answer. The resource is the
// client's tag, "/", and a part derived from the account, the tag and the
// SASL2 <user-agent/> id (random without one): the same installation gets
// the same resource, so its new session replaces its old one, and the id
// itself never shows. An earlier session of the same installation under
// another tag ends too, with conflict (XEP-0386 §3.2: the server SHOULD
// terminate earlier sessions of the same user-agent id). XEP-0386 §3.2
// has offline messages cleared unsent at Bind 2, "as they will be
// provided by MAM": a Bind 2 session is marked as catching up from MAM
// (router.Session SetMAMBound), so the offline module deletes unsent
// the messages the archive holds and delivers only those it does not
// hold (archiving off for their sender), which clearing would lose, and
// those stored after the bind (or after the client's first catch-up
// query, which holds what came before it), which a client paging its
// archive back from the newest item never sees.
//
// A disabled account (storage.Users.SetUserDisabled: skald user disable,
// XEP-0133 disable-user) cannot log in (auth.go refuseDisabled): once a
// SASL exchange has proved the password, with any mechanism, the store
// is asked, and a disabled account gets <failure><account-disabled/>
// with a fixed text instead of <success/> (RFC 6120 §6.5.1); the
// operator's reason is not sent, and a wrong password still gets
// not-authorized. It is read at each login, so a flag another process
// wrote counts at once; a resumption (XEP-0198) needs a login too. It is
// read again once a new session is in the router's table (conn.bind,
// which reads the account's existence there anyway): a stream that
// authenticated before disable-user set the flag, and binds after it
// listed the account's sessions, ends with policy-violation as theirs. The
// stream stays open for another attempt (skald_c2s_auth_disabled_total
// counts the refusals). A session's stream error may carry a text
// (router.TextCloser, session.go): adhoc's disable-user says why the
// account's streams end.
//
// XEP-0484 FAST (fast.go), following the XEP's text as in xsf/xeps
// (version 0.1.0; xmpp.org lists 0.2.0 of 2024-06-30, Proposed, whose
// full text could not be compared) and the HT mechanisms of
// draft-schmaus-kitten-sasl-ht-08, which it cites (where
// the two differ the XEP rules: the draft revokes a token at its first
// use, the XEP keeps it until its successor is used). With
// Config.FastTokens and a lifetime, the SASL2 inline features carry
// <fast/> listing HT-SHA-256-EXPR (TLS 1.3, tls-exporter) or -UNIQ (TLS
// 1.2, tls-unique) where the connection has that binding, as the -PLUS
// mechanisms bind, and HT-SHA-256-NONE; they are never among the
// ordinary mechanisms, nor offered to RFC 6120 SASL. <request-token/>
// at a successful login issues a token for an offered mechanism, bound
// to the account, the <user-agent/> id and the mechanism, into the
// client's "new" slot (§5.1); a token login checks the new slot, then
// the current one, and a token used from the new slot becomes current,
// invalidating the one before (§3.5). A token with less than half its
// lifetime left is rotated: a new token comes in the <success/>, and the
// old one works until the new one is used. <fast invalidate='true'/>
// deletes the client's tokens and issues none unless requested (§3.6).
// The store keeps only the SHA-256 of a token, which for tokens longer
// than 64 bytes is HMAC-SHA-256's own key (sasl.HTKey); a password
// change and the account's deletion delete its tokens (storage), and a
// token issued while the password changed is withdrawn, not sent (the
// credentials are read again after storing it). Failures:
// unknown token, other client, other account, other mechanism, wrong
// channel binding: not-authorized; a matching expired token:
// credentials-expired (RFC 6120 §6.5.2); a malformed HT message, a
// 'count' that is not a number, no user-agent id: malformed-request. All
// count against the failed-login limits as password failures do.
// 'count' is not otherwise checked: its replay protection is for TLS
// 0-RTT data (§3.4), which Go's TLS server never accepts, so 'tls-0rtt'
// is not announced. A <request-token/> that cannot be honoured (a
// mechanism not offered, no user-agent id) is ignored: the login stands,
// without a token.
//
// Another layer can hand the server a connection it frames and secures
// itself (transport.go: XMPP over WebSocket, package websocket): it runs
// as any other stream, but is never offered STARTTLS and never parks.
//
// Before authentication a client may send only one kind of stanza:
// XEP-0077 registration iqs, which go to Config.Registrar (register.go;
// the register module fills it) once TLS is done, and are refused
// without encryption. The stream feature is offered only over TLS and
// while the registrar takes new accounts.
//
// Stream headers may declare jabber:client as their default namespace or,
// in prefix-free canonicalization, no content namespace at all, each
// stanza then naming its own (RFC 6120 §4.8.2). A stanza without xml:lang
// gets the header's (§4.7.4) before it is routed. A stream error from the
// client is answered with our closing tag, never with an error of our own.
//
// Addresses (stamped by the router): RFC 6120 §8.1.2.1 has the server add
// a 'from' to every stanza a client sends, or override the one the client
// put there, with the session's full JID (the bare JID for subscription
// stanzas, RFC 6121 §3.1.2); the client SHOULD NOT include one. A 'from'
// that is the session's full or bare JID is overwritten so; one naming any
// other entity is refused with the invalid-from stream error (§4.9.3.10).
// An empty from attribute (from="") names no entity at all (an empty
// string is no JID, RFC 7622 §3.2): nothing is being claimed, so it is
// overwritten like an absent one rather than ending the stream; the spec
// requires no more (override is one of the two things §8.1.2.1 allows),
// and closing the stream of a client that serialises an empty attribute
// would gain nothing. An empty 'to' is an error (jid-malformed), since
// there the client asks for a recipient that does not exist.
//
// Errors are scope-typed: a *stream.Error ends the stream (conn.fail is the
// one place that writes it), stanza errors answer one stanza (the router).
// Internal error text is logged, never sent.
//
// TCP connections are capped in total and per client address (an IPv6
// /64 counts as one; internal/connlimit), parked ones included; one over
// a cap gets our header and resource-constraint or policy-violation
// (RFC 6120 §4.9.3.17, §4.9.3.14), or, on the direct TLS listener, is
// closed before any handshake (conncap.go).
//
// Metrics (metrics.go, skald_c2s_*): connections open, accepted, parked and refused,
// bound sessions, stanzas received, failed authentications, SASL2 logins,
// FAST logins and tokens issued, and slow consumers cut off; counters are
// one atomic add where the event happens.
//
// Layering: c2s imports internal/xml, internal/metrics, internal/connlimit, jid, stanza, stream,
// storage, sasl and router. Nothing imports c2s but websocket,
// internal/server, cmd/skald and tests.
package c2s
