package sqlite

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/skald-xmpp/skald/storage"
)

var errEmptyOwner = errors.New("storage/sqlite: empty owner")

const msgCols = `id, with_jid, with_resource, outgoing, stamp, origin_id, body, stanza`

// ceilMicro is the smallest microsecond count not earlier than t.
func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}

// scanner turns result rows into messages, sharing the With and
// WithResource strings between consecutive rows with the same values.
type scanner struct {
	owner string
	with  string
	res   string
}

func (sc *scanner) scan(st *sqlite3.Stmt) storage.ArchivedMessage {
	m := storage.ArchivedMessage{
		ID:       st.ColumnInt64(0),
		Owner:    sc.owner,
		Outgoing: st.ColumnInt64(3) != 0,
		Stamp:    time.UnixMicro(st.ColumnInt64(4)).UTC(),
	}
	if w := st.ColumnRawText(1); string(w) != sc.with {
		sc.with = string(w)
	}
	m.With = sc.with
	if r := st.ColumnRawText(2); string(r) != sc.res {
		sc.res = string(r)
	}
	m.WithResource = sc.res
	if st.ColumnType(5) != sqlite3.NULL {
		m.OriginID = st.ColumnText(5)
	}
	m.Body = st.ColumnText(6)
	m.Stanza = st.ColumnBlob(7, nil)
	return m
}

// ---------------------------------------------------------------- append

// lastStamp returns the stamp of the newest stored archive item; writer
// goroutine only. The value is cached between appends and dropped by every
// delete and every failed operation.
func (s *Store) lastStamp(w *conn) (int64, error) {
	if s.wstampOK {
		return s.wstamp, nil
	}
	st, err := w.prep(`SELECT stamp FROM archive ORDER BY id DESC LIMIT 1`)
	if err != nil {
		return 0, err
	}
	defer st.Reset()
	s.wstamp = math.MinInt64
	if st.Step() {
		s.wstamp = st.ColumnInt64(0)
	} else if err := st.Err(); err != nil {
		return 0, err
	}
	s.wstampOK = true
	return s.wstamp, nil
}

type appended struct {
	id, stamp int64
	dup       bool // not stored: a resend of item id (AppendArchiveOnce)
}

// AppendArchive implements storage.Archive. The messages of one call are
// inserted in one transaction, usually shared with concurrent callers
// (group commit); it returns after COMMIT. On success it sets ID and Stamp
// (as stored: UTC, microseconds, clamped to be no earlier than the newest
// stored item) of every message; on error it changes nothing.
func (s *Store) AppendArchive(ctx context.Context, msgs []*storage.ArchivedMessage) error {
	_, err := s.appendArchive(ctx, msgs, false)
	return err
}

// AppendArchiveOnce is AppendArchive with the archive module's resend
// check done in the same transaction: a message with an OriginID is not
// stored again if the newest item of its owner with the same peer (With),
// direction and origin-id has the same Body; it gets that item's ID and
// Stamp instead, and dup reports which messages were such resends. Done
// here rather than by FindByOriginID before appending, the check costs
// an index seek on the writer's warm connection instead of a read
// transaction per archive, and two copies racing each other are stored
// once.
func (s *Store) AppendArchiveOnce(ctx context.Context, msgs []*storage.ArchivedMessage) (dup []bool, err error) {
	return s.appendArchive(ctx, msgs, true)
}

