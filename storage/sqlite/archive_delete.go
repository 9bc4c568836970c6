package sqlite

import (
	"context"
	"maps"
	"slices"
	"time"
)

// Purge statements. The first two find the newest item to purge. A step
// deletes the owner's oldest DeleteBatch items up to it: on archive_time
// the (stamp, seq) bound starts and ends the scan, and id<=?2 keeps out an
// item appended after the purge started even if its stamp is lower (which
// takes the newest items store-wide being deleted meanwhile).
const (
	purgeLastSQL       = `SELECT id, stamp FROM archive WHERE owner=? ORDER BY stamp DESC, seq DESC LIMIT 1`
	purgeLastBeforeSQL = `SELECT id, stamp FROM archive WHERE owner=? AND stamp<? ORDER BY stamp DESC, seq DESC LIMIT 1`
	purgeStepSQL       = `DELETE FROM archive WHERE id IN (SELECT id FROM archive INDEXED BY archive_time
		WHERE owner=?1 AND (stamp, seq)<=(?4, ?2) AND id<=?2 ORDER BY stamp, seq LIMIT ?3)`
	purgeWithStepSQL = `DELETE FROM archive WHERE id IN (SELECT id FROM archive INDEXED BY archive_with
		WHERE owner=?1 AND with_jid=?4 AND id<=?2 ORDER BY id LIMIT ?3)`
	trimStepSQL = `DELETE FROM archive WHERE id IN
		(SELECT id FROM archive INDEXED BY archive_time WHERE owner=? ORDER BY stamp, seq LIMIT ?)`
)

// PurgeArchive implements storage.Archive. It first fixes the newest id to
// delete (the last item stamped before before, or the newest item), so it
// deletes only items that existed when it started, then deletes in
// transactions of Options.DeleteBatch rows.
func (s *Store) PurgeArchive(ctx context.Context, owner, with string, before time.Time) (int, error) {
	var maxID, maxStamp int64
	var found bool
	err := s.read(ctx, func(c *conn) error {
		query, args := purgeLastSQL, []any{owner}
		if !before.IsZero() {
			query, args = purgeLastBeforeSQL, []any{owner, ceilMicro(before)}
		}
		st, err := c.prep(query)
		if err != nil {
			return err
		}
		defer st.Reset()
		if err := bind(st, args...); err != nil {
			return err
		}
		if found = st.Step(); found {
			maxID, maxStamp = st.ColumnInt64(0), st.ColumnInt64(1)
		}
		return st.Err()
	})
	if err != nil || !found {
		return 0, err
	}
	query, args := purgeStepSQL, []any{owner, maxID, s.opts.DeleteBatch, maxStamp}
	if with != "" {
		query, args = purgeWithStepSQL, []any{owner, maxID, s.opts.DeleteBatch, with}
	}
	total := 0
	for {
		var n int
		err := s.write(ctx, func(w *conn) error {
			s.wstampOK = false
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

// expireStep deletes the prefix of the table (in id order) stamped before
// cut, at most step rows. The rows' owners are counted from the same scan
// of the table's first rows, for the maintained counts.
func expireStep(w *conn, cut int64, step int) (int, error) {
	st, err := w.prep(`SELECT id, stamp, owner FROM archive ORDER BY id LIMIT ?`)
	if err != nil {
		return 0, err
	}
	if err := st.BindInt64(1, int64(step)); err != nil {
		st.Reset()
		return 0, err
	}
	var upTo int64
	counts := make(map[string]int)
	for st.Step() {
		if st.ColumnInt64(1) >= cut {
			break
		}
		upTo = st.ColumnInt64(0)
		counts[string(st.ColumnRawText(2))]++
	}
	err = st.Err()
	st.Reset()
	if err != nil || upTo == 0 {
		return 0, err
	}
	if err := w.exec(`DELETE FROM archive WHERE id<=?`, upTo); err != nil {
		return 0, err
	}
	n := int(w.db.Changes())
	for _, owner := range slices.Sorted(maps.Keys(counts)) {
		if err := addCount(w, owner, -counts[owner]); err != nil {
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
			if err := w.exec(trimStepSQL, owner, step); err != nil {
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
