package memory

import (
	"context"
	"slices"
	"strings"

	"github.com/skald-xmpp/skald/storage"
)

var _ storage.PEP = (*Store)(nil)

// pepNode is one node: its config and items, oldest first.
type pepNode struct {
	config storage.PEPNodeConfig
	items  []storage.PEPItem
}

// trim drops the oldest items beyond the node's MaxItems.
func (n *pepNode) trim() {
	if over := len(n.items) - n.config.MaxItems; over > 0 && n.config.MaxItems > 0 {
		n.items = slices.Delete(n.items, 0, over)
	}
}

func (s *Store) pepNodeLocked(owner, node string) (*pepNode, error) {
	n := s.pep[owner][node]
	if n == nil {
		return nil, storage.ErrNotFound
	}
	return n, nil
}

// PEPNodes implements storage.PEP.
func (s *Store) PEPNodes(ctx context.Context, owner string) ([]storage.PEPNode, error) {
	if err := s.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	out := make([]storage.PEPNode, 0, len(s.pep[owner]))
	for name, n := range s.pep[owner] {
		out = append(out, storage.PEPNode{Name: name, Config: n.config})
	}
	slices.SortFunc(out, func(a, b storage.PEPNode) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// PEPNode implements storage.PEP.
func (s *Store) PEPNode(ctx context.Context, owner, node string) (storage.PEPNode, error) {
	if err := s.rlock(ctx); err != nil {
		return storage.PEPNode{}, err
	}
	defer s.mu.RUnlock()
	n, err := s.pepNodeLocked(owner, node)
	if err != nil {
		return storage.PEPNode{}, err
	}
	return storage.PEPNode{Name: node, Config: n.config}, nil
}

// CreatePEPNode implements storage.PEP.
func (s *Store) CreatePEPNode(ctx context.Context, owner string, n storage.PEPNode, maxNodes int) error {
	if owner == "" {
		return errEmptyOwner
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	nodes := s.pep[owner]
	if nodes[n.Name] != nil {
		return storage.ErrExists
	}
	if maxNodes > 0 && len(nodes) >= maxNodes {
		return storage.ErrQuotaExceeded
	}
	if nodes == nil {
		nodes = make(map[string]*pepNode)
		s.pep[owner] = nodes
	}
	nodes[n.Name] = &pepNode{config: n.Config}
	return nil
}

// ConfigurePEPNode implements storage.PEP.
func (s *Store) ConfigurePEPNode(ctx context.Context, owner, node string, c storage.PEPNodeConfig) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	n, err := s.pepNodeLocked(owner, node)
	if err != nil {
		return err
	}
	n.config = c
	n.trim()
	return nil
}

// DeletePEPNode implements storage.PEP.
func (s *Store) DeletePEPNode(ctx context.Context, owner, node string) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, err := s.pepNodeLocked(owner, node); err != nil {
		return err
	}
	delete(s.pep[owner], node)
	if len(s.pep[owner]) == 0 {
		delete(s.pep, owner)
	}
	return nil
}

// PublishPEPItem implements storage.PEP: the node's items as they would
// be after the publish are built aside and the quota checked on them
// before anything changes, all under the store's write lock.
func (s *Store) PublishPEPItem(ctx context.Context, owner, node string, it storage.PEPItem, maxBytes int) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	n, err := s.pepNodeLocked(owner, node)
	if err != nil {
		return err
	}
	after := pepNode{config: n.config, items: slices.DeleteFunc(slices.Clone(n.items), func(old storage.PEPItem) bool { return old.ID == it.ID })}
	after.items = append(after.items, storage.PEPItem{ID: it.ID, Payload: cloneBytes(it.Payload)})
	after.trim()
	if maxBytes > 0 {
		total := 0
		for name, other := range s.pep[owner] {
			if name != node {
				total += other.bytes()
			}
		}
		if total+after.bytes() > maxBytes {
			return storage.ErrQuotaExceeded
		}
	}
	n.items = after.items
	return nil
}

// bytes is what the node's items count against the owner's quota.
func (n *pepNode) bytes() int {
	total := 0
	for _, it := range n.items {
		total += storage.PEPItemBytes(it)
	}
	return total
}

// RetractPEPItem implements storage.PEP.
func (s *Store) RetractPEPItem(ctx context.Context, owner, node, id string) (bool, error) {
	if err := s.lock(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	n, err := s.pepNodeLocked(owner, node)
	if err != nil {
		return false, err
	}
	before := len(n.items)
	n.items = slices.DeleteFunc(n.items, func(old storage.PEPItem) bool { return old.ID == id })
	return len(n.items) < before, nil
}

// PEPItems implements storage.PEP.
func (s *Store) PEPItems(ctx context.Context, owner, node string, ids []string, max int) ([]storage.PEPItem, error) {
	if err := s.rlock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	n, err := s.pepNodeLocked(owner, node)
	if err != nil {
		return nil, err
	}
	var out []storage.PEPItem
	for i := len(n.items) - 1; i >= 0; i-- {
		it := n.items[i]
		if len(ids) > 0 && !slices.Contains(ids, it.ID) {
			continue
		}
		out = append(out, storage.PEPItem{ID: it.ID, Payload: cloneBytes(it.Payload)})
		if len(ids) == 0 && max > 0 && len(out) == max {
			break
		}
	}
	return out, nil
}
