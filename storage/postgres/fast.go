package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skald-xmpp/skald/storage"
)

// Slots of fast_token (migration 0007).
const (
	fastCurrent = 0
	fastNew     = 1
)

// FastTokens implements storage.FastTokens.
func (s *Store) FastTokens(ctx context.Context, owner, client string) ([]storage.FastToken, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT slot, hash, mechanism, expiry FROM fast_token
		WHERE owner = $1 AND client = $2 ORDER BY slot DESC`, owner, client)
	if err != nil {
		return nil, s.fail(err)
	}
	var out []storage.FastToken
	for rows.Next() {
		var t storage.FastToken
		var slot int16
		if err := rows.Scan(&slot, &t.Hash, &t.Mechanism, &t.Expiry); err != nil {
			rows.Close()
			return nil, s.fail(err)
		}
		t.New = slot == fastNew
		t.Expiry = t.Expiry.UTC()
		out = append(out, t)
	}
	return out, s.fail(rows.Err())
}

// PutFastToken implements storage.FastTokens.
func (s *Store) PutFastToken(ctx context.Context, owner, client string, t storage.FastToken) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		// The account's row, locked: a concurrent DeleteUser or
		// SetUserCredentials waits for this token or deletes it after.
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE bare = $1 FOR SHARE`, owner).Scan(&one); err != nil {
			if err == pgx.ErrNoRows {
				return storage.ErrNotFound
			}
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM fast_token WHERE owner = $1 AND expiry <= $2`, owner, time.Now()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO fast_token (owner, client, slot, hash, mechanism, expiry)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (owner, client, slot) DO UPDATE
			SET hash = EXCLUDED.hash, mechanism = EXCLUDED.mechanism, expiry = EXCLUDED.expiry`,
			owner, client, fastNew, t.Hash, t.Mechanism, t.Expiry.Truncate(time.Second))
		if err != nil {
			return err
		}
		// Past the cap, the clients issued to least recently go.
		_, err = tx.Exec(ctx, `DELETE FROM fast_token WHERE owner = $1 AND client IN (
			SELECT client FROM fast_token WHERE owner = $1 AND client <> $2
			GROUP BY client ORDER BY max(expiry) DESC, client DESC OFFSET $3)`,
			owner, client, storage.MaxFastTokenClients-1)
		return err
	})
}

// PromoteFastToken implements storage.FastTokens.
func (s *Store) PromoteFastToken(ctx context.Context, owner, client string, hash []byte) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM fast_token WHERE owner = $1 AND client = $2 AND slot = $3 AND hash = $4 FOR UPDATE`,
			owner, client, fastNew, hash).Scan(&one)
		if err == pgx.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM fast_token WHERE owner = $1 AND client = $2 AND slot = $3`, owner, client, fastCurrent); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE fast_token SET slot = $1 WHERE owner = $2 AND client = $3 AND slot = $4`, fastCurrent, owner, client, fastNew)
		return err
	})
}

// DeleteFastTokens implements storage.FastTokens.
func (s *Store) DeleteFastTokens(ctx context.Context, owner, client string) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	var err error
	if client == "" {
		_, err = s.pool.Exec(ctx, `DELETE FROM fast_token WHERE owner = $1`, owner)
	} else {
		_, err = s.pool.Exec(ctx, `DELETE FROM fast_token WHERE owner = $1 AND client = $2`, owner, client)
	}
	return s.fail(err)
}
