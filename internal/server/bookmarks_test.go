package server_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/storage/sqlite"
)

const (
	nsBookmarks    = "storage:bookmarks"    // XEP-0048, in private XML (XEP-0049)
	nsBookmarks2   = "urn:xmpp:bookmarks:1" // XEP-0402
	nsPubSubOwner  = nsPubSub + "#owner"
	bookmarksForm  = `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#persist_items'><value>true</value></field><field var='pubsub#max_items'><value>max</value></field><field var='pubsub#send_last_published_item'><value>never</value></field><field var='pubsub#access_model'><value>whitelist</value></field></x></publish-options>`
	privateQueryNS = "jabber:iq:private"
)

// newAccount makes an account (password "pw-NAME") and logs it in.
func newAccount(t *testing.T, s *testServer, user, resource string) *xmpptest.Conn {
	t.Helper()
	if err := s.Store.CreateUser(context.Background(), user+"@localhost", xmpptest.Credentials(t, "pw-"+user)); err != nil {
		t.Fatal(err)
	}
	return login(t, s, user, resource)
}

// canonical serialises one element given as text, for comparisons that
// ignore quoting and namespace prefixes.
func canonical(t *testing.T, s string) string {
	t.Helper()
	els, err := xml.ParseElements([]byte(s), xml.Limits{})
	if err != nil || len(els) != 1 {
		t.Fatalf("parse %q: %v", s, err)
	}
	return els[0].String()
}

func mustResult(t *testing.T, c *xmpptest.Conn, id, iq string) *xml.Element {
	t.Helper()
	got, el := ask(t, c, id, iq)
	if got != "result" {
		t.Fatalf("%s: %s", id, el)
	}
	return el
}

// pepBookmarks returns the account's urn:xmpp:bookmarks:1 items by id.
func pepBookmarks(t *testing.T, c *xmpptest.Conn, id string) map[string]*xml.Element {
	t.Helper()
	res := mustResult(t, c, id, fmt.Sprintf(`<iq type='get' id='%s'><pubsub xmlns='%s'><items node='%s'/></pubsub></iq>`, id, nsPubSub, nsBookmarks2))
	out := map[string]*xml.Element{}
	for _, it := range res.Child(nsPubSub, "pubsub").Child(nsPubSub, "items").ChildrenNamed(nsPubSub, "item") {
		out[it.Attr("id")] = it.FirstElement()
	}
	return out
}

// privateBookmarks returns the account's XEP-0048 <storage/> from private XML.
func privateBookmarks(t *testing.T, c *xmpptest.Conn, id string) *xml.Element {
	t.Helper()
	res := mustResult(t, c, id, fmt.Sprintf(`<iq type='get' id='%s'><query xmlns='%s'><storage xmlns='%s'/></query></iq>`, id, privateQueryNS, nsBookmarks))
	return res.Child(privateQueryNS, "query").Child(nsBookmarks, "storage")
}

func conferenceOf(storage *xml.Element, room string) *xml.Element {
	for _, c := range storage.ChildrenNamed(nsBookmarks, "conference") {
		if c.Attr("jid") == room {
			return c
		}
	}
	return nil
}

// bookmarkCases are one bookmark in both syntaxes: XEP-0048's conference
// (in storage:bookmarks) and XEP-0402's item payload, with the room JID
// as item id.
var bookmarkCases = []struct {
	name, room, legacy, native string
}{
	{"full", "play@conference.localhost",
		`<conference xmlns='storage:bookmarks' jid='play@conference.localhost' name='The Play' autojoin='true'><nick>JC</nick><password>secret</password></conference>`,
		`<conference xmlns='urn:xmpp:bookmarks:1' name='The Play' autojoin='true'><nick>JC</nick><password>secret</password></conference>`},
	{"minimal", "orchard@conference.localhost",
		`<conference xmlns='storage:bookmarks' jid='orchard@conference.localhost'/>`,
		`<conference xmlns='urn:xmpp:bookmarks:1'/>`},
	{"extension", "balcony@conference.localhost",
		`<conference xmlns='storage:bookmarks' jid='balcony@conference.localhost' name='Balcony'><nick>Juliet</nick><minimize xmlns='xmpp:gajim.org/bookmarks'>true</minimize></conference>`,
		`<conference xmlns='urn:xmpp:bookmarks:1' name='Balcony'><nick>Juliet</nick><extensions><minimize xmlns='xmpp:gajim.org/bookmarks'>true</minimize></extensions></conference>`},
}

