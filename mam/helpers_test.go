package mam

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
	"github.com/skald-xmpp/skald/storage/sqlite"
)

var testSecret = []byte("0123456789abcdef-test-secret")

// recorder is a router.Sender that keeps what it was sent.
type recorder struct {
	mu   sync.Mutex
	got  []*xml.Element
	full bool // refuse sends, like a full queue
}

func (r *recorder) Send(st *xml.Element) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.full {
		return errors.New("queue full")
	}
	r.got = append(r.got, st.Clone())
	return nil
}

func (r *recorder) Close(string) {}

// take returns and forgets everything sent so far.
func (r *recorder) take() []*xml.Element {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

// probe is a module registered after mam that records what the archive
// hooks left in the message events.
type probe struct {
	mu       sync.Mutex
	senderID []string
	archived []bool
}

func (*probe) Name() string { return "probe" }

func (p *probe) OutboundMessage(_ context.Context, ev *router.MessageEvent) error {
	p.mu.Lock()
	p.senderID = append(p.senderID, ev.SenderArchiveID)
	p.mu.Unlock()
	return nil
}

func (p *probe) InboundMessage(_ context.Context, ev *router.MessageEvent) error {
	p.mu.Lock()
	p.archived = append(p.archived, ev.Archived)
	p.mu.Unlock()
	return nil
}

type env struct {
	t     *testing.T
	ctx   context.Context
	store storage.Store
	mem   *memory.Store
	r     *router.Router
	m     *Module
	probe *probe
	clock time.Time
}

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newEnv builds a router with the mam module on a memory store, accounts
// alice, bob and carol on example.com (example.net is local too, without
// accounts), and a clock at t0 that moves one
// second per archived message.
func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	mem := memory.New()
	return newEnvStore(t, cfg, mem, mem)
}

func newEnvStore(t *testing.T, cfg Config, store storage.Store, mem *memory.Store) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), store: store, mem: mem, clock: t0}
	for _, u := range []string{"alice", "bob", "carol"} {
		if err := mem.CreateUser(e.ctx, u+"@example.com", storage.Credentials{}); err != nil {
			t.Fatal(err)
		}
	}
	e.r = router.New(router.Config{Domains: []string{"example.com", "example.net"}, Users: store, Log: quietLog()})
	m, err := New(cfg, store, store, testSecret, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	m.msgIDPre = "r"
	m.now = func() time.Time {
		e.clock = e.clock.Add(time.Second)
		return e.clock
	}
	e.m = m
	e.probe = &probe{}
	e.r.Register(m, e.probe)
	return e
}

// newSQLiteEnv is newEnv on a SQLite store (in the test's temporary
// directory) with the same accounts; mem stays an empty memory store.
func newSQLiteEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "skald.db"), sqlite.Options{Synchronous: sqlite.SyncOff})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	for _, u := range []string{"alice", "bob", "carol"} {
		if err := st.CreateUser(context.Background(), u+"@example.com", storage.Credentials{}); err != nil {
			t.Fatal(err)
		}
	}
	return newEnvStore(t, cfg, st, memory.New())
}

// login binds an available session for a full JID.
func (e *env) login(full string) (*router.Session, *recorder) {
	e.t.Helper()
	rec := &recorder{}
	s := router.NewSession(jid.MustParse(full), "s-"+full, rec)
	e.r.Bind(e.ctx, s)
	s.SetPresence(xml.New(nsClient, "presence"), 0)
	return s, rec
}

// send hands raw XML to the router as if the session's client sent it.
func (e *env) send(s *router.Session, raw string) {
	e.t.Helper()
	if err := e.r.HandleFromClient(e.ctx, s, parseXML(e.t, raw)); err != nil {
		e.t.Fatalf("HandleFromClient: %v", err)
	}
}

// id returns the archive id of internal item n.
func (e *env) id(n int64) string { return e.m.ArchiveID(n) }

// items returns owner's archive, oldest first.
func (e *env) items(owner string) []storage.ArchivedMessage {
	e.t.Helper()
	p, err := e.mem.QueryArchive(e.ctx, storage.ArchiveQuery{Owner: owner, Limit: 100000})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Messages
}

// parseXML parses one element written in the jabber:client default
// namespace, dropping whitespace-only text so tests can be indented.
func parseXML(t testing.TB, raw string) *xml.Element {
	t.Helper()
	el := routertest.Parse(t, raw)
	dropSpace(el)
	return el
}

func dropSpace(el *xml.Element) {
	kept := el.Nodes[:0]
	for _, n := range el.Nodes {
		if tx, ok := n.(xml.Text); ok && strings.TrimSpace(string(tx)) == "" {
			continue
		}
		if c, ok := n.(*xml.Element); ok {
			dropSpace(c)
		}
		kept = append(kept, n)
	}
	el.Nodes = kept
}

// canon returns the canonical serialisation of expected XML.
func canon(t testing.TB, raw string) string {
	t.Helper()
	return parseXML(t, raw).String()
}

// wantXML compares stanzas with expected XML, one by one.
func wantXML(t testing.TB, got []*xml.Element, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		var gs []string
		for _, g := range got {
			gs = append(gs, g.String())
		}
		t.Fatalf("got %d stanzas, want %d:\n%s", len(got), len(want), strings.Join(gs, "\n"))
	}
	for i := range want {
		if g, w := got[i].String(), canon(t, want[i]); g != w {
			t.Errorf("stanza %d:\n got: %s\nwant: %s", i, g, w)
		}
	}
}

// failingStore fails AppendArchive, to check that nothing is delivered
// unarchived.
type failingStore struct {
	*memory.Store
}

func (failingStore) AppendArchive(context.Context, []*storage.ArchivedMessage) error {
	return errors.New("disk on fire")
}
