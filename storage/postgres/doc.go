// Package postgres implements storage.Store on a PostgreSQL database
// (15 or newer), through github.com/jackc/pgx/v5 and its pgxpool, for
// servers that outgrow one machine's SQLite file. Several Skald processes
// may share one database.
//
// # Connections
//
// A Store owns one pgxpool.Pool (Options.MaxConns, default 8). pgx
// prepares each statement once per connection and caches it by SQL text.
// Every connection runs with synchronous_commit=on and
// default_transaction_isolation = read committed, whatever the server's
// or the DSN's default (the archive lock below relies on a snapshot per
// statement). The DSN's search_path selects the schema; all
// advisory locks below are keyed by a hash of that schema, so stores in
// different schemas of one database never wait for each other.
//
// A backend the server ended (a restart, pg_terminate_backend) is not
// handed out: on every acquire a non-blocking peek at the idle socket
// (no round trip) finds the FATAL message or EOF it left, and such a
// connection is pinged, destroyed and replaced before the caller's
// statement is sent (conncheck.go). When pgconn's background reader may
// own the socket (after a slow write) the connection is synced by a ping
// first: a peek under that reader blocked Acquire for ever. Only an
// operation already running on a backend when it dies fails; nothing is
// retried, so a COMMIT whose outcome is unknown is never repeated.
//
// # Group commit and durability
//
// AppendArchive calls go to one writer goroutine (writer.go) over an
// unbuffered channel. The writer blocks for a first call, takes the calls
// already parked on the channel (up to Options.MaxBatch) and appends them
// all in one transaction; every caller is answered after the COMMIT has
// returned, and with synchronous_commit=on that is after the commit
// record was flushed to disk (a server replicating synchronously also
// waits for its standby). Calls that arrive during a commit form the next
// batch: one call per transaction for a lone writer, with no timer, and
// one WAL flush for many calls under load. A batch that PostgreSQL
// refuses is retried call by call, so a call it refuses (a NUL byte in a
// text, say) fails alone; a batch that cannot reach the server fails
// whole. Once the writer has taken a call, the caller waits for its
// outcome even if its context is cancelled (Options.WriteTimeout bounds
// the transaction), so a committed append is never reported failed. An
// append transaction is four round trips whatever its size: BEGIN, two
// pipelined batches of statements, COMMIT (archive.go).
// Every other write is a transaction of its own on the pool.
//
// # Archive ids: commit order, across processes
//
// Invariant: archive ids increase in commit order across the whole
// database, also with several processes appending. A reader paging
// "after id X" must never miss a row that commits later with an id below
// one it has already seen. A sequence alone does not give that: two
// transactions may take ids 1 and 2 and commit 2 first. So every
// transaction that writes archive rows or archive_count takes the archive
// lock first, pg_advisory_xact_lock(lockArchive, schema hash), held until
// COMMIT or ROLLBACK, and an append takes its ids from archive_id_seq only
// after that lock. PostgreSQL makes a transaction visible before it
// releases its locks, so every id of a later append is higher than every
// id already visible, and no snapshot can see a higher id without the
// lower ones. Ids are never reused (a sequence does not go back, even
// after the newest rows were deleted); an append with resends
// (AppendArchiveOnce) may leave gaps.
//
// The same lock serialises the stamp clamp: an append reads the stamp of
// the newest row (highest id) after taking the lock and stamps nothing
// earlier, so stamps never decrease with id across the store, whichever
// process wrote the rows. And it keeps archive_count equal to the rows:
// purges, trims, expiries and DeleteUser change both under it, in
// batches of Options.DeleteBatch rows per transaction, so appends
// interleave with a big deletion.
//
// Lock order: the archive lock is the first lock of any transaction that
// takes it; archive_count rows are then updated in owner order. Roster
// writers lock their roster row (the version bump) before any item.
// StoreOffline takes a per-owner advisory lock first
// (pg_advisory_xact_lock(lockOffline, hash of schema and owner)), which
// makes its quota check atomic and an owner's offline seqs increase in
// commit order; PutDocuments likewise takes one per owner and kind
// (lockDocuments) for its quota, and CreatePEPNode one per owner (lockPEP)
// for the node quota, as does PublishPEPItem for the byte quota (before
// the node row lock). No transaction takes two of these locks. A PEP
// transaction that changes a node's items locks the node's pep_node row
// first, then item rows (pep.go): publishes, trims and reconfigurations of
// a node are serialised, so a node holds at most its max_items items after
// every commit, and its items' seq order is commit order. DeleteUser
// deletes the account's pep_node rows (items cascade) after the archive
// lock, and no PEP transaction takes the archive lock. A MUC room write
// (rooms.go) locks the room's muc_rooms row first (PutRoom's upsert,
// DeleteRoom's DELETE), then its affiliation rows; it touches one room
// and takes no advisory lock, and DeleteUser leaves rooms alone. The
// writer goroutine's state is confined to it; Store has no mutex.
//
// # Keyset paging
//
// Every page is one statement: one index range scan from the end the page
// starts at, LIMIT Limit+1 rows (the extra row tells Complete), reversed
// for Last pages. No OFFSET, no count per page. The indexes:
//
//	archive_owner  (owner, id)                       pages without a peer, counts, purge, trim
//	archive_with   (owner, with_jid, id)             pages and purges with a peer
//	archive_time   (owner, stamp, id)                Start/End seeks, purge before a time
//	archive_origin (owner, with_jid, origin_id, id)  FindByOriginID, the resend check; partial
//
// Start and End become id bounds through one seek each on archive_time,
// scalar subqueries of the page statement that PostgreSQL runs once
// before the scan and in its snapshot: since stamps never decrease with
// id, an owner's items stamped within [Start, End] are an id range.
// CountArchive runs the page's scan under LIMIT max; an unfiltered count
// (and ArchiveStats) reads archive_count, a per-owner row count kept in
// the same transaction as every insert and delete. ExpireArchive needs no
// index across owners: the rows stamped before a time are a prefix of the
// primary key. TestQueryPlans pins the plans.
//
// Stamps are bigint microseconds since the Unix epoch, UTC, like the
// SQLite backend's (to_timestamp(stamp / 1e6) shows them). JID columns
// are COLLATE "C": byte order, as Go sorts.
//
// # PEP
//
// PEP nodes (storage.PEP, XEP-0163) are pep_node rows keyed by (owner,
// node); their items are pep_item rows that reference the node with ON
// DELETE CASCADE, so DeletePEPNode and DeleteUser are one statement each.
// A publish upserts the item with a fresh seq from pep_item_seq_gen (a
// republished id becomes the newest) and trims in the same transaction;
// reads and trims are backward range scans of pep_item_order (owner,
// node, seq). PEPItems is one statement, so one snapshot: the node row
// joined laterally to its newest items.
//
// # MUC rooms
//
// Persistent rooms (storage.Rooms, XEP-0045) are muc_rooms rows (the JID
// and the muc module's configuration, opaque bytes) and muc_affiliations
// rows, one per affiliated bare JID, which go with their room (ON DELETE
// CASCADE). PutRoom is one transaction that upserts the room row, deletes
// the affiliations the room no longer has and upserts the rest, so an
// unchanged affiliation's row is not rewritten; Rooms is one statement,
// each room's affiliations aggregated into arrays beside it.
//
// # Full-text search
//
// storage.ArchiveQuery.Text (semantics in storage/fulltext.go) adds one
// body_fold LIKE '%term%' per term (wildcards escaped) to the page's
// WHERE: exactly storage.MatchText, since body_fold is the body folded
// by storage.FoldText, written with the row by the append (migration
// 0005; unlike SQLite's, PostgreSQL's writer is not the one bottleneck,
// and GIN's pending list absorbs the insert). The archive_text trigram
// GIN index (pg_trgm, created by the migration if absent) answers terms
// of three or more characters; the planner ANDs it with the owner's
// range or walks archive_owner with the filter, whichever it estimates
// cheaper. Where neither can help (a term of one or two characters, or
// one too common for the index to narrow), the statement filters the
// owner's whole range, so it runs in a read-only transaction with
// statement_timeout Options.TextTimeout (default 2s; fulltext.go): past
// it, storage.ErrTextTooBroad, as SQLite's scan budget. Rows stored before 0005 get body_fold at the first Open after
// it (foldOldBodies, through the partial index archive_unfolded).
//
// # Schema
//
// The schema lives in migrations/NNNN_description.sql, embedded in the
// binary. Open applies the pending ones in one transaction that first
// takes a migration advisory lock, so two processes starting at once on a
// new database apply each once; schema_version records them, and a
// schema newer than the binary is refused. 0006 added users.disabled_at
// and disabled_reason (storage.Users.SetUserDisabled; NULL for an enabled
// account) with a partial index of the disabled accounts.
//
// Metrics (metrics.go): skald_postgres_write_batches_total (append
// transactions), skald_postgres_write_operations_total (AppendArchive
// calls in them) and the pool's connections.
package postgres
