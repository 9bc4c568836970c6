package muc_test

import (
	"context"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
)

// dormantConn is a recording transport whose dormancy a test sets.
type dormantConn struct {
	routertest.Recorder
	dormant atomic.Bool
}

func (c *dormantConn) Dormant() bool { return c.dormant.Load() }

// groupchatLog is a GroupchatObserver that keeps what it is told.
type groupchatLog struct {
	mu   sync.Mutex
	told []string // "body: nick(own) ..."
}

func (*groupchatLog) Name() string { return "groupchat log" }

func (g *groupchatLog) GroupchatQueued(_ context.Context, msg *xml.Element, to []router.GroupchatRecipient) {
	var rs []string
	for _, rc := range to {
		r := rc.Session.JID().String() + " " + rc.Nick
		if rc.Own {
			r += " own"
		}
		rs = append(rs, r)
	}
	sort.Strings(rs)
	body := msg.Child("jabber:client", "body").Text()
	g.mu.Lock()
	g.told = append(g.told, body+": "+strings.Join(rs, ", "))
	g.mu.Unlock()
}

func (g *groupchatLog) take() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := g.told
	g.told = nil
	return out
}

// TestGroupchatObservers: the room tells the GroupchatObservers, after
// broadcasting an occupant's message, the local dormant sessions it
// queued it to, with their nicks and whether their account sent it; not
// live sessions, not a session whose queue refused the message, not a
// subject change, and nothing while no session is dormant.
func TestGroupchatObservers(t *testing.T) {
	e := newEnv(t, nil)
	log := &groupchatLog{}
	e.Router.Register(log)
	alice := e.user("alice", "desk")
	e.create(alice)
	join := func(full, nick string) *dormantConn {
		c := &dormantConn{}
		s := router.NewSession(jid.MustParse(full), "test", c)
		e.Router.Bind(context.Background(), s)
		e.Send(s, `<presence to='`+room+`/`+nick+`'><x xmlns='`+nsMUC+`'/></presence>`)
		return c
	}
	bobPhone := join("bob@"+routertest.Domain+"/phone", "Bob")
	carol := join("carol@"+routertest.Domain+"/pc", "Carol")
	alicePhone := join("alice@"+routertest.Domain+"/phone", "Al")
	say := func(payload string) {
		e.send(alice, `<message type='groupchat' to='%R'>`+payload+`</message>`)
	}

	say(`<body>all live</body>`)
	routertest.Equal(t, "all live", log.take())

	bobPhone.dormant.Store(true)
	alicePhone.dormant.Store(true)
	say(`<body>two dormant</body>`)
	routertest.Equal(t, "two dormant", log.take(),
		"two dormant: alice@example.org/phone Al own, bob@example.org/phone Bob")

	say(`<subject>topic</subject>`)
	routertest.Equal(t, "subject change", log.take())

	bobPhone.RefuseAfter(0) // its queue is full: it was not queued the message
	carol.dormant.Store(true)
	say(`<body>refused</body>`)
	routertest.Equal(t, "refused", log.take(),
		"refused: alice@example.org/phone Al own, carol@example.org/pc Carol")
}
