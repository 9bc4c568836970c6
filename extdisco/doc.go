// Package extdisco implements External Service Discovery (XEP-0215,
// version 1.0.0, namespace urn:xmpp:extdisco:2): it tells a client which
// STUN and TURN servers to use for audio and video calls (Jingle ICE,
// as Conversations, Dino, Monal and Gajim do), and hands out short-lived
// TURN credentials.
//
// Requests, answered on the server's domain only:
//
//   - <services/> (§3.1) lists every configured service; with a 'type'
//     attribute (§3.2) only those of that type, and the answer carries
//     the same 'type'.
//   - <credentials><service host='…' type='…' [port='…']/></credentials>
//     (§3.3) returns fresh credentials for the matching services: those
//     with a shared secret. A request without host or type is
//     bad-request; a service that is not configured, or one the server
//     cannot make credentials for (no secret), is item-not-found.
//
// Only users of this server are answered; any other requester (a remote
// entity over server-to-server) gets forbidden (§2: "if the requesting
// entity does not have permission to receive the list").
//
// Credentials follow the TURN REST API that coturn (use-auth-secret,
// static-auth-secret), eturnal and others implement: the username is
// "<expiry, Unix seconds>:<requester's bare JID>" and the password is
// base64(HMAC-SHA1(secret, username)); the 'expires' attribute (XEP-0082
// UTC) says when the TURN server will refuse them. Services with a secret
// are listed with credentials already filled in and restricted='1', so
// that clients which never ask for <credentials/> (Conversations) can
// relay, and those that do get new ones.
//
// Configuration, section [extdisco]:
//
//	credential_lifetime = "24h"   # how long TURN credentials stay valid
//	[[extdisco.services]]
//	type = "turn"                 # registry type: stun, stuns, turn, turns, …
//	host = "turn.example.org"     # FQDN or IP address
//	port = 3478                   # 0 = not announced
//	transport = "udp"             # "udp", "tcp" or "" (not announced)
//	name = ""                     # a label for humans
//	restricted = false            # credentials are needed (implied by secret)
//	secret = "…"                  # the TURN server's shared secret
//
// At most MaxServices services. The feature urn:xmpp:extdisco:2 is
// advertised on the server's domain only when services are configured;
// without them the module is not registered and requests get
// service-unavailable (§2).
//
// Not done: pushes of changed lists (§3.2; the list never changes while
// the server runs), the extended information form (§4; nothing to put
// there), xml:lang alternatives for 'name' (§6), and static per-service
// usernames and passwords (a fixed TURN password shared by every user is
// what the REST scheme exists to avoid).
package extdisco
