package push

import (
	"context"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/storage"
)

// slowDocuments is a store whose reads return what the document was when
// the read began, once release is closed: a read racing an account's
// deletion.
type slowDocuments struct {
	storage.Documents
	reading chan struct{} // closed when a read has begun
	release chan struct{}
}

func (s *slowDocuments) Document(ctx context.Context, owner, kind, key string) ([]byte, error) {
	b, err := s.Documents.Document(ctx, owner, kind, key)
	close(s.reading)
	<-s.release
	return b, err
}

// TestForgetAccountDuringLoad: an account deleted while its registrations
// are being read (a message to it was being delivered) leaves nothing in
// the cache: an account created again under the same name must not push
// to the old owner's devices.
func TestForgetAccountDuringLoad(t *testing.T) {
	e := newEnv(t, testConfig())
	phone, rec := e.Bind(juliet+"/phone", true, 0)
	e.enable(phone, rec, "n", "")

	slow := &slowDocuments{Documents: e.Store, reading: make(chan struct{}), release: make(chan struct{})}
	m := New(testConfig(), slow, e.Router, quiet)
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		_, _ = m.registrations(context.Background(), juliet)
	}()
	<-slow.reading
	// The account goes (the store deletes its documents), then the module
	// forgets it, while the read above still holds the old document.
	if err := e.Store.DeleteUser(context.Background(), juliet); err != nil {
		t.Fatal(err)
	}
	forgot := make(chan struct{})
	go func() {
		defer close(forgot)
		_ = m.ForgetAccount(context.Background(), jid.MustParse(juliet))
	}()
	select {
	case <-forgot:
	case <-time.After(50 * time.Millisecond):
	}
	close(slow.release)
	<-loaded
	<-forgot
	m.mu.Lock()
	regs, cached := m.cache[juliet]
	m.mu.Unlock()
	if cached && len(regs) != 0 {
		t.Fatalf("deleted account's registrations still cached: %v", regs)
	}
}

// TestAccountRecreated: an account deleted (the store drops its
// documents, then ForgetAccount) and created again under the same name
// has no registrations: a message to the new owner pushes nowhere.
func TestAccountRecreated(t *testing.T) {
	e := newEnv(t, testConfig())
	phone, rec := e.Bind(juliet+"/phone", true, 0)
	e.enable(phone, rec, "n", "")
	e.Router.Unbind(context.Background(), phone)
	r, _ := e.Bind(romeo+"/desk", true, 0)
	e.message(r, `<body>before</body>`)
	e.answer(e.remote.wait(t, 1, time.Second)[0], "result", "")

	ctx := context.Background()
	if err := e.Store.DeleteUser(ctx, juliet); err != nil {
		t.Fatal(err)
	}
	if err := e.m.ForgetAccount(ctx, jid.MustParse(juliet)); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.CreateUser(ctx, juliet, storage.Credentials{}); err != nil {
		t.Fatal(err)
	}
	e.message(r, `<body>after</body>`)
	time.Sleep(50 * time.Millisecond)
	if got := e.remote.take(); len(got) != 0 {
		t.Fatalf("the new account pushed to the old one's app server: %v", got)
	}
}
