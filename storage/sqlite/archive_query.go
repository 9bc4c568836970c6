package sqlite

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/ncruces/go-sqlite3"

	"github.com/skald-xmpp/skald/storage"
)

// Page query variants. Every variant is one index range scan in one
// direction, LIMIT ?4, in one of three families:
//
//   - time (no With, no IDs): archive_time (owner, stamp, seq). The range is
//     a (stamp, seq) interval: stamps ?8..?9 for Start/End, and for
//     AfterID/BeforeID (vAfter, vBefore) a row value whose stamp the
//     statement itself looks up by id (see afterBound).
//   - peer (With, no IDs): archive_with (owner, with_jid, rowid), exclusive
//     id range ?2..?3; Start/End are turned into ids first (idRange).
//   - ids (IDs): one rowid lookup per id of the JSON array ?7, the owner and
//     peer checked on the row (the unary + keeps the planner off the owner
//     indexes, whose scan would not be bounded by the list).
const (
	vWith = 1 << iota
	vResource
	vIDs
	vDesc
	vAfter  // time family only
	vBefore // time family only
	nVariants
)

// timeFamily reports whether variant v pages archive_time.
func timeFamily(v int) bool { return v&(vWith|vIDs) == 0 }

// afterBound is the exclusive lower bound of a time-family page with an
// AfterID (?2) and possibly a Start (?8, else MinInt64). Stamps never
// decrease with id across the whole table, so with s the stamp of the
// newest row whose id is <= ?2 (any owner; MinInt64 if none), the rows
// with id > ?2 are exactly the rows with (stamp, id) > (s, ?2). Combined
// with stamp >= ?8 (that is (stamp, id) > (?8, 0)) the bound is the larger
// of the two row values. The lookup is a rowid seek inside the statement,
// so it sees the page's snapshot.
const afterBound = `(stamp, seq) > (SELECT max(s, ?8), CASE WHEN s >= ?8 THEN ?2 ELSE 0 END FROM
	(SELECT coalesce((SELECT stamp FROM archive WHERE id<=?2 ORDER BY id DESC LIMIT 1), -9223372036854775808) AS s))`

// beforeBound mirrors afterBound for BeforeID (?3) and End (?9, else
// MaxInt64), with s the stamp of the oldest row whose id is >= ?3.
const beforeBound = `(stamp, seq) < (SELECT min(s, ?9), CASE WHEN s <= ?9 THEN ?3 ELSE 9223372036854775807 END FROM
	(SELECT coalesce((SELECT stamp FROM archive WHERE id>=?3 ORDER BY id LIMIT 1), 9223372036854775807) AS s))`

// rangeSQL is the FROM ... WHERE part of variant v without ORDER BY.
func rangeSQL(v int) string {
	var b strings.Builder
	switch {
	case v&vIDs != 0:
		b.WriteString(` FROM archive WHERE +owner=?1 AND id>?2 AND id<?3`)
		if v&vWith != 0 {
			b.WriteString(` AND +with_jid=?5`)
		}
	case v&vWith != 0:
		// Without statistics the planner may prefer (owner, ...) plus a
		// filter; the peer index is what makes With pages cheap.
		b.WriteString(` FROM archive INDEXED BY archive_with WHERE owner=?1 AND with_jid=?5 AND id>?2 AND id<?3`)
	default:
		b.WriteString(` FROM archive INDEXED BY archive_time WHERE owner=?1`)
		if v&vAfter != 0 {
			b.WriteString(` AND ` + afterBound)
		} else {
			b.WriteString(` AND stamp>=?8`)
		}
		if v&vBefore != 0 {
			b.WriteString(` AND ` + beforeBound)
		} else {
			b.WriteString(` AND stamp<=?9`)
		}
	}
	if v&vWith != 0 && v&vResource != 0 {
		b.WriteString(` AND with_resource=?6`)
	}
	if v&vIDs != 0 {
		b.WriteString(` AND id IN (SELECT value FROM json_each(?7))`)
	}
	return b.String()
}

// validVariant reports whether v can be asked for: vResource only with
// vWith, vAfter and vBefore only in the time family.
func validVariant(v int) bool {
	if v&vResource != 0 && v&vWith == 0 {
		return false
	}
	return timeFamily(v) || v&(vAfter|vBefore) == 0
}

var pageSQL = func() (out [nVariants]string) {
	for v := range out {
		if !validVariant(v) {
			continue
		}
		order := ` ORDER BY id`
		if timeFamily(v) {
			order = ` ORDER BY stamp, seq`
			if v&vDesc != 0 {
				order = ` ORDER BY stamp DESC, seq DESC`
			}
		} else if v&vDesc != 0 {
			order = ` ORDER BY id DESC`
		}
		out[v] = `SELECT ` + msgCols + rangeSQL(v) + order + ` LIMIT ?4`
	}
	return out
}()

