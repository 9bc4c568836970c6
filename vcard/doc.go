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
// Avatar conversion (XEP-0398, avatar.go; avatar_conversion, on by
// default). Read from the spec's text: §2 discovery, §3.1 PEP to vCard
// (MUST), §3.2 vCard to PEP (MAY, done), §4 presence (MUST):
//
//   - PEP to vCard: an account's own publish to urn:xmpp:avatar:metadata
//     (XEP-0084; pep tells the module through pep.Observer, which
//     internal/server installs) puts into the vCard's PHOTO the image of
//     urn:xmpp:avatar:data named by the first <info/> without a url, with
//     its type, if its SHA-1 is its id (§3.1 SHOULD verify; otherwise
//     nothing changes). The rest of the vCard stays; an account without
//     one gets a vCard with only the photo. A metadata without <info/>
//     (XEP-0084: avatar disabled) removes the PHOTO. A vCard that would
//     exceed max_bytes is not written.
//   - vCard to PEP: a vCard set with a usable photo (TYPE, base64 BINVAL)
//     publishes the image to urn:xmpp:avatar:data (item id its SHA-1),
//     then urn:xmpp:avatar:metadata with one <info/> (bytes, id, the
//     vCard's TYPE), which pep notifies to the node's subscribers (§3.2
//     SHOULD). Nothing is published when the metadata already names that
//     image (the same photo set again). A node the conversion creates is
//     open, as the vCard photo is public anyway (§6); a node that exists
//     keeps its access model. A vCard without a photo changes nothing in
//     PEP (clients that set only a nickname would otherwise erase the
//     avatar). A conversion that fails is logged; the vCard set still
//     succeeds.
//   - No loops: the server's own publishes (pep.Module.Publish) are not
//     passed to pep.Observer, and a conversion's vCard write is not a set.
//   - Presence (router.PresenceRewriter): every available presence an
//     account's client sends, broadcast or directed (room joins too),
//     carries <x xmlns='vcard-temp:x:update'><photo>hash</photo></x>
//     (XEP-0153's SHA-1 of the photo, empty when there is none), unless
//     it holds an empty <photo/>, which is left as sent; an <x/> without
//     <photo/> is filled and another hash replaced (§4 MAY). The hashes
//     are cached per account (at most 100000, then the cache starts over).
//     As §5 says, the server does not resend presence when the photo
//     changes.
//
// Locks: Module.locks serialises one account's vCard writes (a set and
// its conversion to PEP; a conversion from PEP), taken before pep's lock
// and never under it (pep calls its observer with no lock held);
// photoHashes.mu is a leaf.
//
// Config ([vcard] in the configuration file):
//
//	max_bytes = 65536         # largest stored vCard, serialised; photos are
//	                          # base64 inside it, so this bounds avatar size
//	avatar_conversion = true  # XEP-0398 (above)
//
// Features: vcard-temp, on the server and on accounts' bare JIDs (§4);
// urn:xmpp:pep-vcard-conversion:0 on accounts while converting.
package vcard
