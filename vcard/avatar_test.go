package vcard

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// noPEP is a PEP service without nodes that takes every publish.
type noPEP struct{}

func (noPEP) Items(context.Context, jid.JID, string, ...string) ([]*xml.Element, bool, error) {
	return nil, false, nil
}

func (noPEP) Publish(context.Context, jid.JID, string, *xml.Element, map[string]string) (string, error) {
	return "", nil
}

// heldReads is a Documents store whose next read, once armed, returns
// what the store held when it was made, but only after release is closed:
// a presence that read the vCard just before a set stored another.
type heldReads struct {
	storage.Documents
	mu      sync.Mutex
	armed   bool
	entered chan struct{}
	release chan struct{}
}

func (h *heldReads) Document(ctx context.Context, owner, kind, key string) ([]byte, error) {
	b, err := h.Documents.Document(ctx, owner, kind, key)
	h.mu.Lock()
	armed := h.armed
	h.armed = false
	h.mu.Unlock()
	if armed {
		close(h.entered)
		<-h.release
	}
	return b, err
}

// photoHashIn returns the hash RewritePresence puts into a bare presence.
func photoHashIn(rewrite func(*xml.Element)) string {
	p := xml.New("jabber:client", "presence")
	rewrite(p)
	return p.Child(NSUpdate, "x").ChildText(NSUpdate, "photo")
}

// TestPhotoHashNotStale: a presence whose cache miss read the vCard just
// before a set stored a new one must not put the old photo's hash back
// into the cache after the set put the new one there: every later
// presence would carry a photo the vCard no longer has.
func TestPhotoHashNotStale(t *testing.T) {
	e := routertest.New(t, romeo)
	hold := &heldReads{Documents: e.Store, entered: make(chan struct{}), release: make(chan struct{})}
	m := New(Config{MaxBytes: 1 << 16, AvatarConversion: true}, hold)
	m.SetPEP(noPEP{}, nil)
	e.Router.Register(m)
	s, _ := e.Bind(romeo+"/home", true, 0)
	rewrite := func(p *xml.Element) { m.RewritePresence(context.Background(), s, p) }

	// The first photo, stored and its hash forgotten (as after a restart).
	e.Send(s, `<iq type="set" id="1">`+photo+`</iq>`)
	oldHash := photoHashIn(rewrite)
	m.hashes.forget(romeo)

	hold.armed = true
	presenceDone := make(chan string)
	go func() { presenceDone <- photoHashIn(rewrite) }()
	<-hold.entered
	setDone := make(chan error)
	go func() {
		setDone <- e.Router.HandleFromClient(context.Background(), s,
			routertest.Parse(t, `<iq type="set" id="2"><vCard xmlns="vcard-temp"><PHOTO><TYPE>image/gif</TYPE><BINVAL>R0lGODlh</BINVAL></PHOTO></vCard></iq>`))
	}()
	// Give the set the time to finish if nothing holds it back.
	select {
	case err := <-setDone:
		setDone = nil
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(100 * time.Millisecond):
	}
	close(hold.release)
	if got := <-presenceDone; got != oldHash {
		t.Fatalf("the presence that read first: hash %q, want the old %q", got, oldHash)
	}
	if setDone != nil {
		if err := <-setDone; err != nil {
			t.Fatal(err)
		}
	}
	if got := photoHashIn(rewrite); got == oldHash || got == "" {
		t.Fatalf("after the set: hash %q, the old photo's (or none)", got)
	}
}

// BenchmarkRewritePresence is the cost the conversion adds to every
// available presence a client sends (router.PresenceRewriter): a cached
// hash put into a presence without <x/>.
func BenchmarkRewritePresence(b *testing.B) {
	store := memory.New()
	defer store.Close()
	m := New(Config{MaxBytes: 1 << 16, AvatarConversion: true}, store)
	m.SetPEP(noPEP{}, nil)
	s := router.NewSession(jid.MustParse(romeo+"/home"), "test", &routertest.Recorder{})
	ctx := context.Background()
	m.RewritePresence(ctx, s, xml.New("jabber:client", "presence")) // fills the cache
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p := xml.New("jabber:client", "presence")
		m.RewritePresence(ctx, s, p)
	}
}
