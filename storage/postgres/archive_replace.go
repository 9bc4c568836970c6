package postgres

import (
	"context"

	"github.com/skald-xmpp/skald/storage"
)

// ReplaceArchived implements storage.Archive with one UPDATE through the
// primary key. It needs no archive lock: ids, stamps and counts stay as
// they are, so appends and their order are not concerned. body_fold
// follows the body, so full-text search sees the new text only.
func (s *Store) ReplaceArchived(ctx context.Context, owner string, id int64, body string, stanza []byte) (bool, error) {
	if err := s.enter(ctx); err != nil {
		return false, err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE archive SET body = $3, stanza = $4, body_fold = $5 WHERE id = $2 AND owner = $1`, owner, id, body, stanza, storage.FoldText(body))
	if err != nil {
		return false, s.fail(err)
	}
	return tag.RowsAffected() == 1, nil
}
