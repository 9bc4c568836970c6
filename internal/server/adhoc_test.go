package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/adhoc"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/storage/sqlite"
)

const (
	nsCommands = "http://jabber.org/protocol/commands"
	nsAdmin    = "http://jabber.org/protocol/admin"
)

// startAdminServer runs a server where alice administers localhost.
func startAdminServer(t *testing.T) *testServer {
	t.Helper()
	return startServerConfig(t, loadConfigFile(t, `admins = ["alice@localhost"]`+"\n"), nil, nil)
}

// runCommand executes node as c and submits fields (var, value pairs;
// "|" separates the values of one field) to its form; it returns the
// answer's condition ("result" or an error) and the final answer.
func runCommand(t *testing.T, c *xmpptest.Conn, node string, fields ...string) (string, *xml.Element) {
	t.Helper()
	cond, el := ask(t, c, "x1", `<iq type='set' id='x1' to='localhost'><command xmlns='`+nsCommands+`' node='`+nsAdmin+`#`+node+`' action='execute'/></iq>`)
	if cond != "result" {
		return cond, el
	}
	cmd := el.Child(nsCommands, "command")
	if cmd.Attr("status") != "executing" {
		return cond, el
	}
	var form strings.Builder
	for i := 0; i+1 < len(fields); i += 2 {
		form.WriteString(`<field var='` + fields[i] + `'>`)
		for _, v := range strings.Split(fields[i+1], "|") {
			form.WriteString(`<value>` + v + `</value>`)
		}
		form.WriteString(`</field>`)
	}
	return ask(t, c, "x2", `<iq type='set' id='x2' to='localhost'><command xmlns='`+nsCommands+`' node='`+nsAdmin+`#`+node+`' sessionid='`+cmd.Attr("sessionid")+
		`'><x xmlns='jabber:x:data' type='submit'>`+form.String()+`</x></command></iq>`)
}

func status(el *xml.Element) string { return el.Child(nsCommands, "command").Attr("status") }

// TestAdhocAddUserOverSocket: the admin finds add-user in the command
// list, adds an account, and the new user logs in.
func TestAdhocAddUserOverSocket(t *testing.T) {
	s := startAdminServer(t)
	alice := login(t, s, "alice", "desk")
	cond, el := ask(t, alice, "d1", `<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items' node='`+nsCommands+`'/></iq>`)
	if cond != "result" || !strings.Contains(el.String(), `node="`+nsAdmin+`#add-user"`) {
		t.Fatalf("command list: %s", el)
	}
	if cond, el := runCommand(t, alice, "add-user", "accountjid", "dave@localhost", "password", "s3cret pw", "password-verify", "s3cret pw"); cond != "result" || status(el) != "completed" {
		t.Fatalf("add-user: %s", el)
	}
	if !canLogin(t, s, "dave", "s3cret pw") {
		t.Fatal("the new account does not log in")
	}
	if cond, el := runCommand(t, alice, "add-user", "accountjid", "dave@localhost", "password", "x", "password-verify", "x"); cond != "conflict" {
		t.Fatalf("adding dave again: %s", el)
	}
	if cond, el := runCommand(t, alice, "change-user-password", "accountjid", "dave@localhost", "password", "other"); cond != "result" || status(el) != "completed" {
		t.Fatalf("change-user-password: %s", el)
	}
	if !canLogin(t, s, "dave", "other") || canLogin(t, s, "dave", "s3cret pw") {
		t.Fatal("the password did not change")
	}
}

// TestAdhocDeleteUserOverSocket: deleting bob ends both his streams
// after the result and removes his data; he cannot log in again.
func TestAdhocDeleteUserOverSocket(t *testing.T) {
	s := startAdminServer(t)
	alice := login(t, s, "alice", "desk")
	phone := login(t, s, "bob", "phone")
	laptop := login(t, s, "bob", "laptop")
	carol := login(t, s, "carol", "home")
	if cond, el := ask(t, phone, "v1", `<iq type='set' id='v1'><vCard xmlns='vcard-temp'><FN>Bob</FN></vCard></iq>`); cond != "result" {
		t.Fatalf("vcard: %s", el)
	}
	cond, el := runCommand(t, alice, "delete-user", "accountjids", "bob@localhost|nobody@localhost")
	if cond != "result" || status(el) != "completed" || !strings.Contains(el.String(), "No such account: nobody@localhost.") {
		t.Fatalf("delete-user: %s", el)
	}
	for _, c := range []*xmpptest.Conn{phone, laptop} {
		if cond := c.ExpectStreamError(); cond != "not-authorized" {
			t.Errorf("bob's stream error %q", cond)
		}
	}
	if canLogin(t, s, "bob", "pw-bob") {
		t.Error("the deleted account still logs in")
	}
	if cond, el := ask(t, carol, "v2", `<iq type='get' id='v2' to='bob@localhost'><vCard xmlns='vcard-temp'/></iq>`); cond != "service-unavailable" {
		t.Errorf("bob's vCard after deletion: %s", el)
	}
	// The admin's own stream goes on.
	if cond, el := ask(t, alice, "p1", `<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`); cond != "result" {
		t.Errorf("alice after the deletion: %s", el)
	}
}

