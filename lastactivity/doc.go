// Package lastactivity implements Last Activity (XEP-0012, version 2.0)
// for the server and its accounts.
//
// To the server's domain (§5) it answers the server's uptime: the whole
// seconds since the server started.
//
// To an account's bare JID (§4) it answers on the account's behalf:
//
//   - seconds='0' and no text while the account has an available
//     resource;
//   - otherwise the seconds since its last available resource went away
//     (unavailable presence, or a session that ended while available),
//     with the <status/> text of that unavailable presence, if any, as
//     the query's character data (at most MaxStatusBytes, cut at a
//     character boundary);
//   - service-unavailable if the account was never online since this
//     version started recording.
//
// Only the account itself and entities allowed to see its presence get
// an answer: a roster item with subscription 'from' or 'both', and no
// block either way (XEP-0191; the router's IQ filter covers local
// requesters, SetBlocker the others). Everyone else gets forbidden, as
// §4 requires ("MUST return a Forbidden error"). An iq to an account that
// does not exist gets service-unavailable from the router; that
// difference is the XEP's, not ours to hide.
//
// The logout time and status are a storage.Documents document of kind
// Kind (key ""), written when the last available resource goes away, and
// deleted with the account like every document (storage DeleteUser).
//
// An iq to a full JID goes to the client, which answers its own idle
// time (§3).
//
// No configuration. Feature: jabber:iq:last, on the server and on
// accounts' bare JIDs (the server answers both).
package lastactivity
