package sqlite

import (
	"context"

	"github.com/ncruces/go-sqlite3"
	"github.com/skald-xmpp/skald/storage"
)

// Document implements storage.Documents.
func (s *Store) Document(ctx context.Context, owner, kind, key string) ([]byte, error) {
	var out []byte
	err := s.read(ctx, func(r *conn) error {
		ok, err := r.queryRow(`SELECT xml FROM documents WHERE owner=? AND kind=? AND key=?`,
			func(st *sqlite3.Stmt) error {
				out = st.ColumnBlob(0, []byte{}) // never nil, even for an empty blob
				return nil
			}, owner, kind, key)
		if err == nil && !ok {
			err = storage.ErrNotFound
		}
		return err
	})
	return out, err
}

// PutDocuments implements storage.Documents: one write request, so its
// savepoint rolls the upserts back when the quota check after them fails.
func (s *Store) PutDocuments(ctx context.Context, owner, kind string, docs []storage.Document, limit int) error {
	if owner == "" {
		return errEmptyOwner
	}
	return s.write(ctx, func(w *conn) error {
		for _, d := range docs {
			xml := d.XML
			if xml == nil {
				xml = []byte{} // NOT NULL: bind an empty blob, not NULL
			}
			if err := w.exec(`INSERT INTO documents (owner, kind, key, xml) VALUES (?, ?, ?, ?)
				ON CONFLICT (owner, kind, key) DO UPDATE SET xml=excluded.xml`, owner, kind, d.Key, xml); err != nil {
				return err
			}
		}
		if limit <= 0 {
			return nil
		}
		var total int64
		if _, err := w.queryRow(`SELECT coalesce(sum(length(xml)), 0) FROM documents WHERE owner=? AND kind=?`,
			func(st *sqlite3.Stmt) error { total = st.ColumnInt64(0); return nil }, owner, kind); err != nil {
			return err
		}
		if total > int64(limit) {
			return storage.ErrQuotaExceeded
		}
		return nil
	})
}
