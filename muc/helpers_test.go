package muc_test

import (
	"context"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/mam"
	"github.com/skald-xmpp/skald/muc"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

const (
	service = "conference." + routertest.Domain
	room    = "room@" + service
	nsMUC   = "http://jabber.org/protocol/muc"
	nsUser  = nsMUC + "#user"
)

// env is a router with the mam and muc modules over a memory store and
// the accounts alice, bob and carol.
type env struct {
	*routertest.Env
	muc *muc.Module
}

type user struct {
	s   *router.Session
	rec *routertest.Recorder
}

func newEnv(t *testing.T, tweak func(*muc.Config)) *env {
	t.Helper()
	e := routertest.New(t, "alice@"+routertest.Domain, "bob@"+routertest.Domain, "carol@"+routertest.Domain)
	secret := []byte("0123456789abcdef0123456789abcdef")
	archive, err := mam.New(mam.DefaultConfig(), e.Store, e.Store, secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := muc.DefaultConfig()
	if tweak != nil {
		tweak(&cfg)
	}
	m := muc.New(cfg, e.Router, archive, e.Store, secret, nil)
	e.Router.Register(archive, m)
	return &env{Env: e, muc: m}
}

// user binds name@domain/res.
func (e *env) user(name, res string) *user {
	s, rec := e.Bind(name+"@"+routertest.Domain+"/"+res, true, 0)
	return &user{s, rec}
}

// send feeds raw from u; %R in raw stands for the room's JID.
func (e *env) send(u *user, raw string) {
	e.T.Helper()
	e.Send(u.s, strings.ReplaceAll(raw, "%R", room))
}

// take returns what u was sent, parsed.
func (u *user) take(t *testing.T) []*xml.Element {
	t.Helper()
	var out []*xml.Element
	for _, raw := range u.rec.Take() {
		out = append(out, routertest.Parse(t, raw))
	}
	return out
}

// last returns the last stanza u was sent, forgetting the others.
func (u *user) last(t *testing.T) *xml.Element {
	t.Helper()
	got := u.take(t)
	if len(got) == 0 {
		t.Fatal("nothing was sent")
	}
	return got[len(got)-1]
}

// condition returns an error stanza's condition, "" if it is no error.
func condition(el *xml.Element) string {
	if el.Attr("type") != "error" {
		return ""
	}
	for _, c := range el.Child(stanza.NSClient, "error").Elements() {
		if c.Space == stanza.NSStanzas && c.Local != "text" {
			return c.Local
		}
	}
	return "?"
}

// summary describes a MUC presence: "from type codes item".
func summary(el *xml.Element) string {
	x := el.Child(nsUser, "x")
	var parts []string
	for _, s := range x.ChildrenNamed(nsUser, "status") {
		parts = append(parts, s.Attr("code"))
	}
	it := x.Child(nsUser, "item")
	typ := el.Attr("type")
	if typ == "" {
		typ = "available"
	}
	from := strings.TrimPrefix(el.Attr("from"), room)
	return el.Local + " " + from + " " + typ + " [" + strings.Join(parts, " ") + "] " + it.Attr("affiliation") + "/" + it.Attr("role")
}

func summaries(els []*xml.Element) []string {
	var out []string
	for _, el := range els {
		out = append(out, summary(el))
	}
	return out
}

// create has alice create the room as an instant room, with her nick Al,
// and configure it with the given form fields (var=value pairs).
func (e *env) create(alice *user, fields ...string) {
	e.T.Helper()
	e.send(alice, `<presence to='%R/Al'><x xmlns='`+nsMUC+`'/></presence>`)
	e.configure(alice, fields...)
	alice.take(e.T)
}

func (e *env) configure(owner *user, fields ...string) {
	e.T.Helper()
	var f strings.Builder
	for i := 0; i+1 < len(fields); i += 2 {
		f.WriteString(`<field var='` + fields[i] + `'><value>` + fields[i+1] + `</value></field>`)
	}
	e.send(owner, `<iq type='set' id='cfg' to='%R'><query xmlns='`+nsMUC+`#owner'><x xmlns='jabber:x:data' type='submit'>`+f.String()+`</x></query></iq>`)
	if el := owner.last(e.T); el.Attr("id") != "cfg" || el.Attr("type") != "result" {
		e.T.Fatalf("configuration refused: %s", el)
	}
}

// join has u enter as nick and returns what it was sent.
func (e *env) join(u *user, nick string) []*xml.Element {
	e.T.Helper()
	e.send(u, `<presence to='%R/`+nick+`'><x xmlns='`+nsMUC+`'/></presence>`)
	return u.take(e.T)
}

var bg = context.Background()

func storageQuery(owner string) storage.ArchiveQuery { return storage.ArchiveQuery{Owner: owner} }
