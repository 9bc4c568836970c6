package carbons

import (
	"context"
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

const domain = "example.org"

// recorder is a fake transport: it keeps what the session was sent,
// serialised with Element.String() so tests compare exact XML.
type recorder struct {
	mu  sync.Mutex
	out []string
}

func (r *recorder) Send(st *xml.Element) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.out = append(r.out, st.String())
	return nil
}

func (r *recorder) Close(string) {}

// take returns and forgets what was sent so far.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.out
	r.out = nil
	return out
}

// env is a router over a memory store with some accounts.
type env struct {
	t     *testing.T
	r     *router.Router
	store storage.Store
}

func newEnv(t *testing.T, users ...string) *env {
	t.Helper()
	store := memory.New()
	t.Cleanup(func() { store.Close() })
	for _, u := range users {
		if err := store.CreateUser(context.Background(), u, storage.Credentials{}); err != nil {
			t.Fatal(err)
		}
	}
	r := router.New(router.Config{Domains: []string{domain}, Users: store})
	return &env{t: t, r: r, store: store}
}

// bind binds a session for full; available sessions get presence with the
// given priority.
func (e *env) bind(full string, available bool, priority int) (*router.Session, *recorder) {
	e.t.Helper()
	rec := &recorder{}
	s := router.NewSession(jid.MustParse(full), "test", rec)
	e.r.Bind(context.Background(), s)
	if available {
		s.SetPresence(xml.New(stanza.NSClient, "presence"), priority)
	}
	return s, rec
}

// send feeds a stanza written as XML (default namespace jabber:client)
// into the router as if s had sent it.
func (e *env) send(s *router.Session, raw string) {
	e.t.Helper()
	if err := e.r.HandleFromClient(context.Background(), s, parse(e.t, raw)); err != nil {
		e.t.Fatalf("HandleFromClient(%s): %v", raw, err)
	}
}

// parse reads one element in the jabber:client namespace.
func parse(t *testing.T, raw string) *xml.Element {
	t.Helper()
	rd := xml.NewReader(strings.NewReader("<s xmlns='jabber:client'>"+raw+"</s>"), xml.DefaultLimits, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		t.Fatal(err)
	}
	el, err := rd.Next()
	if err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	return el
}

// expect compares what a session was sent with want, stanza by stanza.
func expect(t *testing.T, rec *recorder, want ...string) {
	t.Helper()
	got := rec.take()
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
