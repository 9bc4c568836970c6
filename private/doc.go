// Package private implements Private XML Storage (XEP-0049, version 1.2):
// a client keeps arbitrary XML on the server, in <query
// xmlns='jabber:iq:private'/>, one document per namespace (the namespace
// of the stored elements), for its own account only. Bookmarks
// (XEP-0048, storage:bookmarks) are the common user. Documents are kept
// in storage.Documents, kind "private", keyed by namespace.
//
// All iqs go to the own account: no 'to', or the own bare JID (§2.3).
//
//   - set: every child of <query/> is stored. Children that share a
//     namespace are stored together, in their order, and replace that
//     namespace's document whole (§2.3: a set MAY carry several elements
//     of one namespace); several namespaces in one set are stored all or
//     none.
//   - get: <query/> with one child names the namespace (§2.3: a client
//     MUST NOT ask for more than one). The answer holds the stored
//     elements of that namespace, or the request's child as it came when
//     nothing is stored.
//
// Errors:
//
//   - no child in <query/>: not-acceptable (§2.3 "MUST respond with Not
//     Acceptable"; its "Bad Format" for an empty get is no RFC 6120
//     condition, and its example shows not-acceptable too).
//   - a child in a reserved namespace, jabber:client, jabber:server or
//     jabber:iq:private (which also covers a child that declares no
//     namespace: it inherits <query/>'s): not-acceptable (§2.3 makes the
//     error OPTIONAL for reserved namespaces; these three would be
//     stanzas or the query itself, never data to keep).
//   - a get naming more than one namespace: bad-request.
//   - an iq to any other JID, with or without an account behind it:
//     forbidden (§2.3 prefers it to service-unavailable; Security
//     Considerations: nobody but the user touches its data).
//   - a namespace's document longer than Config.MaxBytesPerNamespace, or
//     a set after which the account's documents would total more than
//     Config.MaxTotalBytes: policy-violation, and nothing of the set is
//     stored. A size cap is a local service policy (RFC 6120 §8.3.3.12);
//     not-acceptable stays the answer to requests XEP-0049 itself rules
//     out.
//
// Bookmarks (XEP-0402 §5, "#compat"; bookmarks.go): with
// bookmarks_compat on, XEP-0048 bookmarks (<storage
// xmlns='storage:bookmarks'/>) and the account's PEP node
// urn:xmpp:bookmarks:1 (XEP-0402: one item per room, the room JID as item
// id) are one list, so that clients of either kind see the same
// bookmarks. The node holds the conferences; the module reads and writes
// it through PEP (pep.Module's own publish, retract and items, as the
// account would: same checks, notifications and storage), which
// internal/server installs with SetPEP.
//
//   - get of storage:bookmarks: the node's items as XEP-0048 conferences
//     (jid = item id; name, autojoin, nick and password carried over, the
//     children of <extensions/> back in the conference), then what
//     XEP-0402 has no room for from the stored document: url bookmarks
//     and conferences whose jid is no bare room JID (or is longer than
//     the 1024 bytes of a pep item id). An account without the node gets
//     its stored list, which is copied into the node first (bookmarks
//     from before the conversion).
//   - set of a <storage/>: compared with the node (§5.2): a bookmark that
//     is new or changed is published, one that is gone is retracted
//     (notified), an unchanged one is left alone (no notification); the
//     document is stored as before. The server publishes with XEP-0402
//     §3's publish-options (whitelist, persist_items, max_items "max",
//     send_last_published_item never): a node the account configured
//     otherwise refuses the first publish with conflict +
//     <precondition-not-met/> (XEP-0060 §7.1.5), which answers the set
//     before anything changed, rather than the bookmarks leaking into a
//     node others may read. (A set the private quota refuses after the
//     node took it leaves the node changed: the conferences are read
//     from there; the stored document, and its url bookmarks, stay as
//     they were.) A list of more rooms than the node keeps ([pep]
//     max_items, what "max" means) is refused with policy-violation
//     before anything changed: published one by one, the last rooms
//     would evict the first from the node, which the next get reads.
//     (An XEP-0048 list published over PEP with as many is not
//     converted; the failure is logged.)
//   - a client's PEP publish or retract on urn:xmpp:bookmarks:1 needs
//     nothing more for private XML: the next get reads the node.
//
// XEP-0048's own PEP node (#compat-pep): clients of XEP-0048 over PEP
// (XEP-0223) keep the whole list as item "current" of the node
// storage:bookmarks. The module is a pep.Observer (installed by
// internal/server; it hears of the accounts' own publishes and
// retractions, never of the server's):
//
//   - a list an account publishes there is taken as a private XML set of
//     it would be (compared with urn:xmpp:bookmarks:1, changes published
//     and retracted; its url bookmarks stay in that node only);
//   - after any other change (a private XML set, an account's publish or
//     retract on urn:xmpp:bookmarks:1, the copy at a first get) the list a private XML get would
//     answer is published there, with XEP-0223's publish-options
//     (persist_items, whitelist), unless the node holds it already. A
//     legacy client that found the node empty would publish a list
//     without the other bookmarks, so the node is kept filled whenever
//     urn:xmpp:bookmarks:1 exists.
//
// A failure there is logged: the change that caused it succeeded. Not
// followed: a node deleted or purged by its owner (the next change
// refills the legacy node).
//
// The account advertises urn:xmpp:bookmarks:1#compat and #compat-pep
// (XEP-0402 §5). One account's bookmark get, set and conversion take its
// lock in Module.locks (before pep's, which calls its observers with no
// lock held).
//
// Config ([private] in the configuration file):
//
//	max_bytes_per_namespace = 65536   # one namespace's stored XML
//	max_total_bytes = 1048576         # all of one account's
//	bookmarks_compat = true           # XEP-0402 #compat, #compat-pep (above)
//
// Features: jabber:iq:private, on the server; urn:xmpp:bookmarks:1#compat
// and urn:xmpp:bookmarks:1#compat-pep on accounts while the conversion is
// on.
package private
