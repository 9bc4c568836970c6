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

// wireSender serialises what it is sent, as a c2s session does.
type wireSender struct{ stanzas, bytes int }

func (w *wireSender) Send(st *xml.Element) error {
	w.stanzas++
	w.bytes += len(st.Bytes(nsClient))
	return nil
}

func (*wireSender) Close(string) {}

// BenchmarkQueryPageWire measures one query handler call serving a page
// of 50 from the end of an archive of 10^3 items on the memory store,
// results serialised as a c2s session does: the MAM query path from
// stored rows to bytes, without the network.
//
// Rows are stored as the archive hook stores them ("canonical": our own
// serialisation, which result messages carry as it is), or relying on
// the inherited jabber:client namespace as other writers might
// ("inherited-ns": parsed and written again).
func BenchmarkQueryPageWire(b *testing.B) {
	for _, form := range []struct{ name, open string }{
		{"canonical", `<message xmlns="jabber:client"`},
		{"inherited-ns", `<message`},
	} {
		b.Run(form.name, func(b *testing.B) {
			ctx := context.Background()
			mem := memory.New()
			m, err := New(DefaultConfig(), mem, mem, testSecret, quietLog())
			if err != nil {
				b.Fatal(err)
			}
			const rows = 1000
			batch := make([]*storage.ArchivedMessage, 0, rows)
			for i := range rows {
				st := fmt.Sprintf(`%s to="bob@example.com" from="alice@example.com/a" type="chat" id="m%d"><body>Message number %d of the archive, about as long as a chat line.</body><origin-id xmlns="urn:xmpp:sid:0" id="o%d"/></message>`, form.open, i, i, i)
				batch = append(batch, &storage.ArchivedMessage{Owner: "alice@example.com", With: "bob@example.com", Outgoing: true, Stamp: t0, Body: "x", Stanza: []byte(st)})
			}
			if err := mem.AppendArchive(ctx, batch); err != nil {
				b.Fatal(err)
			}
			w := &wireSender{}
			s := router.NewSession(jid.MustParse("alice@example.com/a"), "s", w)
			st := parseXML(b, `<iq type='set' id='q' from='alice@example.com/a'><query xmlns='urn:xmpp:mam:2' queryid='f'><set xmlns='http://jabber.org/protocol/rsm'><max>50</max><before/></set></query></iq>`)
			iq := &router.IQ{Stanza: st, Payload: st.FirstElement(), From: s.JID(), To: s.JID().Bare(), Session: s}
			if _, err := m.handleQuery(ctx, iq); err != nil {
				b.Fatal(err)
			}
			if w.stanzas != 50 {
				b.Fatalf("a page of %d results", w.stanzas)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.handleQuery(ctx, iq); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
