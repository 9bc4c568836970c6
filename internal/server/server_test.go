package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/server"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

type testServer struct {
	*server.Server
	addr, tlsAddr string
}

func testLogger() *slog.Logger {
	if os.Getenv("SKALD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startServer runs a complete server on loopback with the given store
// (memory if nil) and accounts alice, bob, carol (password "pw-NAME"),
// made unless the store has them already.
func startServer(t testing.TB, st storage.Store, tweak func(*config.Config)) *testServer {
	t.Helper()
	return startServerConfig(t, config.Default(), st, tweak)
}

// startServerConfig is startServer on cfg (a loaded file, for module
// sections).
func startServerConfig(t testing.TB, cfg *config.Config, st storage.Store, tweak func(*config.Config)) *testServer {
	t.Helper()
	cfg.DataDir = t.TempDir()
	cfg.C2S.StartTLSAddress = "127.0.0.1:0"
	cfg.C2S.DirectTLSAddress = "127.0.0.1:0"
	if tweak != nil {
		tweak(cfg)
	}
	if st == nil {
		st = memory.New()
	}
	ctx := context.Background()
	for _, u := range []string{"alice", "bob", "carol"} {
		// ErrExists: a store reopened for a restart keeps its accounts.
		if err := st.CreateUser(ctx, u+"@localhost", xmpptest.Credentials(t, "pw-"+u)); err != nil && !errors.Is(err, storage.ErrExists) {
			t.Fatal(err)
		}
	}
	srv, err := server.New(ctx, cfg, testLogger(), server.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	srv.Start(ctx)
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	a, d := srv.Addrs()
	return &testServer{Server: srv, addr: a, tlsAddr: d}
}

func login(t testing.TB, s *testServer, user, resource string) *xmpptest.Conn {
	t.Helper()
	c := xmpptest.Dial(t, s.addr)
	c.Login("localhost", user, "pw-"+user, resource)
	return c
}

// mutualSubscription has alice (online as alice@localhost/phone) and bob,
// both online with their rosters requested, subscribe to each other, and
// returns once bob has seen alice/phone's presence.
func mutualSubscription(alice, bob *xmpptest.Conn) {
	alice.Send(`<presence to='bob@localhost' type='subscribe'/>`)
	bob.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("type") == "subscribe" })
	bob.Send(`<presence to='alice@localhost' type='subscribed'/>`)
	bob.Send(`<presence to='alice@localhost' type='subscribe'/>`)
	alice.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("type") == "subscribe" })
	alice.Send(`<presence to='bob@localhost' type='subscribed'/>`)
	bob.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("from") == "alice@localhost/phone" })
}

func isMessageWithBody(body string) func(*xml.Element) bool {
	return func(e *xml.Element) bool { return e.Local == "message" && e.ChildText("", "body") == body }
}

// TestChatEndToEnd walks the newcomer's path: two users become contacts,
// see each other online, chat, and a second device sees carbons; the
// archive then holds the conversation.
func TestChatEndToEnd(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	alice.Send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	alice.Expect(func(e *xml.Element) bool { return e.Attr("id") == "r1" })
	alice.Send(`<presence/>`)
	bob := login(t, s, "bob", "laptop")
	bob.Send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	bob.Expect(func(e *xml.Element) bool { return e.Attr("id") == "r1" })
	bob.Send(`<presence/>`)

	// Subscription both ways.
	mutualSubscription(alice, bob)
	bob.Send(`<presence><status>here</status></presence>`)
	alice.Expect(func(e *xml.Element) bool {
		return e.Local == "presence" && e.ChildText("", "status") == "here" && strings.HasPrefix(e.Attr("from"), "bob@localhost/")
	})

	// A second device of alice's with carbons.
	tablet := login(t, s, "alice", "tablet")
	tablet.Send(`<iq type='set' id='c1'><enable xmlns='urn:xmpp:carbons:2'/></iq>`)
	tablet.Expect(func(e *xml.Element) bool { return e.Attr("id") == "c1" && e.Attr("type") == "result" })
	tablet.Send(`<presence><priority>-1</priority></presence>`)
	// A ping round trip: the presence has been processed once it returns.
	tablet.Send(`<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`)
	tablet.Expect(func(e *xml.Element) bool { return e.Attr("id") == "p1" })

	bob.Send(`<message to='alice@localhost/phone' type='chat' id='m1'><body>hello alice</body></message>`)
	got := alice.Expect(isMessageWithBody("hello alice"))
	sid := got.Child("urn:xmpp:sid:0", "stanza-id")
	if sid == nil || sid.Attr("by") != "alice@localhost" || sid.Attr("id") == "" {
		t.Fatalf("delivered message lacks our stanza-id: %s", got)
	}
	carbon := tablet.Expect(func(e *xml.Element) bool { return e.Child("urn:xmpp:carbons:2", "received") != nil })
	inner := carbon.Child("urn:xmpp:carbons:2", "received").Child("urn:xmpp:forward:0", "forwarded").Child("jabber:client", "message")
	if inner.ChildText("", "body") != "hello alice" {
		t.Fatalf("carbon copy: %s", carbon)
	}

	// The archive has it, with the same id.
	alice.Send(`<iq type='set' id='q1'><query xmlns='urn:xmpp:mam:2' queryid='f1'/></iq>`)
	res := alice.Expect(func(e *xml.Element) bool { return e.Child("urn:xmpp:mam:2", "result") != nil })
	if id := res.Child("urn:xmpp:mam:2", "result").Attr("id"); id != sid.Attr("id") {
		t.Fatalf("archive id %s, stanza-id %s", id, sid.Attr("id"))
	}
	fin := alice.Expect(func(e *xml.Element) bool { return e.Attr("id") == "q1" })
	if fin.Child("urn:xmpp:mam:2", "fin").Attr("complete") != "true" {
		t.Fatalf("fin: %s", fin)
	}
}

