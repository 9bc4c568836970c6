package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/server"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/muc"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
	"github.com/skald-xmpp/skald/storage/postgres"
	"github.com/skald-xmpp/skald/storage/postgres/pgtest"
	"github.com/skald-xmpp/skald/storage/sqlite"
)

const (
	nsMUC     = "http://jabber.org/protocol/muc"
	nsMUCUser = nsMUC + "#user"
	room      = "tea@conference.localhost"
)

// mucStatuses returns the status codes of a MUC presence or message,
// space-separated, and its item's affiliation/role/jid/nick.
func mucStatuses(el *xml.Element) (codes, item string) {
	x := el.Child(nsMUCUser, "x")
	var cs []string
	for _, s := range x.ChildrenNamed(nsMUCUser, "status") {
		cs = append(cs, s.Attr("code"))
	}
	it := x.Child(nsMUCUser, "item")
	item = it.Attr("affiliation") + "/" + it.Attr("role")
	if j := it.Attr("jid"); j != "" {
		item += " " + j
	}
	if n := it.Attr("nick"); n != "" {
		item += " nick=" + n
	}
	return strings.Join(cs, " "), item
}

// wantPresence reads c's next stanza, which must be presence from the
// occupant JID from, of type typ, with the given status codes and item.
func wantPresence(t *testing.T, c *xmpptest.Conn, from, typ, codes, item string) *xml.Element {
	t.Helper()
	el := c.Next()
	gotCodes, gotItem := mucStatuses(el)
	if el.Local != "presence" || el.Attr("from") != from || el.Attr("type") != typ || gotCodes != codes || gotItem != item {
		t.Fatalf("got %s\nwant presence from %s type %q codes %q item %q", el, from, typ, codes, item)
	}
	return el
}

// wantSubject reads the empty subject sent last on entering.
func wantSubject(t *testing.T, c *xmpptest.Conn) {
	t.Helper()
	el := c.Next()
	if el.Local != "message" || el.Attr("type") != "groupchat" || el.Child("", "subject") == nil || el.Child("", "body") != nil {
		t.Fatalf("want the subject, got %s", el)
	}
}

func wantErrorCond(t *testing.T, el *xml.Element, cond string) {
	t.Helper()
	if el.Attr("type") != "error" || el.Child("", "error").Child(nsStanzas, cond) == nil {
		t.Fatalf("want %s error, got %s", cond, el)
	}
}

