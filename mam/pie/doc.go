// Package pie reads and writes the Portable Import/Export format
// (XEP-0227 v1.1, namespace urn:xmpp:pie:0): message archives ("Message
// Archive") for "skald archive export|import", and the rest of a user's
// data (credentials, roster, subscription requests, vCard, private XML,
// offline messages) for "skald user export|import". It lives under mam
// because archives were its first part; it imports only mam, storage and
// the layers below, so cmd/skald is its only user.
//
// # Format
//
// A document is <server-data xmlns='urn:xmpp:pie:0'> holding <host jid=…>
// elements holding <user name=…> elements (name is the localpart). A
// user's archive is one <archive xmlns='urn:xmpp:pie:0#mam'> child of the
// user holding XEP-0313 results, oldest first:
//
//	<result xmlns='urn:xmpp:mam:2' id='archive id'>
//	  <forwarded xmlns='urn:xmpp:forward:0'>
//	    <delay xmlns='urn:xmpp:delay' stamp='2026-01-02T03:04:05.123456Z'/>
//	    <message xmlns='jabber:client' from=… to=…>…</message>
//	  </forwarded>
//	</result>
//
// Writer produces such a document: one <host> per run of users of one
// domain, one <user> and <archive> per archive, items with the archive id
// clients see and the stamp in microseconds (the archive's precision).
// Items must come in chronological order, as XEP-0227 requires.
//
// Decode and DecodeFile read any XEP-0227 document and hand over each
// archive item with its owner, in document order. With Options.User and
// Options.UserPart they also hand over each <user> start tag (name and
// plaintext password, if any) and each other child of a <user>, read
// whole (bounded like an item); without them the rest of a user's data is
// skipped, as are elements of namespaces nobody knows (XEP-0227 "File
// format": unknown data SHOULD be ignored). user.go parses the parts:
//
//   - ParseSCRAM: <scram-credentials xmlns='urn:xmpp:pie:0#scram'
//     mechanism='SCRAM-SHA-1|SCRAM-SHA-256'> with <iter-count/>, and
//     base64 <salt/>, <server-key/>, <stored-key/> (keys as long as the
//     hash output), i.e. what storage.Credentials keeps: a password
//     never needs to be known. SCRAMElement writes one.
//   - ParseRoster: <query xmlns='jabber:iq:roster'> as a roster result
//     (RFC 6121): bare JIDs, once each, subscription none/to/from/both,
//     ask='subscribe', name, groups. RosterElement writes the visible
//     items.
//   - SubscriptionRequest: <presence xmlns='jabber:client'
//     type='subscribe' from=…> children of <user> ("Incoming
//     Subscription Requests"), kept as the presence module keeps them
//     (storage.Documents kind "subscription-request", with a pending-in
//     roster item).
//   - OfflineMessages: <offline-messages> holding jabber:client
//     messages, oldest first, each read back under the server's rules;
//     stored at their XEP-0203 delay stamp.
//   - PrivateDocuments: <query xmlns='jabber:iq:private'>, one document
//     per namespace as the private module keys them.
//   - vCards (<vCard xmlns='vcard-temp'>) are kept as they are.
//
// Writer.StartUser writes a <user> with such parts (no password
// attribute: the server has none); StartArchive continues it.
//
// XInclude <include href=…/> elements that are
// children of <server-data>, <host> or <user> are followed when reading
// a file through DecodeFile ("Use of XInclude": MUST): the href is a
// relative URI resolved against the including file, inside the file
// system given (so an include cannot reach above the directory of the
// imported file); parse='text', xpointer and fallback-only includes are
// errors. Includes deeper inside user data are user data and not
// processed ("Security Considerations").
//
// An account an operator disabled carries Skald's own <disabled
// xmlns='urn:skald:disabled'> (NSDisabled: DisabledElement,
// ParseDisabled), which XEP-0227 has no field for.
//
// Not done: XEP-0227 v1.1 PEP nodes (<pubsub xmlns='…pubsub#owner'>
// children of <user>) and privacy lists (XEP-0016, which Skald does not
// implement) are read past as unknown data; "skald user export" does not
// write private XML, since storage.Documents cannot list an account's
// namespaces.
//
// Every message is checked to read back under the server's own XML rules
// (internal/xml, default limits) before it is handed over, so that what an
// import stores is exactly what the server can serve. Limits: a <result>
// may take at most Options.MaxItemBytes bytes of input (1 MiB), and so may
// any single token elsewhere; a user part (held whole) at most
// Options.MaxPartBytes (64 MiB: a roster or <offline-messages> holds
// many items); includes nest at most 8 deep.
//
// Errors name the file and line (*Error).
//
// ToArchived derives what the store keeps of an item relative to its
// owner: direction, peer, resource, origin-id and body. FromArchived is
// its inverse for export.
package pie
