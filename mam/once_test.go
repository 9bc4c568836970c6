package mam

import (
	"context"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// onceMemory gives the memory store storage/sqlite's AppendArchiveOnce,
// so that the module's path for stores that check for resends themselves
// is tested; it counts the FindByOriginID calls that path must not make.
type onceMemory struct {
	*memory.Store
	mu      sync.Mutex
	lookups int
}

func (s *onceMemory) FindByOriginID(ctx context.Context, owner, with string, outgoing bool, oid string) (storage.ArchivedMessage, bool, error) {
	s.mu.Lock()
	s.lookups++
	s.mu.Unlock()
	return s.Store.FindByOriginID(ctx, owner, with, outgoing, oid)
}

func (s *onceMemory) AppendArchiveOnce(ctx context.Context, msgs []*storage.ArchivedMessage) ([]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dup := make([]bool, len(msgs))
	for i, m := range msgs {
		if m.OriginID != "" {
			prev, found, err := s.Store.FindByOriginID(ctx, m.Owner, m.With, m.Outgoing, m.OriginID)
			if err != nil {
				return nil, err
			}
			if found && prev.Body == m.Body {
				m.ID, m.Stamp, dup[i] = prev.ID, prev.Stamp, true
				continue
			}
		}
		if err := s.Store.AppendArchive(ctx, []*storage.ArchivedMessage{m}); err != nil {
			return nil, err
		}
	}
	return dup, nil
}

// TestRetryDedupeInAppend is TestRetryDedupe on a store that checks for
// resends in the append: same archives and ids, no look-up before, and a
// resend does not count towards archive_max_items.
func TestRetryDedupeInAppend(t *testing.T) {
	mem := memory.New()
	st := &onceMemory{Store: mem}
	cfg := DefaultConfig()
	cfg.ArchiveMaxItems = 100
	e := newEnvStore(t, cfg, st, mem)
	if e.m.once == nil {
		t.Fatal("the module does not use AppendArchiveOnce")
	}
	alice, _ := e.login("alice@example.com/a")
	_, brec := e.login("bob@example.com/b")
	msg := func(body string) string {
		return `<message to='bob@example.com' type='chat'><body>` + body + `</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>`
	}
	e.send(alice, msg("hello"))
	e.send(alice, msg("hello")) // resent after a reconnect
	e.send(alice, msg("other")) // a client reusing origin-ids: a new message
	if a, b := len(e.items("alice@example.com")), len(e.items("bob@example.com")); a != 2 || b != 2 {
		t.Fatalf("alice has %d items, bob %d; want 2 each", a, b)
	}
	got := brec.take()
	if len(got) != 3 {
		t.Fatalf("bob got %d messages", len(got))
	}
	var ids []string
	for _, g := range got {
		ids = append(ids, g.Child(NSSID, "stanza-id").Attr("id"))
	}
	if ids[0] != ids[1] || ids[0] == ids[2] || ids[0] != e.id(2) {
		t.Errorf("stanza-ids %v", ids)
	}
	if e.probe.senderID[0] != e.probe.senderID[1] || e.probe.senderID[0] != e.id(1) {
		t.Errorf("sender ids %v", e.probe.senderID)
	}
	if st.lookups != 0 {
		t.Errorf("%d FindByOriginID calls", st.lookups)
	}
	e.m.cmu.Lock()
	na, nb := e.m.counts["alice@example.com"], e.m.counts["bob@example.com"]
	e.m.cmu.Unlock()
	if na != 2 || nb != 2 {
		t.Errorf("tracked counts %d, %d; want 2, 2", na, nb)
	}
}