// TestOfflineDelivery stores a message for a user who is offline and
// delivers it at the next available presence.
func TestOfflineDelivery(t *testing.T) {
	s := startServer(t, nil, nil)
	bob := login(t, s, "bob", "b")
	bob.Send(`<message to='carol@localhost' type='chat'><body>while you were out</body></message>`)
	carol := login(t, s, "carol", "c")
	carol.Send(`<presence/>`)
	m := carol.Expect(isMessageWithBody("while you were out"))
	if m.Child("urn:xmpp:delay", "delay") == nil {
		t.Fatalf("offline message without delay: %s", m)
	}
}

// TestUnknownRecipient checks that a message to an account that does not
// exist is bounced with service-unavailable.
func TestUnknownRecipient(t *testing.T) {
	s := startServer(t, nil, nil)
	bob := login(t, s, "bob", "b")
	bob.Send(`<message to='nobody@localhost' type='chat' id='x1'><body>hi</body></message>`)
	e := bob.Expect(func(e *xml.Element) bool { return e.Attr("id") == "x1" })
	if e.Attr("type") != "error" || e.Child("", "error").Child("urn:ietf:params:xml:ns:xmpp-stanzas", "service-unavailable") == nil {
		t.Fatalf("got %s", e)
	}
}

// TestMessageTypeRoutingOverSocket checks RFC 6121 §8.5 on the wire: an
// error message to a bare JID is silently ignored (§8.5.2.1.1), a normal
// one to a resource that is not there is bounced with service-unavailable
// (§8.5.3.2.1) and neither delivered to another resource nor stored, and a
// chat one to that resource goes to the bare JID's resources.
func TestMessageTypeRoutingOverSocket(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "a")
	bob := login(t, s, "bob", "b")
	bob.Send(`<presence/>`)
	bob.Expect(func(e *xml.Element) bool { return e.Local == "presence" })

	alice.Send(`<message to='bob@localhost' type='error' id='e1'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`)
	alice.Send(`<message to='bob@localhost/gone' id='n1'><body>normal</body></message>`)
	bounce := alice.Expect(func(e *xml.Element) bool { return e.Attr("id") == "n1" })
	if bounce.Attr("type") != "error" || bounce.Attr("from") != "bob@localhost/gone" ||
		bounce.Child("", "error").Child("urn:ietf:params:xml:ns:xmpp-stanzas", "service-unavailable") == nil {
		t.Fatalf("bounce: %s", bounce)
	}
	alice.Send(`<message to='bob@localhost/gone' type='chat' id='c1'><body>chat</body></message>`)
	// The chat message is the first thing bob gets: neither the error nor
	// the normal message reached him.
	if got := bob.Next(); got.Attr("id") != "c1" {
		t.Fatalf("bob got %s, want the chat message c1", got)
	}
}

// TestOfflineDeliveryWhenPriorityTurnsNonNegative: a session that came
// online with a negative priority takes no messages to the bare JID
// (RFC 6121 §8.5.2.1.1), so offline messages wait; once it sends
// presence with a non-negative priority it takes them (XEP-0160 §2), and
// they must not wait for the next login.
func TestOfflineDeliveryWhenPriorityTurnsNonNegative(t *testing.T) {
	s := startServer(t, nil, nil)
	bob := login(t, s, "bob", "b")
	bob.Send(`<message to='carol@localhost' type='chat'><body>stored before</body></message>`)
	carol := login(t, s, "carol", "c")
	carol.Send(`<presence><priority>-1</priority></presence>`)
	noMoreStanzas(t, carol, "p1") // nothing delivered at negative priority
	bob.Send(`<message to='carol@localhost' type='chat'><body>stored while negative</body></message>`)
	noMoreStanzas(t, bob, "p2")
	noMoreStanzas(t, carol, "p3")
	carol.Send(`<presence><priority>0</priority></presence>`)
	carol.Expect(isMessageWithBody("stored before"))
	carol.Expect(isMessageWithBody("stored while negative"))
	// Delivered once: a further presence change brings nothing again.
	carol.Send(`<presence><priority>1</priority></presence>`)
	noMoreStanzas(t, carol, "p4")
}
