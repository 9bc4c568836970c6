package offline

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// fakeArchive marks messages whose body starts with "archived" as held by
// the recipient's archive, as the archive module's inbound hook would.
type fakeArchive struct{}

func (fakeArchive) Name() string { return "archive" }

func (fakeArchive) InboundMessage(_ context.Context, ev *router.MessageEvent) error {
	ev.Archived = strings.HasPrefix(ev.Stanza.ChildText(ev.Stanza.Space, "body"), "archived")
	return nil
}

// fakeChecker is the archive as the MAMQueried rule asks it: it holds the
// "archived" messages but for those whose body is in dropped (lost to
// expiry or archive_max_items since). asked counts the stanzas asked about.
type fakeChecker struct {
	dropped map[string]bool
	asked   int
}

func (c *fakeChecker) StillArchived(_ context.Context, owner string, stanzas []*xml.Element) ([]bool, error) {
	held := make([]bool, len(stanzas))
	for i, st := range stanzas {
		body := st.ChildText(st.Space, "body")
		held[i] = owner == "juliet@example.org" && strings.HasPrefix(body, "archived") && !c.dropped[body]
	}
	c.asked += len(stanzas)
	return held, nil
}

var stamp = time.Date(2024, 1, 2, 3, 4, 5, 678, time.FixedZone("X", 3600))

// setup registers the module (after the fake archive) and binds
// romeo/orchard, who sends the messages; juliet has no session.
func setup(t *testing.T, max int) (*routertest.Env, *Module, *router.Session, *routertest.Recorder) {
	e := routertest.New(t, "romeo@example.org", "juliet@example.org")
	m := New(Config{MaxMessages: max}, e.Store, nil)
	m.now = func() time.Time { return stamp }
	m.SetArchiveChecker(&fakeChecker{})
	e.Router.Register(fakeArchive{}, m)
	s, rec := e.Bind("romeo@example.org/orchard", true, 0)
	return e, m, s, rec
}

// online binds juliet/balcony and sends her initial presence.
func online(e *routertest.Env, resource string, priority int, mamQueried bool) *routertest.Recorder {
	s, rec := e.Bind("juliet@example.org/"+resource, true, priority)
	if mamQueried {
		s.SetMAMQueried()
	}
	e.Router.NotifyAvailable(context.Background(), s)
	return rec
}

const delay = `<delay xmlns="urn:xmpp:delay" from="example.org" stamp="2024-01-02T02:04:05Z">Offline Storage</delay>`

func bounce(inner string) string {
	return `<message xmlns="jabber:client" from="juliet@example.org" to="romeo@example.org/orchard" type="error">` + inner +
		`<error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`
}

