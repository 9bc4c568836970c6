package storage

import (
	"context"
	"time"
)

// ArchivedMessage is one item of a user's message archive (XEP-0313).
//
// ID is the archive's internal order key: assigned by the backend on
// append, strictly increasing in arrival order across the whole store and
// never reused, even after deletion. It is not what clients see; package
// mam maps it to an opaque id.
type ArchivedMessage struct {
	ID           int64
	Owner        string    // archive owner, bare JID
	With         string    // the other party, bare JID
	WithResource string    // resource of the other party, "" if none
	Outgoing     bool      // sent by the owner
	Stamp        time.Time // arrival time, microsecond precision, UTC; never decreases with ID within one store
	OriginID     string    // XEP-0359 origin-id of the sender, "" if none
	Body         string    // text of <body>, kept for full-text search
	Stanza       []byte    // the message as stored (serialised, jabber:client)
}

// ArchiveQuery selects a page of one owner's archive. All bounds are
// optional and combine with AND.
type ArchiveQuery struct {
	Owner        string
	With         string // bare JID; "" = any
	WithResource string // with a non-empty With: only that full JID
	Start, End   time.Time
	AfterID      int64 // exclusive; 0 = none
	BeforeID     int64 // exclusive; 0 = none
	IDs          []int64
	Limit        int  // rows to return; the backend fetches one more to tell Complete
	Last         bool // take the newest Limit rows of the range instead of the oldest
	// Text, if it has any terms, keeps only the items whose Body matches
	// it (TextTerms, MatchText: every term, case- and accent-insensitive
	// substrings). A backend may stop examining candidates at a bound of
	// its own: it then answers the items it found with Complete false,
	// or ErrTextTooBroad if it found none. A query longer than
	// MaxTextQueryBytes or MaxTextTerms fails with ErrTextQueryTooLong.
	Text string
}

// ArchivePage is the answer to an ArchiveQuery.
type ArchivePage struct {
	Messages []ArchivedMessage // always in archive (chronological) order
	// Complete is true when no further item of the range lies beyond the
	// page in the paging direction (after the last for forward pages,
	// before the first for Last pages).
	Complete bool
}

// ArchivePrefs are a user's XEP-0441 preferences.
type ArchivePrefs struct {
	Default string   // "always", "never" or "roster"
	Always  []string // JIDs (bare or full) always archived
	Never   []string // JIDs never archived
}

// Archive stores message archives.
type Archive interface {
	// AppendArchive stores messages and sets their ID fields. It returns
	// only once they are durable; backends group-commit concurrent callers
	// into one transaction.
	AppendArchive(ctx context.Context, msgs []*ArchivedMessage) error
	QueryArchive(ctx context.Context, q ArchiveQuery) (ArchivePage, error)
	// CountArchive counts the items QueryArchive would return for q
	// without a Limit: those matching With/WithResource, Start/End, IDs,
	// Text and the exclusive AfterID/BeforeID bounds, ignoring Limit and
	// Last. With Text it may fail with ErrTextTooBroad.
	// It stops at max (max <= 0: no bound).
	CountArchive(ctx context.Context, q ArchiveQuery, max int) (int, error)
	// ArchiveIDsExist reports which of ids belong to owner's archive.
	ArchiveIDsExist(ctx context.Context, owner string, ids []int64) (map[int64]bool, error)
	// ArchiveBounds returns the first and last items of owner's archive;
	// ok is false for an empty archive.
	ArchiveBounds(ctx context.Context, owner string) (first, last ArchivedMessage, ok bool, err error)
	// FindByOriginID finds an item of owner's archive with this origin-id
	// from the given peer and direction (retry detection).
	FindByOriginID(ctx context.Context, owner, with string, outgoing bool, originID string) (ArchivedMessage, bool, error)
	// ReplaceArchived replaces the stanza and body of owner's item id,
	// which keeps its id, stamp, peer and origin-id: a retracted message
	// becomes its tombstone (XEP-0424, XEP-0425), and its old body no
	// longer matches a search. ok is false when owner has no such item.
	ReplaceArchived(ctx context.Context, owner string, id int64, body string, stanza []byte) (ok bool, err error)
	// PurgeArchive deletes owner's items, optionally only those with a
	// peer (bare JID) and/or stamped before a time; returns how many.
	PurgeArchive(ctx context.Context, owner, with string, before time.Time) (int, error)
	// ExpireArchive deletes at most batch items (of any owner) stamped
	// before the given time, oldest first; returns how many.
	ExpireArchive(ctx context.Context, before time.Time, batch int) (int, error)
	// TrimArchive deletes owner's oldest items beyond keep; returns how many.
	TrimArchive(ctx context.Context, owner string, keep int) (int, error)
	// ArchiveStats returns the number of items per owner ("" = all owners).
	ArchiveStats(ctx context.Context, owner string) (map[string]int, error)
	ArchivePrefs(ctx context.Context, owner string) (ArchivePrefs, bool, error)
	SetArchivePrefs(ctx context.Context, owner string, p ArchivePrefs) error
}
