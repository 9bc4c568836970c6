package mam

// The catch-up and history queries of the clients Skald must serve, as
// they send them (mam-anchors.md §6.1), each checked for the items it
// gets and the <fin/> it relies on.

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
)

// chat is the archive the client tests query: ten messages between
// alice and bob, alternating, so alice's items are 1, 4, 5, 8, 9, 12, 13,
// 16, 17, 20 (outgoing odd bodies, incoming even), one second apart per
// archive write. live holds the stanza-id alice's client saw on each
// incoming message, by body.
type chat struct {
	e     *env
	alice *router.Session
	rec   *recorder
	items []int64 // alice's items, oldest first
	live  map[string]string
}

func newChat(t *testing.T, cfg Config) *chat {
	e := newEnv(t, cfg)
	alice, arec := e.login("alice@example.com/a")
	bob, _ := e.login("bob@example.com/b")
	c := &chat{e: e, alice: alice, rec: arec, live: map[string]string{}}
	for i := range 10 {
		from, to := alice, "bob@example.com"
		if i%2 == 1 {
			from, to = bob, "alice@example.com"
		}
		e.send(from, fmt.Sprintf(`<message to='%s' type='chat' id='m%d'><body>%d</body></message>`, to, i, i))
	}
	for _, m := range arec.take() {
		c.live[m.ChildText(nsClient, "body")] = m.Child(NSSID, "stanza-id").Attr("id")
	}
	for _, it := range e.items("alice@example.com") {
		c.items = append(c.items, it.ID)
	}
	return c
}

// ask sends a query exactly as a client writes it (the <query/> element)
// and returns the item ids in the order received and the <fin/>.
func (c *chat) ask(t *testing.T, query string) ([]int64, *xml.Element) {
	t.Helper()
	c.e.send(c.alice, `<iq type='set' id='c1'>`+query+`</iq>`)
	got := c.rec.take()
	if len(got) == 0 {
		t.Fatal("no reply")
	}
	reply := got[len(got)-1]
	if errorOf(reply) != "" {
		t.Fatalf("error reply: %s", reply)
	}
	var ids []int64
	for _, m := range got[:len(got)-1] {
		// Clients check the sender of results against the queried
		// archive (XEP-0313 "Sender Impersonation").
		if m.Attr("from") != "alice@example.com" || m.Attr("to") != "alice@example.com/a" {
			t.Fatalf("result addressed %s → %s", m.Attr("from"), m.Attr("to"))
		}
		n, ok := c.e.m.ItemID(m.Child(NS, "result").Attr("id"))
		if !ok {
			t.Fatalf("bad result id in %s", m)
		}
		ids = append(ids, n)
	}
	return ids, reply.Child(NS, "fin")
}

func complete(fin *xml.Element) bool { return fin.Attr("complete") == "true" }

func rsmText(fin *xml.Element, name string) string {
	return fin.Child(NSRSM, "set").ChildText(NSRSM, name)
}

// stamp is the delay stamp of item n as clients received it.
func (c *chat) stamp(t *testing.T, n int64) time.Time {
	t.Helper()
	for _, it := range c.e.items("alice@example.com") {
		if it.ID == n {
			return it.Stamp
		}
	}
	t.Fatalf("no item %d", n)
	return time.Time{}
}

