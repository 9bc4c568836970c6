package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skald-xmpp/skald/storage"
)

// CountUsers implements storage.Users.
func (s *Store) CountUsers(ctx context.Context, domain string) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	sql, args := `SELECT count(*) FROM users`, []any(nil)
	if domain != "" {
		sql, args = `SELECT count(*) FROM users WHERE domain = $1`, []any{domain}
	}
	var n int
	err := s.pool.QueryRow(ctx, sql, args...).Scan(&n)
	return n, s.fail(err)
}

// SetUserDisabled implements storage.Users (migration 0006).
func (s *Store) SetUserDisabled(ctx context.Context, bare string, disabled bool, reason string) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	sql, args := `UPDATE users SET disabled_at = NULL, disabled_reason = NULL WHERE bare = $1`, []any{bare}
	if disabled {
		sql, args = `UPDATE users SET disabled_at = now(), disabled_reason = $2 WHERE bare = $1`, []any{bare, reason}
	}
	if disabled {
		// Its XEP-0484 tokens go in the same statement, as with a new
		// password: an account is often disabled because it was taken over.
		sql = `WITH u AS (` + sql + ` RETURNING bare), t AS (DELETE FROM fast_token WHERE owner IN (SELECT bare FROM u))
			SELECT count(*) FROM u`
		var n int
		if err := s.pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			return s.fail(err)
		}
		if n == 0 {
			return storage.ErrNotFound
		}
		return nil
	}
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err != nil {
		return s.fail(err)
	}
	if tag.RowsAffected() == 0 {
		return storage.ErrNotFound
	}
	return nil
}

func toStatus(at *time.Time, reason *string) storage.AccountStatus {
	if at == nil {
		return storage.AccountStatus{}
	}
	st := storage.AccountStatus{Disabled: true, Since: at.UTC()}
	if reason != nil {
		st.Reason = *reason
	}
	return st
}

// UserStatus implements storage.Users.
func (s *Store) UserStatus(ctx context.Context, bare string) (storage.AccountStatus, error) {
	if err := s.enter(ctx); err != nil {
		return storage.AccountStatus{}, err
	}
	var at *time.Time
	var reason *string
	err := s.pool.QueryRow(ctx, `SELECT disabled_at, disabled_reason FROM users WHERE bare = $1`, bare).Scan(&at, &reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.AccountStatus{}, storage.ErrNotFound
	}
	if err != nil {
		return storage.AccountStatus{}, s.fail(err)
	}
	return toStatus(at, reason), nil
}

// DisabledUsers implements storage.Users (index users_disabled).
func (s *Store) DisabledUsers(ctx context.Context, domain string) ([]storage.DisabledUser, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	sql, args := `SELECT bare, disabled_at, disabled_reason FROM users
		WHERE disabled_at IS NOT NULL ORDER BY bare`, []any(nil)
	if domain != "" {
		sql, args = `SELECT bare, disabled_at, disabled_reason FROM users
			WHERE domain = $1 AND disabled_at IS NOT NULL ORDER BY bare`, []any{domain}
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, s.fail(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.DisabledUser, error) {
		var u storage.DisabledUser
		var at *time.Time
		var reason *string
		if err := row.Scan(&u.Bare, &at, &reason); err != nil {
			return u, err
		}
		u.AccountStatus = toStatus(at, reason)
		return u, nil
	})
	if len(out) == 0 {
		out = nil
	}
	return out, s.fail(err)
}