func (s *Store) appendArchive(ctx context.Context, msgs []*storage.ArchivedMessage, once bool) ([]bool, error) {
	for _, m := range msgs {
		if m == nil || m.Owner == "" {
			return nil, errEmptyOwner
		}
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	now := time.Now().UnixMicro()
	res := make([]appended, len(msgs))
	err := s.write(ctx, func(w *conn) error { return s.appendOp(w, msgs, res, now, once) })
	if err != nil {
		return nil, err
	}
	var dup []bool
	if once {
		dup = make([]bool, len(msgs))
	}
	for i, m := range msgs {
		m.ID = res[i].id
		m.Stamp = time.UnixMicro(res[i].stamp).UTC()
		if once {
			dup[i] = res[i].dup
		}
	}
	return dup, nil
}

// resendSQL finds the newest item a resend would duplicate, with a seek on
// archive_origin.
const resendSQL = `SELECT id, stamp, body FROM archive
	WHERE owner=? AND with_jid=? AND origin_id=? AND outgoing=? ORDER BY id DESC LIMIT 1`

// findResend looks for the item m would duplicate (see AppendArchiveOnce).
func findResend(w *conn, m *storage.ArchivedMessage) (appended, bool, error) {
	st, err := w.prep(resendSQL)
	if err != nil {
		return appended{}, false, err
	}
	defer st.Reset()
	if err := errors.Join(st.BindText(1, m.Owner), st.BindText(2, m.With), st.BindText(3, m.OriginID), st.BindBool(4, m.Outgoing)); err != nil {
		return appended{}, false, err
	}
	if !st.Step() {
		return appended{}, false, st.Err()
	}
	if st.ColumnText(2) != m.Body {
		return appended{}, false, nil
	}
	return appended{id: st.ColumnInt64(0), stamp: st.ColumnInt64(1), dup: true}, true, nil
}

func (s *Store) appendOp(w *conn, msgs []*storage.ArchivedMessage, res []appended, now int64, once bool) error {
	last, err := s.lastStamp(w)
	if err != nil {
		return err
	}
	ins, err := w.prep(`INSERT INTO archive(owner, with_jid, with_resource, outgoing, stamp, origin_id, body, stanza)
		VALUES(?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	for i, m := range msgs {
		if once && m.OriginID != "" {
			prev, found, err := findResend(w, m)
			if err != nil {
				return err
			}
			if found {
				res[i] = prev
				continue
			}
		}
		us := now
		if !m.Stamp.IsZero() {
			us = m.Stamp.UnixMicro()
		}
		us = max(us, last)
		err := errors.Join(
			ins.BindText(1, m.Owner),
			ins.BindText(2, m.With),
			ins.BindText(3, m.WithResource),
			ins.BindBool(4, m.Outgoing),
			ins.BindInt64(5, us),
			bindOptText(ins, 6, m.OriginID),
			ins.BindText(7, m.Body),
			ins.BindBlob(8, nonNil(m.Stanza)),
		)
		if err == nil {
			err = ins.Exec()
		}
		if err != nil {
			ins.Reset()
			return err
		}
		res[i] = appended{id: w.db.LastInsertRowID(), stamp: us}
		last = us
	}
	// Per-owner counts of the stored items: usually one owner per call.
	owner, n := msgs[0].Owner, 0
	for i, m := range msgs {
		if res[i].dup {
			continue
		}
		if m.Owner != owner {
			if err := addCount(w, owner, n); err != nil {
				return err
			}
			owner, n = m.Owner, 0
		}
		n++
	}
	if err := addCount(w, owner, n); err != nil {
		return err
	}
	s.wstamp, s.wstampOK = last, true
	return nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func bindOptText(st *sqlite3.Stmt, i int, v string) error {
	if v == "" {
		return st.BindNull(i)
	}
	return st.BindText(i, v)
}

// addCount adds n (may be negative) to owner's maintained item count.
func addCount(w *conn, owner string, n int) error {
	if n == 0 {
		return nil
	}
	st, err := w.prep(`INSERT INTO archive_count(owner, n) VALUES(?, ?)
		ON CONFLICT(owner) DO UPDATE SET n = n + excluded.n`)
	if err != nil {
		return err
	}
	if err := errors.Join(st.BindText(1, owner), st.BindInt64(2, int64(n))); err != nil {
		st.Reset()
		return err
	}
	if err := st.Exec(); err != nil {
		return err
	}
	if n < 0 {
		return w.exec(`DELETE FROM archive_count WHERE owner=? AND n<=0`, owner)
	}
	return nil
}

// ---------------------------------------------------------------- queries

// Page query variants. Every variant is keyset-only: an exclusive id range
// (?2, ?3) on the owner's (owner, id) or (owner, with_jid, id) index, in
// one direction, LIMIT ?4.
const (
	vWith = 1 << iota
	vResource
	vIDs
	vDesc
	nVariants
)

var pageSQL = func() (v [nVariants]string) {
	for i := range v {
		var b strings.Builder
		b.WriteString(`SELECT ` + msgCols + ` FROM archive`)
		if i&vWith != 0 && i&vIDs == 0 {
			// Without statistics the planner prefers (owner) plus a
			// filter; the peer index is what makes With pages cheap.
			b.WriteString(` INDEXED BY archive_with`)
		}
		b.WriteString(` WHERE owner=?1 AND id>?2 AND id<?3`)
		if i&vWith != 0 {
			b.WriteString(` AND with_jid=?5`)
			if i&vResource != 0 {
				b.WriteString(` AND with_resource=?6`)
			}
		}
		if i&vIDs != 0 {
			b.WriteString(` AND id IN (SELECT value FROM json_each(?7))`)
		}
		if i&vDesc != 0 {
			b.WriteString(` ORDER BY id DESC LIMIT ?4`)
		} else {
			b.WriteString(` ORDER BY id LIMIT ?4`)
		}
		v[i] = b.String()
	}
	return v
}()

var countSQL = func() (v [nVariants]string) {
	for i := range v {
		if i&vDesc != 0 {
			continue
		}
		var b strings.Builder
		b.WriteString(`SELECT count(*) FROM (SELECT 1 FROM archive`)
		if i&vWith != 0 && i&vIDs == 0 {
			b.WriteString(` INDEXED BY archive_with`)
		}
		b.WriteString(` WHERE owner=?1 AND id>?2 AND id<?3`)
		if i&vWith != 0 {
			b.WriteString(` AND with_jid=?5`)
			if i&vResource != 0 {
				b.WriteString(` AND with_resource=?6`)
			}
		}
		if i&vIDs != 0 {
			b.WriteString(` AND id IN (SELECT value FROM json_each(?7))`)
		}
		b.WriteString(` LIMIT ?4)`)
		v[i] = b.String()
	}
	return v
}()

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

// bounds holds a query's exclusive id range and filters.
type bounds struct {
	lo, hi  int64 // exclusive
	empty   bool  // the range holds no item
	variant int
}

// idRange turns the Start/End stamps of q into an exclusive id range with
// two seeks on (owner, stamp). Because stamps never decrease with id, the
// items stamped within [Start, End] are exactly those with ids between the
// first item stamped >= Start and the last one stamped <= End.
func idRange(c *conn, q storage.ArchiveQuery, useIDs bool) (b bounds, err error) {
	b.lo, b.hi = 0, math.MaxInt64
	if useIDs {
		if q.AfterID != 0 {
			b.lo = q.AfterID
		}
		if q.BeforeID != 0 {
			b.hi = q.BeforeID
		}
	}
	if !q.Start.IsZero() {
		id, ok, err := seekID(c, `SELECT id FROM archive WHERE owner=? AND stamp>=? ORDER BY stamp, id LIMIT 1`,
			q.Owner, ceilMicro(q.Start))
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
		id, ok, err := seekID(c, `SELECT id FROM archive WHERE owner=? AND stamp<=? ORDER BY stamp DESC, id DESC LIMIT 1`,
			q.Owner, q.End.UnixMicro())
		if err != nil {
			return b, err
		}
		if !ok {
			b.empty = true
			return b, nil
		}
		b.hi = min(b.hi, id+1)
	}
	if b.hi <= b.lo || b.hi-b.lo == 1 {
		b.empty = true
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

// bindQuery binds the parameters of a page or count statement.
func bindQuery(st *sqlite3.Stmt, q storage.ArchiveQuery, b bounds, limit int64) error {
	errs := []error{
		st.BindText(1, q.Owner),
		st.BindInt64(2, b.lo),
		st.BindInt64(3, b.hi),
		st.BindInt64(4, limit),
	}
	if b.variant&vWith != 0 {
		errs = append(errs, st.BindText(5, q.With))
		if b.variant&vResource != 0 {
			errs = append(errs, st.BindText(6, q.WithResource))
		}
	}
	if b.variant&vIDs != 0 {
		errs = append(errs, st.BindText(7, idsJSON(q.IDs)))
	}
	return errors.Join(errs...)
}

// QueryArchive implements storage.Archive. One page costs two index seeks
// for Start/End (if given) and one index range scan of at most Limit+1
// matching rows, whatever the size of the archive.
func (s *Store) QueryArchive(ctx context.Context, q storage.ArchiveQuery) (storage.ArchivePage, error) {
	var page storage.ArchivePage
	// With Start/End, the seeks and the page see one snapshot.
	tx := !q.Start.IsZero() || !q.End.IsZero()
	err := s.doRead(ctx, tx, func(c *conn) error {
		b, err := idRange(c, q, true)
		if err != nil {
			return err
		}
		if b.empty {
			page.Complete = true
			return nil
		}
		limit := int64(-1)
		if q.Limit > 0 {
			limit = int64(q.Limit) + 1
		}
		if q.Last {
			b.variant |= vDesc
		}
		st, err := c.prep(pageSQL[b.variant])
		if err != nil {
			return err
		}
		defer st.Reset()
		if err := bindQuery(st, q, b, limit); err != nil {
			return err
		}
		if q.Limit > 0 && q.Limit <= 1000 {
			page.Messages = make([]storage.ArchivedMessage, 0, q.Limit+1)
		}
		sc := scanner{owner: q.Owner}
		for st.Step() {
			page.Messages = append(page.Messages, sc.scan(st))
		}
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

// CountArchive implements storage.Archive. Without With, IDs, Start and
// End it reads the maintained per-owner count; otherwise it counts at most
// max rows of the id range.
func (s *Store) CountArchive(ctx context.Context, q storage.ArchiveQuery, max int) (int, error) {
	limit := int64(-1)
	if max > 0 {
		limit = int64(max)
	}
	var n int64
	tx := !q.Start.IsZero() || !q.End.IsZero()
	err := s.doRead(ctx, tx, func(c *conn) error {
		if q.With == "" && len(q.IDs) == 0 && q.Start.IsZero() && q.End.IsZero() {
			var err error
			n, err = ownerCount(c, q.Owner)
			return err
		}
		b, err := idRange(c, q, false)
		if err != nil || b.empty {
			return err
		}
		st, err := c.prep(countSQL[b.variant])
		if err != nil {
			return err
		}
		defer st.Reset()
		if err := bindQuery(st, q, b, limit); err != nil {
			return err
		}
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
		st, err := c.prep(`SELECT id FROM archive WHERE owner=? AND id IN (SELECT value FROM json_each(?))`)
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

// ArchiveBounds implements storage.Archive with two seeks on (owner, id).
func (s *Store) ArchiveBounds(ctx context.Context, owner string) (first, last storage.ArchivedMessage, ok bool, err error) {
	err = s.readTx(ctx, func(c *conn) error {
		q := storage.ArchiveQuery{Owner: owner}
		b := bounds{lo: 0, hi: math.MaxInt64}
		sc := scanner{owner: owner}
		for _, v := range []int{0, vDesc} {
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
				first = sc.scan(st)
			} else {
				last, ok = sc.scan(st), true
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

// FindByOriginID implements storage.Archive; the newest match wins.
func (s *Store) FindByOriginID(ctx context.Context, owner, with string, outgoing bool, originID string) (storage.ArchivedMessage, bool, error) {
	var m storage.ArchivedMessage
	var ok bool
	if originID == "" {
		return m, false, nil
	}
	err := s.read(ctx, func(c *conn) error {
		st, err := c.prep(`SELECT ` + msgCols + ` FROM archive
			WHERE owner=? AND with_jid=? AND origin_id=? AND outgoing=? ORDER BY id DESC LIMIT 1`)
		if err != nil {
			return err
		}
		defer st.Reset()
		if err := bind(st, owner, with, originID, outgoing); err != nil {
			return err
		}
		if st.Step() {
			sc := scanner{owner: owner}
			m, ok = sc.scan(st), true
			return nil
		}
		return st.Err()
	})
	return m, ok, err
}

// ---------------------------------------------------------------- deletes

// PurgeArchive implements storage.Archive. It first fixes the newest id to
// delete (the last item stamped before before, or the newest item), so it
// deletes only items that existed when it started, then deletes in
// transactions of Options.DeleteBatch rows.
func (s *Store) PurgeArchive(ctx context.Context, owner, with string, before time.Time) (int, error) {
	var maxID int64
	var found bool
	err := s.read(ctx, func(c *conn) error {
		var err error
		if before.IsZero() {
			maxID, found, err = queryInt(c, `SELECT id FROM archive WHERE owner=? ORDER BY id DESC LIMIT 1`, owner)
		} else {
			maxID, found, err = queryInt(c, `SELECT id FROM archive WHERE owner=? AND stamp<? ORDER BY stamp DESC, id DESC LIMIT 1`,
				owner, ceilMicro(before))
		}
		return err
	})
	if err != nil || !found {
		return 0, err
	}
	query := `DELETE FROM archive WHERE id IN (SELECT id FROM archive WHERE owner=?1 AND id<=?2 ORDER BY id LIMIT ?3)`
	if with != "" {
		query = `DELETE FROM archive WHERE id IN (SELECT id FROM archive INDEXED BY archive_with
			WHERE owner=?1 AND with_jid=?4 AND id<=?2 ORDER BY id LIMIT ?3)`
	}
	total := 0
	for {
		var n int
		err := s.write(ctx, func(w *conn) error {
			s.wstampOK = false
			args := []any{owner, maxID, s.opts.DeleteBatch}
			if with != "" {
				args = append(args, with)
			}
			if err := w.exec(query, args...); err != nil {
				return err
			}
			n = int(w.db.Changes())
			return addCount(w, owner, -n)
		})
		total += n
		if err != nil {
			return total, err
		}
		if n < s.opts.DeleteBatch {
			return total, nil
		}
	}
}

// ExpireArchive implements storage.Archive. Since stamps never decrease
// with id, the items stamped before a time are a prefix of the table in id
// order: each transaction reads up to DeleteBatch ids from the start of the
// table, finds where the prefix ends and deletes up to there, updating the
// counts of the owners concerned. No stamp index over all owners is needed.
func (s *Store) ExpireArchive(ctx context.Context, before time.Time, batch int) (int, error) {
	cut := ceilMicro(before)
	total := 0
	for batch <= 0 || total < batch {
		step := s.opts.DeleteBatch
		if batch > 0 {
			step = min(step, batch-total)
		}
		var n int
		err := s.write(ctx, func(w *conn) error {
			s.wstampOK = false
			var err error
			n, err = expireStep(w, cut, step)
			return err
		})
		total += n
		if err != nil {
			return total, err
		}
		if n < step {
			break
		}
	}
	return total, nil
}

func expireStep(w *conn, cut int64, step int) (int, error) {
	st, err := w.prep(`SELECT id, stamp FROM archive ORDER BY id LIMIT ?`)
	if err != nil {
		return 0, err
	}
	if err := st.BindInt64(1, int64(step)); err != nil {
		st.Reset()
		return 0, err
	}
	var upTo int64
	for st.Step() {
		if st.ColumnInt64(1) >= cut {
			break
		}
		upTo = st.ColumnInt64(0)
	}
	err = st.Err()
	st.Reset()
	if err != nil || upTo == 0 {
		return 0, err
	}
	// Counts per owner of the rows about to go.
	cs, err := w.prep(`SELECT owner, count(*) FROM archive WHERE id<=? GROUP BY owner`)
	if err != nil {
		return 0, err
	}
	if err := cs.BindInt64(1, upTo); err != nil {
		cs.Reset()
		return 0, err
	}
	type oc struct {
		owner string
		n     int
	}
	var counts []oc
	for cs.Step() {
		counts = append(counts, oc{cs.ColumnText(0), cs.ColumnInt(1)})
	}
	err = cs.Err()
	cs.Reset()
	if err != nil {
		return 0, err
	}
	if err := w.exec(`DELETE FROM archive WHERE id<=?`, upTo); err != nil {
		return 0, err
	}
	n := int(w.db.Changes())
	for _, c := range counts {
		if err := addCount(w, c.owner, -c.n); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// TrimArchive implements storage.Archive: it deletes owner's oldest items
// beyond keep, DeleteBatch rows per transaction, using the maintained count
// to know how many to delete.
func (s *Store) TrimArchive(ctx context.Context, owner string, keep int) (int, error) {
	keep = max(keep, 0)
	total := 0
	for {
		var n int
		more := false
		err := s.write(ctx, func(w *conn) error {
			s.wstampOK = false
			have, err := ownerCount(w, owner)
			if err != nil {
				return err
			}
			excess := int(have) - keep
			if excess <= 0 {
				return nil
			}
			step := min(excess, s.opts.DeleteBatch)
			more = excess > step
			if err := w.exec(`DELETE FROM archive WHERE id IN
				(SELECT id FROM archive WHERE owner=? ORDER BY id LIMIT ?)`, owner, step); err != nil {
				return err
			}
			n = int(w.db.Changes())
			return addCount(w, owner, -n)
		})
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// ArchiveStats implements storage.Archive from the maintained counts.
func (s *Store) ArchiveStats(ctx context.Context, owner string) (map[string]int, error) {
	out := make(map[string]int)
	err := s.read(ctx, func(c *conn) error {
		if owner != "" {
			n, err := ownerCount(c, owner)
			out[owner] = int(n)
			return err
		}
		st, err := c.prep(`SELECT owner, n FROM archive_count WHERE n>0`)
		if err != nil {
			return err
		}
		defer st.Reset()
		for st.Step() {
			out[st.ColumnText(0)] = st.ColumnInt(1)
		}
		return st.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
