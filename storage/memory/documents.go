package memory

import (
	"context"
	"slices"

	"github.com/skald-xmpp/skald/storage"
)

// Document implements storage.Documents.
func (s *Store) Document(ctx context.Context, owner, kind, key string) ([]byte, error) {
	if err := s.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	b, ok := s.docs[owner][docKey{kind, key}]
	if !ok {
		return nil, storage.ErrNotFound
	}
	return slices.Clone(b), nil
}

// PutDocuments implements storage.Documents: the quota is checked against
// the documents as they would be after the put, before anything changes.
func (s *Store) PutDocuments(ctx context.Context, owner, kind string, docs []storage.Document, limit int) error {
	if owner == "" {
		return errEmptyOwner
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	have := s.docs[owner]
	if limit > 0 {
		total := 0
		for k, b := range have {
			if k.kind == kind && !slices.ContainsFunc(docs, func(d storage.Document) bool { return d.Key == k.key }) {
				total += len(b)
			}
		}
		for _, d := range docs {
			total += len(d.XML)
		}
		if total > limit {
			return storage.ErrQuotaExceeded
		}
	}
	if have == nil {
		have = make(map[docKey][]byte)
		s.docs[owner] = have
	}
	for _, d := range docs {
		have[docKey{kind, d.Key}] = slices.Clone(d.XML)
	}
	return nil
}
