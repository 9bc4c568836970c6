package sqlite

import (
	"context"
	"errors"

	"github.com/ncruces/go-sqlite3"

	"github.com/skald-xmpp/skald/storage"
)

var _ storage.PEP = (*Store)(nil)

const pepNodeColumns = `node, access_model, persist_items, max_items, send_last, notify_retract, deliver_payloads`

func scanPEPNode(st *sqlite3.Stmt) storage.PEPNode {
	return storage.PEPNode{Name: st.ColumnText(0), Config: storage.PEPNodeConfig{
		AccessModel:           st.ColumnText(1),
		PersistItems:          st.ColumnBool(2),
		MaxItems:              st.ColumnInt(3),
		SendLastPublishedItem: st.ColumnText(4),
		NotifyRetract:         st.ColumnBool(5),
		DeliverPayloads:       st.ColumnBool(6),
	}}
}

// PEPNodes implements storage.PEP.
func (s *Store) PEPNodes(ctx context.Context, owner string) ([]storage.PEPNode, error) {
	var out []storage.PEPNode
	err := s.read(ctx, func(r *conn) error {
		st, err := r.prep(`SELECT ` + pepNodeColumns + ` FROM pep_node WHERE owner=? ORDER BY node`)
		if err != nil {
			return err
		}
		defer st.Reset()
		if err := st.BindText(1, owner); err != nil {
			return err
		}
		for st.Step() {
			out = append(out, scanPEPNode(st))
		}
		return st.Err()
	})
	return out, err
}

// PEPNode implements storage.PEP.
func (s *Store) PEPNode(ctx context.Context, owner, node string) (storage.PEPNode, error) {
	var n storage.PEPNode
	err := s.read(ctx, func(r *conn) error {
		var err error
		n, err = r.pepNode(owner, node)
		return err
	})
	return n, err
}

// pepNode reads one node, or fails with storage.ErrNotFound.
func (c *conn) pepNode(owner, node string) (storage.PEPNode, error) {
	var n storage.PEPNode
	ok, err := c.queryRow(`SELECT `+pepNodeColumns+` FROM pep_node WHERE owner=? AND node=?`,
		func(st *sqlite3.Stmt) error { n = scanPEPNode(st); return nil }, owner, node)
	if err == nil && !ok {
		err = storage.ErrNotFound
	}
	return n, err
}

