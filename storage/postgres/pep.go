package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/skald-xmpp/skald/storage"
)

var _ storage.PEP = (*Store)(nil)

// Locking (see also doc.go): CreatePEPNode takes the owner's PEP advisory
// lock (lockPEP) and nothing else before inserting, so the node quota
// check and the insert are atomic. PublishPEPItem with a byte quota takes
// the same lock before the node row lock (never the reverse: nothing
// that holds a node row lock waits for lockPEP), so the owner's byte
// total it checks is not changed by another publish before it commits;
// retractions, trims and deletions only lower that total. Every transaction that changes a
// node's items locks the node's pep_node row first (PublishPEPItem:
// SELECT ... FOR NO KEY UPDATE; ConfigurePEPNode: its UPDATE;
// DeletePEPNode: its DELETE), then items: publishes, trims and
// reconfigurations of one node are serialised, so a node never holds more
// than its MaxItems items after a commit and seq order is commit order.
// RetractPEPItem deletes one item row without the node lock; a trim that
// wants the same row waits for it, or finds it gone.

const pepNodeColumns = `node, access_model, persist_items, max_items, send_last, notify_retract, deliver_payloads`

func scanPEPNode(row pgx.Row) (storage.PEPNode, error) {
	var n storage.PEPNode
	c := &n.Config
	err := row.Scan(&n.Name, &c.AccessModel, &c.PersistItems, &c.MaxItems, &c.SendLastPublishedItem, &c.NotifyRetract, &c.DeliverPayloads)
	return n, err
}

// PEPNodes implements storage.PEP.
func (s *Store) PEPNodes(ctx context.Context, owner string) ([]storage.PEPNode, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+pepNodeColumns+` FROM pep_node WHERE owner = $1 ORDER BY node`, owner)
	if err != nil {
		return nil, s.fail(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.PEPNode, error) { return scanPEPNode(r) })
	if len(out) == 0 {
		out = nil
	}
	return out, s.fail(err)
}

// PEPNode implements storage.PEP.
func (s *Store) PEPNode(ctx context.Context, owner, node string) (storage.PEPNode, error) {
	if err := s.enter(ctx); err != nil {
		return storage.PEPNode{}, err
	}
	n, err := scanPEPNode(s.pool.QueryRow(ctx, `SELECT `+pepNodeColumns+` FROM pep_node WHERE owner = $1 AND node = $2`, owner, node))
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.PEPNode{}, storage.ErrNotFound
	}
	if err != nil {
		return storage.PEPNode{}, s.fail(err)
	}
	return n, nil
}

// CreatePEPNode implements storage.PEP: one transaction under the owner's
// PEP lock, which makes the quota check and the insert atomic (two
// concurrent creates cannot both take an owner's last free node).
func (s *Store) CreatePEPNode(ctx context.Context, owner string, n storage.PEPNode, maxNodes int) error {
	if owner == "" {
		return errEmptyOwner
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema() || '/' || $2))`, lockPEP, owner); err != nil {
			return err
		}
		var count int
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT count(*), coalesce(bool_or(node = $2), false) FROM pep_node WHERE owner = $1`,
			owner, n.Name).Scan(&count, &exists); err != nil {
			return err
		}
		if exists {
			return storage.ErrExists
		}
		if maxNodes > 0 && count >= maxNodes {
			return storage.ErrQuotaExceeded
		}
		c := n.Config
		_, err := tx.Exec(ctx, `INSERT INTO pep_node (owner, `+pepNodeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			owner, n.Name, c.AccessModel, c.PersistItems, c.MaxItems, c.SendLastPublishedItem, c.NotifyRetract, c.DeliverPayloads)
		return err
	})
}

// ConfigurePEPNode implements storage.PEP: the UPDATE locks the node row,
// and the trim to the new MaxItems runs in the same transaction.
func (s *Store) ConfigurePEPNode(ctx context.Context, owner, node string, c storage.PEPNodeConfig) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE pep_node SET access_model = $3, persist_items = $4, max_items = $5,
			send_last = $6, notify_retract = $7, deliver_payloads = $8 WHERE owner = $1 AND node = $2`,
			owner, node, c.AccessModel, c.PersistItems, c.MaxItems, c.SendLastPublishedItem, c.NotifyRetract, c.DeliverPayloads)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return storage.ErrNotFound
		}
		return trimPEPItems(ctx, tx, owner, node, c.MaxItems)
	})
}

// trimPEPItems drops a node's items older than its newest maxItems: the
// seq of the first item to drop is one step down pep_item_order from the
// newest end. The caller holds the node row lock.
func trimPEPItems(ctx context.Context, tx pgx.Tx, owner, node string, maxItems int) error {
	_, err := tx.Exec(ctx, `DELETE FROM pep_item WHERE owner = $1 AND node = $2 AND seq <= (
		SELECT seq FROM pep_item WHERE owner = $1 AND node = $2 ORDER BY seq DESC OFFSET $3 LIMIT 1)`,
		owner, node, max(maxItems, 0))
	return err
}

// DeletePEPNode implements storage.PEP: one statement; the items cascade.
func (s *Store) DeletePEPNode(ctx context.Context, owner, node string) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM pep_node WHERE owner = $1 AND node = $2`, owner, node)
	if err != nil {
		return s.fail(err)
	}
	if tag.RowsAffected() == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// PublishPEPItem implements storage.PEP: one transaction that, with a