// Conversations (MessageArchiveService): catch-up with 'start' = the
// last known message's time (millisecond format) and RSM <after/> = its
// stanza-id, <max>50</max> after the cursor, paging forward until
// complete; then scroll-back with 'with', 'end' and RSM <before/>.
func TestClientConversations(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxArchiveQueryResults, cfg.DefaultPageSize = 3, 3 // force several pages
	c := newChat(t, cfg)
	known := c.items[3] // body 3, incoming: the client has its stanza-id
	if c.e.id(known) != c.live["3"] {
		t.Fatalf("live stanza-id %s is not item %d", c.live["3"], known)
	}
	start := c.stamp(t, known).Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
	var got []int64
	after := c.live["3"]
	for page := 0; ; page++ {
		ids, fin := c.ask(t, `<query xmlns='urn:xmpp:mam:2' queryid='cv`+fmt.Sprint(page)+`'>
			<x xmlns='jabber:x:data' type='submit'>
				<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>
				<field var='start'><value>`+start+`</value></field>
			</x>
			<set xmlns='http://jabber.org/protocol/rsm'><after>`+after+`</after><max>50</max></set></query>`)
		got = append(got, ids...)
		if complete(fin) {
			break
		}
		// Capped by the server (3 < 50): complete is absent, so it pages on.
		if len(ids) != 3 || page > 5 {
			t.Fatalf("page %d: %d items, incomplete", page, len(ids))
		}
		after = rsmText(fin, "last")
	}
	if !slices.Equal(got, c.items[4:]) {
		t.Errorf("catch-up got %v, want %v", got, c.items[4:])
	}

	// Scroll-back in the conversation with bob: 'end' = the oldest
	// message shown, empty <before/> first, then <before>first</before>.
	end := c.stamp(t, c.items[8]).Format("2006-01-02T15:04:05.000Z")
	var back []int64
	before := ""
	for page := 0; ; page++ {
		ids, fin := c.ask(t, `<query xmlns='urn:xmpp:mam:2' queryid='cvb'>
			<x xmlns='jabber:x:data' type='submit'>
				<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>
				<field var='with'><value>bob@example.com</value></field>
				<field var='start'><value>1970-01-01T00:00:00.000Z</value></field>
				<field var='end'><value>`+end+`</value></field>
			</x>
			<set xmlns='http://jabber.org/protocol/rsm'><before>`+before+`</before><max>50</max></set></query>`)
		back = append(slices.Clone(ids), back...)
		if complete(fin) {
			// Conversations compares what it got with <count/>.
			if rsmText(fin, "count") != "8" {
				t.Errorf("count %q, want 8", rsmText(fin, "count"))
			}
			break
		}
		if page > 5 {
			t.Fatal("no end")
		}
		before = rsmText(fin, "first")
	}
	// 'end' is inclusive, but the client's millisecond format truncated
	// the oldest shown message's stamp (.123 < .123456): that message is
	// not returned again.
	if !slices.Equal(back, c.items[:8]) {
		t.Errorf("scroll-back got %v, want %v", back, c.items[:8])
	}
}

