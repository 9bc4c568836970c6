package sqlite

import "context"

// replaceSQL rewrites one item in place through the primary key; the
// owner's indexes do not change (no indexed column does).
const replaceSQL = `UPDATE archive SET body=?3, stanza=?4 WHERE id=?2 AND owner=?1`

// ReplaceArchived implements storage.Archive in one write transaction of
// its own, outside the append path.
func (s *Store) ReplaceArchived(ctx context.Context, owner string, id int64, body string, stanza []byte) (bool, error) {
	var n int64
	err := s.write(ctx, func(w *conn) error {
		if err := w.exec(replaceSQL, owner, id, body, stanza); err != nil {
			return err
		}
		n = w.db.Changes()
		return nil
	})
	return n == 1, err
}
