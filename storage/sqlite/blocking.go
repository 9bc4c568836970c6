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
	err := s.write(ctx, func(w *conn) error {
		added = added[:0]
		for _, j := range jids {
			if err := w.exec(`INSERT OR IGNORE INTO blocklist (owner, jid) VALUES (?, ?)`, owner, j); err != nil {
				return err
			}
			if w.db.Changes() > 0 {
				added = append(added, j)
			}
		}
		return nil
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
		removed = removed[:0]
		if len(jids) == 0 {
			all, err := w.blocklist(owner)
			if err != nil {
				return err
			}
			removed = all
			return w.exec(`DELETE FROM blocklist WHERE owner=?`, owner)
		}
		for _, j := range jids {
			if err := w.exec(`DELETE FROM blocklist WHERE owner=? AND jid=?`, owner, j); err != nil {
				return err
			}
			if w.db.Changes() > 0 {
				removed = append(removed, j)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return removed, nil
}
