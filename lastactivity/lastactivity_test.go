package lastactivity

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/presence"
	"github.com/skald-xmpp/skald/roster"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
)

func TestUptime(t *testing.T) {
	started := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		now      time.Time
		register bool
		in, want string
	}{{
		name:     "server uptime",
		now:      started.Add(903*time.Second + 999*time.Millisecond),
		register: true,
		in:       `<iq type="get" id="l1" to="example.org"><query xmlns="jabber:iq:last"/></iq>`,
		want:     `<iq xmlns="jabber:client" type="result" id="l1" from="example.org" to="romeo@example.org/orchard"><query xmlns="jabber:iq:last" seconds="903"/></iq>`,
	}, {
		name:     "clock set back",
		now:      started.Add(-time.Minute),
		register: true,
		in:       `<iq type="get" id="l1" to="example.org"><query xmlns="jabber:iq:last"/></iq>`,
		want:     `<iq xmlns="jabber:client" type="result" id="l1" from="example.org" to="romeo@example.org/orchard"><query xmlns="jabber:iq:last" seconds="0"/></iq>`,
	}, {
		name:     "not registered",
		now:      started,
		register: false,
		in:       `<iq type="get" id="l1" to="example.org"><query xmlns="jabber:iq:last"/></iq>`,
		want:     `<iq xmlns="jabber:client" id="l1" from="example.org" to="romeo@example.org/orchard" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := routertest.New(t, "romeo@example.org", "juliet@example.org")
			if tt.register {
				e.Router.Register(New(started, e.Store, nil, e.Router, func() time.Time { return tt.now }, nil))
			}
			s, rec := e.Bind("romeo@example.org/orchard", true, 0)
			e.Send(s, tt.in)
			routertest.Expect(t, rec, tt.want)
		})
	}
	// The server answers for accounts' bare JIDs too (§4), so their
	// disco#info, which it also answers, names the feature (§7).
	if f, acc := New(started, nil, nil, nil, nil, nil).DiscoFeatures(); len(f) != 1 || f[0] != NS || len(acc) != 1 || acc[0] != NS {
		t.Errorf("features = %v, account features = %v", f, acc)
	}
}

const (
	juliet = "juliet@example.org"
	romeo  = "romeo@example.org"
	nurse  = "nurse@example.org"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// accountEnv: juliet lets romeo see her presence (subscription 'from'),
// the nurse is in her roster without one; romeo asks from his orchard.
type accountEnv struct {
	*routertest.Env
	clock *clock
	mod   *Module
	romeo *router.Session
	rec   *routertest.Recorder
}

func newAccountEnv(t *testing.T) *accountEnv {
	e := routertest.New(t, romeo, juliet, nurse)
	ctx := context.Background()
	for _, it := range []storage.RosterItem{{JID: romeo, Subscription: storage.SubFrom}, {JID: nurse, Subscription: storage.SubTo}} {
		if _, err := e.Store.PutRosterItem(ctx, juliet, it, true); err != nil {
			t.Fatal(err)
		}
	}
	// The nurse's side of the 'to' subscription: without it, juliet's
	// presence probe at login would cancel it, and the nurse would ask
	// with no subscription at all rather than with 'to'.
	if _, err := e.Store.PutRosterItem(ctx, nurse, storage.RosterItem{JID: juliet, Subscription: storage.SubFrom}, true); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)}
	ros := roster.New(roster.DefaultConfig(), e.Store, e.Router)
	mod := New(c.t, e.Store, ros, e.Router, c.now, nil)
	e.Router.Register(ros, presence.New(e.Router, ros), mod)
	s, rec := e.Bind(romeo+"/orchard", false, 0)
	return &accountEnv{Env: e, clock: c, mod: mod, romeo: s, rec: rec}
}

// online binds full and sends its initial presence.
func (a *accountEnv) online(full string) *router.Session {
	s, _ := a.Bind(full, false, 0)
	a.Send(s, `<presence/>`)
	return s
}

// ask sends romeo's (or from's) query to juliet and returns the answer.
func (a *accountEnv) ask(from *router.Session, rec *routertest.Recorder) string {
	a.T.Helper()
	rec.Take()
	a.Send(from, `<iq type="get" id="q" to="juliet@example.org"><query xmlns="jabber:iq:last"/></iq>`)
	got := rec.Take()
	if len(got) != 1 {
		a.T.Fatalf("answers: %v", got)
	}
	return got[0]
}

func lastResult(to, query string) string {
	return `<iq xmlns="jabber:client" type="result" id="q" from="juliet@example.org" to="` + to + `">` + query + `</iq>`
}

func TestAccountLastActivity(t *testing.T) {
	unavailable := `<iq xmlns="jabber:client" id="q" from="juliet@example.org" to="romeo@example.org/orchard" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`
	t.Run("never online", func(t *testing.T) {
		a := newAccountEnv(t)
		routertest.Equal(t, "answer", []string{a.ask(a.romeo, a.rec)}, unavailable)
	})
	t.Run("online: seconds 0 (§4)", func(t *testing.T) {
		a := newAccountEnv(t)
		a.online(juliet + "/balcony")
		a.clock.advance(time.Hour)
		routertest.Equal(t, "answer", []string{a.ask(a.romeo, a.rec)}, lastResult(romeo+"/orchard", `<query xmlns="jabber:iq:last" seconds="0"/>`))
	})
	t.Run("logged out with status", func(t *testing.T) {
		a := newAccountEnv(t)
		bal := a.online(juliet + "/balcony")
		a.Send(bal, `<presence type="unavailable"><status>Heading Home</status></presence>`)
		a.clock.advance(903*time.Second + 500*time.Millisecond)
		routertest.Equal(t, "answer", []string{a.ask(a.romeo, a.rec)}, lastResult(romeo+"/orchard", `<query xmlns="jabber:iq:last" seconds="903">Heading Home</query>`))
		// The session ending afterwards is not a second logout.
		a.clock.advance(time.Minute)
		a.Router.Unbind(context.Background(), bal)
		a.clock.advance(time.Minute)
		routertest.Equal(t, "answer", []string{a.ask(a.romeo, a.rec)}, lastResult(romeo+"/orchard", `<query xmlns="jabber:iq:last" seconds="1023">Heading Home</query>`))
	})
	t.Run("session ended while available", func(t *testing.T) {
		a := newAccountEnv(t)
		bal := a.online(juliet + "/balcony")
		a.clock.advance(time.Minute)
		a.Router.Unbind(context.Background(), bal)
		a.clock.advance(42 * time.Second)
		routertest.Equal(t, "answer", []string{a.ask(a.romeo, a.rec)}, lastResult(romeo+"/orchard", `<query xmlns="jabber:iq:last" seconds="42"/>`))
	})
	t.Run("only the last resource counts", func(t *testing.T) {
		a := newAccountEnv(t)
		bal := a.online(juliet + "/balcony")
		chamber := a.online(juliet + "/chamber")
		a.Send(bal, `<presence type="unavailable"><status>first</status></presence>`)
		// Not a logout of the account: nothing written.
		if _, err := a.Store.Document(context.Background(), juliet, Kind, ""); err != storage.ErrNotFound {
			t.Errorf("stored while chamber is available: %v", err)
		}
		routertest.Equal(t, "answer", []string{a.ask(a.romeo, a.rec)}, lastResult(romeo+"/orchard", `<query xmlns="jabber:iq:last" seconds="0"/>`))
		a.clock.advance(10 * time.Second)
		a.Send(chamber, `<presence type="unavailable"><status>second</status></presence>`)
		a.clock.advance(5 * time.Second)
		routertest.Equal(t, "answer", []string{a.ask(a.romeo, a.rec)}, lastResult(romeo+"/orchard", `<query xmlns="jabber:iq:last" seconds="5">second</query>`))
		// Available again, then gone without a word: a new logout.
		a.Send(bal, `<presence/>`)
		a.clock.advance(time.Second)
		a.Send(bal, `<presence type="unavailable"/>`)
		a.clock.advance(2 * time.Second)
		routertest.Equal(t, "answer", []string{a.ask(a.romeo, a.rec)}, lastResult(romeo+"/orchard", `<query xmlns="jabber:iq:last" seconds="2"/>`))
	})
	t.Run("subscription 'to' only: forbidden (§4)", func(t *testing.T) {
		a := newAccountEnv(t)
		bal := a.online(juliet + "/balcony")
		a.Send(bal, `<presence type="unavailable"/>`)
		if it, _ := a.Store.RosterItem(context.Background(), juliet, nurse); it.Subscription != storage.SubTo {
			t.Fatalf("juliet's item for the nurse: %+v", it)
		}
		n, rec := a.Bind(nurse+"/kitchen", false, 0)
		routertest.Equal(t, "answer", []string{a.ask(n, rec)}, `<iq xmlns="jabber:client" id="q" from="juliet@example.org" to="nurse@example.org/kitchen" type="error"><error type="auth"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)
	})
	t.Run("not in the roster: forbidden (§4)", func(t *testing.T) {
		a := newAccountEnv(t)
		bal := a.online(juliet + "/balcony")
		a.Send(bal, `<presence type="unavailable"/>`)
		s, rec := a.Bind("tybalt@example.org/street", false, 0)
		routertest.Equal(t, "answer", []string{a.ask(s, rec)}, `<iq xmlns="jabber:client" id="q" from="juliet@example.org" to="tybalt@example.org/street" type="error"><error type="auth"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)
	})
	t.Run("the account itself", func(t *testing.T) {
		a := newAccountEnv(t)
		bal := a.online(juliet + "/balcony")
		a.Send(bal, `<presence type="unavailable"><status>zzz</status></presence>`)
		a.clock.advance(3 * time.Second)
		s, rec := a.Bind(juliet+"/phone", false, 0)
		routertest.Equal(t, "answer", []string{a.ask(s, rec)}, `<iq xmlns="jabber:client" type="result" id="q" to="juliet@example.org/phone"><query xmlns="jabber:iq:last" seconds="3">zzz</query></iq>`)
	})
	t.Run("account deleted while online", func(t *testing.T) {
		a := newAccountEnv(t)
		bal := a.online(juliet + "/balcony")
		ctx := context.Background()
		if err := a.Store.DeleteUser(ctx, juliet); err != nil {
			t.Fatal(err)
		}
		a.Router.Unbind(ctx, bal)
		if _, err := a.Store.Document(ctx, juliet, Kind, ""); err != storage.ErrNotFound {
			t.Errorf("record of a deleted account: %v", err)
		}
	})
	t.Run("status cut to MaxStatusBytes", func(t *testing.T) {
		a := newAccountEnv(t)
		bal := a.online(juliet + "/balcony")
		a.Send(bal, `<presence type="unavailable"><status>`+"a"+strings.Repeat("é", MaxStatusBytes)+`</status></presence>`)
		b, err := a.Store.Document(context.Background(), juliet, Kind, "")
		if err != nil {
			t.Fatal(err)
		}
		_, status, err := decode(b)
		if err != nil || len(status) != MaxStatusBytes-1 || !strings.HasPrefix(status, "aé") {
			t.Errorf("stored status of %d bytes: %v", len(status), err)
		}
	})
}

type blockAll struct{}

func (blockAll) Blocks(context.Context, string, jid.JID) (bool, error) { return true, nil }

type remoteRecorder struct {
	mu   sync.Mutex
	sent []string
}

func (r *remoteRecorder) SendRemote(st *xml.Element, _, _ jid.JID) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, st.String())
	return nil
}

// TestRemoteRequester: a contact of another server with a subscription
// is answered, unless the account blocks it.
func TestRemoteRequester(t *testing.T) {
	for _, blocked := range []bool{false, true} {
		a := newAccountEnv(t)
		if _, err := a.Store.PutRosterItem(context.Background(), juliet, storage.RosterItem{JID: "tybalt@remote.example", Subscription: storage.SubBoth}, true); err != nil {
			t.Fatal(err)
		}
		if blocked {
			a.mod.SetBlocker(blockAll{})
		}
		remote := &remoteRecorder{}
		a.Router.SetRemote(remote)
		bal := a.online(juliet + "/balcony")
		a.Send(bal, `<presence type="unavailable"/>`)
		a.clock.advance(7 * time.Second)
		remote.sent = nil
		st := routertest.Parse(t, `<iq from="tybalt@remote.example/x" to="juliet@example.org" type="get" id="r"><query xmlns="jabber:iq:last"/></iq>`)
		if err := a.Router.HandleFromRemote(context.Background(), "remote.example", st); err != nil {
			t.Fatal(err)
		}
		want := `seconds="7"`
		if blocked {
			want = "<forbidden"
		}
		if len(remote.sent) != 1 || !strings.Contains(remote.sent[0], want) {
			t.Errorf("blocked %v: answered %v", blocked, remote.sent)
		}
	}
}
