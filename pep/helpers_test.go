package pep

import (
	"context"
	"regexp"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/disco"
	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
)

const (
	romeo    = "romeo@example.org"
	juliet   = "juliet@example.org"   // subscribed to romeo's presence (romeo: from)
	mercutio = "mercutio@example.org" // no subscription
)

// fakeRosters is a Rosters over fixed items.
type fakeRosters struct {
	mu    sync.Mutex
	items map[string][]storage.RosterItem // owner -> items
}

func (f *fakeRosters) Item(_ context.Context, owner, contact string) (storage.RosterItem, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, it := range f.items[owner] {
		if it.JID == contact {
			return it, true, nil
		}
	}
	return storage.RosterItem{}, false, nil
}

func (f *fakeRosters) Items(_ context.Context, owner string) ([]storage.RosterItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]storage.RosterItem(nil), f.items[owner]...), nil
}

type env struct {
	*routertest.Env
	m *Module
	// early holds what a session was sent while giveCaps looked for the
	// caps query (last items sent at once for a known ver).
	early map[*routertest.Recorder][]string
}

// setup registers disco and PEP; romeo's roster gives juliet a "from"
// subscription and juliet's gives romeo a "to".
func setup(t *testing.T) *env {
	return setupWith(t, func(*Config) {})
}

// setupWith is setup with the test configuration changed by adjust.
func setupWith(t *testing.T, adjust func(*Config)) *env {
	e := routertest.New(t, romeo, juliet, mercutio)
	ros := &fakeRosters{items: map[string][]storage.RosterItem{
		romeo:  {{JID: juliet, Subscription: storage.SubFrom}},
		juliet: {{JID: romeo, Subscription: storage.SubTo}},
	}}
	cfg := DefaultConfig()
	cfg.MaxItems, cfg.MaxNodes = 5, 3
	adjust(&cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m := New(cfg, e.Store, ros, e.Router, nil)
	d := disco.New(e.Router)
	d.SetRoster(ros)
	e.Router.Register(d, m)
	return &env{Env: e, m: m, early: make(map[*routertest.Recorder][]string)}
}

var generatedID = regexp.MustCompile(`id="[0-9a-f]{24}"`)

// take returns what rec was sent with generated ids replaced by "*".
func (e *env) take(rec *routertest.Recorder) []string {
	out := append(e.early[rec], rec.Take()...)
	delete(e.early, rec)
	for i, s := range out {
		out[i] = generatedID.ReplaceAllString(s, `id="*"`)
	}
	return out
}

// expect compares what rec was sent (generated ids as "*") with want.
func (e *env) expect(t *testing.T, what string, rec *routertest.Recorder, want ...string) {
	t.Helper()
	routertest.Equal(t, what, e.take(rec), want...)
}

// withCaps binds an available session whose caps announce features, and
// answers the server's disco#info query for them.
func (e *env) withCaps(full string, features ...string) (*router.Session, *routertest.Recorder) {
	e.T.Helper()
	s, rec := e.Bind(full, true, 0)
	e.giveCaps(s, rec, features...)
	return s, rec
}

const capsNode = "https://client.example"

func (e *env) giveCaps(s *router.Session, rec *routertest.Recorder, features ...string) {
	e.T.Helper()
	ids := []disco.Identity{{Category: "client", Type: "pc"}}
	ver := disco.CapsVer(ids, features, nil)
	e.Send(s, `<presence><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="`+capsNode+`" ver="`+ver+`"/></presence>`)
	var q *xml.Element
	for _, st := range rec.Take() {
		if el := routertest.Parse(e.T, st); el.Local == "iq" && el.Attr("from") == "example.org" {
			q = el
		} else {
			e.early[rec] = append(e.early[rec], st)
		}
	}
	if q == nil {
		return // a known ver: no query
	}
	answer := `<iq type="result" to="example.org" id="` + q.Attr("id") + `"><query xmlns="http://jabber.org/protocol/disco#info" node="` + capsNode + `#` + ver + `"><identity category="client" type="pc"/>`
	for _, f := range features {
		answer += `<feature var="` + f + `"/>`
	}
	e.Send(s, answer+`</query></iq>`)
}

func result(to, id string) string {
	return `<iq xmlns="jabber:client" type="result" id="` + id + `" to="` + to + `"/>`
}

func errorReply(to, from, id, typ, cond, app string) string {
	s := `<iq xmlns="jabber:client" id="` + id + `"`
	if from != "" {
		s += ` from="` + from + `"`
	}
	s += ` to="` + to + `" type="error"><error type="` + typ + `"><` + cond + ` xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>`
	if app != "" {
		s += `<` + app + ` xmlns="http://jabber.org/protocol/pubsub#errors"/>`
	}
	return s + `</error></iq>`
}

// verOf is the caps ver giveCaps announces for features.
func verOf(features ...string) string {
	return disco.CapsVer([]disco.Identity{{Category: "client", Type: "pc"}}, features, nil)
}
