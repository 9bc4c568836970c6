package sqlite

import (
	"context"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/skald-xmpp/skald/storage"
)

// Slots of fast_token (migration 0010).
const (
	fastCurrent = 0
	fastNew     = 1
)

// FastTokens implements storage.FastTokens.
func (s *Store) FastTokens(ctx context.Context, owner, client string) ([]storage.FastToken, error) {
	var out []storage.FastToken
	err := s.read(ctx, func(r *conn) error {
		st, err := r.prep(`SELECT slot, hash, mechanism, expiry FROM fast_token
			WHERE owner=? AND client=? ORDER BY slot DESC`)
		if err != nil {
			return err
		}
		defer st.Reset()
		if err := bind(st, owner, client); err != nil {
			return err
		}
		for st.Step() {
			out = append(out, storage.FastToken{
				New:       st.ColumnInt(0) == fastNew,
				Hash:      st.ColumnBlob(1, nil),
				Mechanism: st.ColumnText(2),
				Expiry:    time.Unix(st.ColumnInt64(3), 0).UTC(),
			})
		}
		return st.Err()
	})
	return out, err
}

// PutFastToken implements storage.FastTokens.
func (s *Store) PutFastToken(ctx context.Context, owner, client string, t storage.FastToken) error {
	return s.write(ctx, func(w *conn) error {
		found, err := w.queryRow(`SELECT 1 FROM users WHERE bare=?`, nil, owner)
		if err != nil {
			return err
		}
		if !found {
			return storage.ErrNotFound
		}
		if err := w.exec(`DELETE FROM fast_token WHERE owner=? AND expiry<=?`, owner, time.Now().Unix()); err != nil {
			return err
		}
		if err := w.exec(`INSERT OR REPLACE INTO fast_token(owner, client, slot, hash, mechanism, expiry)
			VALUES(?,?,?,?,?,?)`, owner, client, fastNew, t.Hash, t.Mechanism, t.Expiry.Unix()); err != nil {
			return err
		}
		// Past the cap, the clients issued to least recently go.
		return w.exec(`DELETE FROM fast_token WHERE owner=? AND client IN (
			SELECT client FROM fast_token WHERE owner=? AND client<>?
			GROUP BY client ORDER BY max(expiry) DESC, client DESC LIMIT -1 OFFSET ?)`,
			owner, owner, client, storage.MaxFastTokenClients-1)
	})
}

// PromoteFastToken implements storage.FastTokens.
func (s *Store) PromoteFastToken(ctx context.Context, owner, client string, hash []byte) error {
	return s.write(ctx, func(w *conn) error {
		found, err := w.queryRow(`SELECT 1 FROM fast_token WHERE owner=? AND client=? AND slot=? AND hash=?`,
			func(*sqlite3.Stmt) error { return nil }, owner, client, fastNew, hash)
		if err != nil || !found {
			return err
		}
		if err := w.exec(`DELETE FROM fast_token WHERE owner=? AND client=? AND slot=?`, owner, client, fastCurrent); err != nil {
			return err
		}
		return w.exec(`UPDATE fast_token SET slot=? WHERE owner=? AND client=? AND slot=?`, fastCurrent, owner, client, fastNew)
	})
}

// DeleteFastTokens implements storage.FastTokens.
func (s *Store) DeleteFastTokens(ctx context.Context, owner, client string) error {
	return s.write(ctx, func(w *conn) error {
		if client == "" {
			return w.exec(`DELETE FROM fast_token WHERE owner=?`, owner)
		}
		return w.exec(`DELETE FROM fast_token WHERE owner=? AND client=?`, owner, client)
	})
}
