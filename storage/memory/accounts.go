package memory

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

// CountUsers implements storage.Users.
func (s *Store) CountUsers(ctx context.Context, domain string) (int, error) {
	if err := s.rlock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.RUnlock()
	if domain == "" {
		return len(s.users), nil
	}
	n := 0
	for bare := range s.users {
		if domainOf(bare) == domain {
			n++
		}
	}
	return n, nil
}

// SetUserDisabled implements storage.Users.
func (s *Store) SetUserDisabled(ctx context.Context, bare string, disabled bool, reason string) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.users[bare]; !ok {
		return storage.ErrNotFound
	}
	if !disabled {
		delete(s.disabled, bare)
		return nil
	}
	delete(s.fast, bare) // its XEP-0484 tokens go, as with a new password
	// Microseconds, as the SQL backends keep it.
	s.disabled[bare] = storage.AccountStatus{Disabled: true, Reason: reason, Since: time.Now().UTC().Truncate(time.Microsecond)}
	return nil
}

// UserStatus implements storage.Users.
func (s *Store) UserStatus(ctx context.Context, bare string) (storage.AccountStatus, error) {
	if err := s.rlock(ctx); err != nil {
		return storage.AccountStatus{}, err
	}
	defer s.mu.RUnlock()
	if _, ok := s.users[bare]; !ok {
		return storage.AccountStatus{}, storage.ErrNotFound
	}
	return s.disabled[bare], nil
}

// DisabledUsers implements storage.Users.
func (s *Store) DisabledUsers(ctx context.Context, domain string) ([]storage.DisabledUser, error) {
	if err := s.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var out []storage.DisabledUser
	for bare, st := range s.disabled {
		if domain == "" || domainOf(bare) == domain {
			out = append(out, storage.DisabledUser{Bare: bare, AccountStatus: st})
		}
	}
	slices.SortFunc(out, func(a, b storage.DisabledUser) int { return strings.Compare(a.Bare, b.Bare) })
	return out, nil
}
