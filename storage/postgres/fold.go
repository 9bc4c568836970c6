package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/skald-xmpp/skald/storage"
)

// foldBatch is how many rows foldOldBodies updates per statement.
const foldBatch = 1000

// foldOldBodies fills body_fold (migration 0005) for rows stored before
// it existed, oldest first, in batches: once, at the first start after
// the upgrade. Later starts find archive_unfolded empty at once. Appends
// write body_fold themselves.
func (s *Store) foldOldBodies(ctx context.Context) error {
	for {
		rows, err := s.pool.Query(ctx, `SELECT id, body FROM archive WHERE body_fold IS NULL ORDER BY id LIMIT $1`, foldBatch)
		if err != nil {
			return err
		}
		var ids []int64
		var folds []string
		var id int64
		var body string
		if _, err := pgx.ForEachRow(rows, []any{&id, &body}, func() error {
			ids = append(ids, id)
			folds = append(folds, storage.FoldText(body))
			return nil
		}); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		if _, err := s.pool.Exec(ctx, `UPDATE archive SET body_fold = u.f
			FROM unnest($1::bigint[], $2::text[]) AS u(id, f) WHERE archive.id = u.id`, ids, folds); err != nil {
			return err
		}
		if len(ids) < foldBatch {
			return nil
		}
	}
}
