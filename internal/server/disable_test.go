package server_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/sqlite"
)

// streamErrorOf reads up to c's stream error and returns it.
func streamErrorOf(t *testing.T, next func() (*xml.Element, error)) *xml.Element {
	t.Helper()
	for {
		el, err := next()
		if err != nil {
			t.Fatalf("expected a stream error, got %v", err)
		}
		if el.Is(nsStreams, "error") {
			return el
		}
	}
}

// wantDisabledStreamError: policy-violation (RFC 6120 §4.9.3.14) with a
// text saying the account is disabled, and not the operator's reason.
func wantDisabledStreamError(t *testing.T, who string, el *xml.Element) {
	t.Helper()
	txt := el.Child(nsStreamError, "text")
	if el.Child(nsStreamError, "policy-violation") == nil || txt == nil || !strings.Contains(txt.Text(), "disabled") {
		t.Errorf("%s: stream error %s, want policy-violation saying the account is disabled", who, el)
	}
	if strings.Contains(el.String(), "spam") {
		t.Errorf("%s: the operator's reason reached the client: %s", who, el)
	}
}

// TestAdhocDisableUserOverSocket: XEP-0133 §4.3 over real sockets.
// Disabling bob ends his TCP, WebSocket and BOSH streams after the result and
// the XEP-0198 session he left for resumption; his logins are refused
// with account-disabled while his data stays; re-enabled (§4.4), he logs
// in again. A non-admin may run neither command.
func TestAdhocDisableUserOverSocket(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "skald.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := loadConfigFile(t, "admins = [\"alice@localhost\"]\n[websocket]\naddress = \"127.0.0.1:0\"\ntls = false\n[bosh]\naddress = \"127.0.0.1:0\"\ntls = false\n")
	s := startServerConfig(t, cfg, st, nil)
	alice := login(t, s, "alice", "desk")
	carol := login(t, s, "carol", "home")

	phone := login(t, s, "bob", "phone")
	if cond, el := ask(t, phone, "r1", `<iq type='set' id='r1'><query xmlns='jabber:iq:roster'><item jid='carol@localhost' name='Carol'/></query></iq>`); cond != "result" {
		t.Fatalf("roster set: %s", el)
	}
	web := xmpptest.DialWebSocket(t, "ws://"+s.WebSocketAddr()+"/xmpp-websocket")
	web.Login("localhost", "bob", "pw-bob", "web")
	bosh := xmpptest.DialBOSH(t, "http://"+s.BOSHAddr()+"/http-bind", "localhost")
	bosh.Login("bob", "pw-bob", "bosh")
	laptop := login(t, s, "bob", "laptop")
	laptop.Send(`<enable xmlns='urn:xmpp:sm:3' resume='true'/>`)
	smID := laptop.Expect(func(e *xml.Element) bool { return e.Local == "enabled" }).Attr("id")
	laptop.Raw().Close() // detached, waiting for resumption

	if cond, el := runCommand(t, carol, "disable-user", "accountjids", "bob@localhost"); cond != "forbidden" {
		t.Fatalf("carol runs disable-user: %s", el)
	}
	cond, el := runCommand(t, alice, "disable-user", "accountjids", "bob@localhost", "x-reason", "spam, ticket 12")
	if cond != "result" || status(el) != "completed" || !strings.Contains(el.String(), "Disabled bob@localhost.") {
		t.Fatalf("disable-user: %s", el)
	}
	wantDisabledStreamError(t, "tcp", streamErrorOf(t, phone.TryNext))
	wantDisabledStreamError(t, "websocket", streamErrorOf(t, web.TryNext))
	end := bosh.ExpectTerminate() // XEP-0206 §7: the stream error inside a terminal body
	if end.Attr("condition") != "remote-stream-error" || end.Child(nsStreams, "error") == nil {
		t.Fatalf("bosh: %s", end)
	}
	wantDisabledStreamError(t, "bosh", end.Child(nsStreams, "error"))

	// The detached session is gone, and a new login is refused anyway.
	nu := xmpptest.Dial(t, s.addr)
	nu.OpenStream("localhost")
	nu.StartTLS("localhost")
	if err := nu.TrySCRAM("bob", "pw-bob"); err == nil || err.Error() != "sasl: account-disabled" {
		t.Fatalf("bob's login: %v, want account-disabled", err)
	}
	if canLogin(t, s, "bob", "wrong") {
		t.Fatal("a wrong password logs in")
	}
	// The HTTP transports run the same negotiation: refused there too.
	web2 := xmpptest.DialWebSocket(t, "ws://"+s.WebSocketAddr()+"/xmpp-websocket")
	web2.OpenStream("localhost")
	if err := web2.TrySCRAMWith(xmpptest.SCRAM{}, "bob", "pw-bob"); err == nil || err.Error() != "sasl: account-disabled" {
		t.Fatalf("bob's WebSocket login: %v, want account-disabled", err)
	}
	bosh2 := xmpptest.DialBOSH(t, "http://"+s.BOSHAddr()+"/http-bind", "localhost")
	if err := bosh2.TrySCRAMWith(xmpptest.SCRAM{}, "bob", "pw-bob"); err == nil || err.Error() != "sasl: account-disabled" {
		t.Fatalf("bob's BOSH login: %v, want account-disabled", err)
	}
	if s, err := st.UserStatus(context.Background(), "bob@localhost"); err != nil || !s.Disabled || s.Reason != "spam, ticket 12" {
		t.Fatalf("bob's status %+v, %v", s, err)
	}
	if items, _, err := st.Roster(context.Background(), "bob@localhost"); err != nil || len(items) != 1 {
		t.Fatalf("bob's roster after disabling: %v, %v", items, err)
	}
	if cond, el := runCommand(t, alice, "get-disabled-users-list", "max_items", "25"); cond != "result" || !strings.Contains(el.String(), "<value>bob@localhost</value>") {
		t.Fatalf("disabled list: %s", el)
	}

	if cond, el := runCommand(t, carol, "reenable-user", "accountjids", "bob@localhost"); cond != "forbidden" {
		t.Fatalf("carol runs reenable-user: %s", el)
	}
	if cond, el := runCommand(t, alice, "reenable-user", "accountjids", "bob@localhost"); cond != "result" || !strings.Contains(el.String(), "Re-enabled bob@localhost.") {
		t.Fatalf("reenable-user: %s", el)
	}
	back := xmpptest.Dial(t, s.addr)
	back.OpenStream("localhost")
	back.StartTLS("localhost")
	back.AuthSCRAM("localhost", "bob", "pw-bob")
	back.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>`, smID)
	if el := back.Next(); !el.Is("urn:xmpp:sm:3", "failed") {
		t.Fatalf("resuming the session disable-user ended: %s", el)
	}
	if j := back.Bind("laptop"); j != "bob@localhost/laptop" {
		t.Fatalf("bound %s", j)
	}
}

// TestCLIDisableNoticedByServer: skald user disable writes the flag in
// the database from another process (here another store on the same
// SQLite file); the running server refuses the next login without being
// told, and the streams open at the time go on (the CLI cannot end them).
func TestCLIDisableNoticedByServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "skald.db")
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := startServer(t, st, nil)
	phone := login(t, s, "bob", "phone")

	var cli storage.Store
	cli, err = sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if err := cli.SetUserDisabled(context.Background(), "bob@localhost", true, ""); err != nil {
		t.Fatal(err)
	}
	c := xmpptest.Dial(t, s.addr)
	c.OpenStream("localhost")
	c.StartTLS("localhost")
	if err := c.TrySCRAM("bob", "pw-bob"); err == nil || err.Error() != "sasl: account-disabled" {
		t.Fatalf("login after the CLI disabled bob: %v", err)
	}
	if cond, el := ask(t, phone, "p1", `<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`); cond != "result" {
		t.Fatalf("bob's open stream: %s", el)
	}
	if err := cli.SetUserDisabled(context.Background(), "bob@localhost", false, ""); err != nil {
		t.Fatal(err)
	}
	if !canLogin(t, s, "bob", "pw-bob") {
		t.Fatal("bob cannot log in after the CLI enabled him")
	}
}

// TestDisableBetweenLoginAndBind: XEP-0133 §4.3's "MUST result in the
// termination of any active sessions" holds for a stream whose SASL
// exchange succeeded before the account was disabled but which binds
// only after disable-user listed the account's sessions (it had none
// yet): binding checks the flag after the session is in the table, so
// either disable-user finds the session or the bind finds the flag. The
// same stream after skald user disable (no listing at all) ends too.
func TestDisableBetweenLoginAndBind(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "skald.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := loadConfigFile(t, "admins = [\"alice@localhost\"]\n")
	s := startServerConfig(t, cfg, st, nil)
	alice := login(t, s, "alice", "desk")
	for _, tt := range []struct {
		name    string
		disable func(t *testing.T)
	}{{
		name: "disable-user",
		disable: func(t *testing.T) {
			if cond, el := runCommand(t, alice, "disable-user", "accountjids", "bob@localhost", "x-reason", "spam"); cond != "result" || status(el) != "completed" {
				t.Fatalf("disable-user: %s", el)
			}
		},
	}, {
		name: "skald user disable",
		disable: func(t *testing.T) {
			if err := st.SetUserDisabled(context.Background(), "bob@localhost", true, "spam"); err != nil {
				t.Fatal(err)
			}
		},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			if err := st.SetUserDisabled(context.Background(), "bob@localhost", false, ""); err != nil {
				t.Fatal(err)
			}
			c := xmpptest.Dial(t, s.addr)
			c.OpenStream("localhost")
			c.StartTLS("localhost")
			c.AuthSCRAM("localhost", "bob", "pw-bob") // proved, not bound yet
			tt.disable(t)
			c.Send(`<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>late</resource></bind></iq>`)
			el := streamErrorOf(t, c.TryNext)
			wantDisabledStreamError(t, "bind after disabling", el)
			c.ExpectClosed()
		})
	}
}

// TestDisabledRegisterOverSocket: XEP-0077 cannot get around the flag.
// Registering a disabled account's name before authentication is a
// conflict (the account exists: the name is not freed, and its password
// stays); a stream that was open when skald user disable ran may neither
// change the password nor cancel the account (not-allowed).
func TestDisabledRegisterOverSocket(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "skald.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := startServerConfig(t, loadConfigFile(t, "[register]\nallow_registration = true\n"), st, nil)
	phone := login(t, s, "bob", "phone")
	if err := st.SetUserDisabled(context.Background(), "bob@localhost", true, "spam"); err != nil {
		t.Fatal(err)
	}

	c := xmpptest.Dial(t, s.addr)
	c.OpenStream("localhost")
	c.StartTLS("localhost")
	if cond, el := ask(t, c, "r1", `<iq type='set' id='r1'><query xmlns='jabber:iq:register'><username>bob</username><password>n3w</password></query></iq>`); cond != "conflict" {
		t.Fatalf("registering a disabled account's name: %s", el)
	}
	if err := c.TrySCRAM("bob", "pw-bob"); err == nil || err.Error() != "sasl: account-disabled" {
		t.Fatalf("bob's login after the registration attempt: %v", err)
	}
	if canLogin(t, s, "bob", "n3w") {
		t.Fatal("the registration attempt set a password")
	}

	for _, q := range []string{
		`<query xmlns='jabber:iq:register'><username>bob</username><password>n3w</password></query>`,
		`<query xmlns='jabber:iq:register'><remove/></query>`,
	} {
		if cond, el := ask(t, phone, "x1", `<iq type='set' id='x1'>`+q+`</iq>`); cond != "not-allowed" {
			t.Fatalf("%s from a disabled account's open stream: %s", q, el)
		}
	}
	if ok, err := st.UserExists(context.Background(), "bob@localhost"); err != nil || !ok {
		t.Fatalf("bob's account: %v, %v", ok, err)
	}
	if canLogin(t, s, "bob", "n3w") {
		t.Fatal("the in-band change set a password")
	}
}
