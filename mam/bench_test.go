package mam

import (
	"context"
	"fmt"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

type nullSender struct{}

func (nullSender) Send(*xml.Element) error { return nil }
func (nullSender) Close(string)            {}

// BenchmarkQueryPage measures one query handler call serving a page from
// an archive of 10^3 items on the memory store: a default page of 20
// from the end (<before/>), and a forward page of 50 after an id in the
// middle, both with the RSM count.
func BenchmarkQueryPage(b *testing.B) {
	ctx := context.Background()
	mem := memory.New()
	m, err := New(DefaultConfig(), mem, mem, testSecret, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	const rows = 1000
	for i := range rows {
		st := fmt.Sprintf(`<message xmlns="jabber:client" to="bob@example.com" from="alice@example.com/a" type="chat" id="m%d"><body>message number %d, of an ordinary length for a chat line</body><origin-id xmlns="urn:xmpp:sid:0" id="o%d"/></message>`, i, i, i)
		it := &storage.ArchivedMessage{Owner: "alice@example.com", With: "bob@example.com", Outgoing: true, Stamp: t0, Body: "x", Stanza: []byte(st)}
		if err := mem.AppendArchive(ctx, []*storage.ArchivedMessage{it}); err != nil {
			b.Fatal(err)
		}
	}
	s := router.NewSession(jid.MustParse("alice@example.com/a"), "s", nullSender{})
	for _, bc := range []struct{ name, rsm string }{
		{"last-page-20", `<set xmlns='http://jabber.org/protocol/rsm'><before/></set>`},
		{"after-id-50", `<set xmlns='http://jabber.org/protocol/rsm'><max>50</max><after>` + m.ArchiveID(rows/2) + `</after></set>`},
	} {
		st := parseXML(b, `<iq type='set' id='q' from='alice@example.com/a'><query xmlns='urn:xmpp:mam:2' queryid='f'>`+bc.rsm+`</query></iq>`)
		iq := &router.IQ{Stanza: st, Payload: st.FirstElement(), From: s.JID(), To: s.JID().Bare(), Session: s}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.handleQuery(ctx, iq); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