// CreatePEPNode implements storage.PEP.
func (s *Store) CreatePEPNode(ctx context.Context, owner string, n storage.PEPNode, maxNodes int) error {
	if owner == "" {
		return errEmptyOwner
	}
	return s.write(ctx, func(w *conn) error {
		if _, err := w.pepNode(owner, n.Name); err == nil {
			return storage.ErrExists
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if maxNodes > 0 {
			var count int
			if _, err := w.queryRow(`SELECT count(*) FROM pep_node WHERE owner=?`,
				func(st *sqlite3.Stmt) error { count = st.ColumnInt(0); return nil }, owner); err != nil {
				return err
			}
			if count >= maxNodes {
				return storage.ErrQuotaExceeded
			}
		}
		c := n.Config
		return w.exec(`INSERT INTO pep_node (owner, `+pepNodeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			owner, n.Name, c.AccessModel, c.PersistItems, c.MaxItems, c.SendLastPublishedItem, c.NotifyRetract, c.DeliverPayloads)
	})
}

// ConfigurePEPNode implements storage.PEP.
func (s *Store) ConfigurePEPNode(ctx context.Context, owner, node string, c storage.PEPNodeConfig) error {
	return s.write(ctx, func(w *conn) error {
		err := w.exec(`UPDATE pep_node SET access_model=?, persist_items=?, max_items=?, send_last=?, notify_retract=?, deliver_payloads=? WHERE owner=? AND node=?`,
			c.AccessModel, c.PersistItems, c.MaxItems, c.SendLastPublishedItem, c.NotifyRetract, c.DeliverPayloads, owner, node)
		if err != nil {
			return err
		}
		if w.db.Changes() == 0 {
			return storage.ErrNotFound
		}
		return w.trimPEPItems(owner, node, c.MaxItems)
	})
}

// trimPEPItems drops a node's items older than its newest maxItems.
func (c *conn) trimPEPItems(owner, node string, maxItems int) error {
	return c.exec(`DELETE FROM pep_item WHERE owner=? AND node=? AND seq <= (
		SELECT seq FROM pep_item WHERE owner=? AND node=? ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
		owner, node, owner, node, maxItems)
}

// DeletePEPNode implements storage.PEP.
func (s *Store) DeletePEPNode(ctx context.Context, owner, node string) error {
	return s.write(ctx, func(w *conn) error {
		if err := w.exec(`DELETE FROM pep_node WHERE owner=? AND node=?`, owner, node); err != nil {
			return err
		}
		if w.db.Changes() == 0 {
			return storage.ErrNotFound
		}
		return w.exec(`DELETE FROM pep_item WHERE owner=? AND node=?`, owner, node)
	})
}

// PublishPEPItem implements storage.PEP: one write request (SQLite has
// one writer, so no other publish runs between the write and the quota
// check), whose savepoint rolls the upsert and the trim back when the
// check after them fails.
func (s *Store) PublishPEPItem(ctx context.Context, owner, node string, it storage.PEPItem, maxBytes int) error {
	return s.write(ctx, func(w *conn) error {
		n, err := w.pepNode(owner, node)
		if err != nil {
			return err
		}
		err = w.exec(`INSERT OR REPLACE INTO pep_item (owner, node, id, seq, payload) VALUES (?, ?, ?,
			(SELECT coalesce(max(seq), 0) + 1 FROM pep_item WHERE owner=? AND node=?), ?)`,
			owner, node, it.ID, owner, node, it.Payload)
		if err != nil {
			return err
		}
		if err := w.trimPEPItems(owner, node, n.Config.MaxItems); err != nil {
			return err
		}
		if maxBytes <= 0 {
			return nil
		}
		// octet_length: bytes, where length() of TEXT counts characters.
		var total int64
		if _, err := w.queryRow(`SELECT coalesce(sum(octet_length(id) + length(payload)), 0) FROM pep_item WHERE owner=?`,
			func(st *sqlite3.Stmt) error { total = st.ColumnInt64(0); return nil }, owner); err != nil {
			return err
		}
		if total > int64(maxBytes) {
			return storage.ErrQuotaExceeded
		}
		return nil
	})
}

// RetractPEPItem implements storage.PEP.
func (s *Store) RetractPEPItem(ctx context.Context, owner, node, id string) (bool, error) {
	var removed bool
	err := s.write(ctx, func(w *conn) error {
		if _, err := w.pepNode(owner, node); err != nil {
			return err
		}
		if err := w.exec(`DELETE FROM pep_item WHERE owner=? AND node=? AND id=?`, owner, node, id); err != nil {
			return err
		}
		removed = w.db.Changes() > 0
		return nil
	})
	return removed, err
}

// PEPItems implements storage.PEP: one read transaction.
func (s *Store) PEPItems(ctx context.Context, owner, node string, ids []string, max int) ([]storage.PEPItem, error) {
	var out []storage.PEPItem
	err := s.readTx(ctx, func(r *conn) error {
		if _, err := r.pepNode(owner, node); err != nil {
			return err
		}
		st, err := r.prep(`SELECT id, payload FROM pep_item WHERE owner=? AND node=? ORDER BY seq DESC`)
		if err != nil {
			return err
		}
		defer st.Reset()
		if err := bind(st, owner, node); err != nil {
			return err
		}
		want := make(map[string]bool, len(ids))
		for _, id := range ids {
			want[id] = true
		}
		for st.Step() {
			id := st.ColumnText(0)
			if len(ids) > 0 && !want[id] {
				continue
			}
			out = append(out, storage.PEPItem{ID: id, Payload: st.ColumnBlob(1, nil)})
			if len(ids) == 0 && max > 0 && len(out) == max {
				break
			}
		}
		return st.Err()
	})
	return out, err
}
