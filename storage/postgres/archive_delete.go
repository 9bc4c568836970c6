package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// The owner's statements order by the columns of the owner's index, as
// pages do (see order in archive_query.go): never a walk of the primary
// key filtered by owner.
//
// Deletions run in transactions of at most Options.DeleteBatch rows, each
// under the archive lock (doc.go), so appends interleave with a big purge
// instead of waiting for it, and the maintained counts change with the
// rows.

// PurgeArchive implements storage.Archive. It first fixes the newest id to
// delete (the last item stamped before before, or the newest item), so it
// deletes only items that existed when it started: the result of a
// concurrent purge and append is as if the purge had run first.
func (s *Store) PurgeArchive(ctx context.Context, owner, with string, before time.Time) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	var maxID int64
	var err error
	if before.IsZero() {
		err = s.pool.QueryRow(ctx, `SELECT id FROM archive WHERE owner = $1 ORDER BY owner DESC, id DESC LIMIT 1`, owner).Scan(&maxID)
	} else {
		err = s.pool.QueryRow(ctx, `SELECT id FROM archive WHERE owner = $1 AND stamp < $2 ORDER BY stamp DESC, id DESC LIMIT 1`,
			owner, ceilMicro(before)).Scan(&maxID)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, s.fail(err)
	}
	step := `DELETE FROM archive WHERE id IN (SELECT id FROM archive WHERE owner = $1 AND id <= $2 ORDER BY owner, id LIMIT $3)`
	args := []any{owner, maxID, s.opts.DeleteBatch}
	if with != "" {
		step = `DELETE FROM archive WHERE id IN (SELECT id FROM archive WHERE owner = $1 AND with_jid = $4 AND id <= $2 ORDER BY owner, with_jid, id LIMIT $3)`
		args = append(args, with)
	}
	total := 0
	for {
		var n int
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			if err := s.lockArchiveTx(ctx, tx); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, step, args...)
			if err != nil {
				return err
			}
			n = int(tag.RowsAffected())
			return sendCounts(ctx, tx, map[string]int64{owner: -int64(n)})
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < s.opts.DeleteBatch {
			return total, nil
		}
	}
}

// sendCounts applies count deltas in tx (see queueCounts).
func sendCounts(ctx context.Context, tx pgx.Tx, deltas map[string]int64) error {
	for o, n := range deltas {
		if n == 0 {
			delete(deltas, o)
		}
	}
	b := &pgx.Batch{}
	queueCounts(b, deltas)
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// ExpireArchive implements storage.Archive. Since stamps never decrease
// with id, the items stamped before a time are a prefix of the table in id
// order: each transaction reads up to DeleteBatch rows from the start of
// the primary key, finds where the prefix ends and deletes up to there.
// No stamp index across owners is needed.
func (s *Store) ExpireArchive(ctx context.Context, before time.Time, batch int) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	cut := ceilMicro(before)
	total := 0
	for batch <= 0 || total < batch {
		step := s.opts.DeleteBatch
		if batch > 0 {
			step = min(step, batch-total)
		}
		var n int
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			if err := s.lockArchiveTx(ctx, tx); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `WITH gone AS (DELETE FROM archive WHERE id <=
				(SELECT max(id) FROM (SELECT id, stamp FROM archive ORDER BY id LIMIT $2) head WHERE stamp < $1)
				RETURNING owner)
				SELECT owner, count(*) FROM gone GROUP BY owner`, cut, step)
			if err != nil {
				return err
			}
			deltas := make(map[string]int64)
			var owner string
			var c int64
			if _, err := pgx.ForEachRow(rows, []any{&owner, &c}, func() error {
				deltas[owner] = -c
				n += int(c)
				return nil
			}); err != nil {
				return err
			}
			return sendCounts(ctx, tx, deltas)
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < step {
			break
		}
	}
	return total, nil
}

// TrimArchive implements storage.Archive: it deletes owner's oldest items
// beyond keep, DeleteBatch rows per transaction, using the maintained
// count to know how many.
func (s *Store) TrimArchive(ctx context.Context, owner string, keep int) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	keep = max(keep, 0)
	total := 0
	for {
		var n int
		more := false
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			if err := s.lockArchiveTx(ctx, tx); err != nil {
				return err
			}
			var have int64
			err := tx.QueryRow(ctx, `SELECT n FROM archive_count WHERE owner = $1`, owner).Scan(&have)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			excess := int(have) - keep
			if excess <= 0 {
				return nil
			}
			step := min(excess, s.opts.DeleteBatch)
			more = excess > step
			tag, err := tx.Exec(ctx, `DELETE FROM archive WHERE id IN
				(SELECT id FROM archive WHERE owner = $1 ORDER BY owner, id LIMIT $2)`, owner, step)
			if err != nil {
				return err
			}
			n = int(tag.RowsAffected())
			return sendCounts(ctx, tx, map[string]int64{owner: -int64(n)})
		})
		if err != nil {
			return total, err
		}
		total += n
		if !more {
			return total, nil
		}
	}
}

// ArchiveStats implements storage.Archive from the maintained counts.
func (s *Store) ArchiveStats(ctx context.Context, owner string) (map[string]int, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]int)
	sql, args := `SELECT owner, n FROM archive_count WHERE n > 0`, []any(nil)
	if owner != "" {
		out[owner] = 0
		sql, args = `SELECT owner, n FROM archive_count WHERE owner = $1`, []any{owner}
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, s.fail(err)
	}
	var o string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&o, &n}, func() error { out[o] = n; return nil }); err != nil {
		return nil, s.fail(err)
	}
	return out, nil
}
