package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/server"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/storage/postgres"
	"github.com/skald-xmpp/skald/storage/postgres/pgtest"
)

// mamBodies runs an unfiltered MAM query over c and returns the bodies of
// the archived messages, in the order sent.
func mamBodies(t *testing.T, c *xmpptest.Conn, id string) []string {
	t.Helper()
	c.Send(`<iq type='set' id='` + id + `'><query xmlns='urn:xmpp:mam:2' queryid='` + id + `'/></iq>`)
	var bodies []string
	for {
		el := c.Next()
		if r := el.Child(nsMAM, "result"); el.Local == "message" && r != nil && r.Attr("queryid") == id {
			fwd := r.Child("urn:xmpp:forward:0", "forwarded")
			if m := fwd.Child("jabber:client", "message"); m != nil {
				bodies = append(bodies, m.ChildText("jabber:client", "body"))
			}
			continue
		}
		if el.Local == "iq" && el.Attr("id") == id {
			if el.Attr("type") != "result" || el.Child(nsMAM, "fin").Attr("complete") != "true" {
				t.Fatalf("query %s: %s", id, el)
			}
			return bodies
		}
	}
}

// TestPostgresEndToEnd: a server configured with storage.backend =
// "postgres" opens the database itself; over real sockets two clients
// chat, each one's MAM query returns the conversation, and the archive is
// in the database after the server has stopped.
func TestPostgresEndToEnd(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	admin, err := postgres.Open(ctx, dsn, postgres.Options{}) // as `skald user add` would
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob"} {
		if err := admin.CreateUser(ctx, u+"@localhost", xmpptest.Credentials(t, "pw-"+u)); err != nil {
			t.Fatal(err)
		}
	}
	admin.Close()

	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.C2S.StartTLSAddress = "127.0.0.1:0"
	cfg.C2S.DirectTLSAddress = ""
	cfg.Storage.Backend, cfg.Storage.DSN = config.BackendPostgres, dsn
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(ctx, cfg, testLogger(), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	srv.Start(ctx)
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			srv.Shutdown(sctx) // closes the store
		}
	}
	t.Cleanup(stop)
	if name := srv.Store.Name(); name != "postgres" {
		t.Fatalf("server runs on %q", name)
	}
	if _, ok := srv.Metrics.Value("skald_postgres_write_batches_total"); !ok {
		t.Error("skald_postgres_* metrics not registered")
	}
	addr, _ := srv.Addrs()
	s := &testServer{Server: srv, addr: addr}
	alice, bob := login(t, s, "alice", "phone"), login(t, s, "bob", "laptop")
	for _, c := range []*xmpptest.Conn{alice, bob} {
		c.Send(`<presence/>`) // available: messages to the bare JID reach it
		// A ping answered: the presence before it has been handled.
		c.Send(`<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>`)
		c.Expect(func(e *xml.Element) bool { return e.Local == "iq" && e.Attr("id") == "sync" })
	}
	chat := []struct {
		from, to   *xmpptest.Conn
		addr, body string
	}{
		{alice, bob, "bob@localhost", "hello bob"},
		{bob, alice, "alice@localhost", "hi alice"},
		{alice, bob, "bob@localhost", "how are you?"},
	}
	var want []string
	for _, m := range chat {
		m.from.Send(`<message to='` + m.addr + `' type='chat'><body>` + m.body + `</body></message>`)
		m.to.Expect(isMessageWithBody(m.body))
		want = append(want, m.body)
	}
	if got := mamBodies(t, alice, "a1"); !slices.Equal(got, want) {
		t.Errorf("alice's archive: %q, want %q", got, want)
	}
	if got := mamBodies(t, bob, "b1"); !slices.Equal(got, want) {
		t.Errorf("bob's archive: %q, want %q", got, want)
	}
	alice.Close()
	bob.Close()
	stop()

	st, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stats, err := st.ArchiveStats(ctx, "")
	if err != nil || stats["alice@localhost"] != 3 || stats["bob@localhost"] != 3 {
		t.Errorf("archive in the database after shutdown: %v %v, want 3 items each", stats, err)
	}
}

// TestPostgresUnreachableFallsBack: a postgres backend that cannot be
// opened leaves the server on memory, with the loud error and without the
// DSN's password in the log.
func TestPostgresUnreachableFallsBack(t *testing.T) {
	cfg := config.Default()
	cfg.Storage.Backend = config.BackendPostgres
	cfg.Storage.DSN = "postgres://skald:s3cret@127.0.0.1:1/skald?connect_timeout=2"
	var logs bytes.Buffer
	st, fallback := server.OpenStore(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	defer st.Close()
	if !fallback || st.Name() != "memory" {
		t.Errorf("OpenStore on an unreachable database: %s, fallback %v", st.Name(), fallback)
	}
	if !strings.Contains(logs.String(), "ARCHIVE STORAGE UNAVAILABLE") || !strings.Contains(logs.String(), "backend=postgres") {
		t.Errorf("no loud error:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("the password reached the log:\n%s", logs.String())
	}
}

// TestPEPPostgres: PEP runs on the postgres backend. Alice's publish
// reaches bob, a subscribed contact whose caps include the node's +notify;
// after a restart on the same database, bob's resource coming online gets
// alice's last item (it and the subscription are in the database) and can
// retrieve it.
func TestPEPPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	open := func() *postgres.Store {
		st, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	s := startServer(t, open(), nil)
	alice, bob := login(t, s, "alice", "phone"), login(t, s, "bob", "laptop")
	for _, c := range []*xmpptest.Conn{alice, bob} {
		c.Send(`<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>`)
		c.Expect(isID("r"))
	}
	announceCaps(t, alice, true, nsTune+"+notify")
	announceCaps(t, bob, false, nsTune+"+notify") // alice's caps: known, not asked
	mutualSubscription(alice, bob)
	publishTune(alice, "p1", "Yesterday")
	if ev := bob.Expect(isTuneEvent("Yesterday")); ev.Attr("from") != "alice@localhost" {
		t.Errorf("event to bob: %s", ev)
	}
	if res := alice.Expect(isID("p1")); res.Attr("type") != "result" {
		t.Fatalf("publish: %s", res)
	}
	alice.Close()
	bob.Close()
	if err := s.Shutdown(ctx); err != nil { // closes the store
		t.Fatal(err)
	}

	s2 := startServer(t, open(), nil)
	if name := s2.Store.Name(); name != "postgres" {
		t.Fatalf("server runs on %q", name)
	}
	bob = login(t, s2, "bob", "desk")
	announceCaps(t, bob, true, nsTune+"+notify")
	bob.Expect(isTuneEvent("Yesterday"))
	bob.Sendf(`<iq type='get' id='g1' to='alice@localhost'><pubsub xmlns='%s'><items node='%s'/></pubsub></iq>`, nsPubSub, nsTune)
	if el := bob.Expect(isID("g1")); el.Attr("type") != "result" || !strings.Contains(el.String(), "<title>Yesterday</title>") {
		t.Errorf("bob's retrieval after restart: %s", el)
	}
}
