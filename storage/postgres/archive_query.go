package postgres

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skald-xmpp/skald/storage"
)

const msgCols = `id, with_jid, with_resource, outgoing, stamp, coalesce(origin_id, ''), body, stanza`

// ceilMicro is the smallest microsecond count not earlier than t.
func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}

// where builds the WHERE clause of q's range and its arguments ($1 is the
// owner). Every range is an id range of one owner, optionally of one peer:
//
//   - AfterID and BeforeID are exclusive id bounds.
//   - Start and End become id bounds by a seek each on archive_time, as
//     scalar subqueries that PostgreSQL evaluates once, before the scan
//     (InitPlans), in the statement's snapshot: because stamps never
//     decrease with id, the items stamped within [Start, End] are exactly
//     those from the first item stamped >= Start to the last one stamped
//     <= End. No such item: a bound no id meets.
//   - With (and WithResource) and IDs are equalities.
//
// So a page is one scan of archive_owner (owner, id) or archive_with
// (owner, with_jid, id) from one end of its range, LIMIT rows long
// (TestQueryPlans). empty reports a range that cannot hold an item.
//
// Text terms (storage.TextTerms) are one body_fold LIKE '%term%' each,
// the term's LIKE wildcards escaped: exactly storage.MatchText, answered
// by archive_text (owner, body_fold trigrams).
func where(q storage.ArchiveQuery, terms []string) (sql string, args []any, empty bool) {
	var b strings.Builder
	args = append(args, q.Owner)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	b.WriteString(` WHERE owner = $1`)
	if q.With != "" {
		b.WriteString(` AND with_jid = ` + arg(q.With))
		if q.WithResource != "" {
			b.WriteString(` AND with_resource = ` + arg(q.WithResource))
		}
	}
	if q.AfterID != 0 {
		b.WriteString(` AND id > ` + arg(q.AfterID))
	}
	if q.BeforeID != 0 {
		b.WriteString(` AND id < ` + arg(q.BeforeID))
		empty = q.AfterID != 0 && q.BeforeID-q.AfterID <= 1
	}
	if !q.Start.IsZero() {
		b.WriteString(` AND id >= coalesce((SELECT id FROM archive WHERE owner = $1 AND stamp >= ` + arg(ceilMicro(q.Start)) +
			` ORDER BY stamp, id LIMIT 1), 9223372036854775807)`)
	}
	if !q.End.IsZero() {
		b.WriteString(` AND id <= coalesce((SELECT id FROM archive WHERE owner = $1 AND stamp <= ` + arg(q.End.UnixMicro()) +
			` ORDER BY stamp DESC, id DESC LIMIT 1), 0)`)
		empty = empty || (!q.Start.IsZero() && ceilMicro(q.Start) > q.End.UnixMicro())
	}
	if len(q.IDs) > 0 {
		b.WriteString(` AND id = ANY(` + arg(q.IDs) + `)`)
	}
	for _, t := range terms {
		b.WriteString(` AND body_fold LIKE ` + arg("%"+likeEscaper.Replace(t)+"%"))
	}
	return b.String(), args, empty
}

// likeEscaper escapes LIKE's wildcards and its escape character (the
// default, backslash).
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// order is the ORDER BY of q's page: id order, spelt as the columns of
// the index to scan. Within one owner (and peer) it is the same order,
// but the primary key cannot give it: without this, an archive whose
// rows lie in id order on disk tempts the planner into walking the
// primary key from the bound and filtering on owner, which reads every
// other owner's rows in between, however many (TestQueryPlans).
func order(q storage.ArchiveQuery) string {
	o := `owner, id`
	if q.With != "" {
		o = `owner, with_jid, id`
	}
	if q.Last {
		o = strings.ReplaceAll(o, `,`, ` DESC,`) + ` DESC`
	}
	return o
}

// scanMessage reads one row of msgCols.
func scanMessage(rows pgx.Rows, owner string) (storage.ArchivedMessage, error) {
	m := storage.ArchivedMessage{Owner: owner}
	var stamp int64
	err := rows.Scan(&m.ID, &m.With, &m.WithResource, &m.Outgoing, &stamp, &m.OriginID, &m.Body, &m.Stanza)
	m.Stamp = time.UnixMicro(stamp).UTC()
	return m, err
}

