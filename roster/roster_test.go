package roster_test

import (
	"context"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/roster"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

type env struct {
	t     *testing.T
	ctx   context.Context
	store *memory.Store
	r     *router.Router
	rost  *roster.Module
	conns map[string]*routertest.Recorder
}

func newEnv(t *testing.T, cfg roster.Config) *env {
	t.Helper()
	ctx := context.Background()
	st := memory.New()
	for _, u := range []string{"a@x", "b@x"} {
		if err := st.CreateUser(ctx, u, storage.Credentials{}); err != nil {
			t.Fatal(err)
		}
	}
	r := router.New(router.Config{Domains: []string{"x"}, Users: st})
	rost := roster.New(cfg, st, r)
	r.Register(rost)
	return &env{t: t, ctx: ctx, store: st, r: r, rost: rost, conns: map[string]*routertest.Recorder{}}
}

func (e *env) bind(full string) *router.Session {
	c := &routertest.Recorder{ParentNS: stanza.NSClient}
	s := router.NewSession(jid.MustParse(full), "id", c)
	e.r.Bind(e.ctx, s)
	e.conns[full] = c
	return s
}

// do sends a stanza from full and returns what full was sent.
func (e *env) do(full, raw string) []string {
	e.t.Helper()
	if err := e.r.HandleFromClient(e.ctx, e.r.Session(jid.MustParse(full)), routertest.Parse(e.t, raw)); err != nil {
		e.t.Fatal(err)
	}
	return e.conns[full].Take()
}

func push(id, to, ver, item string) string {
	return `<iq type="set" id="` + id + `" to="` + to + `"><query xmlns="jabber:iq:roster" ver="` + ver + `">` + item + `</query></iq>`
}

func TestGetSetPush(t *testing.T) {
	e := newEnv(t, roster.DefaultConfig())
	e.bind("a@x/1")
	e.bind("a@x/2")
	e.bind("a@x/3") // never asks for the roster: gets no pushes
	e.bind("b@x/1")

	steps := []struct {
		from, send string
		want       map[string][]string
	}{
		{"a@x/1", `<iq type="get" id="g1"><query xmlns="jabber:iq:roster"/></iq>`,
			map[string][]string{"a@x/1": {`<iq type="result" id="g1" to="a@x/1"><query xmlns="jabber:iq:roster"/></iq>`}}},
		{"a@x/2", `<iq type="get" id="g2"><query xmlns="jabber:iq:roster" ver=""/></iq>`,
			map[string][]string{"a@x/2": {`<iq type="result" id="g2" to="a@x/2"><query xmlns="jabber:iq:roster" ver="0"/></iq>`}}},
		// 'ask', 'approved' and a subscription other than remove are ignored.
		{"a@x/3", `<iq type="set" id="s1"><query xmlns="jabber:iq:roster">` +
			`<item jid="B@X" name="Bee" subscription="both" ask="subscribe" approved="true"><group>Friends</group><group>Work</group></item></query></iq>`,
			map[string][]string{
				"a@x/1": {push("push1", "a@x/1", "1", `<item jid="b@x" name="Bee" subscription="none"><group>Friends</group><group>Work</group></item>`)},
				"a@x/2": {push("push2", "a@x/2", "1", `<item jid="b@x" name="Bee" subscription="none"><group>Friends</group><group>Work</group></item>`)},
				"a@x/3": {`<iq type="result" id="s1" to="a@x/3"/>`},
			}},
		// An update replaces name and groups.
		{"a@x/1", `<iq type="set" id="s2"><query xmlns="jabber:iq:roster"><item jid="b@x"><group>Work</group></item></query></iq>`,
			map[string][]string{
				"a@x/1": {push("push3", "a@x/1", "2", `<item jid="b@x" subscription="none"><group>Work</group></item>`), `<iq type="result" id="s2" to="a@x/1"/>`},
				"a@x/2": {push("push4", "a@x/2", "2", `<item jid="b@x" subscription="none"><group>Work</group></item>`)},
			}},
		// The same again changes nothing: no push.
		{"a@x/1", `<iq type="set" id="s3"><query xmlns="jabber:iq:roster"><item jid="b@x"><group>Work</group></item></query></iq>`,
			map[string][]string{"a@x/1": {`<iq type="result" id="s3" to="a@x/1"/>`}}},
		// The user's own JID may be an item.
		{"a@x/1", `<iq type="set" id="s4"><query xmlns="jabber:iq:roster"><item jid="a@x" name="me"/></query></iq>`,
			map[string][]string{
				"a@x/1": {push("push5", "a@x/1", "3", `<item jid="a@x" name="me" subscription="none"/>`), `<iq type="result" id="s4" to="a@x/1"/>`},
				"a@x/2": {push("push6", "a@x/2", "3", `<item jid="a@x" name="me" subscription="none"/>`)},
			}},
		{"a@x/3", `<iq type="get" id="g3" to="a@x"><query xmlns="jabber:iq:roster"/></iq>`,
			map[string][]string{"a@x/3": {`<iq type="result" id="g3" to="a@x/3"><query xmlns="jabber:iq:roster">` +
				`<item jid="a@x" name="me" subscription="none"/><item jid="b@x" subscription="none"><group>Work</group></item></query></iq>`}}},
		// Without a presence module, remove just deletes and pushes.
		{"a@x/1", `<iq type="set" id="s5"><query xmlns="jabber:iq:roster"><item jid="a@x" subscription="remove"/></query></iq>`,
			map[string][]string{
				"a@x/1": {push("push7", "a@x/1", "4", `<item jid="a@x" subscription="remove"/>`), `<iq type="result" id="s5" to="a@x/1"/>`},
				"a@x/2": {push("push8", "a@x/2", "4", `<item jid="a@x" subscription="remove"/>`)},
				"a@x/3": {push("push9", "a@x/3", "4", `<item jid="a@x" subscription="remove"/>`)},
			}},
	}
	for _, st := range steps {
		got := map[string][]string{st.from: e.do(st.from, st.send)}
		for full, c := range e.conns {
			if full != st.from {
				got[full] = c.Take()
			}
		}
		for full := range e.conns {
			routertest.Equal(t, st.send+" → "+full, got[full], st.want[full]...)
		}
	}
}

func TestVersioning(t *testing.T) {
	e := newEnv(t, roster.DefaultConfig())
	e.bind("a@x/1")
	get := func(ver string) []string {
		return e.do("a@x/1", `<iq type="get" id="g"><query xmlns="jabber:iq:roster" ver="`+ver+`"/></iq>`)
	}
	routertest.Equal(t, "fresh roster", get(""), `<iq type="result" id="g" to="a@x/1"><query xmlns="jabber:iq:roster" ver="0"/></iq>`)
	routertest.Equal(t, "current ver 0", get("0"), `<iq type="result" id="g" to="a@x/1"/>`)
	e.do("a@x/1", `<iq type="set" id="s"><query xmlns="jabber:iq:roster"><item jid="b@x"/></query></iq>`)
	routertest.Equal(t, "stale ver", get("0"), `<iq type="result" id="g" to="a@x/1"><query xmlns="jabber:iq:roster" ver="1"><item jid="b@x" subscription="none"/></query></iq>`)
	routertest.Equal(t, "current ver 1", get("1"), `<iq type="result" id="g" to="a@x/1"/>`)
	routertest.Equal(t, "unknown ver", get("99"), `<iq type="result" id="g" to="a@x/1"><query xmlns="jabber:iq:roster" ver="1"><item jid="b@x" subscription="none"/></query></iq>`)
}

func TestErrors(t *testing.T) {
	cfg := roster.Config{MaxItems: 2, MaxNameLength: 5, MaxGroupLength: 5, MaxGroups: 2}
	item := func(inner string) string {
		return `<iq type="set" id="e"><query xmlns="jabber:iq:roster">` + inner + `</query></iq>`
	}
	tests := []struct {
		name, send, cond string
	}{
		{"two items", item(`<item jid="c@x"/><item jid="d@x"/>`), "bad-request"},
		{"no item", item(``), "bad-request"},
		{"set for another user", `<iq type="set" id="e" to="b@x"><query xmlns="jabber:iq:roster"><item jid="c@x"/></query></iq>`, "forbidden"},
		{"get for another user", `<iq type="get" id="e" to="b@x"><query xmlns="jabber:iq:roster"/></iq>`, "forbidden"},
		// RFC 6121 §2.1.3: a roster get's <query/> MUST NOT contain items.
		{"get with an item", `<iq type="get" id="e"><query xmlns="jabber:iq:roster"><item jid="b@x"/></query></iq>`, "bad-request"},
		{"no jid", item(`<item name="x"/>`), "bad-request"},
		{"malformed jid", item(`<item jid="@x"/>`), "jid-malformed"},
		{"full jid", item(`<item jid="c@x/r"/>`), "bad-request"},
		{"name too long", item(`<item jid="c@x" name="123456"/>`), "not-acceptable"},
		{"empty group", item(`<item jid="c@x"><group></group></item>`), "not-acceptable"},
		{"group too long", item(`<item jid="c@x"><group>123456</group></item>`), "not-acceptable"},
		{"duplicate group", item(`<item jid="c@x"><group>g</group><group>g</group></item>`), "bad-request"},
		{"too many groups", item(`<item jid="c@x"><group>g</group><group>h</group><group>i</group></item>`), "not-acceptable"},
		{"remove unknown", item(`<item jid="c@x" subscription="remove"/>`), "item-not-found"},
		{"remove hidden", item(`<item jid="h@x" subscription="remove"/>`), "item-not-found"},
		{"roster full", item(`<item jid="c@x"/>`), "not-allowed"},
		{"to the server", `<iq type="get" id="e" to="x"><query xmlns="jabber:iq:roster"/></iq>`, "service-unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, cfg)
			e.bind("a@x/1")
			// Two visible items fill the roster; the hidden one does not count.
			for _, c := range []string{"b@x", "e@x"} {
				e.store.PutRosterItem(e.ctx, "a@x", storage.RosterItem{JID: c, Subscription: storage.SubNone}, true)
			}
			e.store.PutRosterItem(e.ctx, "a@x", storage.RosterItem{JID: "h@x", Subscription: storage.SubNone, PendingIn: true, Hidden: true}, true)
			if tc.name != "roster full" {
				e.store.DeleteRosterItem(e.ctx, "a@x", "e@x", true)
			}
			got := e.do("a@x/1", tc.send)
			if len(got) != 1 || !strings.Contains(got[0], `type="error"`) || !strings.Contains(got[0], "<"+tc.cond+" ") {
				t.Fatalf("got %q, want one %s error", got, tc.cond)
			}
			items, _, _ := e.store.Roster(e.ctx, "a@x")
			for _, it := range items {
				if it.JID == "c@x" || it.JID == "d@x" {
					t.Errorf("item %s stored despite the error", it.JID)
				}
			}
		})
	}
}

