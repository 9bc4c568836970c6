// Package memory is an in-memory implementation of storage.Store.
//
// It is the fallback backend when the SQLite database cannot be opened and
// the reference backend in tests. Nothing survives Close or a restart.
//
// # Locking
//
// One sync.RWMutex (Store.mu) guards every field of the Store. Read-only
// methods take it shared, every method that changes anything takes it
// exclusively, and no method calls another exported method while holding
// it, so there is no lock ordering to get wrong: mu is the only lock and is
// never held across a blocking operation or a callback. Values handed in
// and out are deep-copied under the lock, so callers can never alias the
// stored state.
//
// # Archive invariants
//
// The archive of each owner is a slice sorted by ID. IDs come from one
// store-wide counter (nextID) that only ever grows, so an ID is never handed
// out twice, even after the item it named was purged. Stamps are truncated
// to microseconds and clamped on append to be no earlier than the stamp of
// the newest item still stored (the item with the highest ID, in any
// owner's archive), so stamps never decrease with ID across the whole
// store. A Start/End range is therefore a contiguous run of each owner's
// slice, found with two binary searches; pages are then taken by keyset
// (AfterID/BeforeID bounds found by binary search too), never by offset.
//
// # Semantics shared with the other backends
//
// These choices are not spelled out by the storage interfaces; every
// backend makes the same ones and storagetest checks them:
//
//   - ArchiveQuery.Limit <= 0 means no limit.
//   - Start and End are inclusive: an item matches when
//     Start <= Stamp <= End with the full precision of the bounds.
//   - WithResource is ignored when With is empty.
//   - A zero Stamp on append means "now".
//   - FindByOriginID returns the newest matching item; an empty origin-id
//     never matches.
//   - ExpireArchive with batch <= 0 deletes everything older than before;
//     TrimArchive with keep <= 0 empties the archive.
//   - PurgeArchive deletes only items that existed when it started.
//   - ArchiveStats(owner) with an owner always has that key (possibly 0);
//     ArchiveStats("") lists only owners with at least one item.
//   - ArchiveIDsExist has a key for every requested id.
//   - ArchiveQuery.Text is storage.TextTerms/MatchText on the folded
//     body; here a scan of the range.
//   - Roster returns items sorted by contact JID and version "0" for an
//     owner that never had a roster; rosters and archives do not require a
//     user account (an archive owner can be a MUC room).
//   - Empty slices (groups, prefs lists, result lists) come back as nil.
package memory
