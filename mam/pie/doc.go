// Package pie reads and writes message archives in the Portable
// Import/Export format (XEP-0227 v1.1 "Message Archive", namespace
// urn:xmpp:pie:0): the archive administration commands of cmd/skald use it
// for "skald archive export" and "skald archive import".
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
// archive item with its owner, in document order. The rest of a user's
// data (roster, incoming subscription requests, vCard, offline messages,
// credentials, PEP) and elements of namespaces they do not know are
// skipped (XEP-0227 "File format": unknown data SHOULD be ignored).
// XInclude <include href=…/> elements that are
// children of <server-data>, <host> or <user> are followed when reading
// a file through DecodeFile ("Use of XInclude": MUST): the href is a
// relative URI resolved against the including file, inside the file
// system given (so an include cannot reach above the directory of the
// imported file); parse='text', xpointer and fallback-only includes are
// errors. Includes deeper inside user data are user data and not
// processed ("Security Considerations").
//
// Not done: XEP-0227 "Incoming Subscription Requests" (<presence
// xmlns='jabber:client' type='subscribe'> children of <user/>, SHOULD)
// would carry the requests the presence module keeps (storage.Documents
// kind "subscription-request"). A kept request is only the content of a
// roster item's pending-in state, which the presence module delivers
// from; exporting it without the roster (the <query xmlns='jabber:iq:roster'>
// this archive tool does not write), or importing it without writing that
// state, would move data nothing reads. They belong with a roster
// export/import, not in "skald archive".
//
// Every message is checked to read back under the server's own XML rules
// (internal/xml, default limits) before it is handed over, so that what an
// import stores is exactly what the server can serve. Limits: a <result>
// may take at most Options.MaxItemBytes bytes of input (1 MiB), and so may
// any single token elsewhere; includes nest at most 8 deep.
//
// Errors name the file and line (*Error).
//
// ToArchived derives what the store keeps of an item relative to its
// owner: direction, peer, resource, origin-id and body. FromArchived is
// its inverse for export.
package pie
