package sqlite

import (
	"context"

	"github.com/skald-xmpp/skald/storage"
)

// replaceSQL rewrites one item in place through the primary key; the
// owner's indexes do not change (no indexed column does).
const replaceSQL = `UPDATE archive SET body=?3, stanza=?4 WHERE id=?2 AND owner=?1`

// ReplaceArchived implements storage.Archive in one write transaction of
// its own, outside the append path. An item the full-text index already
// holds (id at or below archive_fts_mark) gets its entry replaced in the
// same transaction, so a retracted message's old words find it no more.
func (s *Store) ReplaceArchived(ctx context.Context, owner string, id int64, body string, stanza []byte) (bool, error) {
	var n int64
	err := s.write(ctx, func(w *conn) error {
		if err := w.exec(replaceSQL, owner, id, body, stanza); err != nil {
			return err
		}
		if n = w.db.Changes(); n != 1 {
			return nil
		}
		mark, _, err := queryInt(w, `SELECT id FROM archive_fts_mark WHERE one=0`)
		if err != nil || id > mark {
			return err // not indexed yet: the indexer reads the new body
		}
		if err := w.exec(`DELETE FROM archive_fts WHERE rowid=?`, id); err != nil {
			return err
		}
		if folded := storage.FoldText(body); folded != "" {
			return w.exec(`INSERT INTO archive_fts(rowid, o, b) VALUES(?,?,?)`, id, ownerMarker(owner), folded)
		}
		return nil
	})
	return n == 1, err
}