// TestHiddenAndUpdate checks the API the presence module uses and that
// Hidden items stay invisible until they carry something to show.
func TestHiddenAndUpdate(t *testing.T) {
	e := newEnv(t, roster.DefaultConfig())
	e.bind("a@x/1").SetInterested()

	// Nothing to record: nothing written.
	before, after, err := e.rost.Update(e.ctx, "a@x", "b@x", func(*storage.RosterItem) {})
	if err != nil || !before.Hidden || !after.Hidden {
		t.Fatalf("no-op update: %+v %+v %v", before, after, err)
	}
	if _, ok, _ := e.rost.Item(e.ctx, "a@x", "b@x"); ok {
		t.Fatal("no-op update stored an item")
	}
	// A pending request alone is hidden: stored, not pushed, not listed.
	_, after, err = e.rost.Update(e.ctx, "a@x", "b@x", func(it *storage.RosterItem) { it.PendingIn = true })
	if err != nil || !after.Hidden || !after.PendingIn {
		t.Fatalf("pending in: %+v %v", after, err)
	}
	routertest.Equal(t, "push for hidden item", e.conns["a@x/1"].Take())
	routertest.Equal(t, "roster with hidden item", e.do("a@x/1", `<iq type="get" id="g"><query xmlns="jabber:iq:roster"/></iq>`),
		`<iq type="result" id="g" to="a@x/1"><query xmlns="jabber:iq:roster"/></iq>`)
	// and the version stays (RFC 6121 §2.6: it changes with pushes only).
	routertest.Equal(t, "version after hidden item", e.do("a@x/1", `<iq type="get" id="v"><query xmlns="jabber:iq:roster" ver="0"/></iq>`),
		`<iq type="result" id="v" to="a@x/1"/>`)

	// Adding the contact shows it, keeping the state.
	routertest.Equal(t, "add hidden contact", e.do("a@x/1", `<iq type="set" id="s"><query xmlns="jabber:iq:roster"><item jid="b@x" name="B"/></query></iq>`),
		push("push1", "a@x/1", "1", `<item jid="b@x" name="B" subscription="none"/>`), `<iq type="result" id="s" to="a@x/1"/>`)
	it, ok, err := e.rost.Item(e.ctx, "a@x", "b@x")
	if err != nil || !ok || it.Hidden || !it.PendingIn || it.Name != "B" {
		t.Fatalf("item after add: %+v %v %v", it, ok, err)
	}

	// A subscription makes a hidden item visible by itself.
	_, after, _ = e.rost.Update(e.ctx, "a@x", "c@x", func(it *storage.RosterItem) { it.Subscription = storage.SubFrom })
	if after.Hidden {
		t.Error("item with a subscription stayed hidden")
	}
	routertest.Equal(t, "push for new subscription", e.conns["a@x/1"].Take(),
		push("push2", "a@x/1", "2", `<item jid="c@x" subscription="from"/>`))

	items, err := e.rost.Items(e.ctx, "a@x")
	if err != nil || len(items) != 2 {
		t.Fatalf("Items: %+v %v", items, err)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := roster.DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, mut := range []func(*roster.Config){
		func(c *roster.Config) { c.MaxItems = 0 },
		func(c *roster.Config) { c.MaxNameLength = 0 },
		func(c *roster.Config) { c.MaxGroupLength = -1 },
		func(c *roster.Config) { c.MaxGroups = 0 },
	} {
		c := roster.DefaultConfig()
		mut(&c)
		if c.Validate() == nil {
			t.Errorf("%+v validated", c)
		}
	}
}
