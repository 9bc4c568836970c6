package push

import (
	"context"
	"errors"
	"fmt"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/storage"
)

// Kind is the storage.Documents kind of an account's push registrations:
// one document per account, under the empty key.
const Kind = "push"

// registration is one enabled (app server JID, node) pair of an account.
// Registrations are never changed once made: enabling again replaces one.
type registration struct {
	JID  jid.JID
	Node string
	// Resource is the resource of the session that enabled it: pushes
	// for messages queued to that session while it is dormant go to this
	// registration only (Prosody's mod_cloud_notify ties them the same
	// way), and a session of it that is live and gets the message makes
	// the push unnecessary.
	Resource string
	// Options is the publish-options form the client gave, sent with
	// every publish (XEP-0357 §5); nil if none.
	Options *xml.Element
}

// key identifies a registration of an account (XEP-0357 §5: a JID may be
// enabled several times with different nodes).
type key struct{ account, jid, node string }

func (r *registration) key(account string) key { return key{account, r.JID.String(), r.Node} }

// encode serialises an account's registrations, oldest first.
func encode(regs []*registration) []byte {
	root := xml.New(NS, "registrations")
	for _, r := range regs {
		el := xml.New(NS, "registration", "jid", r.JID.String(), "node", r.Node, "resource", r.Resource)
		if r.Options != nil {
			el.Append(r.Options)
		}
		root.Append(el)
	}
	return root.Bytes("")
}

// decode reads what encode wrote.
func decode(b []byte) ([]*registration, error) {
	// It met the stream's limits when it was enabled: none to apply again.
	els, err := xml.ParseElements(b, xml.Limits{})
	if err != nil {
		return nil, err
	}
	if len(els) != 1 || !els[0].Is(NS, "registrations") {
		return nil, errors.New("not a registrations document")
	}
	var regs []*registration
	for _, el := range els[0].ChildrenNamed(NS, "registration") {
		j, err := jid.Parse(el.Attr("jid"))
		if err != nil {
			return nil, fmt.Errorf("registration jid: %w", err)
		}
		regs = append(regs, &registration{JID: j, Node: el.Attr("node"), Resource: el.Attr("resource"), Options: el.Child(nsData, "x")})
	}
	return regs, nil
}

// registrations returns account's registrations, from the cache or the
// store. The slice is never modified: changes replace it.
func (m *Module) registrations(ctx context.Context, account string) ([]*registration, error) {
	m.mu.Lock()
	regs, ok := m.cache[account]
	m.mu.Unlock()
	if ok {
		return regs, nil
	}
	defer m.locks.Lock(account)()
	return m.loadLocked(ctx, account)
}

// loadLocked is registrations with the account's lock held.
func (m *Module) loadLocked(ctx context.Context, account string) ([]*registration, error) {
	m.mu.Lock()
	regs, ok := m.cache[account]
	m.mu.Unlock()
	if ok {
		return regs, nil
	}
	b, err := m.store.Document(ctx, account, Kind, "")
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		if regs, err = decode(b); err != nil {
			return nil, fmt.Errorf("push: stored registrations of %s: %w", account, err)
		}
	}
	m.mu.Lock()
	m.cache[account] = regs
	m.mu.Unlock()
	return regs, nil
}

// saveLocked stores account's registrations and caches them; the
// account's lock is held.
func (m *Module) saveLocked(ctx context.Context, account string, regs []*registration) error {
	if err := m.store.PutDocuments(ctx, account, Kind, []storage.Document{{XML: encode(regs)}}, 0); err != nil {
		return err
	}
	m.mu.Lock()
	m.cache[account] = regs
	m.mu.Unlock()
	return nil
}

// remove disables the registrations of account that match (an empty node
// matches every node of the JID) and reports how many it removed.
func (m *Module) remove(ctx context.Context, account string, service jid.JID, node string) (int, error) {
	defer m.locks.Lock(account)()
	regs, err := m.loadLocked(ctx, account)
	if err != nil {
		return 0, err
	}
	var kept []*registration
	for _, r := range regs {
		if r.JID == service && (node == "" || r.Node == node) {
			m.forgetErrors(r.key(account))
			continue
		}
		kept = append(kept, r)
	}
	n := len(regs) - len(kept)
	if n == 0 {
		return 0, nil
	}
	return n, m.saveLocked(ctx, account, kept)
}

// removeRegistration disables reg, if it is still enabled (not replaced
// by enabling it again), and reports how many it removed.
func (m *Module) removeRegistration(ctx context.Context, account string, reg *registration) (int, error) {
	defer m.locks.Lock(account)()
	regs, err := m.loadLocked(ctx, account)
	if err != nil {
		return 0, err
	}
	var kept []*registration
	for _, r := range regs {
		if r != reg {
			kept = append(kept, r)
		}
	}
	if len(kept) == len(regs) {
		return 0, nil
	}
	m.forgetErrors(reg.key(account))
	return 1, m.saveLocked(ctx, account, kept)
}

// isCurrent reports whether reg is one of account's registrations as
// cached: not disabled, nor replaced by enabling it again.
func (m *Module) isCurrent(account string, reg *registration) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.cache[account] {
		if r == reg {
			return true
		}
	}
	return false
}

// ForgetAccount drops what the module caches of a deleted account (the
// store deletes its documents): an account created again under the same
// name must not inherit its registrations. It takes the account's lock:
// a load that read the document before the store deleted it finishes
// first, and cannot cache it again afterwards.
func (m *Module) ForgetAccount(_ context.Context, account jid.JID) error {
	bare := account.Bare().String()
	defer m.locks.Lock(bare)()
	m.mu.Lock()
	delete(m.cache, bare)
	delete(m.groupchatModes, bare)
	for k := range m.errs {
		if k.account == bare {
			delete(m.errs, k)
		}
	}
	m.mu.Unlock()
	return nil
}
