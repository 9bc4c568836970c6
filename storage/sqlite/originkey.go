package sqlite

import (
	"github.com/ncruces/go-sqlite3"
)

// The resend check (AppendArchiveOnce) and FindByOriginID look an archive
// item up by (owner, with_jid, outgoing, origin_id). An index on those
// columns costs every appended row a seek and an insert at a random place
// among long text keys (origin-ids are mostly random UUIDs): in a
// benchmark of Skald's schema it was a third of the writer's CPU per row
// (27 of 26–28 µs with it, 18 without). archive_origin_key indexes instead
// one 64-bit hash of the four values (origin_key): an entry is a sixth of
// the size, compared as an integer, and costs about as much as no index
// at all (18.4 µs). Lookups seek the hash and check the four columns on
// the row, so a collision costs one more row read, never a wrong answer,
// and the rows one seek visits are those with the same owner, peer,
// direction and origin-id, as before (a client that reuses one origin-id
// for every message slows only its own owner's checks, as the old index
// did).

// originKey is the archive_origin_key hash of an item: 64-bit FNV-1a of
// owner, with, the direction and originID, separated by zero bytes (none
// of them contains one: they are JIDs and XML attribute values). It must
// never change: stored keys are compared with newly computed ones.
func originKey(owner, with string, outgoing bool, originID string) int64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= prime
		}
		h *= prime // the zero separator: h ^= 0 then multiply
	}
	add(owner)
	add(with)
	if outgoing {
		add("1")
	} else {
		add("0")
	}
	add(originID)
	return int64(h)
}

// originKeyFunc registers skald_origin_key(owner, with_jid, outgoing,
// origin_id) on c, for migration 0008, which fills origin_key of the rows
// stored before it. NULL when origin_id is NULL.
func originKeyFunc(db *sqlite3.Conn) error {
	return db.CreateFunction("skald_origin_key", 4, sqlite3.DETERMINISTIC|sqlite3.INNOCUOUS,
		func(ctx sqlite3.Context, arg ...sqlite3.Value) {
			if arg[3].Type() == sqlite3.NULL {
				ctx.ResultNull()
				return
			}
			ctx.ResultInt64(originKey(string(arg[0].RawText()), string(arg[1].RawText()),
				arg[2].Int64() != 0, string(arg[3].RawText())))
		})
}