// TestBookmarksCompat (XEP-0402 §5, #compat): bookmarks set in private
// XML (XEP-0048 via XEP-0049) appear as items of the PEP node
// urn:xmpp:bookmarks:1, one per room with the room JID as id, and items
// published there appear in private XML, each bookmark in both
// directions.
func TestBookmarksCompat(t *testing.T) {
	s := startServer(t, nil, nil)
	for i, tc := range bookmarkCases {
		t.Run(tc.name+"/private-to-pep", func(t *testing.T) {
			c := newAccount(t, s, fmt.Sprintf("legacy%d", i), "gajim")
			mustResult(t, c, "set", `<iq type='set' id='set'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'>`+tc.legacy+`<url name='Site' url='https://example.org/'/></storage></query></iq>`)
			items := pepBookmarks(t, c, "get")
			if len(items) != 1 || items[tc.room] == nil {
				t.Fatalf("PEP items: %v", items)
			}
			if got, want := items[tc.room].String(), canonical(t, tc.native); got != want {
				t.Errorf("PEP item:\n got %s\nwant %s", got, want)
			}
			// The legacy list reads back whole, the url included.
			st := privateBookmarks(t, c, "get2")
			if got, want := conferenceOf(st, tc.room), canonical(t, tc.legacy); got == nil || got.String() != want {
				t.Errorf("private conference:\n got %v\nwant %s", got, want)
			}
			if st.Child(nsBookmarks, "url") == nil {
				t.Errorf("url bookmark lost: %s", st)
			}
		})
		t.Run(tc.name+"/pep-to-private", func(t *testing.T) {
			c := newAccount(t, s, fmt.Sprintf("native%d", i), "conversations")
			mustResult(t, c, "pub", `<iq type='set' id='pub'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:bookmarks:1'><item id='`+tc.room+`'>`+tc.native+`</item></publish>`+bookmarksForm+`</pubsub></iq>`)
			st := privateBookmarks(t, c, "get")
			confs := st.ChildrenNamed(nsBookmarks, "conference")
			if len(confs) != 1 {
				t.Fatalf("private bookmarks: %s", st)
			}
			if got, want := confs[0].String(), canonical(t, tc.legacy); got != want {
				t.Errorf("private conference:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// TestBookmarksCompatChanges: a replacement list in private XML becomes
// per-item changes (XEP-0402 §5.2: updates and retractions as needed, no
// notification for unchanged items); a PEP retraction leaves the private
// list; the node the server creates is configured as XEP-0402 asks
// (whitelist, persistent, max items, never sending the last item); the
// account advertises urn:xmpp:bookmarks:1#compat.
func TestBookmarksCompatChanges(t *testing.T) {
	s := startServer(t, nil, nil)
	gajim := login(t, s, "alice", "gajim")
	phone := login(t, s, "alice", "phone")
	announceCaps(t, phone, true, nsBookmarks2+"+notify")
	bob := login(t, s, "bob", "laptop")
	for _, c := range []*xmpptest.Conn{phone, bob} {
		c.Send(`<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>`)
		c.Expect(isID("r"))
	}
	announceCaps(t, bob, false, nsBookmarks2+"+notify") // the same ver: cached
	mutualSubscription(phone, bob)

	setList := func(id string, confs ...string) {
		mustResult(t, gajim, id, `<iq type='set' id='`+id+`'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'>`+strings.Join(confs, "")+`</storage></query></iq>`)
	}
	a := `<conference jid='a@conference.localhost' name='A'/>`
	b := `<conference jid='b@conference.localhost' name='B'/>`
	b2 := `<conference jid='b@conference.localhost' name='B' autojoin='1'><nick>al</nick></conference>`
	c := `<conference jid='c@conference.localhost'/>`

	// events lists the bookmark events c got (kind:id) before the answer
	// to a ping.
	events := func(c *xmpptest.Conn, ping string) []string {
		t.Helper()
		c.Sendf(`<iq type='get' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>`, ping)
		var out []string
		for {
			el := c.Next()
			if el.Attr("id") == ping {
				return out
			}
			if ev := el.Child(nsPubSubEvent, "event"); ev != nil {
				items := ev.Child(nsPubSubEvent, "items")
				if items == nil || items.Attr("node") != nsBookmarks2 {
					continue
				}
				for _, x := range items.Elements() {
					out = append(out, x.Local+":"+x.Attr("id"))
				}
			}
		}
	}
	for _, step := range []struct {
		id    string
		confs []string
		want  []string
	}{
		{"s1", []string{a, b}, []string{"item:a@conference.localhost", "item:b@conference.localhost"}},
		// b changes, a stays, c is new: notifications for b and c only.
		{"s2", []string{a, b2, c}, []string{"item:b@conference.localhost", "item:c@conference.localhost"}},
		// a goes: a retraction.
		{"s3", []string{b2, c}, []string{"retract:a@conference.localhost"}},
		// The same list again: nothing.
		{"s4", []string{b2, c}, nil},
	} {
		setList(step.id, step.confs...)
		if got := events(phone, "p-"+step.id); !slices.Equal(got, step.want) {
			t.Errorf("%s: events %q, want %q", step.id, got, step.want)
		}
		// The bookmarks never reach a contact (whitelist node).
		if got := events(bob, "b-"+step.id); len(got) != 0 {
			t.Errorf("%s: contact got %q", step.id, got)
		}
	}

	items := pepBookmarks(t, phone, "g1")
	if len(items) != 2 || items["b@conference.localhost"] == nil || items["c@conference.localhost"] == nil {
		t.Fatalf("items after replacement: %v", items)
	}
	if got := items["b@conference.localhost"]; got.Attr("autojoin") != "true" || got.ChildText(nsBookmarks2, "nick") != "al" {
		t.Errorf("b: %s", got)
	}

	// A client retracting through PEP removes it from private XML.
	mustResult(t, phone, "r1", `<iq type='set' id='r1'><pubsub xmlns='http://jabber.org/protocol/pubsub'><retract node='urn:xmpp:bookmarks:1' notify='true'><item id='c@conference.localhost'/></retract></pubsub></iq>`)
	st := privateBookmarks(t, gajim, "g2")
	if len(st.ChildrenNamed(nsBookmarks, "conference")) != 1 || conferenceOf(st, "b@conference.localhost") == nil {
		t.Errorf("private after retraction: %s", st)
	}

	// The node as XEP-0402 §3 configures it.
	res := mustResult(t, phone, "cfg", `<iq type='get' id='cfg'><pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='urn:xmpp:bookmarks:1'/></pubsub></iq>`)
	form := res.String()
	for _, want := range []string{
		`var="pubsub#access_model"`, `<value>whitelist</value>`,
		`<value>never</value>`,
	} {
		if !strings.Contains(form, want) {
			t.Errorf("node configuration lacks %s: %s", want, form)
		}
	}
	// Contacts cannot read it.
	if got, _ := ask(t, bob, "b2", `<iq type='get' id='b2' to='alice@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'/></pubsub></iq>`); got != "not-allowed" {
		t.Errorf("contact's retrieval: %s", got)
	}

	// Disco: #compat on the account.
	res = mustResult(t, gajim, "d", `<iq type='get' id='d' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if !strings.Contains(res.String(), `"urn:xmpp:bookmarks:1#compat"`) {
		t.Errorf("account disco#info lacks #compat: %s", res)
	}
}

// TestBookmarksCompatPrecondition: a bookmarks node that an account
// configured otherwise (here open: anyone could read it) is not written
// by the server: XEP-0060 §7.1.5's conflict + <precondition-not-met/>
// answers the private XML set, and nothing leaks into the node.
func TestBookmarksCompatPrecondition(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	mustResult(t, alice, "c", `<iq type='set' id='c'><pubsub xmlns='http://jabber.org/protocol/pubsub'><create node='urn:xmpp:bookmarks:1'/><configure><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field><field var='pubsub#access_model'><value>open</value></field></x></configure></pubsub></iq>`)
	got, el := ask(t, alice, "s", `<iq type='set' id='s'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='a@conference.localhost'/></storage></query></iq>`)
	if got != "conflict" || !strings.Contains(el.String(), "precondition-not-met") {
		t.Errorf("set into an open node: %s", el)
	}
	if items := pepBookmarks(t, alice, "g"); len(items) != 0 {
		t.Errorf("items leaked into the open node: %v", items)
	}
}

// TestBookmarksCompatOff: with [private] bookmarks_compat = false private
// XML keeps bookmarks to itself and the account does not advertise
// #compat.
func TestBookmarksCompatOff(t *testing.T) {
	s := startServerConfig(t, loadConfigFile(t, "[private]\nbookmarks_compat = false\n"), nil, nil)
	alice := login(t, s, "alice", "phone")
	mustResult(t, alice, "s", `<iq type='set' id='s'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='a@conference.localhost'/></storage></query></iq>`)
	if got, el := ask(t, alice, "g", `<iq type='get' id='g'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'/></pubsub></iq>`); got != "item-not-found" {
		t.Errorf("PEP node without the conversion: %s", el)
	}
	if st := privateBookmarks(t, alice, "p"); conferenceOf(st, "a@conference.localhost") == nil {
		t.Errorf("private bookmarks: %s", st)
	}
	res := mustResult(t, alice, "d", `<iq type='get' id='d' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if strings.Contains(res.String(), "#compat") {
		t.Errorf("#compat advertised without the conversion: %s", res)
	}
}

// TestBookmarksCompatMigration: bookmarks stored in private XML before
// the conversion was on are copied into the PEP node at the first read
// of the legacy list.
func TestBookmarksCompatMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "skald.db")
	open := func(section string) *testServer {
		st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return startServerConfig(t, loadConfigFile(t, section), st, nil)
	}
	s := open("[private]\nbookmarks_compat = false\n")
	alice := login(t, s, "alice", "phone")
	mustResult(t, alice, "s", `<iq type='set' id='s'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='old@conference.localhost' name='Old'/></storage></query></iq>`)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	s = open("")
	alice = login(t, s, "alice", "phone")
	if st := privateBookmarks(t, alice, "p"); conferenceOf(st, "old@conference.localhost") == nil {
		t.Fatalf("private bookmarks: %s", st)
	}
	items := pepBookmarks(t, alice, "g")
	if it := items["old@conference.localhost"]; it == nil || it.Attr("name") != "Old" {
		t.Errorf("migrated items: %v", items)
	}
}

// TestBookmarksCompatPEP (XEP-0402 §5, #compat-pep): the XEP-0048 list in
// XEP-0048's own PEP node (storage:bookmarks, item "current", XEP-0223)
// follows the bookmarks whichever way they change, and a list published
// there becomes the XEP-0402 items (and the private XML list).
func TestBookmarksCompatPEP(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	legacyPEP := func(id string) []string {
		t.Helper()
		res := mustResult(t, alice, id, `<iq type='get' id='`+id+`'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='storage:bookmarks'/></pubsub></iq>`)
		items := res.Child(nsPubSub, "pubsub").Child(nsPubSub, "items").ChildrenNamed(nsPubSub, "item")
		if len(items) != 1 || items[0].Attr("id") != "current" {
			t.Fatalf("legacy PEP node: %s", res)
		}
		var rooms []string
		for _, c := range items[0].Child(nsBookmarks, "storage").ChildrenNamed(nsBookmarks, "conference") {
			rooms = append(rooms, c.Attr("jid"))
		}
		return rooms
	}
	pepRooms := func(id string) []string {
		var rooms []string
		for room := range pepBookmarks(t, alice, id) {
			rooms = append(rooms, room)
		}
		slices.Sort(rooms)
		return rooms
	}
	privateRooms := func(id string) []string {
		var rooms []string
		for _, c := range privateBookmarks(t, alice, id).ChildrenNamed(nsBookmarks, "conference") {
			rooms = append(rooms, c.Attr("jid"))
		}
		return rooms
	}

	mustResult(t, alice, "s1", `<iq type='set' id='s1'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='a@conference.localhost'/></storage></query></iq>`)
	if got := legacyPEP("l1"); !slices.Equal(got, []string{"a@conference.localhost"}) {
		t.Errorf("after the private set: %q", got)
	}
	mustResult(t, alice, "p1", `<iq type='set' id='p1'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:bookmarks:1'><item id='b@conference.localhost'><conference xmlns='urn:xmpp:bookmarks:1' name='B'/></item></publish>`+bookmarksForm+`</pubsub></iq>`)
	if got := legacyPEP("l2"); !slices.Equal(got, []string{"a@conference.localhost", "b@conference.localhost"}) {
		t.Errorf("after the XEP-0402 publish: %q", got)
	}
	// An XEP-0048 client publishes its list to the legacy node (XEP-0223 options).
	mustResult(t, alice, "p2", `<iq type='set' id='p2'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='storage:bookmarks'><item id='current'><storage xmlns='storage:bookmarks'><conference jid='b@conference.localhost' name='B'/><conference jid='c@conference.localhost'/></storage></item></publish><publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#persist_items'><value>true</value></field><field var='pubsub#access_model'><value>whitelist</value></field></x></publish-options></pubsub></iq>`)
	if got := pepRooms("g1"); !slices.Equal(got, []string{"b@conference.localhost", "c@conference.localhost"}) {
		t.Errorf("XEP-0402 items after the legacy publish: %q", got)
	}
	if got := privateRooms("g2"); !slices.Equal(got, []string{"b@conference.localhost", "c@conference.localhost"}) {
		t.Errorf("private list after the legacy publish: %q", got)
	}
	mustResult(t, alice, "r1", `<iq type='set' id='r1'><pubsub xmlns='http://jabber.org/protocol/pubsub'><retract node='urn:xmpp:bookmarks:1' notify='true'><item id='c@conference.localhost'/></retract></pubsub></iq>`)
	if got := legacyPEP("l3"); !slices.Equal(got, []string{"b@conference.localhost"}) {
		t.Errorf("after the XEP-0402 retraction: %q", got)
	}
	res := mustResult(t, alice, "d", `<iq type='get' id='d' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if !strings.Contains(res.String(), `"urn:xmpp:bookmarks:1#compat-pep"`) {
		t.Errorf("account disco#info lacks #compat-pep: %s", res)
	}
}
