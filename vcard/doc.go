// Package vcard implements vcard-temp (XEP-0054, version 1.2): every
// account has at most one vCard, stored whole (storage.Documents, kind
// "vcard") as the client sent it.
//
//   - get, no 'to' or the own bare JID (§3.1): the stored vCard, or an
//     empty <vCard/> when the account has none (the spec allows that or
//     item-not-found; clients treat the empty one as "nothing set").
//   - set, no 'to' or the own bare JID (§3.2): replaces the vCard (there
//     are no partial updates). A vCard whose serialisation is longer than
//     Config.MaxBytes is refused with policy-violation and changes
//     nothing: a size cap is a local service policy (RFC 6120 §8.3.3.12),
//     not a request the server fails to understand (not-acceptable), and
//     the client can retry with a smaller avatar.
//   - set to anyone else's JID: forbidden (§3.2), also for a JID with no
//     account behind it, so that the answer tells nothing about accounts.
//   - get to another account's bare JID (§3.3): answered by the server on
//     the account's behalf, never forwarded. With no vCard stored the
//     answer is service-unavailable, which the router gives an address
//     with no account too (§3.3: "If no vCard exists or the user does not
//     exist", service-unavailable or item-not-found): a vCard request
//     does not reveal whether an account exists. The blocking module's iq
//     filter answers a blocked requester service-unavailable first.
//   - get to the server's domain: item-not-found (the server has no vCard
//     of its own).
//
// XEP-0153 avatar hashes in presence are the clients' business: the
// server only stores the vCard they put the photo in.
//
// Config ([vcard] in the configuration file):
//
//	max_bytes = 65536  # largest stored vCard, serialised; photos are
//	                   # base64 inside it, so this bounds avatar size
//
// Feature: vcard-temp, on the server and on accounts' bare JIDs (§4).
package vcard
