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
// Config ([private] in the configuration file):
//
//	max_bytes_per_namespace = 65536   # one namespace's stored XML
//	max_total_bytes = 1048576         # all of one account's
//
// Feature: jabber:iq:private, on the server.
package private
