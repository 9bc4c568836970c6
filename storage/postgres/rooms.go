package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/skald-xmpp/skald/storage"
)

var _ storage.Rooms = (*Store)(nil)

// Locking (see also doc.go): a transaction that writes a room locks its
// muc_rooms row first (PutRoom: the upsert; DeleteRoom: the DELETE), then
// the room's affiliation rows, and touches no other room and no advisory
// lock. So writers of one room are serialised, and a PutRoom replaces
// whatever the previous writer committed: under READ COMMITTED its
// statements after the row lock see that writer's rows. Inserting an
// affiliation takes FOR KEY SHARE on the room row, which the transaction
// holds already (PutRoom) or which waits for a DeleteRoom to end.

// PutRoom implements storage.Rooms: one transaction, one round trip of
// statements between BEGIN and COMMIT. It upserts the room row, then
// deletes the affiliations the room no longer has and upserts the others,
// so rows of unchanged affiliations are not rewritten.
func (s *Store) PutRoom(ctx context.Context, r storage.Room) error {
	if r.JID == "" {
		return errors.New("storage/postgres: empty room JID")
	}
	cfg := r.Config
	if cfg == nil {
		cfg = []byte{} // NOT NULL
	}
	jids := make([]string, 0, len(r.Affiliations))
	affs := make([]string, 0, len(r.Affiliations))
	for j, a := range r.Affiliations {
		jids, affs = append(jids, j), append(affs, a)
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		// The room row lock comes first: see the locking note above.
		b.Queue(`INSERT INTO muc_rooms (jid, config) VALUES ($1, $2)
			ON CONFLICT (jid) DO UPDATE SET config = excluded.config`, r.JID, cfg)
		b.Queue(`DELETE FROM muc_affiliations WHERE room = $1 AND jid <> ALL ($2::text[])`, r.JID, jids)
		b.Queue(`INSERT INTO muc_affiliations (room, jid, affiliation)
			SELECT $1, j, a FROM unnest($2::text[], $3::text[]) AS n(j, a)
			ON CONFLICT (room, jid) DO UPDATE SET affiliation = excluded.affiliation
			WHERE muc_affiliations.affiliation <> excluded.affiliation`, r.JID, jids, affs)
		return tx.SendBatch(ctx, b).Close()
	})
}

// DeleteRoom implements storage.Rooms: one statement; the affiliations
// cascade.
func (s *Store) DeleteRoom(ctx context.Context, jid string) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM muc_rooms WHERE jid = $1`, jid)
	return s.fail(err)
}

// Rooms implements storage.Rooms: one statement, so one snapshot (no room
// is seen with another write's affiliations). Each room's affiliations
// come aggregated into two arrays of one order, so a room's
// configuration crosses the wire once however many members it has.
func (s *Store) Rooms(ctx context.Context) ([]storage.Room, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT r.jid, r.config, a.jids, a.affs FROM muc_rooms r
		CROSS JOIN LATERAL (SELECT array_agg(jid ORDER BY jid) AS jids, array_agg(affiliation ORDER BY jid) AS affs
			FROM muc_affiliations WHERE room = r.jid) a
		ORDER BY r.jid`)
	if err != nil {
		return nil, s.fail(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.Room, error) {
		var r storage.Room
		var jids, affs []string // nil for a room without affiliations
		if err := row.Scan(&r.JID, &r.Config, &jids, &affs); err != nil {
			return r, err
		}
		if r.Config == nil {
			r.Config = []byte{}
		}
		r.Affiliations = make(map[string]string, len(jids))
		for i, j := range jids {
			r.Affiliations[j] = affs[i]
		}
		return r, nil
	})
	if err != nil {
		return nil, s.fail(err)
	}
	return out, nil
}
