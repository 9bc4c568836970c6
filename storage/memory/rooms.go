package memory

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/skald-xmpp/skald/storage"
)

var _ storage.Rooms = (*Store)(nil)

// PutRoom implements storage.Rooms.
func (s *Store) PutRoom(ctx context.Context, r storage.Room) error {
	if r.JID == "" {
		return errEmptyOwner
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if s.rooms == nil {
		s.rooms = make(map[string]storage.Room)
	}
	s.rooms[r.JID] = storage.Room{JID: r.JID, Config: slices.Clone(r.Config), Affiliations: maps.Clone(r.Affiliations)}
	return nil
}

// DeleteRoom implements storage.Rooms.
func (s *Store) DeleteRoom(ctx context.Context, jid string) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	delete(s.rooms, jid)
	return nil
}

// Rooms implements storage.Rooms.
func (s *Store) Rooms(ctx context.Context) ([]storage.Room, error) {
	if err := s.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	out := make([]storage.Room, 0, len(s.rooms))
	for _, r := range s.rooms {
		aff := maps.Clone(r.Affiliations)
		if aff == nil {
			aff = map[string]string{}
		}
		out = append(out, storage.Room{JID: r.JID, Config: slices.Clone(r.Config), Affiliations: aff})
	}
	slices.SortFunc(out, func(a, b storage.Room) int { return strings.Compare(a.JID, b.JID) })
	return out, nil
}