// QueryArchive implements storage.Archive: one statement, one index range
// scan of at most Limit+1 rows (the extra one tells Complete) from the end
// the page starts at, whatever the size of the archive. No OFFSET.
func (s *Store) QueryArchive(ctx context.Context, q storage.ArchiveQuery) (storage.ArchivePage, error) {
	if err := s.enter(ctx); err != nil {
		return storage.ArchivePage{}, err
	}
	terms, err := storage.TextTerms(q.Text)
	if err != nil {
		return storage.ArchivePage{}, err
	}
	cond, args, empty := where(q, terms)
	if empty {
		return storage.ArchivePage{Complete: true}, nil
	}
	sql := `SELECT ` + msgCols + ` FROM archive` + cond + ` ORDER BY ` + order(q)
	if q.Limit > 0 {
		args = append(args, q.Limit+1)
		sql += ` LIMIT $` + strconv.Itoa(len(args))
	}
	var page storage.ArchivePage
	if q.Limit > 0 && q.Limit <= 1000 {
		page.Messages = make([]storage.ArchivedMessage, 0, q.Limit+1)
	}
	err = s.bounded(ctx, len(terms) > 0, func(db querier) error {
		rows, err := db.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		page.Messages, err = pgx.AppendRows(page.Messages, rows, func(row pgx.CollectableRow) (storage.ArchivedMessage, error) {
			return scanMessage(rows, q.Owner)
		})
		return err
	})
	if err != nil {
		return storage.ArchivePage{}, s.fail(err)
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
// it counts at most max rows of the page's index range scan, so a count
// between two ids reads only the index entries between them.
func (s *Store) CountArchive(ctx context.Context, q storage.ArchiveQuery, max int) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	terms, err := storage.TextTerms(q.Text)
	if err != nil {
		return 0, err
	}
	var n int64
	if q.With == "" && len(q.IDs) == 0 && q.Start.IsZero() && q.End.IsZero() && q.AfterID == 0 && q.BeforeID == 0 && len(terms) == 0 {
		err := s.pool.QueryRow(ctx, `SELECT n FROM archive_count WHERE owner = $1`, q.Owner).Scan(&n)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return 0, s.fail(err)
		}
	} else {
		cond, args, empty := where(q, terms)
		if empty {
			return 0, nil
		}
		sql := `SELECT 1 FROM archive` + cond
		if max > 0 {
			args = append(args, max)
			sql += ` LIMIT $` + strconv.Itoa(len(args))
		}
		err := s.bounded(ctx, len(terms) > 0, func(db querier) error {
			return db.QueryRow(ctx, `SELECT count(*) FROM (`+sql+`) r`, args...).Scan(&n)
		})
		if err != nil {
			return 0, s.fail(err)
		}
	}
	if max > 0 {
		n = min(n, int64(max))
	}
	return int(n), nil
}

// ArchiveIDsExist implements storage.Archive: primary key lookups, the
// owner checked on the row.
func (s *Store) ArchiveIDsExist(ctx context.Context, owner string, ids []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = false
	}
	if len(ids) == 0 {
		return out, nil
	}
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT id FROM archive WHERE id = ANY($2) AND owner = $1`, owner, ids)
	if err != nil {
		return nil, s.fail(err)
	}
	var id int64
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error { out[id] = true; return nil }); err != nil {
		return nil, s.fail(err)
	}
	return out, nil
}

// ArchiveBounds implements storage.Archive: one statement (one snapshot)
// with a seek at each end of the owner's range of archive_owner.
func (s *Store) ArchiveBounds(ctx context.Context, owner string) (first, last storage.ArchivedMessage, ok bool, err error) {
	if err := s.enter(ctx); err != nil {
		return first, last, false, err
	}
	rows, err := s.pool.Query(ctx, `(SELECT `+msgCols+` FROM archive WHERE owner = $1 ORDER BY owner, id LIMIT 1)
		UNION ALL (SELECT `+msgCols+` FROM archive WHERE owner = $1 ORDER BY owner DESC, id DESC LIMIT 1)`, owner)
	if err != nil {
		return first, last, false, s.fail(err)
	}
	ms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.ArchivedMessage, error) {
		return scanMessage(rows, owner)
	})
	if err != nil || len(ms) != 2 {
		return storage.ArchivedMessage{}, storage.ArchivedMessage{}, false, s.fail(err)
	}
	return ms[0], ms[1], true, nil
}

// findOriginSQL is FindByOriginID's seek on archive_origin.
const findOriginSQL = `SELECT ` + msgCols + ` FROM archive
	WHERE owner = $1 AND with_jid = $2 AND origin_id = $3 AND outgoing = $4
	ORDER BY owner DESC, with_jid DESC, origin_id DESC, id DESC LIMIT 1`

// FindByOriginID implements storage.Archive with a seek on
// archive_origin; the newest match wins.
func (s *Store) FindByOriginID(ctx context.Context, owner, with string, outgoing bool, originID string) (storage.ArchivedMessage, bool, error) {
	if originID == "" {
		return storage.ArchivedMessage{}, false, nil
	}
	if err := s.enter(ctx); err != nil {
		return storage.ArchivedMessage{}, false, err
	}
	rows, err := s.pool.Query(ctx, findOriginSQL, owner, with, originID, outgoing)
	if err != nil {
		return storage.ArchivedMessage{}, false, s.fail(err)
	}
	m, err := pgx.CollectOneRow(rows, func(row pgx.CollectableRow) (storage.ArchivedMessage, error) {
		return scanMessage(rows, owner)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.ArchivedMessage{}, false, nil
	}
	if err != nil {
		return storage.ArchivedMessage{}, false, s.fail(err)
	}
	return m, true, nil
}
