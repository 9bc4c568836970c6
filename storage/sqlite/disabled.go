package sqlite

import (
	"context"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/skald-xmpp/skald/storage"
)

// CountUsers implements storage.Users.
func (s *Store) CountUsers(ctx context.Context, domain string) (int, error) {
	n := 0
	err := s.read(ctx, func(r *conn) error {
		q, args := `SELECT count(*) FROM users`, []any(nil)
		if domain != "" {
			q, args = `SELECT count(*) FROM users WHERE domain=?`, []any{domain}
		}
		_, err := r.queryRow(q, func(st *sqlite3.Stmt) error {
			n = st.ColumnInt(0)
			return nil
		}, args...)
		return err
	})
	return n, err
}

// SetUserDisabled implements storage.Users (migration 0009).
func (s *Store) SetUserDisabled(ctx context.Context, bare string, disabled bool, reason string) error {
	at, why := any(nil), any(nil)
	if disabled {
		at, why = time.Now().UnixMicro(), reason
	}
	return s.write(ctx, func(w *conn) error {
		if err := w.exec(`UPDATE users SET disabled_at=?, disabled_reason=? WHERE bare=?`, at, why, bare); err != nil {
			return err
		}
		if w.db.Changes() == 0 {
			return storage.ErrNotFound
		}
		if disabled {
			// Its XEP-0484 tokens go, as with a new password: an account
			// is often disabled because it was taken over.
			return w.exec(`DELETE FROM fast_token WHERE owner=?`, bare)
		}
		return nil
	})
}

func scanStatus(st *sqlite3.Stmt, col int) storage.AccountStatus {
	if st.ColumnType(col) == sqlite3.NULL {
		return storage.AccountStatus{}
	}
	return storage.AccountStatus{
		Disabled: true,
		Since:    time.UnixMicro(st.ColumnInt64(col)).UTC(),
		Reason:   st.ColumnText(col + 1),
	}
}

// UserStatus implements storage.Users.
func (s *Store) UserStatus(ctx context.Context, bare string) (storage.AccountStatus, error) {
	var out storage.AccountStatus
	err := s.read(ctx, func(r *conn) error {
		found, err := r.queryRow(`SELECT disabled_at, disabled_reason FROM users WHERE bare=?`,
			func(st *sqlite3.Stmt) error {
				out = scanStatus(st, 0)
				return nil
			}, bare)
		if err == nil && !found {
			err = storage.ErrNotFound
		}
		return err
	})
	return out, err
}

// DisabledUsers implements storage.Users (index users_disabled).
func (s *Store) DisabledUsers(ctx context.Context, domain string) ([]storage.DisabledUser, error) {
	var out []storage.DisabledUser
	err := s.read(ctx, func(r *conn) error {
		q, args := `SELECT bare, disabled_at, disabled_reason FROM users
			WHERE disabled_at IS NOT NULL ORDER BY bare`, []any(nil)
		if domain != "" {
			q, args = `SELECT bare, disabled_at, disabled_reason FROM users
				WHERE domain=? AND disabled_at IS NOT NULL ORDER BY bare`, []any{domain}
		}
		st, err := r.prep(q)
		if err != nil {
			return err
		}
		defer st.Reset()
		if err := bind(st, args...); err != nil {
			return err
		}
		for st.Step() {
			out = append(out, storage.DisabledUser{Bare: st.ColumnText(0), AccountStatus: scanStatus(st, 1)})
		}
		return st.Err()
	})
	return out, err
}
