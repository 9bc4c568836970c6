package push

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/disco"
	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/offline"
	"github.com/skald-xmpp/skald/router"
)

// quiet discards the module's log in tests.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const (
	juliet  = "juliet@example.org"
	romeo   = "romeo@example.org"
	service = "push.example"
)

// fakeRemote is the s2s transport: it keeps what the router hands it for
// other domains, and the test answers as the app server would.
type fakeRemote struct {
	mu   sync.Mutex
	got  []*xml.Element
	cond *sync.Cond
}

func (f *fakeRemote) SendRemote(st *xml.Element, from, to jid.JID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, st.Clone())
	f.cond.Broadcast()
	return nil
}

// take returns what was sent so far and forgets it.
func (f *fakeRemote) take() []*xml.Element {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.got
	f.got = nil
	return out
}

// wait waits up to d for n stanzas, and takes them.
func (f *fakeRemote) wait(t *testing.T, n int, d time.Duration) []*xml.Element {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		f.mu.Lock()
		got := len(f.got)
		f.mu.Unlock()
		if got >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	out := f.take()
	if len(out) != n {
		t.Fatalf("app server got %d stanzas, want %d: %v", len(out), n, out)
	}
	return out
}

type env struct {
	*routertest.Env
	t      *testing.T
	m      *Module
	remote *fakeRemote
}

// newEnv is a router for example.org with juliet and romeo, offline
// storage, disco and the push module with cfg, federating through a fake
// transport.
func newEnv(t *testing.T, cfg Config) *env {
	e := routertest.New(t, juliet, romeo)
	m := New(cfg, e.Store, e.Router, quiet)
	e.Router.Register(disco.New(e.Router), offline.New(offline.DefaultConfig(), e.Store, nil), m)
	f := &fakeRemote{}
	f.cond = sync.NewCond(&f.mu)
	e.Router.SetRemote(f)
	return &env{Env: e, t: t, m: m, remote: f}
}

// testConfig pushes every message (no coalescing) and answers quickly;
// it sends the sender, which most tests check.
func testConfig() Config {
	c := DefaultConfig()
	c.CoalesceInterval = 0
	c.IncludeSender = true
	return c
}

// dormantRecorder is a session's transport that says whether it is
// dormant (detached for XEP-0198 resumption, or inactive).
type dormantRecorder struct {
	routertest.Recorder
	dormant atomic.Bool
}

func (d *dormantRecorder) Dormant() bool { return d.dormant.Load() }

// bindDormant binds an available session for full whose transport can
// turn dormant.
func (e *env) bindDormant(full string) (*router.Session, *dormantRecorder) {
	rec := &dormantRecorder{}
	s := router.NewSession(jid.MustParse(full), "test", rec)
	e.Router.Bind(context.Background(), s)
	s.SetPresence(xml.New("jabber:client", "presence"), 0)
	return s, rec
}

// enable has s enable push at service with node and the optional form,
// and checks the result.
func (e *env) enable(s *router.Session, rec interface{ Take() []string }, node, form string) {
	e.t.Helper()
	e.Send(s, `<iq type="set" id="en"><enable xmlns="urn:xmpp:push:0" jid="`+service+`" node="`+node+`">`+form+`</enable></iq>`)
	got := rec.Take()
	if len(got) != 1 || !strings.Contains(got[0], `type="result"`) {
		e.t.Fatalf("enable %s: %v", node, got)
	}
}

// message routes a message from romeo's session to juliet.
func (e *env) message(from *router.Session, inner string) {
	e.t.Helper()
	e.Send(from, `<message type="chat" to="`+juliet+`" id="m">`+inner+`</message>`)
}

// answer sends the app server's answer to publish iq.
func (e *env) answer(iq *xml.Element, typ, errXML string) {
	e.t.Helper()
	raw := `<iq type="` + typ + `" id="` + iq.Attr("id") + `" from="` + iq.Attr("to") + `" to="` + iq.Attr("from") + `">` + errXML + `</iq>`
	if err := e.Router.HandleFromRemote(context.Background(), jid.MustParse(iq.Attr("to")).Domain(), routertest.Parse(e.t, raw)); err != nil {
		e.t.Fatal(err)
	}
}

var idAttr = regexp.MustCompile(` id="[^"]*"`)

// withoutID serialises el without its generated id.
func withoutID(el *xml.Element) string {
	return idAttr.ReplaceAllString(el.String(), "")
}

// summaryIQ is the publish iq juliet's server sends, as serialised.
func summaryIQ(node, fields, options string) string {
	s := `<iq xmlns="jabber:client" type="set" from="` + juliet + `" to="` + service + `">` +
		`<pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="` + node + `"><item>` +
		`<notification xmlns="urn:xmpp:push:0"><x xmlns="jabber:x:data" type="submit">` +
		`<field var="FORM_TYPE"><value>urn:xmpp:push:summary</value></field>` + fields +
		`</x></notification></item></publish>`
	if options != "" {
		s += `<publish-options>` + options + `</publish-options>`
	}
	return s + `</pubsub></iq>`
}

func field(name, value string) string {
	return `<field var="` + name + `"><value>` + value + `</value></field>`
}
