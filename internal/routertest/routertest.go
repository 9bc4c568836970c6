package routertest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// Domain is the one domain an Env serves.
const Domain = "example.org"

// Recorder is a fake transport: it keeps what the session was sent,
// serialised at Send so that later changes to an element do not show.
type Recorder struct {
	// ParentNS is the default namespace stanzas are serialised in: ""
	// writes every xmlns (Element.String), stanza.NSClient leaves
	// jabber:client implicit as on a c2s stream.
	ParentNS string

	mu      sync.Mutex
	out     []string
	closed  []string
	limited bool // Send accepts only left more stanzas
	left    int
}

// Send records st, or fails like a full queue once RefuseAfter's stanzas
// are used up.
func (r *Recorder) Send(st *xml.Element) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.limited {
		if r.left == 0 {
			return errors.New("queue full")
		}
		r.left--
	}
	r.out = append(r.out, string(st.Bytes(r.ParentNS)))
	return nil
}

// Close records the stream error condition the router closed with.
func (r *Recorder) Close(condition string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = append(r.closed, condition)
}

// CloseWithText records a close with a stream error text as
// "condition: text" (router.TextCloser).
func (r *Recorder) CloseWithText(condition, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = append(r.closed, condition+": "+text)
}

// RefuseAfter makes Send accept n more stanzas and refuse every later one,
// as a full or closed queue does.
func (r *Recorder) RefuseAfter(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.limited, r.left = true, n
}

// Take returns and forgets what was sent so far.
func (r *Recorder) Take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.out
	r.out = nil
	return out
}

// Closed returns the conditions of the Close calls so far.
func (r *Recorder) Closed() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.closed)
}

// Env is a router serving Domain over a memory store.
type Env struct {
	T      *testing.T
	Router *router.Router
	Store  *memory.Store
}

// New returns an Env whose store holds the accounts users (bare JIDs) and
// is closed when the test ends. No module is registered.
func New(t *testing.T, users ...string) *Env {
	t.Helper()
	store := memory.New()
	t.Cleanup(func() { store.Close() })
	for _, u := range users {
		if err := store.CreateUser(context.Background(), u, storage.Credentials{}); err != nil {
			t.Fatal(err)
		}
	}
	r := router.New(router.Config{Domains: []string{Domain}, Users: store})
	return &Env{T: t, Router: r, Store: store}
}

// Bind binds a session for full that records what it is sent; available
// sessions get presence with the given priority.
func (e *Env) Bind(full string, available bool, priority int) (*router.Session, *Recorder) {
	e.T.Helper()
	rec := &Recorder{}
	s := router.NewSession(jid.MustParse(full), "test", rec)
	e.Router.Bind(context.Background(), s)
	if available {
		s.SetPresence(xml.New(stanza.NSClient, "presence"), priority)
	}
	return s, rec
}

// Send feeds a stanza written as XML (default namespace jabber:client)
// into the router as if s had sent it.
func (e *Env) Send(s *router.Session, raw string) {
	e.T.Helper()
	if err := e.Router.HandleFromClient(context.Background(), s, Parse(e.T, raw)); err != nil {
		e.T.Fatalf("HandleFromClient(%s): %v", raw, err)
	}
}

// Parse reads one element written in the jabber:client default namespace.
func Parse(t testing.TB, raw string) *xml.Element {
	t.Helper()
	rd := xml.NewReader(strings.NewReader("<s xmlns='jabber:client'>"+raw+"</s>"), xml.DefaultLimits, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	el, err := rd.Next()
	if err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	return el
}

// Expect takes what rec was sent and compares it with want, stanza by
// stanza; a different count ends the test.
func Expect(t testing.TB, rec *Recorder, want ...string) {
	t.Helper()
	got := rec.Take()
	if len(got) != len(want) {
		t.Fatalf("got %d stanzas, want %d:\ngot:  %s\nwant: %s", len(got), len(want),
			strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("stanza %d:\ngot:  %s\nwant: %s", i, got[i], want[i])
		}
	}
}

// Equal reports an error, labelled what, unless got is want; unlike Expect
// it goes on, for tests that check several sessions or steps in a row.
func Equal(t testing.TB, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s got:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