// countSQL counts at most ?4 rows of a range: the page's range scan
// without ORDER BY. Counts have no direction, so only variants without
// vDesc exist.
var countSQL = func() (out [nVariants]string) {
	for v := range out {
		if !validVariant(v) || v&vDesc != 0 {
			continue
		}
		out[v] = `SELECT count(*) FROM (SELECT 1` + rangeSQL(v) + ` LIMIT ?4)`
	}
	return out
}()

// Start/End seeks on archive_time, for the peer and ids families.
const (
	firstFromSQL = `SELECT id FROM archive WHERE owner=? AND stamp>=? ORDER BY stamp, seq LIMIT 1`
	lastUntilSQL = `SELECT id FROM archive WHERE owner=? AND stamp<=? ORDER BY stamp DESC, seq DESC LIMIT 1`
)

// idsJSON renders ids as a JSON array for json_each.
func idsJSON(ids []int64) string {
	b := make([]byte, 0, 2+len(ids)*8)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// bounds holds a query's range and filters.
type bounds struct {
	lo, hi   int64 // exclusive ids
	from, to int64 // inclusive stamps, time family only
	empty    bool  // the range holds no item
	variant  int
}

// needsSeeks reports whether idRange reads the database for q: Start/End
// outside the time family are turned into ids by two seeks, which must
// share a snapshot with the page.
func needsSeeks(q storage.ArchiveQuery) bool {
	return (q.With != "" || len(q.IDs) > 0) && (!q.Start.IsZero() || !q.End.IsZero())
}

// idRange works out the range of q. In the time family Start/End become
// stamp bounds and AfterID/BeforeID are resolved by the statement itself.
// Elsewhere Start/End become an exclusive id range by two seeks on
// archive_time: because stamps never decrease with id, the items stamped
// within [Start, End] are exactly those with ids between the first item
// stamped >= Start and the last one stamped <= End.
func idRange(c *conn, q storage.ArchiveQuery) (b bounds, err error) {
	b.lo, b.hi = 0, math.MaxInt64
	b.from, b.to = math.MinInt64, math.MaxInt64
	if q.AfterID != 0 {
		b.lo = q.AfterID
	}
	if q.BeforeID != 0 {
		b.hi = q.BeforeID
	}
	if !q.Start.IsZero() {
		b.from = ceilMicro(q.Start)
	}
	if !q.End.IsZero() {
		b.to = q.End.UnixMicro()
	}
	if q.With != "" {
		b.variant |= vWith
		if q.WithResource != "" {
			b.variant |= vResource
		}
	}
	if len(q.IDs) > 0 {
		b.variant |= vIDs
	}
	if timeFamily(b.variant) {
		if b.lo != 0 {
			b.variant |= vAfter
		}
		if b.hi != math.MaxInt64 {
			b.variant |= vBefore
		}
		b.empty = b.from > b.to || b.hi <= b.lo || b.hi-b.lo == 1
		return b, nil
	}
	if !q.Start.IsZero() {
		id, ok, err := seekID(c, firstFromSQL, q.Owner, b.from)
		if err != nil {
			return b, err
		}
		if !ok {
			b.empty = true
			return b, nil
		}
		b.lo = max(b.lo, id-1)
	}
	if !q.End.IsZero() {
		id, ok, err := seekID(c, lastUntilSQL, q.Owner, b.to)
		if err != nil {
			return b, err
		}
		if !ok {
			b.empty = true
			return b, nil
		}
		b.hi = min(b.hi, id+1)
	}
	b.empty = b.hi <= b.lo || b.hi-b.lo == 1
	return b, nil
}

// queryInt returns the first column of the first row of a cached query.
func queryInt(c *conn, query string, args ...any) (int64, bool, error) {
	st, err := c.prep(query)
	if err != nil {
		return 0, false, err
	}
	defer st.Reset()
	if err := bind(st, args...); err != nil {
		return 0, false, err
	}
	if st.Step() {
		return st.ColumnInt64(0), true, nil
	}
	return 0, false, st.Err()
}

func seekID(c *conn, query, owner string, stamp int64) (int64, bool, error) {
	st, err := c.prep(query)
	if err != nil {
		return 0, false, err
	}
	defer st.Reset()
	if err := errors.Join(st.BindText(1, owner), st.BindInt64(2, stamp)); err != nil {
		return 0, false, err
	}
	if st.Step() {
		return st.ColumnInt64(0), true, nil
	}
	return 0, false, st.Err()
}

// bindQuery binds the parameters of a page or count statement: those its
// family uses, since binding a number beyond the highest one a statement
// names is an error.
func bindQuery(st *sqlite3.Stmt, q storage.ArchiveQuery, b bounds, limit int64) error {
	if err := errors.Join(st.BindText(1, q.Owner), st.BindInt64(2, b.lo), st.BindInt64(3, b.hi), st.BindInt64(4, limit)); err != nil {
		return err
	}
	if b.variant&vWith != 0 {
		if err := st.BindText(5, q.With); err != nil {
			return err
		}
		if b.variant&vResource != 0 {
			if err := st.BindText(6, q.WithResource); err != nil {
				return err
			}
		}
	}
	if b.variant&vIDs != 0 {
		if err := st.BindText(7, idsJSON(q.IDs)); err != nil {
			return err
		}
	}
	if timeFamily(b.variant) {
		return errors.Join(st.BindInt64(8, b.from), st.BindInt64(9, b.to))
	}
	return nil
}

// pageStmt returns the bound statement of q's page, which yields at most
// Limit+1 rows; nil if no item can match. The caller resets it.
func pageStmt(c *conn, q storage.ArchiveQuery) (*sqlite3.Stmt, error) {
	b, err := idRange(c, q)
	if err != nil || b.empty {
		return nil, err
	}
	limit := int64(-1)
	if q.Limit > 0 {
		limit = int64(q.Limit) + 1
	}
	if q.Last {
		b.variant |= vDesc
	}
	return prepBound(c, pageSQL[b.variant], q, b, limit)
}

// prepBound prepares one of pageSQL or countSQL and binds q's range to it.
func prepBound(c *conn, sql string, q storage.ArchiveQuery, b bounds, limit int64) (*sqlite3.Stmt, error) {
	st, err := c.prep(sql)
	if err != nil {
		return nil, err
	}
	if err := bindQuery(st, q, b, limit); err != nil {
		st.Reset()
		return nil, err
	}
	return st, nil
}

// QueryArchive implements storage.Archive. One page is one index range
// scan of at most Limit+1 matching rows, whatever the size of the archive;
// a peer or ids page with Start/End first costs two index seeks.
func (s *Store) QueryArchive(ctx context.Context, q storage.ArchiveQuery) (storage.ArchivePage, error) {
	var page storage.ArchivePage
	if q.Text != "" {
		terms, err := storage.TextTerms(q.Text)
		if err != nil {
			return page, err
		}
		if len(terms) > 0 {
			err = s.readTx(ctx, func(c *conn) error {
				page, err = s.queryArchiveText(c, q, terms)
				return err
			})
			return page, err
		}
	}
	err := s.doRead(ctx, needsSeeks(q), func(c *conn) error {
		st, err := pageStmt(c, q)
		if err != nil || st == nil {
			return err // nothing can match: an empty, complete page
		}
		defer st.Reset()
		sc := scanner{owner: q.Owner}
		if q.Limit > 0 && q.Limit <= 1000 {
			page.Messages = make([]storage.ArchivedMessage, 0, q.Limit+1)
			sc.hint = q.Limit + 1
		}
		for st.Step() {
			page.Messages = append(page.Messages, sc.scan(st))
		}
		sc.finish(page.Messages)
		return st.Err()
	})
	if err != nil {
		return storage.ArchivePage{}, err
	}
	page.Complete = true
	if q.Limit > 0 && len(page.Messages) > q.Limit {
		page.Complete = false
		page.Messages = page.Messages[:q.Limit]
	}
	if q.Last {
		slices.Reverse(page.Messages)
	}
	if len(page.Messages) == 0 {
		page.Messages = nil
	}
	return page, nil
}

// CountArchive implements storage.Archive. Without With, IDs, Start, End,
// AfterID and BeforeID it reads the maintained per-owner count; otherwise
// it counts at most max rows of the range by the page's index range scan
// (countStmt), so a count between two ids reads only the index entries
// between them.
func (s *Store) CountArchive(ctx context.Context, q storage.ArchiveQuery, max int) (int, error) {
	limit := int64(-1)
	if max > 0 {
		limit = int64(max)
	}
	if q.Text != "" {
		terms, err := storage.TextTerms(q.Text)
		if err != nil {
			return 0, err
		}
		if len(terms) > 0 {
			var n int
			err = s.readTx(ctx, func(c *conn) error {
				q.Last, q.Limit = false, 0
				ts, err := s.queryText(c, q, terms, int(limit))
				n = len(ts.found)
				if err == nil && ts.broke {
					err = storage.ErrTextTooBroad
				}
				return err
			})
			return n, err
		}
	}
	var n int64
	err := s.doRead(ctx, needsSeeks(q), func(c *conn) error {
		if q.With == "" && len(q.IDs) == 0 && q.Start.IsZero() && q.End.IsZero() && q.AfterID == 0 && q.BeforeID == 0 {
			var err error
			n, err = ownerCount(c, q.Owner)
			return err
		}
		st, err := countStmt(c, q, limit)
		if err != nil || st == nil {
			return err // nothing can match: 0
		}
		defer st.Reset()
		if !st.Step() {
			return st.Err()
		}
		n = st.ColumnInt64(0)
		return nil
	})
	if limit >= 0 {
		n = min(n, limit)
	}
	return int(n), err
}

// countStmt returns the bound statement counting at most limit (-1: all)
// rows of q's range, Limit and Last ignored; nil if no item can match.
// The caller resets it.
func countStmt(c *conn, q storage.ArchiveQuery, limit int64) (*sqlite3.Stmt, error) {
	b, err := idRange(c, q)
	if err != nil || b.empty {
		return nil, err
	}
	return prepBound(c, countSQL[b.variant], q, b, limit)
}

func ownerCount(c *conn, owner string) (int64, error) {
	st, err := c.prep(`SELECT n FROM archive_count WHERE owner=?`)
	if err != nil {
		return 0, err
	}
	defer st.Reset()
	if err := st.BindText(1, owner); err != nil {
		return 0, err
	}
	if st.Step() {
		return st.ColumnInt64(0), nil
	}
	return 0, st.Err()
}

// idsExistSQL looks the ids up by rowid and checks the owner on the row.
const idsExistSQL = `SELECT id FROM archive WHERE +owner=? AND id IN (SELECT value FROM json_each(?))`

// ArchiveIDsExist implements storage.Archive.
func (s *Store) ArchiveIDsExist(ctx context.Context, owner string, ids []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = false
	}
	if len(ids) == 0 {
		return out, nil
	}
	err := s.read(ctx, func(c *conn) error {
		st, err := c.prep(idsExistSQL)
		if err != nil {
			return err
		}
		defer st.Reset()
		if err := errors.Join(st.BindText(1, owner), st.BindText(2, idsJSON(ids))); err != nil {
			return err
		}
		for st.Step() {
			out[st.ColumnInt64(0)] = true
		}
		return st.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ArchiveBounds implements storage.Archive with a seek at each end of the
// owner's range of archive_time.
func (s *Store) ArchiveBounds(ctx context.Context, owner string) (first, last storage.ArchivedMessage, ok bool, err error) {
	err = s.readTx(ctx, func(c *conn) error {
		q := storage.ArchiveQuery{Owner: owner}
		b := bounds{lo: 0, hi: math.MaxInt64, from: math.MinInt64, to: math.MaxInt64}
		for _, v := range []int{0, vDesc} {
			b.variant = v
			st, err := c.prep(pageSQL[v])
			if err != nil {
				return err
			}
			if err := bindQuery(st, q, b, 1); err != nil {
				st.Reset()
				return err
			}
			if !st.Step() {
				err := st.Err()
				st.Reset()
				return err
			}
			if v == 0 {
				first = scanOne(st, owner)
			} else {
				last, ok = scanOne(st, owner), true
			}
			st.Reset()
		}
		return nil
	})
	if err != nil || !ok {
		return storage.ArchivedMessage{}, storage.ArchivedMessage{}, false, err
	}
	return first, last, true, nil
}

// findOriginSQL is FindByOriginID's seek on archive_origin_key
// (originkey.go).
const findOriginSQL = `SELECT ` + msgCols + ` FROM archive INDEXED BY archive_origin_key
	WHERE origin_key=?1 AND owner=?2 AND with_jid=?3 AND origin_id=?4 AND outgoing=?5 ORDER BY id DESC LIMIT 1`

// FindByOriginID implements storage.Archive; the newest match wins.
func (s *Store) FindByOriginID(ctx context.Context, owner, with string, outgoing bool, originID string) (storage.ArchivedMessage, bool, error) {
	var m storage.ArchivedMessage
	var ok bool
	if originID == "" {
		return m, false, nil
	}
	err := s.read(ctx, func(c *conn) error {
		st, err := c.prep(findOriginSQL)
		if err != nil {
			return err
		}
		defer st.Reset()
		if err := bind(st, originKey(owner, with, outgoing, originID), owner, with, originID, outgoing); err != nil {
			return err
		}
		if st.Step() {
			m, ok = scanOne(st, owner), true
			return nil
		}
		return st.Err()
	})
	return m, ok, err
}
