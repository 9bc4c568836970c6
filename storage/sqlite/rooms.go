package sqlite

import (
	"context"
	"errors"

	"github.com/skald-xmpp/skald/storage"
)

var _ storage.Rooms = (*Store)(nil)

// PutRoom implements storage.Rooms: one write request replaces the room's
// row and all its affiliations.
func (s *Store) PutRoom(ctx context.Context, r storage.Room) error {
	if r.JID == "" {
		return errors.New("storage/sqlite: empty room JID")
	}
	cfg := r.Config
	if cfg == nil {
		cfg = []byte{} // NOT NULL
	}
	return s.write(ctx, func(w *conn) error {
		if err := w.exec(`INSERT INTO muc_rooms (jid, config) VALUES (?, ?)
			ON CONFLICT (jid) DO UPDATE SET config=excluded.config`, r.JID, cfg); err != nil {
			return err
		}
		if err := w.exec(`DELETE FROM muc_affiliations WHERE room=?`, r.JID); err != nil {
			return err
		}
		for j, a := range r.Affiliations {
			if err := w.exec(`INSERT INTO muc_affiliations (room, jid, affiliation) VALUES (?, ?, ?)`, r.JID, j, a); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteRoom implements storage.Rooms.
func (s *Store) DeleteRoom(ctx context.Context, jid string) error {
	return s.write(ctx, func(w *conn) error {
		if err := w.exec(`DELETE FROM muc_affiliations WHERE room=?`, jid); err != nil {
			return err
		}
		return w.exec(`DELETE FROM muc_rooms WHERE jid=?`, jid)
	})
}

// Rooms implements storage.Rooms.
func (s *Store) Rooms(ctx context.Context) ([]storage.Room, error) {
	var out []storage.Room
	err := s.read(ctx, func(r *conn) error {
		out = nil
		st, err := r.prep(`SELECT jid, config FROM muc_rooms ORDER BY jid`)
		if err != nil {
			return err
		}
		for st.Step() {
			out = append(out, storage.Room{JID: st.ColumnText(0), Config: st.ColumnBlob(1, []byte{}), Affiliations: map[string]string{}})
		}
		err = st.Err()
		st.Reset()
		if err != nil {
			return err
		}
		at, err := r.prep(`SELECT room, jid, affiliation FROM muc_affiliations ORDER BY room`)
		if err != nil {
			return err
		}
		defer at.Reset()
		k := 0
		for at.Step() {
			room := at.ColumnText(0)
			for k < len(out) && out[k].JID < room {
				k++
			}
			if k < len(out) && out[k].JID == room {
				out[k].Affiliations[at.ColumnText(1)] = at.ColumnText(2)
			}
		}
		return at.Err()
	})
	return out, err
}
