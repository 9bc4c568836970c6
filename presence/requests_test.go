package presence_test

import (
	"context"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/presence"
	"github.com/skald-xmpp/skald/roster"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// newRequestsEnv is newEnv with pending requests kept in the store.
func newRequestsEnv(t *testing.T, users ...string) *env {
	t.Helper()
	ctx := context.Background()
	st := memory.New()
	for _, u := range users {
		if err := st.CreateUser(ctx, u, storage.Credentials{}); err != nil {
			t.Fatal(err)
		}
	}
	r := router.New(router.Config{Domains: []string{"x"}, Users: st})
	rost := roster.New(roster.DefaultConfig(), st, r)
	pres := presence.New(r, rost)
	pres.SetRequestStore(st)
	avail := &availObserver{}
	r.Register(rost, pres, avail)
	return &env{t: t, ctx: ctx, store: st, r: r, rost: rost, avail: avail, conns: map[string]*conn{}}
}

// RFC 6121 §3.1.3: a request that waits is delivered as it came to each
// new session until answered; one too large to keep comes without its
// content; an answered one is emptied from storage.
func TestKeptRequests(t *testing.T) {
	e := newRequestsEnv(t, "a@x", "b@x", "c@x")
	e.bind("a@x/1")
	e.bind("c@x/1")
	e.send("a@x/1", `<presence to="b@x" type="subscribe" id="s1"><status>hi</status><nick xmlns="http://jabber.org/protocol/nick">A</nick></presence>`)
	big := strings.Repeat("z", 5000)
	e.send("c@x/1", `<presence to="b@x" type="subscribe"><status>`+big+`</status></presence>`)
	e.drain()

	e.bind("b@x/1")
	e.send("b@x/1", `<presence/>`)
	got := e.take("b@x/1")
	want := []string{
		`<presence from="b@x/1" to="b@x"/>`,
		`<presence to="b@x" type="subscribe" id="s1" from="a@x"><status>hi</status><nick xmlns="http://jabber.org/protocol/nick">A</nick></presence>`,
		`<presence from="c@x" to="b@x" type="subscribe"/>`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("b@x/1 was sent:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}

	e.send("b@x/1", `<presence to="a@x" type="unsubscribed"/>`)
	e.send("b@x/1", `<presence to="c@x" type="subscribed"/>`)
	for _, peer := range []string{"a@x", "c@x"} {
		if doc, err := e.store.Document(e.ctx, "b@x", presence.RequestKind, peer); err == nil && len(doc) > 0 {
			t.Errorf("the answered request from %s is still kept: %s", peer, doc)
		}
	}
}