// TestMUCRoomLifecycle runs XEP-0045 over sockets with three users:
// creating a locked room and accepting the instant room, entering with
// the others' presence first and the self-presence (110) last, a nick
// conflict, a groupchat message with the room's stanza-id, history on
// entering, MAM on the room, a nick change, a kick, and a session that
// ends leaving the room.
func TestMUCRoomLifecycle(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	bob := login(t, s, "bob", "laptop")
	carol := login(t, s, "carol", "desk")

	// The service is listed among the server's items.
	_, items := ask(t, alice, "d1", `<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`)
	if !strings.Contains(items.String(), `jid="conference.localhost"`) {
		t.Fatalf("server items: %s", items)
	}
	_, info := ask(t, alice, "d2", `<iq type='get' id='d2' to='conference.localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if !strings.Contains(info.String(), `category="conference"`) || !strings.Contains(info.String(), `var="`+nsMUC+`"`) {
		t.Fatalf("service info: %s", info)
	}

	// alice creates the room: 201, and it stays locked for others.
	alice.Send(`<presence to='` + room + `/Al'><x xmlns='` + nsMUC + `'/></presence>`)
	wantPresence(t, alice, room+"/Al", "", "100 170 201 110", "owner/moderator alice@localhost/phone")
	wantSubject(t, alice)
	bob.Send(`<presence to='` + room + `/Bob' id='j1'><x xmlns='` + nsMUC + `'/></presence>`)
	wantErrorCond(t, bob.Next(), "item-not-found")
	if cond, el := ask(t, alice, "o1", `<iq type='set' id='o1' to='`+room+`'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`); cond != "result" {
		t.Fatalf("instant room: %s", el)
	}

	// bob enters: alice's presence, then his own last; alice sees him.
	bob.Send(`<presence to='` + room + `/Bob'><x xmlns='` + nsMUC + `'/></presence>`)
	wantPresence(t, bob, room+"/Al", "", "", "owner/moderator alice@localhost/phone")
	wantPresence(t, bob, room+"/Bob", "", "100 170 110", "none/participant bob@localhost/laptop")
	wantSubject(t, bob)
	wantPresence(t, alice, room+"/Bob", "", "", "none/participant bob@localhost/laptop")

	// carol cannot take bob's nick.
	carol.Send(`<presence to='` + room + `/Bob' id='j2'><x xmlns='` + nsMUC + `'/></presence>`)
	wantErrorCond(t, carol.Next(), "conflict")
	// A non-occupant may not send to the room.
	carol.Send(`<message to='` + room + `' type='groupchat' id='m0'><body>let me in</body></message>`)
	wantErrorCond(t, carol.Next(), "not-acceptable")

	// bob's message reaches both occupants with the same stanza-id.
	bob.Send(`<message to='` + room + `' type='groupchat' id='m1'><body>hello room</body></message>`)
	var ids []string
	for _, c := range []*xmpptest.Conn{alice, bob} {
		el := c.Next()
		sid := el.Child("urn:xmpp:sid:0", "stanza-id")
		if el.Attr("from") != room+"/Bob" || el.ChildText("", "body") != "hello room" || sid.Attr("by") != room || sid.Attr("id") == "" || el.Child("urn:xmpp:occupant-id:0", "occupant-id") == nil {
			t.Fatalf("groupchat message: %s", el)
		}
		ids = append(ids, sid.Attr("id"))
	}
	if ids[0] != ids[1] {
		t.Fatalf("stanza-ids differ: %v", ids)
	}

	// carol enters and gets the history with a delay, then the subject.
	carol.Send(`<presence to='` + room + `/Carol'><x xmlns='` + nsMUC + `'><history maxstanzas='5'/></x></presence>`)
	wantPresence(t, carol, room+"/Al", "", "", "owner/moderator alice@localhost/phone")
	wantPresence(t, carol, room+"/Bob", "", "", "none/participant bob@localhost/laptop")
	wantPresence(t, carol, room+"/Carol", "", "100 170 110", "none/participant carol@localhost/desk")
	hist := carol.Next()
	if hist.ChildText("", "body") != "hello room" || hist.Child("urn:xmpp:delay", "delay").Attr("from") != room || hist.Child("urn:xmpp:sid:0", "stanza-id").Attr("id") != ids[0] {
		t.Fatalf("history: %s", hist)
	}
	wantSubject(t, carol)
	wantPresence(t, alice, room+"/Carol", "", "", "none/participant carol@localhost/desk")
	wantPresence(t, bob, room+"/Carol", "", "", "none/participant carol@localhost/desk")

	// MAM on the room: results come from the room, with the stanza-id.
	carol.Send(`<iq type='set' id='q1' to='` + room + `'><query xmlns='urn:xmpp:mam:2' queryid='x'/></iq>`)
	res := carol.Next()
	r := res.Child("urn:xmpp:mam:2", "result")
	if res.Attr("from") != room || r.Attr("id") != ids[0] || !strings.Contains(res.String(), "hello room") || !strings.Contains(res.String(), room+"/Bob") {
		t.Fatalf("room archive result: %s", res)
	}
	if fin := carol.Next(); fin.Attr("id") != "q1" || fin.Attr("type") != "result" || fin.Attr("from") != room {
		t.Fatalf("room archive fin: %s", fin)
	}

	// bob becomes Bobby: everyone sees 303 then the new nick.
	bob.Send(`<presence to='` + room + `/Bobby'/>`)
	wantPresence(t, alice, room+"/Bob", "unavailable", "303", "none/participant bob@localhost/laptop nick=Bobby")
	wantPresence(t, alice, room+"/Bobby", "", "", "none/participant bob@localhost/laptop")
	wantPresence(t, bob, room+"/Bob", "unavailable", "303 110", "none/participant bob@localhost/laptop nick=Bobby")
	wantPresence(t, bob, room+"/Bobby", "", "110", "none/participant bob@localhost/laptop")
	wantPresence(t, carol, room+"/Bob", "unavailable", "303", "none/participant bob@localhost/laptop nick=Bobby")
	wantPresence(t, carol, room+"/Bobby", "", "", "none/participant bob@localhost/laptop")

	// alice kicks Bobby (§8.2): he gets 307 with 110, the others 307.
	if cond, el := ask(t, alice, "k1", `<iq type='set' id='k1' to='`+room+`'><query xmlns='http://jabber.org/protocol/muc#admin'><item nick='Bobby' role='none'><reason>enough</reason></item></query></iq>`); cond != "result" {
		t.Fatalf("kick: %s", el)
	}
	wantPresence(t, bob, room+"/Bobby", "unavailable", "307 110", "none/none bob@localhost/laptop")
	wantPresence(t, carol, room+"/Bobby", "unavailable", "307", "none/none bob@localhost/laptop")
	// bob is no occupant now, but the room is public and open: he may
	// still read its archive, as anyone could before joining.
	if cond, _ := ask(t, bob, "q2", `<iq type='set' id='q2' to='`+room+`'><query xmlns='urn:xmpp:mam:2'/></iq>`); cond != "result" {
		t.Fatalf("archive query by a non-occupant of a public open room: %s", cond)
	}

	// carol's session ends: alice sees her leave.
	carol.Close()
	wantPresence(t, alice, room+"/Carol", "unavailable", "", "none/none carol@localhost/desk")
}

// TestMUCPersistentRoomRestart: on SQLite and on PostgreSQL, a
// persistent room's configuration, subject and affiliations survive a
// restart, and its archive too: after it, bob enters the existing room
// (no 201), gets the earlier message as history (read back from the
// archive) and the subject, and finds the message in the room's archive;
// banned carol stays out; the room is listed publicly with its name.
func TestMUCPersistentRoomRestart(t *testing.T) {
	ctx := context.Background()
	for _, backend := range []struct {
		name string
		// store returns a function that opens the same database each
		// time it is called.
		store func(t *testing.T) func() (storage.Store, error)
	}{
		{"sqlite", func(t *testing.T) func() (storage.Store, error) {
			path := filepath.Join(t.TempDir(), "skald.db")
			return func() (storage.Store, error) { return sqlite.Open(ctx, path, sqlite.Options{}) }
		}},
		{"postgres", func(t *testing.T) func() (storage.Store, error) {
			dsn := pgtest.DSN(t)
			return func() (storage.Store, error) { return postgres.Open(ctx, dsn, postgres.Options{}) }
		}},
	} {
		t.Run(backend.name, func(t *testing.T) {
			openStore := backend.store(t)
			testMUCPersistentRoomRestart(t, backend.name, func() *testServer {
				st, err := openStore()
				if err != nil {
					t.Fatal(err)
				}
				return startServer(t, st, nil)
			})
		})
	}
}

// testMUCPersistentRoomRestart is TestMUCPersistentRoomRestart on the
// backend that open starts a server on (a new one on the same database
// each time).
func testMUCPersistentRoomRestart(t *testing.T, backend string, open func() *testServer) {
	s := open()
	if s.Store.Name() != backend {
		t.Fatalf("server runs on %q, want %q", s.Store.Name(), backend)
	}
	alice := login(t, s, "alice", "phone")
	alice.Send(`<presence to='` + room + `/Al'><x xmlns='` + nsMUC + `'/></presence>`)
	wantPresence(t, alice, room+"/Al", "", "100 170 201 110", "owner/moderator alice@localhost/phone")
	wantSubject(t, alice)
	if cond, el := ask(t, alice, "o1", `<iq type='set' id='o1' to='`+room+`'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field><field var='muc#roomconfig_persistentroom'><value>1</value></field><field var='muc#roomconfig_roomname'><value>Tea room</value></field></x></query></iq>`); cond != "result" {
		t.Fatalf("configure: %s", el)
	}
	if cond, el := ask(t, alice, "b1", `<iq type='set' id='b1' to='`+room+`'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='outcast' jid='carol@localhost'/></query></iq>`); cond != "result" {
		t.Fatalf("ban: %s", el)
	}
	alice.Send(`<message to='` + room + `' type='groupchat'><subject>Tea</subject></message>`)
	alice.Expect(func(e *xml.Element) bool { return e.Child("", "subject") != nil })
	alice.Send(`<message to='` + room + `' type='groupchat'><body>before the restart</body></message>`)
	alice.Expect(isMessageWithBody("before the restart"))
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	s = open()
	bob := login(t, s, "bob", "laptop")
	_, items := ask(t, bob, "d1", `<iq type='get' id='d1' to='conference.localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`)
	if !strings.Contains(items.String(), `jid="`+room+`"`) || !strings.Contains(items.String(), `name="Tea room"`) {
		t.Fatalf("public rooms after the restart: %s", items)
	}
	bob.Send(`<presence to='` + room + `/Bob'><x xmlns='` + nsMUC + `'/></presence>`)
	wantPresence(t, bob, room+"/Bob", "", "100 170 110", "none/participant bob@localhost/laptop")
	// The discussion history, read back from the room's archive.
	hist := bob.Next()
	if hist.ChildText("", "body") != "before the restart" || hist.Child("urn:xmpp:delay", "delay").Attr("from") != room || hist.Child("urn:xmpp:sid:0", "stanza-id").Attr("by") != room {
		t.Fatalf("history after the restart: %s", hist)
	}
	if subj := bob.Next(); subj.ChildText("", "subject") != "Tea" || subj.Attr("from") != room+"/Al" {
		t.Fatalf("subject after the restart: %s", subj)
	}
	bob.Send(`<iq type='set' id='q1' to='` + room + `'><query xmlns='urn:xmpp:mam:2'/></iq>`)
	// The subject change is archived first, then the message, with the
	// id the history's stanza-id gave.
	bob.Next()
	if res := bob.Next(); !strings.Contains(res.String(), "before the restart") || res.Attr("from") != room ||
		res.Child("urn:xmpp:mam:2", "result").Attr("id") != hist.Child("urn:xmpp:sid:0", "stanza-id").Attr("id") {
		t.Fatalf("room archive after the restart: %s", res)
	}
	carol := login(t, s, "carol", "desk")
	carol.Send(`<presence to='` + room + `/Carol' id='j'><x xmlns='` + nsMUC + `'/></presence>`)
	wantErrorCond(t, carol.Next(), "forbidden")
}

// TestMUCConfig: the [muc] section is decoded and validated, unknown keys
// are rejected, skald.example.toml shows the defaults, and enabled =
// false leaves the service out.
func TestMUCConfig(t *testing.T) {
	m, err := loadModuleConfig(t, "[muc]\ndomain = \"chat\"\nmax_occupants = 10\n")
	if err != nil || m.MUC.Domain != "chat" || m.MUC.MaxOccupants != 10 || m.MUC.MaxRooms != 1000 {
		t.Fatalf("decoded %+v, %v", m.MUC, err)
	}
	example, err := os.ReadFile("../../skald.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, tail, _ := strings.Cut(string(example), "# [muc]\n")
	section, _, _ := strings.Cut(tail, "\n\n")
	var lines []string
	for _, l := range strings.Split("# [muc]\n"+section, "\n") {
		if strings.HasPrefix(l, "# [") || strings.Contains(l, " = ") {
			lines = append(lines, strings.TrimPrefix(l, "# "))
		}
	}
	if m, err := loadModuleConfig(t, strings.Join(lines, "\n")); err != nil || m.MUC != muc.DefaultConfig() || len(lines) != 12 {
		t.Errorf("skald.example.toml's [muc] %q gives %+v, %v; want the defaults", lines, m.MUC, err)
	}
	for _, src := range []string{
		"[muc]\nmax_room = 3\n",
		"[muc]\ndomain = \"a@b\"\n",
		"[muc]\nmax_occupants = 0\n",
		"[muc]\nmax_rooms_per_account = 0\n",
		"[muc]\nmax_affiliations = 0\n",
		"[muc]\nmax_rooms = 5\nmax_rooms_per_account = 6\n",
		"[muc]\nhistory_messages = 5\ndefault_history_messages = 6\n",
		"[muc]\nmax_remote_occupants_per_domain = -1\n",
		"[muc]\nmax_vcard_bytes = 26\n",
	} {
		if _, err := loadModuleConfig(t, src); err == nil {
			t.Errorf("%q accepted", src)
		}
	}

	// A service domain that is a hosted domain too is refused at start.
	clash := config.Default()
	clash.DataDir = t.TempDir()
	clash.Domains = []string{"localhost", "conference.localhost"}
	if _, err := server.New(context.Background(), clash, testLogger(), server.Options{Store: memory.New()}); err == nil || !strings.Contains(err.Error(), "[muc] domain") {
		t.Errorf("a service domain that is hosted too: %v", err)
	}

	// Off: no service domain, and the server's items list none.
	alice := login(t, startServerConfig(t, loadConfigFile(t, "[muc]\nenabled = false\n"), nil, nil), "alice", "phone")
	if _, items := ask(t, alice, "d1", `<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`); strings.Contains(items.String(), "conference") {
		t.Fatalf("server items with the service off: %s", items)
	}
	if cond, _ := ask(t, alice, "d2", `<iq type='get' id='d2' to='conference.localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`); cond != "remote-server-not-found" {
		t.Fatalf("service off answered %s", cond)
	}
}

// TestMUCBroadcastUnavailableLeaves: a client that sends broadcast
// unavailable presence, its stream still open, leaves its rooms (RFC 6121
// §4.6.3), so the room keeps no ghost.
func TestMUCBroadcastUnavailableLeaves(t *testing.T) {
	s := startServer(t, nil, nil)
	alice, bob := login(t, s, "alice", "phone"), login(t, s, "bob", "laptop")
	alice.Send(`<presence to='` + room + `/Al'/>`) // groupchat 1.0: an instant room
	wantPresence(t, alice, room+"/Al", "", "100 170 201 110", "owner/moderator alice@localhost/phone")
	wantSubject(t, alice)
	bob.Send(`<presence/>`)
	bob.Send(`<presence to='` + room + `/Bob'/>`)
	wantPresence(t, alice, room+"/Bob", "", "", "none/participant bob@localhost/laptop")
	bob.Send(`<presence type='unavailable'/>`)
	wantPresence(t, alice, room+"/Bob", "unavailable", "", "none/none bob@localhost/laptop")
	bob.Expect(func(e *xml.Element) bool { return e.Attr("from") == room+"/Bob" && e.Attr("type") == "unavailable" })
}
