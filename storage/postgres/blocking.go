package postgres

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Blocklist implements storage.Blocking.
func (s *Store) Blocklist(ctx context.Context, owner string) ([]string, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	return s.queryStrings(ctx, `SELECT jid FROM blocklist WHERE owner = $1 ORDER BY jid`, owner)
}

// Block implements storage.Blocking: one statement.
func (s *Store) Block(ctx context.Context, owner string, jids []string) ([]string, error) {
	if owner == "" {
		return nil, errEmptyOwner
	}
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `INSERT INTO blocklist (owner, jid) SELECT $1, j FROM unnest($2::text[]) AS j
		ON CONFLICT DO NOTHING RETURNING jid`, owner, jids)
	if err != nil {
		return nil, s.fail(err)
	}
	added, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, s.fail(err)
	}
	return inGivenOrder(jids, added), nil
}

// Unblock implements storage.Blocking: one statement.
func (s *Store) Unblock(ctx context.Context, owner string, jids []string) ([]string, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	sql, args := `DELETE FROM blocklist WHERE owner = $1 AND jid = ANY($2) RETURNING jid`, []any{owner, jids}
	if len(jids) == 0 {
		sql, args = `DELETE FROM blocklist WHERE owner = $1 RETURNING jid`, []any{owner}
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, s.fail(err)
	}
	removed, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, s.fail(err)
	}
	if len(jids) == 0 {
		slices.Sort(removed)
		if len(removed) == 0 {
			return nil, nil
		}
		return removed, nil
	}
	return inGivenOrder(jids, removed), nil
}

// inGivenOrder returns the JIDs of changed in the order of given,
// each once: RETURNING promises no order.
func inGivenOrder(given, changed []string) []string {
	set := make(map[string]bool, len(changed))
	for _, j := range changed {
		set[j] = true
	}
	var out []string
	for _, j := range given {
		if set[j] {
			out = append(out, j)
			delete(set, j)
		}
	}
	return out
}