// Gajim (gajim/common/modules/mam.py): first sign-in asks 'start' = now -
// 7 days; later sign-ins ask RSM <after/> = the last stanza-id seen
// live, looping on <last/> until complete. A cursor the server no longer
// has is item-not-found, on which Gajim resets and asks by date again.
func TestClientGajim(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxArchiveQueryResults, cfg.DefaultPageSize = 4, 4
	c := newChat(t, cfg)
	week := c.e.clock.Add(-7 * 24 * time.Hour).Format("2006-01-02T15:04:05Z")
	var got []int64
	after := ""
	for page := 0; ; page++ {
		q := `<query xmlns='urn:xmpp:mam:2' queryid='g'>
			<x xmlns='jabber:x:data' type='submit'>
				<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>
				<field var='start'><value>` + week + `</value></field>
			</x><set xmlns='http://jabber.org/protocol/rsm'><max>70</max>`
		if after != "" {
			q += `<after>` + after + `</after>`
		}
		ids, fin := c.ask(t, q+`</set></query>`)
		got = append(got, ids...)
		if complete(fin) {
			break
		}
		if page > 5 {
			t.Fatal("no end")
		}
		after = rsmText(fin, "last")
	}
	if !slices.Equal(got, c.items) {
		t.Errorf("first sign-in got %v, want %v", got, c.items)
	}

	// Next sign-in: after the last live stanza-id (body 9), nothing new.
	ids, fin := c.ask(t, `<query xmlns='urn:xmpp:mam:2' queryid='g2'>
		<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field></x>
		<set xmlns='http://jabber.org/protocol/rsm'><max>70</max><after>`+c.live["9"]+`</after></set></query>`)
	if len(ids) != 0 || !complete(fin) || fin.Child(NSRSM, "set").Child(NSRSM, "first") != nil {
		t.Errorf("up-to-date sign-in: %v %s", ids, fin)
	}

	// The archive expired the cursor's item: item-not-found, then by date.
	if _, err := c.e.mem.TrimArchive(c.e.ctx, "alice@example.com", 2); err != nil {
		t.Fatal(err)
	}
	c.e.send(c.alice, `<iq type='set' id='g3'><query xmlns='urn:xmpp:mam:2' queryid='g3'>
		<set xmlns='http://jabber.org/protocol/rsm'><max>70</max><after>`+c.live["5"]+`</after></set></query></iq>`)
	if r := c.rec.take(); len(r) != 1 || errorOf(r[0]) != "cancel/item-not-found" {
		t.Fatalf("stale cursor: %v", r)
	}
	ids, fin = c.ask(t, `<query xmlns='urn:xmpp:mam:2' queryid='g4'>
		<x xmlns='jabber:x:data' type='submit'>
			<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>
			<field var='start'><value>`+week+`</value></field>
		</x><set xmlns='http://jabber.org/protocol/rsm'><max>70</max></set></query>`)
	if !slices.Equal(ids, c.items[8:]) || !complete(fin) {
		t.Errorf("after reset: %v, %s", ids, fin)
	}
}

// Monal (MLIQProcessor): a "prime" query 'end' = now, <max>1</max>,
// empty <before/> to learn the newest id; catch-up RSM <after/> with
// <max>50</max> while not complete and <last/> is present; history per
// contact with 'with' and <before>uid</before>.
func TestClientMonal(t *testing.T) {
	c := newChat(t, DefaultConfig())
	now := c.e.clock.Add(time.Minute).Format("2006-01-02T15:04:05.000000+00:00")
	ids, fin := c.ask(t, `<query xmlns='urn:xmpp:mam:2' queryid='MLhistory:1'>
		<x xmlns='jabber:x:data' type='submit'>
			<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>
			<field var='end'><value>`+now+`</value></field>
		</x>
		<set xmlns='http://jabber.org/protocol/rsm'><max>1</max><before/></set></query>`)
	newest := c.items[len(c.items)-1]
	if !slices.Equal(ids, []int64{newest}) {
		t.Fatalf("prime query got %v, want [%d]", ids, newest)
	}
	wantXML(t, []*xml.Element{fin}, fmt.Sprintf(`<fin xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'>
		<first index='9'>%s</first><last>%s</last><count>10</count></set></fin>`, c.e.id(newest), c.e.id(newest)))

	// Catch-up from an older live id: everything after it, then done.
	ids, fin = c.ask(t, `<query xmlns='urn:xmpp:mam:2' queryid='MLcatchup:1'>
		<set xmlns='http://jabber.org/protocol/rsm'><max>50</max><after>`+c.live["5"]+`</after></set></query>`)
	if !slices.Equal(ids, c.items[6:]) || !complete(fin) || rsmText(fin, "last") != c.e.id(newest) {
		t.Errorf("catch-up: %v %s", ids, fin)
	}
	// After the newest: an empty, complete page without <last/>, which
	// ends Monal's loop.
	ids, fin = c.ask(t, `<query xmlns='urn:xmpp:mam:2' queryid='MLcatchup:2'>
		<set xmlns='http://jabber.org/protocol/rsm'><max>50</max><after>`+c.e.id(newest)+`</after></set></query>`)
	if len(ids) != 0 || !complete(fin) || fin.Child(NSRSM, "set").Child(NSRSM, "last") != nil {
		t.Errorf("caught up: %v %s", ids, fin)
	}

	// History with bob before a message the client has.
	ids, fin = c.ask(t, `<query xmlns='urn:xmpp:mam:2' queryid='MLhistory:2'>
		<x xmlns='jabber:x:data' type='submit'>
			<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>
			<field var='with'><value>bob@example.com</value></field>
		</x>
		<set xmlns='http://jabber.org/protocol/rsm'><max>50</max><before>`+c.live["5"]+`</before></set></query>`)
	if !slices.Equal(ids, c.items[:5]) || !complete(fin) {
		t.Errorf("history: %v %s", ids, fin)
	}
}