func TestStore(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		stored string // what juliet gets later; "" = not stored
		bounce string // what romeo gets now
	}{{
		name:   "chat with body",
		in:     `<message type="chat" to="juliet@example.org" id="1"><body>hi</body></message>`,
		stored: `<message xmlns="jabber:client" type="chat" to="juliet@example.org" id="1" from="romeo@example.org/orchard"><body>hi</body>` + delay + `</message>`,
	}, {
		name:   "normal without type",
		in:     `<message to="juliet@example.org"><subject>s</subject></message>`,
		stored: `<message xmlns="jabber:client" to="juliet@example.org" from="romeo@example.org/orchard"><subject>s</subject>` + delay + `</message>`,
	}, {
		// RFC 6121 §8.5.3.2.1: a normal message to a resource that is
		// not there is ignored or bounced, not treated as if to the bare
		// JID (only chat is).
		name:   "normal without type, to a full JID: bounced",
		in:     `<message to="juliet@example.org/balcony"><subject>s</subject></message>`,
		bounce: `<message xmlns="jabber:client" from="juliet@example.org/balcony" to="romeo@example.org/orchard" type="error"><subject>s</subject><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`,
	}, {
		name:   "chat to a full JID",
		in:     `<message type="chat" to="juliet@example.org/balcony"><body>b</body></message>`,
		stored: `<message xmlns="jabber:client" type="chat" to="juliet@example.org/balcony" from="romeo@example.org/orchard"><body>b</body>` + delay + `</message>`,
	}, {
		name:   "receipt without body",
		in:     `<message to="juliet@example.org"><received xmlns="urn:xmpp:receipts" id="1"/></message>`,
		stored: `<message xmlns="jabber:client" to="juliet@example.org" from="romeo@example.org/orchard"><received xmlns="urn:xmpp:receipts" id="1"/>` + delay + `</message>`,
	}, {
		name:   "chat state alone: bounced",
		in:     `<message type="chat" to="juliet@example.org"><active xmlns="http://jabber.org/protocol/chatstates"/><thread>t</thread><origin-id xmlns="urn:xmpp:sid:0" id="o"/></message>`,
		bounce: bounce(`<active xmlns="http://jabber.org/protocol/chatstates"/><thread>t</thread><origin-id xmlns="urn:xmpp:sid:0" id="o"/>`),
	}, {
		name:   "chat state with the store hint",
		in:     `<message type="chat" to="juliet@example.org"><gone xmlns="http://jabber.org/protocol/chatstates"/><store xmlns="urn:xmpp:hints"/></message>`,
		stored: `<message xmlns="jabber:client" type="chat" to="juliet@example.org" from="romeo@example.org/orchard"><gone xmlns="http://jabber.org/protocol/chatstates"/><store xmlns="urn:xmpp:hints"/>` + delay + `</message>`,
	}, {
		name:   "no-store hint: bounced",
		in:     `<message type="chat" to="juliet@example.org"><body>hi</body><no-store xmlns="urn:xmpp:hints"/></message>`,
		bounce: bounce(`<body>hi</body><no-store xmlns="urn:xmpp:hints"/>`),
	}, {
		name: "no-store hint, archived: neither stored nor bounced",
		in:   `<message type="chat" to="juliet@example.org"><body>archived</body><no-store xmlns="urn:xmpp:hints"/></message>`,
	}, {
		name: "headline: dropped",
		in:   `<message type="headline" to="juliet@example.org"><body>news</body></message>`,
	}, {
		name: "error: dropped",
		in:   `<message type="error" to="juliet@example.org"><body>x</body></message>`,
	}, {
		name:   "groupchat: bounced",
		in:     `<message type="groupchat" to="juliet@example.org"><body>x</body></message>`,
		bounce: bounce(`<body>x</body>`),
	}, {
		name:   "empty message: bounced",
		in:     `<message to="juliet@example.org"/>`,
		bounce: `<message xmlns="jabber:client" from="juliet@example.org" to="romeo@example.org/orchard" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, romeo, rec := setup(t, 10)
			e.Send(romeo, tt.in)
			if tt.bounce != "" {
				routertest.Expect(t, rec, tt.bounce)
			} else {
				routertest.Expect(t, rec)
			}
			var want []string
			if tt.stored != "" {
				want = append(want, tt.stored)
			}
			routertest.Expect(t, online(e, "balcony", 0, false), want...)
		})
	}
}

func TestDeliver(t *testing.T) {
	msg := func(body string) string {
		return `<message type="chat" to="juliet@example.org"><body>` + body + `</body></message>`
	}
	out := func(body string) string {
		return `<message xmlns="jabber:client" type="chat" to="juliet@example.org" from="romeo@example.org/orchard"><body>` + body + `</body>` + delay + `</message>`
	}

	t.Run("in order, once", func(t *testing.T) {
		e, _, romeo, _ := setup(t, 10)
		for _, b := range []string{"one", "archived two", "three"} {
			e.Send(romeo, msg(b))
		}
		routertest.Expect(t, online(e, "balcony", 1, false), out("one"), out("archived two"), out("three"))
		routertest.Expect(t, online(e, "chamber", 1, false))
	})

	t.Run("after a MAM query, archived messages are skipped but deleted", func(t *testing.T) {
		e, _, romeo, _ := setup(t, 10)
		for _, b := range []string{"one", "archived two", "three"} {
			e.Send(romeo, msg(b))
		}
		routertest.Expect(t, online(e, "balcony", 0, true), out("one"), out("three"))
		rest, err := e.Store.OfflineMessages(context.Background(), "juliet@example.org")
		if err != nil || len(rest) != 0 {
			t.Errorf("left in storage: %d, %v", len(rest), err)
		}
	})

	// Archives lose their oldest items (expiry, archive_max_items): a
	// message whose copy is gone is sent even after a MAM query.
	t.Run("after a MAM query, a message the archive no longer holds is sent", func(t *testing.T) {
		e, m, romeo, _ := setup(t, 10)
		checker := &fakeChecker{dropped: map[string]bool{"archived one": true}}
		m.SetArchiveChecker(checker)
		for _, b := range []string{"archived one", "archived two", "three"} {
			e.Send(romeo, msg(b))
		}
		routertest.Expect(t, online(e, "balcony", 0, true), out("archived one"), out("three"))
		if checker.asked != 2 {
			t.Errorf("archive asked about %d messages, want the 2 archived ones", checker.asked)
		}
	})

	// A client that queried its archive before its initial presence (or
	// bound with XEP-0386 Bind 2 and queried then) saw what the archive
	// held when it asked: a message stored offline after that is in no
	// answer it got, and is sent, not deleted unseen.
	t.Run("a message stored after the MAM query is sent", func(t *testing.T) {
		e, m, romeo, _ := setup(t, 10)
		m.now = time.Now
		e.Send(romeo, msg("archived one"))
		time.Sleep(2 * time.Millisecond)
		juliet, rec := e.Bind("juliet@example.org/balcony", false, 0)
		juliet.SetMAMQueried()
		time.Sleep(2 * time.Millisecond)
		e.Send(romeo, msg("archived two"))
		e.Send(romeo, msg("three"))
		juliet.SetPresence(xml.New(stanza.NSClient, "presence"), 0)
		e.Router.NotifyAvailable(context.Background(), juliet)
		var bodies []string
		for _, st := range rec.Take() {
			bodies = append(bodies, routertest.Parse(t, st).ChildText(stanza.NSClient, "body"))
		}
		routertest.Equal(t, "delivered bodies", bodies, "archived two", "three")
		rest, err := e.Store.OfflineMessages(context.Background(), "juliet@example.org")
		if err != nil || len(rest) != 0 {
			t.Errorf("left in storage: %d, %v", len(rest), err)
		}
	})

	// A client that pages its archive back from the newest item (<before/>)
	// never sees what was archived after its first page: a later page does
	// not make a message stored in between the archive's to deliver.
	t.Run("a message stored between two MAM queries is sent", func(t *testing.T) {
		e, m, romeo, _ := setup(t, 10)
		m.now = time.Now
		juliet, rec := e.Bind("juliet@example.org/balcony", false, 0)
		juliet.SetMAMQueried()
		time.Sleep(2 * time.Millisecond)
		e.Send(romeo, msg("archived between"))
		time.Sleep(2 * time.Millisecond)
		juliet.SetMAMQueried()
		juliet.SetPresence(xml.New(stanza.NSClient, "presence"), 0)
		e.Router.NotifyAvailable(context.Background(), juliet)
		var bodies []string
		for _, st := range rec.Take() {
			bodies = append(bodies, routertest.Parse(t, st).ChildText(stanza.NSClient, "body"))
		}
		routertest.Equal(t, "delivered bodies", bodies, "archived between")
	})

	// A Bind 2 session's catch-up query returns what was archived between
	// the bind and the query: that is not sent again.
	t.Run("a catch-up query after Bind 2 covers what came before it", func(t *testing.T) {
		e, m, romeo, _ := setup(t, 10)
		m.now = time.Now
		juliet, rec := e.Bind("juliet@example.org/balcony", false, 0)
		juliet.SetMAMBound()
		time.Sleep(2 * time.Millisecond)
		e.Send(romeo, msg("archived between"))
		time.Sleep(2 * time.Millisecond)
		juliet.SetMAMQueried()
		juliet.SetPresence(xml.New(stanza.NSClient, "presence"), 0)
		e.Router.NotifyAvailable(context.Background(), juliet)
		routertest.Expect(t, rec)
	})

	t.Run("negative priority gets nothing; the next session does", func(t *testing.T) {
		e, _, romeo, _ := setup(t, 10)
		e.Send(romeo, msg("one"))
		routertest.Expect(t, online(e, "lurk", -1, false))
		routertest.Expect(t, online(e, "balcony", 0, false), out("one"))
	})

	t.Run("per-user cap", func(t *testing.T) {
		e, _, romeo, rec := setup(t, 2)
		e.Send(romeo, msg("one"))
		e.Send(romeo, msg("two"))
		e.Send(romeo, msg("three"))
		routertest.Expect(t, rec, bounce(`<body>three</body>`))
		e.Send(romeo, msg("archived four")) // not stored either, but not lost
		routertest.Expect(t, rec)
		routertest.Expect(t, online(e, "balcony", 0, false), out("one"), out("two"))
		e.Send(romeo, msg("five")) // juliet is online now
		routertest.Expect(t, rec)
	})
}

func TestDeliverFailures(t *testing.T) {
	msg := func(body string) string {
		return `<message type="chat" to="juliet@example.org"><body>` + body + `</body></message>`
	}
	out := func(body string) string {
		return `<message xmlns="jabber:client" type="chat" to="juliet@example.org" from="romeo@example.org/orchard"><body>` + body + `</body>` + delay + `</message>`
	}

	t.Run("a refusing queue keeps the rest stored", func(t *testing.T) {
		e, _, romeo, _ := setup(t, 10)
		for _, b := range []string{"one", "two", "three"} {
			e.Send(romeo, msg(b))
		}
		q := &routertest.Recorder{}
		q.RefuseAfter(1)
		s := router.NewSession(jid.MustParse("juliet@example.org/slow"), "test", q)
		e.Router.Bind(context.Background(), s)
		s.SetPresence(xml.New(stanza.NSClient, "presence"), 0)
		e.Router.NotifyAvailable(context.Background(), s)
		routertest.Expect(t, q, out("one"))
		e.Router.Unbind(context.Background(), s)
		routertest.Expect(t, online(e, "balcony", 0, false), out("two"), out("three"))
	})

	t.Run("an unreadable stored stanza is dropped", func(t *testing.T) {
		e, m, romeo, _ := setup(t, 10)
		e.Send(romeo, msg("one"))
		err := m.store.StoreOffline(context.Background(), "juliet@example.org", storage.OfflineMessage{Stanza: []byte("<message><body>")}, 0)
		if err != nil {
			t.Fatal(err)
		}
		e.Send(romeo, msg("two"))
		routertest.Expect(t, online(e, "balcony", 0, false), out("one"), out("two"))
		routertest.Expect(t, online(e, "chamber", 0, false))
	})
}

func TestFeatures(t *testing.T) {
	server, account := New(DefaultConfig(), nil, nil).DiscoFeatures()
	if len(server) != 1 || server[0] != "msgoffline" || account != nil {
		t.Errorf("DiscoFeatures() = %v, %v", server, account)
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		cfg Config
		ok  bool
	}{
		{DefaultConfig(), true},
		{Config{MaxMessages: 1}, true},
		{Config{MaxMessages: 0}, false},
		{Config{MaxMessages: -1}, false},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v.Validate() = %v", tt.cfg, err)
		}
	}
	if DefaultConfig().MaxMessages != 1000 {
		t.Errorf("DefaultConfig() = %+v", DefaultConfig())
	}
}

// blockRomeo blocks romeo@example.org for juliet.
type blockRomeo struct{}

func (blockRomeo) Blocks(_ context.Context, owner string, peer jid.JID) (bool, error) {
	return owner == "juliet@example.org" && peer.Bare().String() == "romeo@example.org", nil
}

// TestDeliverBlocked: a message stored before its sender was blocked is
// not delivered, and is discarded (XEP-0191 §3.3).
func TestDeliverBlocked(t *testing.T) {
	e, m, romeo, _ := setup(t, 10)
	e.Send(romeo, `<message type="chat" to="juliet@example.org"><body>before the block</body></message>`)
	m.SetBlocker(blockRomeo{})
	routertest.Expect(t, online(e, "balcony", 0, false))
	rest, err := e.Store.OfflineMessages(context.Background(), "juliet@example.org")
	if err != nil || len(rest) != 0 {
		t.Errorf("left in storage: %d, %v", len(rest), err)
	}
}