// TestAdhocEndSessionOverSocket: ending a full JID's session leaves the
// account's other one.
func TestAdhocEndSessionOverSocket(t *testing.T) {
	s := startAdminServer(t)
	alice := login(t, s, "alice", "desk")
	phone := login(t, s, "bob", "phone")
	laptop := login(t, s, "bob", "laptop")
	if cond, el := runCommand(t, alice, "end-user-session", "accountjids", "bob@localhost/phone"); cond != "result" || status(el) != "completed" {
		t.Fatalf("end-user-session: %s", el)
	}
	if cond := phone.ExpectStreamError(); cond != "policy-violation" {
		t.Errorf("phone's stream error %q", cond)
	}
	if cond, el := ask(t, laptop, "p1", `<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`); cond != "result" {
		t.Errorf("the other session: %s", el)
	}
	if !canLogin(t, s, "bob", "pw-bob") {
		t.Error("bob cannot log in again")
	}
}

// TestAdhocNonAdminOverSocket: bob sees no admin command (only his own
// push setting) and may run none of them.
func TestAdhocNonAdminOverSocket(t *testing.T) {
	s := startAdminServer(t)
	bob := login(t, s, "bob", "phone")
	cond, el := ask(t, bob, "d1", `<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#items' node='`+nsCommands+`'/></iq>`)
	// No admin command: only his own push setting (XEP-0357 in rooms).
	if items := el.Child("", "query").Elements(); cond != "result" || len(items) != 1 || items[0].Attr("node") != "https://skald.im/commands#push-groupchat" {
		t.Fatalf("bob's command list: %s", el)
	}
	if cond, el := runCommand(t, bob, "add-user", "accountjid", "eve@localhost", "password", "x", "password-verify", "x"); cond != "forbidden" {
		t.Fatalf("bob runs add-user: %s", el)
	}
	if cond, el := ask(t, bob, "i1", `<iq type='get' id='i1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info' node='`+nsAdmin+`#add-user'/></iq>`); cond != "forbidden" {
		t.Fatalf("bob's disco#info on add-user: %s", el)
	}
	if canLogin(t, s, "eve", "x") {
		t.Error("bob created an account")
	}
}

// TestAdhocSessionErrorsOverSocket: cancel, then the id is expired; an
// unknown id is bad-sessionid; both with the commands namespace's
// condition.
func TestAdhocSessionErrorsOverSocket(t *testing.T) {
	s := startAdminServer(t)
	alice := login(t, s, "alice", "desk")
	node := nsAdmin + "#add-user"
	cond, el := ask(t, alice, "x1", `<iq type='set' id='x1' to='localhost'><command xmlns='`+nsCommands+`' node='`+node+`'/></iq>`)
	if cond != "result" || status(el) != "executing" {
		t.Fatalf("execute: %s", el)
	}
	sid := el.Child(nsCommands, "command").Attr("sessionid")
	if cond, el := ask(t, alice, "x2", `<iq type='set' id='x2' to='localhost'><command xmlns='`+nsCommands+`' node='`+node+`' sessionid='`+sid+`' action='cancel'/></iq>`); cond != "result" || status(el) != "canceled" {
		t.Fatalf("cancel: %s", el)
	}
	for _, tc := range []struct{ sid, cond, app string }{{sid, "not-allowed", "session-expired"}, {"made-up", "bad-request", "bad-sessionid"}} {
		cond, el := ask(t, alice, "x3", `<iq type='set' id='x3' to='localhost'><command xmlns='`+nsCommands+`' node='`+node+`' sessionid='`+tc.sid+`'/></iq>`)
		if cond != tc.cond || el.Child("", "error").Child(nsCommands, tc.app) == nil {
			t.Errorf("sessionid %s: %s", tc.sid, el)
		}
	}
}

