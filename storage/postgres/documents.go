package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/skald-xmpp/skald/storage"
)

// Document implements storage.Documents.
func (s *Store) Document(ctx context.Context, owner, kind, key string) ([]byte, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	var xml []byte
	err := s.pool.QueryRow(ctx, `SELECT xml FROM documents WHERE owner = $1 AND kind = $2 AND key = $3`, owner, kind, key).Scan(&xml)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, s.fail(err)
	}
	if xml == nil {
		xml = []byte{}
	}
	return xml, nil
}

// PutDocuments implements storage.Documents: one transaction, which the
// quota check after the upserts rolls back. The owner's documents lock (a
// transaction-level advisory lock keyed by schema, owner and kind) makes
// the check and the upserts atomic: two concurrent puts cannot both pass
// a quota that only one of them fits.
func (s *Store) PutDocuments(ctx context.Context, owner, kind string, docs []storage.Document, limit int) error {
	if owner == "" {
		return errEmptyOwner
	}
	keys := make([]string, len(docs))
	xmls := make([][]byte, len(docs))
	for i, d := range docs {
		keys[i], xmls[i] = d.Key, d.XML
		if xmls[i] == nil {
			xmls[i] = []byte{} // NOT NULL
		}
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema() || '/' || $2 || '/' || $3))`,
			lockDocuments, owner, kind); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO documents (owner, kind, key, xml)
			SELECT $1, $2, k, x FROM unnest($3::text[], $4::bytea[]) AS d(k, x)
			ON CONFLICT (owner, kind, key) DO UPDATE SET xml = excluded.xml`, owner, kind, keys, xmls); err != nil {
			return err
		}
		if limit <= 0 {
			return nil
		}
		var total int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(sum(length(xml)), 0) FROM documents WHERE owner = $1 AND kind = $2`,
			owner, kind).Scan(&total); err != nil {
			return err
		}
		if total > int64(limit) {
			return storage.ErrQuotaExceeded
		}
		return nil
	})
}
