package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/disco"
	"github.com/skald-xmpp/skald/internal/server"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/pep"
	"github.com/skald-xmpp/skald/storage/sqlite"
)

const (
	nsPubSub      = "http://jabber.org/protocol/pubsub"
	nsPubSubEvent = "http://jabber.org/protocol/pubsub#event"
	nsTune        = "http://jabber.org/protocol/tune"
)

// announceCaps sends available presence with XEP-0115 caps for features
// and, if the server asks (an unknown ver), answers its disco#info query
// over the socket.
func announceCaps(t *testing.T, c *xmpptest.Conn, asked bool, features ...string) {
	t.Helper()
	ids := []disco.Identity{{Category: "client", Type: "pc", Name: "test"}}
	ver := disco.CapsVer(ids, features, nil)
	c.Sendf(`<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://test.example' ver='%s'/></presence>`, ver)
	if !asked {
		return
	}
	q := c.Expect(func(e *xml.Element) bool {
		return e.Local == "iq" && e.Attr("from") == "localhost" && e.Child(nsDiscoInfo, "query") != nil
	})
	if q.Attr("type") != "get" || q.Child(nsDiscoInfo, "query").Attr("node") != "https://test.example#"+ver {
		t.Fatalf("caps query: %s", q)
	}
	var b strings.Builder
	b.WriteString(`<iq type='result' to='localhost' id='` + q.Attr("id") + `'><query xmlns='` + nsDiscoInfo + `' node='https://test.example#` + ver + `'><identity category='client' type='pc' name='test'/>`)
	for _, f := range features {
		b.WriteString(`<feature var='` + f + `'/>`)
	}
	c.Send(b.String() + `</query></iq>`)
}

func isTuneEvent(title string) func(*xml.Element) bool {
	return func(e *xml.Element) bool {
		ev := e.Child(nsPubSubEvent, "event")
		if e.Local != "message" || ev == nil {
			return false
		}
		items := ev.Child(nsPubSubEvent, "items")
		return items != nil && items.Attr("node") == nsTune && strings.Contains(items.String(), "<title>"+title+"</title>")
	}
}

// noEvent checks that c gets no PEP event before the answer to a ping.
func noEvent(t *testing.T, c *xmpptest.Conn, id string) {
	t.Helper()
	c.Sendf(`<iq type='get' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>`, id)
	for {
		el := c.Next()
		if el.Attr("id") == id {
			return
		}
		if el.Child(nsPubSubEvent, "event") != nil {
			t.Fatalf("unexpected event: %s", el)
		}
	}
}

func publishTune(c *xmpptest.Conn, id, title string) {
	c.Sendf(`<iq type='set' id='%s'><pubsub xmlns='%s'><publish node='%s'><item id='current'><tune xmlns='%s'><title>%s</title></tune></item></publish></pubsub></iq>`,
		id, nsPubSub, nsTune, nsTune, title)
}

// TestPEPOverSocket: a publish reaches, as a headline from the publisher's
// bare JID, the subscribed contact whose caps (asked for by the server)
// include the node's +notify, and not a contact's resource without it nor
// a stranger; a resource coming online gets the last item; notifications
// are neither archived nor kept offline.
func TestPEPOverSocket(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	bob := login(t, s, "bob", "laptop")
	carol := login(t, s, "carol", "desk")
	for _, c := range []*xmpptest.Conn{alice, bob} {
		c.Send(`<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>`)
		c.Expect(isID("r"))
	}
	announceCaps(t, alice, true, nsTune+"+notify")
	announceCaps(t, bob, true, nsTune+"+notify", "urn:xmpp:avatar:metadata+notify")
	announceCaps(t, carol, true, nsTune+"+notify", "urn:x:carol")
	mutualSubscription(alice, bob)
	tablet := login(t, s, "bob", "tablet")
	announceCaps(t, tablet, true, "urn:xmpp:avatar:metadata+notify") // no tune+notify

	publishTune(alice, "p1", "Yesterday")
	ev := bob.Expect(isTuneEvent("Yesterday"))
	if ev.Attr("from") != "alice@localhost" || ev.Attr("type") != "headline" || ev.Attr("to") != "bob@localhost/laptop" {
		t.Errorf("event to bob: %s", ev)
	}
	alice.Expect(isTuneEvent("Yesterday"))
	if res := alice.Expect(isID("p1")); res.Attr("type") != "result" {
		t.Fatalf("publish: %s", res)
	}
	noEvent(t, tablet, "t1")
	noEvent(t, carol, "c1")

	// Bob's new resource with the same caps (cached: no query) gets the
	// last item when it comes online.
	desk := login(t, s, "bob", "desk")
	announceCaps(t, desk, false, nsTune+"+notify", "urn:xmpp:avatar:metadata+notify")
	desk.Expect(isTuneEvent("Yesterday"))

	// Carol may not read alice's presence-model node; bob may.
	carol.Sendf(`<iq type='get' id='g1' to='alice@localhost'><pubsub xmlns='%s'><items node='%s'/></pubsub></iq>`, nsPubSub, nsTune)
	if el := carol.Expect(isID("g1")); el.Child("", "error") == nil || el.Child("", "error").Child(nsStanzas, "not-authorized") == nil {
		t.Errorf("stranger's retrieval: %s", el)
	}
	bob.Sendf(`<iq type='get' id='g2' to='alice@localhost'><pubsub xmlns='%s'><items node='%s'/></pubsub></iq>`, nsPubSub, nsTune)
	if el := bob.Expect(isID("g2")); !strings.Contains(el.String(), "<title>Yesterday</title>") {
		t.Errorf("subscriber's retrieval: %s", el)
	}

	for _, c := range []*xmpptest.Conn{alice, bob} {
		if ids, _ := mamQuery(t, c, "m", "", ""); len(ids) != 0 {
			t.Errorf("notifications archived: %q", ids)
		}
	}
	for _, u := range []string{"alice@localhost", "bob@localhost", "carol@localhost"} {
		if msgs, err := s.Store.OfflineMessages(context.Background(), u); err != nil || len(msgs) != 0 {
			t.Errorf("%s offline: %d, %v", u, len(msgs), err)
		}
	}
}

