// Package sqlite implements storage.Store on one SQLite database file,
// using github.com/ncruces/go-sqlite3 (SQLite compiled to Go, no cgo)
// through its native Conn/Stmt API.
//
// # Connections
//
// A Store owns one writer connection and Options.ReadConns read
// connections (PRAGMA query_only). Each connection keeps its own cache of
// prepared statements keyed by SQL text, so a hot statement is prepared
// once per connection and afterwards only bound, stepped and reset. A
// connection is only ever used by one goroutine at a time: the writer
// connection by the writer goroutine alone, a read connection by whoever
// took it from the pool (a buffered channel) until it puts it back. A
// read's context is installed as the connection's interrupt, so cancelling
// it aborts a running statement. Each connection is its own Wasm instance
// whose memory the library caps at 256 MiB. Read connections keep SQLite's
// default page cache (2 MiB); the writer's is 32 MiB, since each appended
// row lands on one leaf page of every archive index at its owner's place
// (see writerCacheKiB in store.go).
//
// The database is in WAL mode: readers never block the writer nor each
// other, and see a consistent snapshot per statement (per transaction for
// multi-statement reads such as a page with Start/End, which run inside
// BEGIN...COMMIT). busy_timeout covers other processes; foreign keys are
// on (roster items cascade from their roster).
//
// # Group commit
//
// Every write, not only AppendArchive, is a closure sent to the writer
// goroutine over an unbuffered channel. The writer blocks for a first
// request, runs BEGIN IMMEDIATE and the request, then keeps receiving
// requests that are already waiting — a non-blocking receive on an
// unbuffered channel succeeds exactly when a sender is parked on it — until
// none is waiting or Options.MaxBatch is reached, and COMMITs. Every caller
// of the batch is answered only after the COMMIT has returned. Callers that
// arrive during a COMMIT (which, with synchronous=FULL, waits for an fsync)
// park on the channel and form the next batch, so the batch size adapts to
// the load: one request per transaction for a lone writer, with no timer
// and no added latency, and tens of requests per fsync under concurrency.
// Options.MaxBatchDelay can trade latency for bigger batches; it is off by
// default.
//
// Each request runs inside SAVEPOINT op ... RELEASE op, so a request that
// fails (CreateUser of an existing account, say) is rolled back alone and
// the rest of its batch commits. Appends are the exception (batchAtomic
// in writer.go): they fail only when the database does (I/O error, disk
// full), so they run without a savepoint, and an append that fails rolls
// back its whole batch, every request of which gets the error. That saves
// two statements per append and the copy of every page it touches into
// the savepoint journal. If SQLite loses the whole transaction (an I/O
// error) or the COMMIT fails, every request of the batch gets the error.
//
// Appends do not update archive_count themselves: they add to a per-batch
// delta per owner (countDeltas in counts.go), written in owner order
// before COMMIT, or earlier when a request that is not an append joins the
// batch (it may read or change the counts). A busy room appended to N
// times in a batch costs one upsert, not N.
// Once the writer has accepted a request, its caller waits for the outcome
// even if its context is cancelled, so a write is never reported failed
// after it committed. A request whose context is done before the writer
// reaches it is skipped.
//
// # Durability
//
// The writer connection uses PRAGMA synchronous=FULL by default: in WAL
// mode the WAL is fsynced at every COMMIT, so an appended message survives
// power loss before AppendArchive returns. synchronous=NORMAL would fsync
// only at checkpoints and can lose the last transactions on power loss
// (never corrupt the database). Measured with BenchmarkAppend on the
// development VM (2 vCPUs shared with other work, so ranges over runs):
//
//	                                  FULL                 NORMAL
//	lone single-message append        0.4–1.7 ms           0.2–0.35 ms
//	100 messages per call             4–10 ms per call     4–7 ms per call
//	32 concurrent single appenders    8.5–22k msgs/s,      7–13k msgs/s,
//	                                  22–27 msgs/commit    5–11 msgs/commit
//
// The fsync costs a lone writer latency, but under concurrency FULL makes
// bigger batches (the fsync is exactly the window in which the next batch
// gathers) and so loses little or nothing in throughput. FULL is therefore
// the default; Options.Synchronous exists for tests and benchmarks.
//
// # Archive ids and stamps
//
// archive.id is INTEGER PRIMARY KEY AUTOINCREMENT: ids increase in
// insertion order across the whole store and are never reused, even after
// the newest rows were deleted and the database reopened (sqlite_sequence
// remembers the highest id). The messages of one AppendArchive call get
// consecutive ids in slice order within one transaction.
//
// Stamps are integer microseconds since the Unix epoch, UTC. AppendArchive
// clamps a stamp that is earlier than the stamp of the newest stored row
// (the row with the highest id) up to that stamp, so a wall clock stepping
// back never makes stamps decrease with id. The newest stamp is cached by
// the writer goroutine and reloaded with one rowid seek after any delete
// or failure, and when PRAGMA data_version, read at the start of each
// batch under the write lock, shows that another process (skald archive
// import while the server runs) has committed since. This invariant is what lets one index serve both orders:
// within an owner, (stamp, id) order is id order, so archive_time (owner,
// stamp, seq) lists an owner's items in id order and its stamp ranges are
// id ranges. It also makes ExpireArchive need no stamp index across
// owners: the rows older than a time are a prefix of the table.
//
// # Keyset paging
//
// Every page is one index range scan, in one direction, of at most Limit+1
// rows (the extra row tells Complete), then reversed for Last pages. There
// is no OFFSET and no COUNT per page, so a page costs the same at 10^6 rows
// as at 10^3 (see the benchmarks). The archive has three indexes, each
// ending in the implicit rowid (= id):
//
//	archive_time   (owner, stamp, seq)           pages without a peer, counts, Start/End seeks,
//	                                             purge and trim order
//	archive_with   (owner, with_jid)             pages with a peer (forced with INDEXED BY:
//	                                             without statistics the planner might pick
//	                                             archive_time and filter)
//	archive_origin_key (origin_key)              FindByOriginID and AppendArchiveOnce's resend
//	                                             check: a hash of (owner, with_jid, outgoing,
//	                                             origin_id), checked on the row (originkey.go);
//	                                             partial, only rows with an origin-id
//
// seq is a VIRTUAL generated column equal to id, stored only in
// archive_time: SQLite seeks an index on a row value like (stamp, seq) >
// (?, ?) only when each term is a declared index column, never the
// implicit rowid. The page statements come in three families (pageSQL):
//
//	time (no peer, no IDs):  WHERE owner=? AND <lower> AND <upper> ORDER BY stamp, seq
//	peer (With):             WHERE owner=? AND with_jid=? AND id>? AND id<? ORDER BY id
//	ids (IDs):               rowid lookups of json_each(?), owner and peer checked on the row
//
// In the time family Start and End are plain stamp bounds (stamp>=?,
// stamp<=?): no seek before the page and no read transaction. AfterID
// becomes the row value (stamp, seq) > (s, AfterID), with s the stamp of
// the newest row whose id is <= AfterID, of any owner: since stamps never
// decrease with id, exactly the rows after AfterID are above it, and the
// seek lands on the right row even inside a run of equal stamps (one
// AppendArchive call, or a clock stepped back), which a bound on the stamp
// alone would walk (TestPagingOverEqualStamps). s is looked up by a rowid
// seek inside the page statement, so it shares the page's snapshot.
// BeforeID mirrors it. SQLite re-checks a row-value bound on every row it
// reads (about 7 VDBE ops), which costs such a page about 3 µs of 45.
//
// In the peer family Start/End are first turned into ids by two seeks on
// archive_time, inside one read transaction with the page; a WithResource
// filter is applied on top of the peer index scan (one peer's rows of
// other resources are read and skipped); an (owner, with_jid,
// with_resource) index can be added if that ever shows up in profiles. An
// IDs filter is bound as a JSON array and turned into rowid lookups.
// TestQueryPlans pins all these plans.
//
// Per appended row the table gets one row (at its end) and each index one
// entry. Migration 0001 had separate (owner) and (owner, stamp) indexes:
// with one index fewer BenchmarkAppendChat writes 4.05 WAL pages per row
// instead of 5.17.
//
// CountArchive stops at max with SELECT count(*) FROM (SELECT 1 ... LIMIT
// max), where ... is the page's range scan (countSQL): the same index
// search, AfterID/BeforeID bounds included, so a count between two ids
// reads only the index entries between them (TestCountBetweenIDs). With
// such a bound EXPLAIN QUERY PLAN says INDEX rather than COVERING INDEX
// (seq is a generated column), but stamp and seq are read from the index
// and the table seek SQLite defers is never made. An unfiltered count (no
// With, IDs, Start, End, AfterID, BeforeID) reads archive_count, a
// per-owner row count maintained in the same transaction as every insert
// and delete; ArchiveStats reads it too.
//
// # Deleting
//
// PurgeArchive, TrimArchive, ExpireArchive and DeleteUser delete archive
// rows in transactions of at most Options.DeleteBatch rows, each a separate
// write request, so appends interleave with a big purge instead of waiting
// for it. PurgeArchive fixes the highest id to delete before it starts and
// so deletes only rows that existed then; the result of a concurrent purge
// and append is as if the purge had run first. ExpireArchive counts the
// owners of the rows it deletes from the same scan of the table's first
// rows that finds where the expired prefix ends.
//
// # Lock ordering
//
// There are three kinds of things to wait for: a read connection from the
// pool, the writer goroutine, and SQLite's own file locks. Code never waits
// for one while holding another: a read closure never issues a write or
// takes a second read connection, and a write closure runs on the writer
// goroutine and never reads through the pool. Go-side state has no mutex;
// the writer's stamp cache is confined to the writer goroutine. Within the
// file, WAL readers take no lock the writer needs; the only SQLite lock
// contention is with other processes, bounded by busy_timeout. Checkpoints
// run on the writer goroutine between two batches, once the WAL holds
// Options.CheckpointPages pages (checkpoint.go), instead of inside the
// COMMIT of the batch that crossed SQLite's default of 1000; statements are
// always reset right after use so no reader pins an old snapshot and
// stalls them.
//
// # Schema
//
// The schema lives in migrations/NNNN_description.sql, embedded in the
// binary. Open applies the pending ones in order, each in its own
// BEGIN IMMEDIATE transaction together with its schema_version row, and
// refuses a database whose version is newer than the binary knows.
// Migration 0002 added seq and archive_time and dropped archive_owner and
// archive_stamp, keeping every row and id; building archive_time over an
// existing archive costs one sorted index build at the first Open.
// Migration 0003 added blocklist (XEP-0191) and 0004 documents
// (storage.Documents: vCards, private XML), whose quota sum and upserts
// share one write request; 0005 pep_node and pep_item (storage.PEP,
// XEP-0163), a node's items ordered by a per-node seq; 0006 muc_rooms
// and muc_affiliations (storage.Rooms: persistent XEP-0045 rooms;
// PutRoom replaces a room's row and affiliations in one write request);
// 0007 the full-text index (below); 0008 the origin-id key
// (originkey.go); 0009 users.disabled_at and disabled_reason
// (storage.Users.SetUserDisabled: NULL for an enabled account) with a
// partial index of the disabled ones. MUC archives share the archive
// table (the owner is the room's bare JID); a kind column can be added
// with ALTER TABLE if the two ever need telling apart.
//
// # Full-text search
//
// storage.ArchiveQuery.Text (semantics in storage/fulltext.go) is served
// by archive_fts (migration 0007): a contentless FTS5 table with the
// trigram tokenizer holding, per archive row, its owner as one trigram
// of private-use characters and its body folded by storage.FoldText. The
// FTS5 extension is registered on every connection (openConn): the
// delete trigger writes archive_fts. Appends do not touch it — the
// archive write path is the benchmark's bottleneck — so the writer
// indexes the rows above archive_fts_mark itself, in steps of up to
// Options.IndexBatch rows and at most 5 ms, when it has been idle for
// Options.IndexPause, or every 200 ms while 10000 rows are behind
// (fulltext_index.go). A step is a write request at the head of a batch,
// sharing the COMMIT of whatever requests are waiting. An existing
// database is caught up the same way after the upgrade.
//
// A query reads the mark and, in the same read transaction, the index up
// to it and the owner's rows above it (the tail) by the page's own index
// range scan, so results are complete and see every committed append.
// Every candidate is checked in Go against storage.MatchText: the index
// only narrows. Terms shorter than three characters cannot use trigrams
// and are checked on the rows the other terms select, or on a scan of
// the range. Options.TextScanBudget (20000) bounds the candidates one
// query examines (fulltext_query.go). Every delete (purge, expiry, trim,
// DeleteUser, skald archive) removes index entries through the
// archive_fts_delete trigger, for rows at or below the mark only (the
// others have none).
//
// Measured 2026-12-07 on the shared 2-vCPU development VM (noisy; ranges
// over two runs). BenchmarkAppendChat sync=FULL, batch50: 40.9–42.8
// cpu-µs/row before this index, 43.1–44.5 with the indexer off
// (SKALD_BENCH_INDEX=off: the append path alone, same B/op and
// allocs/op), 44.5–45.8 with it on (its catch-up steps run in the
// writer's idle moments and count in the process CPU); parallel:
// 51.0–54.0 before, 52.1–52.9 off, 53.6–55.8 on, rows/s within the
// noise of each other. BenchmarkTextQuery (one owner, 10^5 indexed rows
// and 1000 unindexed): 20 matches of two words 2.8 ms, one match in the
// tail 0.9 ms, a page of 50 of a word in every row 0.09 ms, of a word in
// 1 row of 20 0.2 ms, two words that never meet 7.8 ms, a page of 50 of
// a two-letter word (scan) 0.26 ms.
//
// Metrics (metrics.go): the writer's counters, read atomically at scrape
// time: skald_sqlite_write_batches_total (transactions),
// skald_sqlite_write_operations_total (write requests in them, the
// full-text indexer's steps included), skald_sqlite_checkpoints_total and
// skald_sqlite_text_indexed_rows_total (rows the full-text indexer read).
package sqlite
