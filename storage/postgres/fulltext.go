package postgres

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/skald-xmpp/skald/storage"
)

// querier is what a read statement needs of the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// bounded runs fn on the pool or, for a full-text statement (text), in a
// read-only transaction whose statement_timeout is Options.TextTimeout:
// a term the trigram index cannot answer (shorter than three characters,
// or one the planner finds too common) is a filter on every row of the
// owner's range, which on a big archive is a long scan a requester could
// repeat at will. A statement cancelled by the timeout (SQLSTATE 57014,
// while ctx is live) is storage.ErrTextTooBroad: narrow the query.
func (s *Store) bounded(ctx context.Context, text bool, fn func(db querier) error) error {
	if !text {
		return fn(s.pool)
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a read: nothing to lose
	ms := strconv.FormatInt(max(s.opts.TextTimeout.Milliseconds(), 1), 10)
	if _, err := tx.Exec(ctx, `SELECT set_config('statement_timeout', $1, true)`, ms); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		var pe *pgconn.PgError
		if ctx.Err() == nil && errors.As(err, &pe) && pe.Code == "57014" {
			return storage.ErrTextTooBroad
		}
		return err
	}
	return tx.Commit(ctx)
}