// TestPEPRestart: nodes, their configuration and items survive a restart
// on SQLite.
func TestPEPRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "skald.db")
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, st, nil)
	alice := login(t, s, "alice", "phone")
	alice.Sendf(`<iq type='set' id='p1'><pubsub xmlns='%s'><publish node='urn:xmpp:bookmarks:1'><item id='room@muc.example'><conference xmlns='urn:xmpp:bookmarks:1' name='Room'/></item></publish>`+
		`<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>%s#publish-options</value></field>`+
		`<field var='pubsub#access_model'><value>whitelist</value></field><field var='pubsub#max_items'><value>max</value></field></x></publish-options></pubsub></iq>`, nsPubSub, nsPubSub)
	if el := alice.Expect(isID("p1")); el.Attr("type") != "result" {
		t.Fatalf("publish: %s", el)
	}
	alice.Close()
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	st2, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s2 := startServer(t, st2, nil)
	alice = login(t, s2, "alice", "phone")
	alice.Sendf(`<iq type='get' id='g1'><pubsub xmlns='%s'><items node='urn:xmpp:bookmarks:1'/></pubsub></iq>`, nsPubSub)
	if el := alice.Expect(isID("g1")); !strings.Contains(el.String(), `<item id="room@muc.example"><conference xmlns="urn:xmpp:bookmarks:1" name="Room"/></item>`) {
		t.Fatalf("items after restart: %s", el)
	}
	// The configuration survived too: the same options are met...
	alice.Sendf(`<iq type='get' id='g2'><pubsub xmlns='%s#owner'><configure node='urn:xmpp:bookmarks:1'/></pubsub></iq>`, nsPubSub)
	el := alice.Expect(isID("g2"))
	if !strings.Contains(el.String(), `<field var="pubsub#access_model" type="list-single"><value>whitelist</value></field>`) ||
		!strings.Contains(el.String(), `<field var="pubsub#max_items" type="text-single"><value>1000</value></field>`) {
		t.Fatalf("configuration after restart: %s", el)
	}
	// ...and bob may not read the whitelist node.
	bob := login(t, s2, "bob", "laptop")
	bob.Sendf(`<iq type='get' id='g3' to='alice@localhost'><pubsub xmlns='%s'><items node='urn:xmpp:bookmarks:1'/></pubsub></iq>`, nsPubSub)
	if el := bob.Expect(isID("g3")); el.Child("", "error") == nil || el.Child("", "error").Child(nsStanzas, "not-allowed") == nil {
		t.Errorf("bob reading a whitelist node: %s", el)
	}
}

