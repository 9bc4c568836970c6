package presence_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/roster"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// conn is a fake transport that records what a session is sent.
type conn struct {
	mu   sync.Mutex
	sent []sent
}

type sent struct {
	el  *xml.Element
	str string // serialised when sent, to catch later mutation
}

func (c *conn) Send(st *xml.Element) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, sent{st, string(st.Bytes(stanza.NSClient))})
	return nil
}

func (c *conn) Close(string) {}

// availObserver records router.NotifyAvailable calls.
type availObserver struct {
	mu  sync.Mutex
	got []string
}

func (o *availObserver) Name() string { return "avail-observer" }

func (o *availObserver) SessionAvailable(_ context.Context, s *router.Session) {
	o.mu.Lock()
	o.got = append(o.got, s.JID().String())
	o.mu.Unlock()
}

type env struct {
	t     *testing.T
	ctx   context.Context
	store *memory.Store
	r     *router.Router
	rost  *roster.Module
	avail *availObserver
	conns map[string]*conn // by full JID
}

// newEnv returns a router on domain "x" (and "y", also local) with the
// roster and presence modules and the given accounts.
func newEnv(t *testing.T, users ...string) *env {
	t.Helper()
	e, _ := newHookedEnv(t, users...)
	return e
}

// bind binds a session without any presence or roster request.
func (e *env) bind(full string) *router.Session {
	e.t.Helper()
	c := &conn{}
	s := router.NewSession(jid.MustParse(full), "id-"+full, c)
	e.r.Bind(e.ctx, s)
	e.conns[full] = c
	return s
}

// online binds a session that has requested the roster and sent initial
// presence, then discards what it was sent on the way.
func (e *env) online(full string) *router.Session {
	e.t.Helper()
	s := e.bind(full)
	e.send(full, `<iq type="get" id="r"><query xmlns="jabber:iq:roster"/></iq>`)
	e.send(full, `<presence/>`)
	e.drain()
	return s
}

// send parses a stanza and handles it as sent by the session full.
func (e *env) send(full, raw string) {
	e.t.Helper()
	s := e.r.Session(jid.MustParse(full))
	if s == nil {
		e.t.Fatalf("no session %s", full)
	}
	if err := e.r.HandleFromClient(e.ctx, s, routertest.Parse(e.t, raw)); err != nil {
		e.t.Fatalf("HandleFromClient(%s): %v", raw, err)
	}
}

// put stores a roster item directly.
func (e *env) put(owner string, it storage.RosterItem) {
	e.t.Helper()
	if _, err := e.store.PutRosterItem(e.ctx, owner, it, true); err != nil {
		e.t.Fatal(err)
	}
}

// item returns an item as stored, or nil.
func (e *env) item(owner, contact string) *storage.RosterItem {
	e.t.Helper()
	it, err := e.store.RosterItem(e.ctx, owner, contact)
	if err != nil {
		return nil
	}
	return &it
}

var (
	verRE  = regexp.MustCompile(` ver="[0-9]+"`)
	pushRE = regexp.MustCompile(` id="push[0-9]+"`)
)

// take returns what full was sent since the last call, serialised with
// push ids and roster versions masked (versions are checked separately).
func (e *env) take(full string) []string {
	e.t.Helper()
	c := e.conns[full]
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, s := range c.sent {
		if now := string(s.el.Bytes(stanza.NSClient)); now != s.str {
			e.t.Errorf("stanza to %s changed after Send:\n was %s\n now %s", full, s.str, now)
		}
		str := verRE.ReplaceAllString(s.str, ` ver="V"`)
		out = append(out, pushRE.ReplaceAllString(str, ` id="P"`))
	}
	c.sent = nil
	return out
}

func (e *env) drain() {
	for full := range e.conns {
		e.take(full)
	}
}

// expect checks what each listed session was sent, in order; sessions not
// listed must have been sent nothing.
func (e *env) expect(want map[string][]string) {
	e.t.Helper()
	names := make([]string, 0, len(e.conns))
	for full := range e.conns {
		names = append(names, full)
	}
	slices.Sort(names)
	for _, full := range names {
		got := e.take(full)
		w := want[full]
		if !slices.Equal(got, w) {
			e.t.Errorf("%s was sent:\n  %s\nwant:\n  %s", full, strings.Join(got, "\n  "), strings.Join(w, "\n  "))
		}
	}
}

func mustJID(s string) jid.JID { return jid.MustParse(s) }
