package router_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// answers collects what QueryClient's done callbacks were given.
type answers struct {
	mu  sync.Mutex
	got []string
	ch  chan struct{}
}

func newAnswers() *answers { return &answers{ch: make(chan struct{}, 10)} }

func (a *answers) done(resp *xml.Element) {
	a.mu.Lock()
	s := "<nil>"
	if resp != nil {
		s = resp.Attr("type") + " from " + resp.Attr("from")
	}
	a.got = append(a.got, s)
	a.mu.Unlock()
	a.ch <- struct{}{}
}

func (a *answers) list() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.got...)
}

// sentID returns the id of the one iq rec was sent.
func sentID(t *testing.T, rec *routertest.Recorder) string {
	t.Helper()
	out := rec.Take()
	if len(out) != 1 {
		t.Fatalf("sent %d stanzas, want 1: %q", len(out), out)
	}
	return routertest.Parse(t, out[0]).Attr("id")
}

func TestQueryClientAnswered(t *testing.T) {
	e := routertest.New(t, "romeo@example.org", "juliet@example.org")
	romeo, romeoRec := e.Bind("romeo@example.org/home", true, 0)
	juliet, _ := e.Bind("juliet@example.org/balcony", true, 0)
	a := newAnswers()
	q := xml.New(stanza.NSClient, "iq", "type", "get").Append(xml.New("http://jabber.org/protocol/disco#info", "query"))
	if err := e.Router.QueryClient(romeo.JID(), q, time.Minute, a.done); err != nil {
		t.Fatal(err)
	}
	out := romeoRec.Take()
	if len(out) != 1 {
		t.Fatalf("sent %q", out)
	}
	sent := routertest.Parse(t, out[0])
	if sent.Attr("from") != "example.org" || sent.Attr("to") != "romeo@example.org/home" || sent.Attr("type") != "get" {
		t.Errorf("query sent as %s", out[0])
	}
	id := sent.Attr("id")

	// Another account answering with the same id answers nothing: the
	// query waits for romeo.
	e.Send(juliet, `<iq type="result" to="example.org" id="`+id+`"/>`)
	// An answer with an unknown id is dropped without a reply.
	e.Send(romeo, `<iq type="result" to="example.org" id="unknown"/>`)
	if got := a.list(); len(got) != 0 {
		t.Fatalf("done called with %q", got)
	}
	e.Send(romeo, `<iq type="result" to="example.org" id="`+id+`"/>`)
	// A second answer to the same query is dropped.
	e.Send(romeo, `<iq type="error" to="example.org" id="`+id+`"/>`)
	routertest.Equal(t, "answers", a.list(), "result from romeo@example.org/home")
	routertest.Expect(t, romeoRec)
}

func TestQueryClientTimeout(t *testing.T) {
	e := routertest.New(t, "romeo@example.org")
	romeo, romeoRec := e.Bind("romeo@example.org/home", true, 0)
	a := newAnswers()
	q := xml.New(stanza.NSClient, "iq", "type", "get").Append(xml.New("urn:xmpp:ping", "ping"))
	if err := e.Router.QueryClient(romeo.JID(), q, 10*time.Millisecond, a.done); err != nil {
		t.Fatal(err)
	}
	id := sentID(t, romeoRec)
	select {
	case <-a.ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no timeout callback")
	}
	// Too late: dropped, done is not called again.
	e.Send(romeo, `<iq type="result" to="example.org" id="`+id+`"/>`)
	routertest.Equal(t, "answers", a.list(), "<nil>")

	if err := e.Router.QueryClient(jid.MustParse("romeo@example.org/gone"), q, time.Minute, a.done); err != router.ErrNoSession {
		t.Errorf("query to an unbound resource: %v, want ErrNoSession", err)
	}
}

// presenceSeen records what a PresenceObserver is shown.
type presenceSeen struct{ got []string }

func (*presenceSeen) Name() string { return "seen" }

func (p *presenceSeen) BroadcastPresence(_ context.Context, s *router.Session, st *xml.Element) {
	p.got = append(p.got, s.JID().String()+" "+st.Attr("type"))
}

func TestPresenceObserverSeesBroadcastsOnly(t *testing.T) {
	e := routertest.New(t, "romeo@example.org", "juliet@example.org")
	seen := &presenceSeen{}
	e.Router.Register(seen)
	romeo, _ := e.Bind("romeo@example.org/home", false, 0)
	e.Send(romeo, `<presence/>`)
	e.Send(romeo, `<presence to="juliet@example.org"/>`)
	e.Send(romeo, `<presence type="unavailable"/>`)
	routertest.Equal(t, "observed", seen.got, "romeo@example.org/home ")
}