// quota, takes the owner's PEP lock (publishes to different nodes of one
// owner would otherwise both pass a quota only one of them fits), then
// locks the node row (reading its MaxItems), upserts the item with a
// fresh seq, trims, and sums the owner's items; a sum over the quota
// rolls it all back.
func (s *Store) PublishPEPItem(ctx context.Context, owner, node string, it storage.PEPItem, maxBytes int) error {
	payload := it.Payload
	if payload == nil {
		payload = []byte{} // NOT NULL
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if maxBytes > 0 {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema() || '/' || $2))`, lockPEP, owner); err != nil {
				return err
			}
		}
		var maxItems int
		err := tx.QueryRow(ctx, `SELECT max_items FROM pep_node WHERE owner = $1 AND node = $2 FOR NO KEY UPDATE`,
			owner, node).Scan(&maxItems)
		if errors.Is(err, pgx.ErrNoRows) {
			return storage.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pep_item (owner, node, id, payload) VALUES ($1, $2, $3, $4)
			ON CONFLICT (owner, node, id) DO UPDATE SET seq = nextval('pep_item_seq_gen'), payload = excluded.payload`,
			owner, node, it.ID, payload); err != nil {
			return err
		}
		if err := trimPEPItems(ctx, tx, owner, node, maxItems); err != nil {
			return err
		}
		if maxBytes <= 0 {
			return nil
		}
		var total int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(sum(octet_length(id) + octet_length(payload)), 0) FROM pep_item WHERE owner = $1`,
			owner).Scan(&total); err != nil {
			return err
		}
		if total > int64(maxBytes) {
			return storage.ErrQuotaExceeded
		}
		return nil
	})
}

// RetractPEPItem implements storage.PEP: one statement, which tells
// whether the node exists and whether it held the item.
func (s *Store) RetractPEPItem(ctx context.Context, owner, node, id string) (bool, error) {
	if err := s.enter(ctx); err != nil {
		return false, err
	}
	var found, removed bool
	err := s.pool.QueryRow(ctx, `WITH gone AS (DELETE FROM pep_item WHERE owner = $1 AND node = $2 AND id = $3 RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM pep_node WHERE owner = $1 AND node = $2), EXISTS (SELECT 1 FROM gone)`,
		owner, node, id).Scan(&found, &removed)
	if err != nil {
		return false, s.fail(err)
	}
	if !found {
		return false, storage.ErrNotFound
	}
	return removed, nil
}

// PEPItems implements storage.PEP: one statement, so one snapshot. The
// node row comes first: no row means no node; a row with a NULL id, an
// empty one. The items are a backward scan of pep_item_order, stopped
// after max rows (LIMIT NULL: all).
func (s *Store) PEPItems(ctx context.Context, owner, node string, ids []string, max int) ([]storage.PEPItem, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	var want []string // NULL: every id
	var limit *int    // NULL: no limit
	if len(ids) > 0 {
		want = ids
	} else if max > 0 {
		limit = &max
	}
	rows, err := s.pool.Query(ctx, `SELECT i.id, i.payload FROM pep_node n
		LEFT JOIN LATERAL (SELECT id, payload, seq FROM pep_item
			WHERE owner = n.owner AND node = n.node AND ($3::text[] IS NULL OR id = ANY ($3::text[]))
			ORDER BY seq DESC LIMIT $4) i ON true
		WHERE n.owner = $1 AND n.node = $2 ORDER BY i.seq DESC`, owner, node, want, limit)
	if err != nil {
		return nil, s.fail(err)
	}
	defer rows.Close()
	var out []storage.PEPItem
	nodeFound := false
	for rows.Next() {
		nodeFound = true
		var id *string
		var payload []byte
		if err := rows.Scan(&id, &payload); err != nil {
			return nil, s.fail(err)
		}
		if id != nil {
			out = append(out, storage.PEPItem{ID: *id, Payload: payload})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(err)
	}
	if !nodeFound {
		return nil, storage.ErrNotFound
	}
	return out, nil
}
