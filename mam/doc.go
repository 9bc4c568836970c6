// Package mam implements users' message archives: Message Archive
// Management (XEP-0313 v1.1, namespace urn:xmpp:mam:2, with the
// urn:xmpp:mam:2#extended features), its preferences (XEP-0441), the
// archive's stanza ids (XEP-0359), Result Set Management paging
// (XEP-0059) and the hints that govern storage (XEP-0334).
//
// # Archiving
//
// The module is a router hook on both sides of a local message: the
// outbound hook archives into the sender's archive (outgoing), the inbound
// hook into the recipient's (incoming); a message to oneself is archived
// once, outbound. For a message between two local accounts the outbound
// hook prepares both copies and appends them in one AppendArchive call,
// under the recipient's ordering lock the router already holds, so one
// commit makes the message durable in both archives (and a failure leaves
// it in neither); the inbound hook then only adds the stanza-id. The hooks
// return only after the store has made the items durable
// (storage.Archive.AppendArchive group-commits), and a failed append
// aborts routing: nothing is delivered that the archive lacks.
// What is archived (archivedCopy): chat and normal messages with a body or
// subject, a <store/> hint, receipts, chat markers, encrypted payloads,
// Jingle Message Initiation, MUC invitations, corrections, retractions
// and reactions; never groupchat or error messages, headlines only with a
// <store/> hint (XEP-0334 "Store"), never no-store/no-permanent-store,
// MAM results or carbons wrappers. Children
// in dont_archive_namespaces (chat states) are stripped from the stored
// copy, and a message with nothing else worth keeping is not archived. A
// resend (same origin-id and body from the same peer, as after a stream
// management resume) reuses the existing item. Archive policy: stored
// XEP-0441 preferences, else default_archive_policy; see shouldArchive
// for the matching rules Skald chose where XEP-0441 is silent.
//
// Stanza ids (XEP-0313 "Communicating the archive ID", XEP-0359): every stanza-id claiming to be
// from the archive involved ('by' = the sender's bare JID outbound, the
// recipient's inbound) or its domain is removed, as is every malformed one
// (a child, or attributes besides by and id); the recipient's copy gets
// <stanza-id by='recipient' id='…'/>; the sender's archive id is handed
// to the carbons module in MessageEvent.SenderArchiveID and never added
// to what the recipient gets. origin-id is kept.
//
// Archive ids are the store's internal int64 ids under a keyed AES
// permutation (see idCodec), 22 URL-safe characters: opaque,
// unpredictable, unique and never reused, revealing neither time nor
// archive size; a string the server did not issue is rejected
// (item-not-found) without a store lookup.
//
// # Queries
//
// On the account's bare JID (and, for clients that discovered the
// feature there, the server domain, which serves the requester's own
// archive; another user's archive is forbidden):
//   - iq get <query/>: the form (with, start, end, before-id, after-id,
//     ids, {urn:xmpp:fulltext:0}fulltext, include-groupchat). include-groupchat
//     is understood but changes nothing: user archives hold no groupchat
//     messages (XEP-0313 "Including groupchat results"); rooms do not
//     offer it;
//   - iq set <query/>: results as <message><result><forwarded><delay/>…
//     with microsecond stamps, then <fin/> with RSM first/last, count
//     when cheap and exact (always for the whole archive; with filters,
//     after-id and before-id included, up to countBound matching items
//     on a page, countOnlyBound for a count-only max=0 request; the
//     count is of the set the form selects, whatever the RSM cursors),
//     first@index when it follows from the count, complete='true' when
//     nothing more matches in the paging direction; <flip-page/> reverses
//     only the order of sending; a queryid, even an empty one, is echoed
//     in every result. Errors are listed at ParseQuery; unknown ids are
//     item-not-found (cancel); RSM <index/> other than 0 (the first page)
//     is feature-not-implemented.
//   - iq get <metadata/>: first and last item, or an empty <metadata/>
//     (on a room too, which advertises #extended: QueryRoom); the same
//     <metadata/> goes into a XEP-0386 Bind 2 <bound/> (BoundInfo, which
//     c2s calls at binding);
//   - iq get/set <prefs/> (XEP-0441): both lists always present; a set
//     answers with the preferences as applied.
//
// Disco features on the server and on accounts: urn:xmpp:mam:2,
// urn:xmpp:mam:2#extended, urn:xmpp:mam:2#groupchat-field (not
// #groupchat-available), urn:xmpp:sid:0, urn:xmpp:fulltext:0,
// urn:xmpp:message-retract:1 and its #tombstone.
//
// # Full-text search (XEP-0431 v0.2.0)
//
// The text-single field {urn:xmpp:fulltext:0}fulltext of the query form,
// on user archives and room archives alike (rooms that archive advertise
// urn:xmpp:fulltext:0 too), filters the result set; it combines with
// every other field (with, start, end, after-id, before-id, ids) and with
// RSM paging in both directions and flip-page exactly like them. XEP-0431
// leaves the matching to the implementation; Skald's (storage.TextTerms,
// storage.MatchText, the same on every backend):
//   - the value is split at white space into words; a message matches
//     when its body contains every word, anywhere and in any order, as a
//     substring ("ticket" finds "tickets", "未来" finds "我们的未来");
//   - case, accents (the combining diacritical marks: "cafe" finds
//     "Café", "grusse" finds "Grüße") and compatibility forms (full-width
//     letters, ligatures) are ignored;
//   - no character is syntax: quotes, *, -, :, OR, NEAR are searched for
//     as text (XEP-0431 "Results": clients should not expect special
//     characters to mean anything);
//   - a blank value is no filter; more than 256 bytes or 8 distinct words
//     is policy-violation, as is a search the backend gives up on (below).
//
// Only the body is searched (storage.ArchivedMessage.Body): not subjects,
// not encrypted payloads, which the server cannot read. Text pages carry
// no RSM <count/> (XEP-0059 allows leaving out a count that is expensive
// to compute: it costs a search of the whole set); a count-only request
// (max=0) gets one up to countBound matches.
//
// Cost: on SQLite a search looks words of three or more characters up in
// a trigram index built in the background (storage/sqlite fulltext_*.go)
// and scans the few newest items not yet indexed; words of one or two
// characters alone scan the range. A search examines at most 20000
// candidate items: a page it cannot fill within that is sent with what it
// found and without complete='true' (the next page goes on after its
// last item); one that found nothing is policy-violation, asking the
// client to narrow it with with/start/end. On PostgreSQL a trigram GIN
// index (pg_trgm) answers the words.
//
// # Retractions
//
// retract.go: a retracted message (XEP-0424, XEP-0425) stays in its
// archive under its id, stamp and author but becomes a tombstone
// (Tombstone): its attributes, stanza-ids, origin-id, occupant-id and a
// room's muc#user <x/> naming the sender are kept, everything else is
// replaced by <retracted xmlns='urn:xmpp:message-retract:1' id='…'
// stamp='…'/>, and the stored body is emptied, so no query, search or
// discussion history (RoomHistory shows tombstones) finds the content
// again (storage.Archive.ReplaceArchived). The retraction itself is
// archived like any message (XEP-0424 "Business Rules"). Rooms: package
// muc, through RoomItem and ReplaceRoomItem. Users' archives
// (retractChat): a message of any type but groupchat with <retract
// id='…'/> tombstones, once archived, the item with that origin-id in the
// same direction with the same peer, in the sender's archive (outgoing)
// and the recipient's if local (incoming; also for a retraction from a
// remote sender), so only the author's own message goes (XEP-0424:
// original and retraction from the same bare JID); <retracted/> carries
// the retraction's message id. XEP-0424 names a chat message by its
// 'id'; it is looked up as origin-id, which the clients that retract
// send with the same value; a message without one is not found and stays.
// Accounts and the server advertise urn:xmpp:message-retract:1 and
// urn:xmpp:message-retract:1#tombstone.
//
// # Retention
//
// Cleaner.Run deletes items older than archive_expires_after every
// archive_cleanup_interval, in batches of 1000 (Cleaner.ExpireNow does one
// pass). archive_max_items trims a user's oldest items after an append,
// only when a per-user count kept in memory exceeds the cap. Both only
// ever delete the oldest items, so archives have no holes (XEP-0313 "Message retention and deletion").
//
// # Configuration
//
// The [mam] section (Config): max_archive_query_results (50),
// default_page_size (20, at most the former), default_archive_policy
// (true | false | "roster"), archive_expires_after ("1w"; ParseExpiry),
// archive_cleanup_interval (14400 s), archive_max_items (0 = unlimited),
// dont_archive_namespaces (chat states).
//
// # Metrics
//
// metrics.go: skald_mam_messages_archived_total (items stored, a message
// between two local accounts twice, a resend once),
// skald_mam_queries_total and skald_mam_query_errors_total (archive
// queries answered with a result, with an error).
package mam