// Dino (0313_2_message_archive_management.vala): with #extended it asks
// for everything after the newest message it has with the form's
// 'after-id', paging backwards from the end with <max>20</max> and
// <before/>, then <before>first</before>, until complete.
func TestClientDino(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxArchiveQueryResults, cfg.DefaultPageSize = 20, 20
	c := newChat(t, cfg)
	var got []int64
	before := ""
	for page := 0; ; page++ {
		ids, fin := c.ask(t, `<query xmlns='urn:xmpp:mam:2' queryid='dino'>
			<x xmlns='jabber:x:data' type='submit'>
				<field type='hidden' var='FORM_TYPE'><value>urn:xmpp:mam:2</value></field>
				<field var='after-id'><value>`+c.live["3"]+`</value></field>
			</x>
			<set xmlns='http://jabber.org/protocol/rsm'><max>2</max><before>`+before+`</before></set></query>`)
		got = append(slices.Clone(ids), got...)
		if complete(fin) {
			break
		}
		if len(ids) != 2 || page > 5 {
			t.Fatalf("page %d: %v", page, ids)
		}
		before = rsmText(fin, "first")
	}
	if !slices.Equal(got, c.items[4:]) {
		t.Errorf("got %v, want %v", got, c.items[4:])
	}
	// First sync without anything local: 'start' and the last page.
	start := c.stamp(t, c.items[7]).Format("2006-01-02T15:04:05.999999Z07:00")
	ids, fin := c.ask(t, `<query xmlns='urn:xmpp:mam:2' queryid='dino2'>
		<x xmlns='jabber:x:data' type='submit'>
			<field type='hidden' var='FORM_TYPE'><value>urn:xmpp:mam:2</value></field>
			<field var='start'><value>`+start+`</value></field>
		</x>
		<set xmlns='http://jabber.org/protocol/rsm'><max>20</max><before/></set></query>`)
	if !slices.Equal(ids, c.items[7:]) || !complete(fin) {
		t.Errorf("start page: %v %s", ids, fin)
	}
}