// TestPEPConfigSection: [pep] is decoded over its defaults and validated;
// an unknown key is an error naming it; skald.example.toml's [pep],
// uncommented, is the defaults.
func TestPEPConfigSection(t *testing.T) {
	example, err := os.ReadFile("../../skald.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(example), "# [pep]\n")
	section, _, _ = strings.Cut(section, "\n# [")
	uncommented := "[pep]\n"
	for _, l := range strings.Split(section, "\n") {
		if strings.Contains(l, " = ") {
			uncommented += strings.TrimPrefix(l, "# ") + "\n"
		}
	}
	if strings.Count(uncommented, " = ") != 5 {
		t.Fatalf("skald.example.toml's [pep] shows %q, want its five keys", uncommented)
	}
	for _, tc := range []struct {
		name, src, err string
		items, nodes   int
	}{
		{"defaults", "", "", 1000, 100},
		{"example file", uncommented, "", 1000, 100},
		{"set", "[pep]\nmax_items = 50\nmax_nodes = 7\n", "", 50, 7},
		{"zero", "[pep]\nmax_nodes = 0\n", "max_nodes must be at least 1", 0, 0},
		{"quota below an item", "[pep]\nmax_bytes_per_account = 100\n", "max_bytes_per_account must be at least max_item_bytes", 0, 0},
		{"reply below an item", "[pep]\nmax_item_bytes = 1000\nmax_reply_bytes = 1000\n", "max_reply_bytes must exceed", 0, 0},
		{"unknown key", "[pep]\nmax_item = 5\n", "max_item", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mods, err := server.DecodeModuleConfig(loadConfigFile(t, tc.src))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || mods.PEP.MaxItems != tc.items || mods.PEP.MaxNodes != tc.nodes ||
				(tc.name != "set" && mods.PEP != pep.DefaultConfig()) {
				t.Errorf("decoded %+v, %v", mods.PEP, err)
			}
		})
	}
}

// TestPEPLastItemOnSubscription: when alice approves carol's subscription,
// carol's online resource that wants tunes gets alice's last tune
// (XEP-0163 §4.3.2), through the presence module's subscription hook.
func TestPEPLastItemOnSubscription(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	carol := login(t, s, "carol", "desk")
	announceCaps(t, alice, true, nsTune+"+notify")
	announceCaps(t, carol, true, nsTune+"+notify", "urn:x:carol")
	publishTune(alice, "p1", "Yesterday")
	alice.Expect(isID("p1"))
	noEvent(t, carol, "c1")

	carol.Send(`<presence to='alice@localhost' type='subscribe'/>`)
	alice.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("type") == "subscribe" })
	alice.Send(`<presence to='carol@localhost' type='subscribed'/>`)
	ev := carol.Expect(isTuneEvent("Yesterday"))
	if ev.Attr("from") != "alice@localhost" {
		t.Errorf("event: %s", ev)
	}
}

// TestPEPLimitsOverSocket: with [pep] limits from the configuration file,
// a publish over the account's byte quota is refused with
// policy-violation and stores nothing, and an items reply that cannot
// hold the whole node holds the newest item with an RSM <set/> counting
// them all (XEP-0060 §6.5.4).
func TestPEPLimitsOverSocket(t *testing.T) {
	src := "[pep]\nmax_item_bytes = 1000\nmax_bytes_per_account = 2500\nmax_reply_bytes = 1100\n"
	s := startServerConfig(t, loadConfigFile(t, src), nil, nil)
	alice := login(t, s, "alice", "phone")
	filler := strings.Repeat("a", 900)
	publish := func(id, item string) *xml.Element {
		alice.Sendf(`<iq type='set' id='%s'><pubsub xmlns='%s'><publish node='urn:x:big'><item id='%s'><x xmlns='urn:x'>%s</x></item></publish>`+
			`<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>%s#publish-options</value></field>`+
			`<field var='pubsub#max_items'><value>10</value></field></x></publish-options></pubsub></iq>`, id, nsPubSub, item, filler, nsPubSub)
		return alice.Expect(isID(id))
	}
	for _, item := range []string{"1", "2"} {
		if el := publish("p"+item, item); el.Attr("type") != "result" {
			t.Fatalf("publish %s: %s", item, el)
		}
	}
	el := publish("p3", "3")
	if el.Attr("type") != "error" || el.Child("", "error").Child(nsStanzas, "policy-violation") == nil {
		t.Fatalf("publish over the quota: %s", el)
	}
	alice.Sendf(`<iq type='get' id='g1'><pubsub xmlns='%s'><items node='urn:x:big'/></pubsub></iq>`, nsPubSub)
	el = alice.Expect(isID("g1"))
	ps := el.Child(nsPubSub, "pubsub")
	if ps == nil {
		t.Fatalf("items: %s", el)
	}
	items := ps.Child(nsPubSub, "items").ChildrenNamed(nsPubSub, "item")
	set := ps.Child("http://jabber.org/protocol/rsm", "set")
	if len(items) != 1 || items[0].Attr("id") != "2" || set == nil || set.ChildText("http://jabber.org/protocol/rsm", "count") != "2" ||
		set.Child("http://jabber.org/protocol/rsm", "first").Attr("index") != "1" {
		t.Fatalf("bounded items reply: %s", el)
	}
}
