package server_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/lastactivity"
	"github.com/skald-xmpp/skald/storage"
)

// TestAccountLastActivityOverSocket: XEP-0012 §4 on a real server. A
// contact with a subscription learns 0 while the account is online, then
// the seconds since its logout and its status; an entity without one gets
// forbidden; the record goes with the account when it is deleted.
func TestAccountLastActivityOverSocket(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	bob := login(t, s, "bob", "desk")
	carol := login(t, s, "carol", "tablet")
	for _, c := range []interface{ Send(string) }{alice, bob} {
		c.Send(`<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>`)
		c.Send(`<presence/>`)
	}
	mutualSubscription(alice, bob)
	askBob := func(id string) (string, *xml.Element) {
		return ask(t, alice, id, `<iq type='get' id='`+id+`' to='bob@localhost'><query xmlns='jabber:iq:last'/></iq>`)
	}
	if cond, el := askBob("l1"); cond != "result" || el.Child(lastactivity.NS, "query").Attr("seconds") != "0" {
		t.Fatalf("bob online: %s", el)
	}

	bob.Send(`<presence type='unavailable'><status>Gone fishing</status></presence>`)
	alice.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("type") == "unavailable" })
	cond, el := askBob("l2")
	q := el.Child(lastactivity.NS, "query")
	if secs, err := strconv.Atoi(q.Attr("seconds")); cond != "result" || err != nil || secs < 0 || secs > 60 || q.Text() != "Gone fishing" {
		t.Fatalf("bob offline: %s", el)
	}

	if cond, el := ask(t, carol, "l3", `<iq type='get' id='l3' to='bob@localhost'><query xmlns='jabber:iq:last'/></iq>`); cond != "forbidden" {
		t.Errorf("carol without subscription: %s", el)
	}

	ctx := context.Background()
	if _, err := s.Store.Document(ctx, "bob@localhost", lastactivity.Kind, ""); err != nil {
		t.Fatalf("bob's logout not stored: %v", err)
	}
	if cond, el := ask(t, bob, "x1", `<iq type='set' id='x1'><query xmlns='jabber:iq:register'><remove/></query></iq>`); cond != "result" {
		t.Fatalf("cancel: %s", el)
	}
	if _, err := s.Store.Document(ctx, "bob@localhost", lastactivity.Kind, ""); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("bob's logout outlived his account: %v", err)
	}
}
