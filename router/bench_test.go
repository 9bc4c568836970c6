package router_test

import (
	"context"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// discard is a Sender that serialises like the c2s transport does and
// drops the bytes.
type discard struct{ n int }

func (d *discard) Send(st *xml.Element) error { d.n += len(st.Bytes("jabber:client")); return nil }
func (d *discard) Close(string)               {}

// BenchmarkRouteMessage measures routing one chat message from one bound
// session to another's full JID (no feature modules: the router's own cost
// plus serialisation for the recipient).
func BenchmarkRouteMessage(b *testing.B) {
	ctx := context.Background()
	st := memory.New()
	for _, u := range []string{"alice@localhost", "bob@localhost"} {
		if err := st.CreateUser(ctx, u, storage.Credentials{}); err != nil {
			b.Fatal(err)
		}
	}
	r := router.New(router.Config{Domains: []string{"localhost"}, Users: st})
	alice := router.NewSession(jid.MustParse("alice@localhost/a"), "a", &discard{})
	out := &discard{}
	bob := router.NewSession(jid.MustParse("bob@localhost/b"), "b", out)
	r.Bind(ctx, alice)
	r.Bind(ctx, bob)
	msg := xml.New("jabber:client", "message", "to", "bob@localhost/b", "type", "chat", "id", "m1")
	msg.Append(xml.New("jabber:client", "body").AppendText("Hello, how are you today?"))
	msg.Append(xml.New("urn:xmpp:sid:0", "origin-id", "id", "b1a2c3d4"))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		st := msg.Clone()
		if err := r.HandleFromClient(ctx, alice, st); err != nil {
			b.Fatal(err)
		}
	}
	if out.n == 0 {
		b.Fatal("nothing delivered")
	}
}
