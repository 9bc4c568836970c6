package memory

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

// fastSlots are one client's XEP-0484 token slots; nil is empty.
type fastSlots struct {
	current, next *storage.FastToken
}

func cloneFast(t storage.FastToken, isNew bool) *storage.FastToken {
	t.Hash = slices.Clone(t.Hash)
	t.New = isNew
	return &t
}

// FastTokens implements storage.FastTokens.
func (s *Store) FastTokens(ctx context.Context, owner, client string) ([]storage.FastToken, error) {
	if err := s.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	sl := s.fast[owner][client]
	if sl == nil {
		return nil, nil
	}
	var out []storage.FastToken
	for _, t := range []*storage.FastToken{sl.next, sl.current} {
		if t != nil {
			out = append(out, *cloneFast(*t, t.New))
		}
	}
	return out, nil
}

// PutFastToken implements storage.FastTokens.
func (s *Store) PutFastToken(ctx context.Context, owner, client string, t storage.FastToken) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.users[owner]; !ok {
		return storage.ErrNotFound
	}
	now := time.Now()
	for c, sl := range s.fast[owner] {
		if sl.current != nil && !now.Before(sl.current.Expiry) {
			sl.current = nil
		}
		if sl.next != nil && !now.Before(sl.next.Expiry) {
			sl.next = nil
		}
		if sl.current == nil && sl.next == nil {
			delete(s.fast[owner], c)
		}
	}
	if s.fast[owner] == nil {
		s.fast[owner] = make(map[string]*fastSlots)
	}
	sl := s.fast[owner][client]
	if sl == nil {
		sl = &fastSlots{}
		s.fast[owner][client] = sl
	}
	sl.next = cloneFast(t, true)
	for len(s.fast[owner]) > storage.MaxFastTokenClients {
		delete(s.fast[owner], oldestFastClient(s.fast[owner], client))
	}
	return nil
}

// oldestFastClient is the client, other than keep, issued to least
// recently: whose latest token expires first.
func oldestFastClient(clients map[string]*fastSlots, keep string) string {
	var oldest string
	var at time.Time
	for c, sl := range clients {
		if c == keep {
			continue
		}
		latest := time.Time{}
		for _, t := range []*storage.FastToken{sl.current, sl.next} {
			if t != nil && t.Expiry.After(latest) {
				latest = t.Expiry
			}
		}
		if oldest == "" || latest.Before(at) || (latest.Equal(at) && c < oldest) {
			oldest, at = c, latest
		}
	}
	return oldest
}

// PromoteFastToken implements storage.FastTokens.
func (s *Store) PromoteFastToken(ctx context.Context, owner, client string, hash []byte) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	sl := s.fast[owner][client]
	if sl == nil || sl.next == nil || !bytes.Equal(sl.next.Hash, hash) {
		return nil
	}
	sl.current, sl.next = sl.next, nil
	sl.current.New = false
	return nil
}

// DeleteFastTokens implements storage.FastTokens.
func (s *Store) DeleteFastTokens(ctx context.Context, owner, client string) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if client == "" {
		delete(s.fast, owner)
	} else {
		delete(s.fast[owner], client)
	}
	return nil
}
