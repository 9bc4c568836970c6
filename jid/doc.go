// Package jid implements XMPP addresses (JIDs) as defined in RFC 7622,
// "Extensible Messaging and Presence Protocol (XMPP): Address Format".
//
// A JID has the form
//
//	[ localpart "@" ] domainpart [ "/" resourcepart ]
//
// and is split as described in RFC 7622 §3.1: everything after the first
// "/" is the resourcepart (so a resourcepart may itself contain "@" and
// "/"), and the localpart is everything before the first "@" that precedes
// that "/".
//
// Each part is prepared and enforced when a JID is created, so a [JID] value
// always holds the canonical form of the address:
//
//   - The localpart (RFC 7622 §3.3) is enforced with the PRECIS
//     UsernameCaseMapped profile (RFC 8265 §3.3): width mapping, lowercasing,
//     NFC and the Bidi rule over the IdentifierClass. After enforcement it
//     must not contain any of the characters " & ' / : < > @ (§3.3.1).
//   - The domainpart (RFC 7622 §3.2) is either an IP literal (an IPv4 address
//     or an IPv6 address in square brackets, which is put in the RFC 5952
//     text form) or an internationalized domain name. A single trailing
//     "." is stripped first (§3.2). Domain names are mapped per UTS #46 /
//     RFC 5895 (width, case, NFC, full-stop-like characters), validated
//     under IDNA2008 (RFC 5891, including the Bidi and ContextJ rules and
//     the STD3 LDH restriction for ASCII characters), and A-labels are
//     converted to U-labels as §3.2.2 requires. Empty labels are rejected.
//     Labels and names longer than DNS allows are accepted, since RFC 7622
//     only limits the domainpart to 1023 octets.
//   - The resourcepart (RFC 7622 §3.4) is enforced with the PRECIS
//     OpaqueString profile (RFC 8265 §4.2).
//
// Every part must be 1 to 1023 octets long after enforcement, and a
// separator that is present must not be followed (or, for "@", preceded) by
// an empty part: "@example.com", "user@", and "example.com/" are invalid.
//
// JIDs that consist only of ASCII letters, digits and the usual punctuation
// take a fast path that skips the PRECIS and IDNA machinery; when such a
// string is already canonical, parsing it does not allocate.
//
// A [JID] is a small comparable value: two JIDs are equal exactly when they
// are ==, so JIDs can be used directly as map keys.
package jid
