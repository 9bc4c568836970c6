package sqlite

import (
	"context"
)

// Blocklist implements storage.Blocking.
func (s *Store) Blocklist(ctx context.Context, owner string) ([]string, error) {
	var out []string
	err := s.read(ctx, func(r *conn) (err error) {
		out, err = r.blocklist(owner)
		return err
	})
	return out, err
}

// blocklist reads owner's blocked JIDs in key order.
func (c *conn) blocklist(owner string) ([]string, error) {
	st, err := c.prep(`SELECT jid FROM blocklist WHERE owner=? ORDER BY jid`)
	if err != nil {
		return nil, err
	}
	defer st.Reset()
	if err := st.BindText(1, owner); err != nil {
		return nil, err
	}
	var out []string
	for st.Step() {
		out = append(out, st.ColumnText(0))
	}
	return out, st.Err()
}

// Block implements storage.Blocking: one write transaction.
func (s *Store) Block(ctx context.Context, owner string, jids []string) ([]string, error) {
	if owner == "" {
		return nil, errEmptyOwner
	}
	var added []string
	err := s.write(ctx, func(w *conn) (err error) {
		added, err = eachChanged(w, `INSERT OR IGNORE INTO blocklist (owner, jid) VALUES (?, ?)`, owner, jids)
		return err
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

// Unblock implements storage.Blocking: one write transaction.
func (s *Store) Unblock(ctx context.Context, owner string, jids []string) ([]string, error) {
	var removed []string
	err := s.write(ctx, func(w *conn) error {
		if len(jids) == 0 {
			all, err := w.blocklist(owner)
			if err != nil {
				return err
			}
			removed = all
			return w.exec(`DELETE FROM blocklist WHERE owner=?`, owner)
		}
		var err error
		removed, err = eachChanged(w, `DELETE FROM blocklist WHERE owner=? AND jid=?`, owner, jids)
		return err
	})
	if err != nil {
		return nil, err
	}
	return removed, nil
}

// eachChanged runs sql with (owner, jid) for each of jids and returns the
// JIDs whose statement changed a row (a new block, a removed one).
func eachChanged(w *conn, sql, owner string, jids []string) ([]string, error) {
	var changed []string
	for _, j := range jids {
		if err := w.exec(sql, owner, j); err != nil {
			return nil, err
		}
		if w.db.Changes() > 0 {
			changed = append(changed, j)
		}
	}
	return changed, nil
}