// Converse.js (headless MAM plugin): with a most recent message and
// mam_request_all_pages false, an empty <before></before> with 'start' =
// its time (the last page since then); with true, RSM <after/> = its
// stanza-id, paging forward; without any message, the empty <before/>
// alone. Times are millisecond ISO strings. At login it reads the
// preferences and sets 'default' when it differs, echoing the lists it
// read.
func TestClientConverse(t *testing.T) {
	c := newChat(t, DefaultConfig())
	time6 := c.stamp(t, c.items[6]).Format("2006-01-02T15:04:05.000Z")
	ids, fin := c.ask(t, `<query xmlns="urn:xmpp:mam:2" queryid="cj1"><x xmlns="jabber:x:data" type="submit">`+
		`<field var="FORM_TYPE" type="hidden"><value>urn:xmpp:mam:2</value></field>`+
		`<field var="with"><value>bob@example.com</value></field>`+
		`<field var="start"><value>`+time6+`</value></field></x>`+
		`<set xmlns="http://jabber.org/protocol/rsm"><max>50</max><before></before></set></query>`)
	// .000 truncates the stamp's .123456: item 6 itself is included.
	if !slices.Equal(ids, c.items[6:]) || !complete(fin) {
		t.Errorf("before+start: %v %s", ids, fin)
	}
	ids, fin = c.ask(t, `<query xmlns="urn:xmpp:mam:2" queryid="cj2"><x xmlns="jabber:x:data" type="submit">`+
		`<field var="FORM_TYPE" type="hidden"><value>urn:xmpp:mam:2</value></field>`+
		`<field var="with"><value>bob@example.com</value></field></x>`+
		`<set xmlns="http://jabber.org/protocol/rsm"><max>50</max><after>`+c.live["7"]+`</after></set></query>`)
	if !slices.Equal(ids, c.items[8:]) || !complete(fin) {
		t.Errorf("after: %v %s", ids, fin)
	}
	ids, fin = c.ask(t, `<query xmlns="urn:xmpp:mam:2" queryid="cj3">`+
		`<set xmlns="http://jabber.org/protocol/rsm"><max>4</max><before></before></set></query>`)
	if !slices.Equal(ids, c.items[6:]) || complete(fin) || fin.Child(NSRSM, "set").Child(NSRSM, "first").Attr("index") != "6" {
		t.Errorf("last page: %v %s", ids, fin)
	}

	// Preferences round trip.
	c.e.send(c.alice, `<iq type="get" id="p1" xmlns="jabber:client"><prefs xmlns="urn:xmpp:mam:2"/></iq>`)
	wantXML(t, c.rec.take(), `<iq type='result' id='p1' to='alice@example.com/a'><prefs xmlns='urn:xmpp:mam:2' default='always'><always/><never/></prefs></iq>`)
	c.e.send(c.alice, `<iq type="set" id="p2" xmlns="jabber:client"><prefs xmlns="urn:xmpp:mam:2" default="roster"><always/><never/></prefs></iq>`)
	wantXML(t, c.rec.take(), `<iq type='result' id='p2' to='alice@example.com/a'><prefs xmlns='urn:xmpp:mam:2' default='roster'><always/><never/></prefs></iq>`)
	c.e.send(c.alice, `<iq type="get" id="p3" xmlns="jabber:client"><prefs xmlns="urn:xmpp:mam:2"/></iq>`)
	wantXML(t, c.rec.take(), `<iq type='result' id='p3' to='alice@example.com/a'><prefs xmlns='urn:xmpp:mam:2' default='roster'><always/><never/></prefs></iq>`)
}

// Fluux (docs/MAM_CATCHUP.md) and others: 'start' = the newest cached
// delay stamp + 1 ms, forward. With microsecond stamps the cached item is
// excluded and the next one (a second later here) included; a client
// that sends back the stamp exactly as received gets the cached item
// again ('start' is inclusive) and dedupes it by id.
func TestClientStartNewestPlusOneMs(t *testing.T) {
	c := newChat(t, DefaultConfig())
	ids, _ := c.ask(t, `<query xmlns='urn:xmpp:mam:2' queryid='x'><set xmlns='http://jabber.org/protocol/rsm'><max>5</max></set></query>`)
	cached := ids[len(ids)-1]
	// The stamp as the client parsed it from <delay/>.
	received, err := ParseDateTime(FormatDateTime(c.stamp(t, cached)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, start string
		want        []int64
	}{
		{"+1 ms", received.Add(time.Millisecond).Format("2006-01-02T15:04:05.000Z"), c.items[5:]},
		{"+1 ms, µs precision", received.Add(time.Millisecond).Format("2006-01-02T15:04:05.000000Z"), c.items[5:]},
		{"exact stamp", FormatDateTime(received), c.items[4:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids, fin := c.ask(t, `<query xmlns='urn:xmpp:mam:2' queryid='x'><x xmlns='jabber:x:data' type='submit'>
				<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>
				<field var='start'><value>`+tc.start+`</value></field></x>
				<set xmlns='http://jabber.org/protocol/rsm'><max>100</max></set></query>`)
			if !slices.Equal(ids, tc.want) || !complete(fin) {
				t.Errorf("got %v, want %v: %s", ids, tc.want, fin)
			}
		})
	}
}
