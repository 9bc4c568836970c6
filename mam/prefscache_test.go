package mam

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// TestPrefsChangeAppliesAtOnce: preferences are cached for the archiving
// of every message, and a change through XEP-0441 applies from the next
// message on.
func TestPrefsChangeAppliesAtOnce(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, arec := e.login("alice@example.com/a")
	e.login("bob@example.com/b")
	archived := func(body string) bool {
		before := len(e.items("alice@example.com"))
		e.send(alice, `<message to='bob@example.com' type='chat'><body>`+body+`</body></message>`)
		return len(e.items("alice@example.com")) > before
	}
	setDefault := func(d string) {
		e.send(alice, `<iq type='set' id='p'><prefs xmlns='urn:xmpp:mam:2' default='`+d+`'/></iq>`)
		if got := arec.take(); len(got) != 1 || got[0].Attr("type") != "result" {
			t.Fatalf("prefs set: %v", got)
		}
	}
	steps := []struct {
		set  string
		want bool
	}{{"", true}, {"", true}, {"never", false}, {"", false}, {"always", true}, {"never", false}}
	for i, st := range steps {
		if st.set != "" {
			setDefault(st.set)
		}
		if got := archived("m"); got != st.want {
			t.Errorf("step %d (set %q): archived %v, want %v", i, st.set, got, st.want)
		}
	}
}

// blockingPrefs lets a test hold a preferences read after it has read
// the store and before it returns.
type blockingPrefs struct {
	*memory.Store
	held    atomic.Bool
	read    chan struct{} // closed when the held read has read the store
	release chan struct{}
}

func (s *blockingPrefs) ArchivePrefs(ctx context.Context, owner string) (storage.ArchivePrefs, bool, error) {
	p, ok, err := s.Store.ArchivePrefs(ctx, owner)
	if s.held.CompareAndSwap(false, true) {
		close(s.read)
		<-s.release
	}
	return p, ok, err
}

// TestPrefsStaleReadNotCached: a read that raced with a change returns
// what it read, but does not leave it in the cache for later messages.
func TestPrefsStaleReadNotCached(t *testing.T) {
	mem := memory.New()
	st := &blockingPrefs{Store: mem, read: make(chan struct{}), release: make(chan struct{})}
	e := newEnvStore(t, DefaultConfig(), st, mem)
	alice, arec := e.login("alice@example.com/a")

	done := make(chan storage.ArchivePrefs)
	go func() {
		p, err := e.m.currentPrefs(e.ctx, "alice@example.com")
		if err != nil {
			t.Error(err)
		}
		done <- p
	}()
	<-st.read // the old preferences (none: default always) have been read
	e.send(alice, `<iq type='set' id='p'><prefs xmlns='urn:xmpp:mam:2' default='never'/></iq>`)
	arec.take()
	close(st.release)
	if p := <-done; p.Default != "always" {
		t.Fatalf("the racing read returned %q", p.Default)
	}
	p, err := e.m.currentPrefs(e.ctx, "alice@example.com")
	if err != nil || p.Default != "never" {
		t.Fatalf("after the change: %q, %v", p.Default, err)
	}
}
