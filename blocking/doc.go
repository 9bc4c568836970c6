// Package blocking implements Blocking Command (XEP-0191, version 1.3).
//
// A user's blocklist is a set of JIDs kept in storage.Blocking. Clients
// manage it with iqs to their own account (no 'to', or their own bare
// JID), §3.2-3.5:
//
//   - get <blocklist/>: the blocked JIDs, one <item jid="…"/> each, sorted.
//   - set <block/> with one or more <item jid="…"/>: adds them. No item is
//     bad-request (§3.3); an item whose jid is missing or not a valid JID
//     is jid-malformed, and nothing of the set is stored. A block that
//     would make the list longer than MaxItems is policy-violation.
//   - set <unblock/> with items: removes them (JIDs not blocked are
//     ignored); with no items: empties the list (§3.5).
//
// After a successful set the server pushes an iq set carrying the same
// <block/> or <unblock/> (the normalised items; an empty <unblock/> for
// unblock-all) to every resource of the account that has requested the
// blocklist in its session (§3.3, §3.4, §3.5), the sending resource
// included when it has.
//
// An iq with one of these payloads addressed to another account is
// answered forbidden: a blocklist is only its owner's to read or change
// (as RFC 6121 §2.1.5 rules for the roster, which XEP-0191 leaves to
// XEP-0016 and the core RFCs).
//
// JID matching follows §6 (XEP-0016 §2.1): a stanza's peer address matches
// a blocked item when the item is the full JID, the bare JID, the
// domain/resource, or the domain — a domain item also covering any of its
// subdomains.
//
// Enforcement (§3.3), the same for local accounts and for remote JIDs
// reached over server-to-server (blocking/remote_test.go):
//
//   - A message from a blocked JID bounces with service-unavailable (one of
//     type error is dropped: errors are never answered). The check is an
//     outbound hook registered before the archive module's, so the message
//     is never archived, stored offline or carbon-copied.
//   - An iq get or set from a blocked JID is service-unavailable; a result
//     or error is dropped (router.IQFilter).
//   - A message or iq the user sends to a JID it blocks is refused with
//     not-acceptable and <blocked xmlns='urn:xmpp:blocking:errors'/>.
//   - A message kept in offline storage before its sender was blocked is
//     discarded instead of delivered (offline.Blocker).
//   - Presence (the presence module asks Blocks through presence.Blocker):
//     none flows between the user and a blocked JID either way, probes
//     and subscription stanzas from it included, all dropped silently;
//     the user's own presence with a 'to' it blocks is not-acceptable
//     with <blocked/>.
//   - A block that newly covers a contact makes each available resource
//     of the user send it unavailable presence, if it could see the
//     user's presence (a 'from' or 'both' subscription, or directed
//     presence); an unblock that uncovers one sends the current presence
//     (§3.4), through the PresenceNotifier (the presence module).
//
// The blocklists are cached per account in memory, loaded on first use and
// replaced under the account's lock whenever the module changes them, so
// checking a stanza against an account that blocks nobody costs no
// storage read after the first. The cache assumes this process is the only
// writer of the blocklists (as for the rest of the storage).
//
// Feature: urn:xmpp:blocking on the server (XEP-0191 §3.1: clients ask
// their server's domain) and on accounts (disco#info of their own bare JID,
// where Skald lists account features).
//
// Config: none.
package blocking