// TestAdhocConfig: [adhoc] decodes over its defaults, refuses bad and
// unknown keys, and skald.example.toml's commented section is the
// defaults.
func TestAdhocConfig(t *testing.T) {
	m, err := loadModuleConfig(t, "")
	if err != nil || m.Adhoc != adhoc.DefaultConfig() {
		t.Fatalf("defaults: %+v, %v", m.Adhoc, err)
	}
	m, err = loadModuleConfig(t, "[adhoc]\nsession_timeout = \"90s\"\nmax_sessions_per_account = 2\n")
	if err != nil || m.Adhoc != (adhoc.Config{SessionTimeout: 90 * time.Second, MaxSessionsPerAccount: 2}) {
		t.Fatalf("set: %+v, %v", m.Adhoc, err)
	}
	example, err := os.ReadFile("../../skald.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, tail, _ := strings.Cut(string(example), "# [adhoc]\n")
	lines := []string{"[adhoc]"}
	for _, l := range strings.Split(tail, "\n") {
		if strings.HasPrefix(l, "# [") {
			break
		}
		if strings.Contains(l, " = ") {
			lines = append(lines, strings.TrimPrefix(l, "# "))
		}
	}
	if m, err := loadModuleConfig(t, strings.Join(lines, "\n")); err != nil || m.Adhoc != adhoc.DefaultConfig() || len(lines) != 3 {
		t.Errorf("skald.example.toml's [adhoc] %q gives %+v, %v; want the defaults", lines, m.Adhoc, err)
	}
	for _, bad := range []string{"[adhoc]\nadmins = []\n", "[adhoc]\nsession_timeout = 0\n", "[adhoc]\nmax_sessions_per_account = 0\n"} {
		if _, err := loadModuleConfig(t, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestAdhocMOTDOverSocket: on SQLite, the message of the day alice sets
// reaches bob when he sends his initial presence, and her announcement
// reaches his available session.
func TestAdhocMOTDOverSocket(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "skald.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := startServerConfig(t, loadConfigFile(t, `admins = ["alice@localhost"]`+"\n"), st, nil) // closes st at shutdown
	alice := login(t, s, "alice", "desk")
	if cond, el := runCommand(t, alice, "set-motd", "motd", "Maintenance at noon."); cond != "result" || status(el) != "completed" {
		t.Fatalf("set-motd: %s", el)
	}
	bob := login(t, s, "bob", "phone")
	bob.Send(`<presence/>`)
	bob.Expect(func(e *xml.Element) bool {
		return e.Local == "message" && e.Attr("type") == "headline" && e.Attr("from") == "localhost" && e.ChildText("", "body") == "Maintenance at noon."
	})
	if cond, el := runCommand(t, alice, "announce", "subject", "Hello", "announcement", "Back soon."); cond != "result" || status(el) != "completed" {
		t.Fatalf("announce: %s", el)
	}
	bob.Expect(func(e *xml.Element) bool {
		return e.Local == "message" && e.Attr("type") == "headline" && e.ChildText("", "subject") == "Hello" && e.ChildText("", "body") == "Back soon."
	})
}

// TestAdhocDeleteUserBeforeBind: a stream that authenticated as bob
// before an administrator deleted him, and binds after, must not get a
// session of the deleted account (it would write roster, vCard or
// archive data that a new bob would inherit).
func TestAdhocDeleteUserBeforeBind(t *testing.T) {
	s := startAdminServer(t)
	alice := login(t, s, "alice", "desk")
	bob := xmpptest.Dial(t, s.addr)
	bob.OpenStream("localhost")
	bob.StartTLS("localhost")
	bob.AuthSCRAM("localhost", "bob", "pw-bob")
	if cond, el := runCommand(t, alice, "delete-user", "accountjids", "bob@localhost"); cond != "result" || status(el) != "completed" {
		t.Fatalf("delete-user: %s", el)
	}
	bob.Send(`<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>late</resource></bind></iq>`)
	if cond := bob.ExpectStreamError(); cond != "not-authorized" {
		t.Fatalf("binding after the deletion: stream error %q", cond)
	}
	// Nothing of the refused stream stays bound.
	if cond, el := runCommand(t, alice, "get-online-users-num"); cond != "result" || !strings.Contains(el.String(), "<value>1</value>") {
		t.Fatalf("online users after the refused bind: %s", el)
	}
}
