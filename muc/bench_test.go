package muc_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/muc"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage/memory"
)

// liveConn is a Sender that serialises like the c2s transport does,
// drops the bytes, and tells its dormancy under a mutex as c2s does.
type liveConn struct {
	mu sync.Mutex
	n  int
}

func (c *liveConn) Send(st *xml.Element) error {
	b := st.Bytes("jabber:client")
	c.mu.Lock()
	c.n += len(b)
	c.mu.Unlock()
	return nil
}
func (c *liveConn) Close(string) {}
func (c *liveConn) Dormant() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return false
}

// nobody is a GroupchatObserver that is never told anything in a room
// whose occupants are all live.
type nobody struct{ calls int }

func (*nobody) Name() string { return "nobody" }
func (n *nobody) GroupchatQueued(context.Context, *xml.Element, []router.GroupchatRecipient) {
	n.calls++
}

// BenchmarkRoomMessage measures one groupchat message broadcast to a room
// of 200 live local occupants, with and without a GroupchatObserver
// (push) registered: with every occupant live, what the observer costs
// the room's hot path must be a cheap check, not a walk over them.
func BenchmarkRoomMessage(b *testing.B) {
	for _, observed := range []bool{false, true} {
		b.Run(fmt.Sprintf("observer=%v", observed), func(b *testing.B) {
			ctx := context.Background()
			st := memory.New()
			defer st.Close()
			r := router.New(router.Config{Domains: []string{routertest.Domain}, Users: st})
			m := muc.New(muc.DefaultConfig(), r, nil, st, []byte("0123456789abcdef0123456789abcdef"), nil)
			r.Register(m)
			obs := &nobody{}
			if observed {
				r.Register(obs)
			}
			parse := func(raw string) *xml.Element { return routertest.Parse(b, raw) }
			var sender *router.Session
			for i := range 200 {
				s := router.NewSession(jid.MustParse(fmt.Sprintf("u%d@%s/r", i, routertest.Domain)), "t", &liveConn{})
				r.Bind(ctx, s)
				if err := r.HandleFromClient(ctx, s, parse(fmt.Sprintf(`<presence to="%s/u%d"><x xmlns="%s"/></presence>`, room, i, nsMUC))); err != nil {
					b.Fatal(err)
				}
				if i == 0 {
					sender = s
					if err := r.HandleFromClient(ctx, s, parse(`<iq type="set" id="cfg" to="`+room+`"><query xmlns="`+nsMUC+`#owner"><x xmlns="jabber:x:data" type="submit"/></query></iq>`)); err != nil {
						b.Fatal(err)
					}
				}
			}
			msg := parse(`<message type="groupchat" to="` + room + `"><body>Hello, how are you today?</body></message>`)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := r.HandleFromClient(ctx, sender, msg.Clone()); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if obs.calls != 0 {
				b.Fatalf("the observer was told %d times of messages to live sessions", obs.calls)
			}
		})
	}
}
