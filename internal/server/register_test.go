package server_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/register"
)

const (
	nsRegister        = "jabber:iq:register"
	nsRegisterFeature = "http://jabber.org/features/iq-register"
	nsRoster          = "jabber:iq:roster"
)

// startRegisterServer runs a server whose configuration file has the
// given [register] lines and [upload] on loopback.
func startRegisterServer(t *testing.T, register string) *testServer {
	t.Helper()
	src := "[register]\n" + register + "\n[upload]\naddress = \"127.0.0.1:0\"\n"
	return startServerConfig(t, loadConfigFile(t, src), nil, nil)
}

// canLogin reports whether user authenticates with password on a new
// connection (STARTTLS, SCRAM-SHA-256).
func canLogin(t *testing.T, s *testServer, user, password string) bool {
	t.Helper()
	c := xmpptest.Dial(t, s.addr)
	defer c.Raw().Close()
	c.OpenStream("localhost")
	c.StartTLS("localhost")
	return c.TrySCRAM(user, password) == nil
}

// TestPasswordChangeOverSocket: XEP-0077 §3.3 from a client; the other
// session goes on, the new password logs in and the old one does not.
func TestPasswordChangeOverSocket(t *testing.T) {
	s := startServer(t, nil, nil)
	phone := login(t, s, "alice", "phone")
	laptop := login(t, s, "alice", "laptop")

	cond, el := ask(t, phone, "g1", `<iq type='get' id='g1' to='localhost'><query xmlns='jabber:iq:register'/></iq>`)
	q := el.Child(nsRegister, "query")
	if cond != "result" || q.Child(nsRegister, "registered") == nil || q.ChildText(nsRegister, "username") != "alice" {
		t.Fatalf("get: %s", el)
	}
	if cond, el := ask(t, phone, "c1", `<iq type='set' id='c1' to='localhost'><query xmlns='jabber:iq:register'><username>bob</username><password>x</password></query></iq>`); cond != "forbidden" {
		t.Fatalf("changing bob's password: %s", el)
	}
	if cond, el := ask(t, phone, "c2", `<iq type='set' id='c2' to='localhost'><query xmlns='jabber:iq:register'><username>alice</username><password>n3w secret</password></query></iq>`); cond != "result" {
		t.Fatalf("change: %s", el)
	}
	if cond, el := ask(t, laptop, "p1", `<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`); cond != "result" {
		t.Fatalf("the other session after the change: %s", el)
	}
	if !canLogin(t, s, "alice", "n3w secret") {
		t.Error("the new password does not log in")
	}
	if canLogin(t, s, "alice", "pw-alice") {
		t.Error("the old password still logs in")
	}
	if !canLogin(t, s, "bob", "pw-bob") {
		t.Error("bob's password changed")
	}
}

// TestCancelOverSocket: XEP-0077 §3.2. The sender gets the result, then
// not-authorized; the other session gets not-authorized; the account,
// its data and its uploads are gone.
func TestCancelOverSocket(t *testing.T) {
	s := startRegisterServer(t, "")
	phone := login(t, s, "alice", "phone")
	bob := login(t, s, "bob", "desk")
	for _, c := range []*xmpptest.Conn{phone, bob} {
		if cond, el := ask(t, c, "r1", `<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`); cond != "result" {
			t.Fatalf("roster: %s", el)
		}
		c.Send(`<presence/>`)
	}
	mutualSubscription(phone, bob)
	laptop := login(t, s, "alice", "laptop")
	if cond, el := ask(t, phone, "v1", `<iq type='set' id='v1'><vCard xmlns='vcard-temp'><FN>Alice</FN></vCard></iq>`); cond != "result" {
		t.Fatalf("vcard: %s", el)
	}
	cond, reply := ask(t, phone, "u1", `<iq type='get' id='u1' to='localhost'><request xmlns='urn:xmpp:http:upload:0' filename='a.txt' size='5'/></iq>`)
	if cond != "result" {
		t.Fatalf("slot: %s", reply)
	}
	slot := reply.Child(nsUpload, "slot")
	put, get := slot.Child(nsUpload, "put").Attr("url"), slot.Child(nsUpload, "get").Attr("url")
	client := httpsClient(t, s)
	req, _ := http.NewRequest("PUT", put, bytes.NewReader([]byte("hello")))
	if resp, err := client.Do(req); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	phone.Send(`<iq type='set' id='x1'><query xmlns='jabber:iq:register'><remove/></query></iq>`)
	// The result comes before the stream error (bob's unavailable
	// presence, for the cancelled subscription, may come first).
	if el := phone.Expect(isID("x1")); el.Attr("type") != "result" {
		t.Fatalf("remove: %s", el)
	}
	if cond := phone.ExpectStreamError(); cond != "not-authorized" {
		t.Errorf("sender's stream error %q", cond)
	}
	if cond := laptop.ExpectStreamError(); cond != "not-authorized" {
		t.Errorf("other session's stream error %q", cond)
	}
	if canLogin(t, s, "alice", "pw-alice") {
		t.Error("the deleted account still logs in")
	}
	// Bob's subscriptions with alice are cancelled (XEP-0077 §3.2, as
	// for a removed roster item): alice goes offline for him and his
	// roster item keeps no subscription.
	bob.Expect(func(e *xml.Element) bool {
		return e.Local == "presence" && e.Attr("type") == "unavailable" && e.Attr("from") == "alice@localhost/phone"
	})
	bob.Expect(func(e *xml.Element) bool {
		item := e.Child(nsRoster, "query").Child(nsRoster, "item")
		return e.Local == "iq" && e.Attr("type") == "set" && item != nil && item.Attr("jid") == "alice@localhost" && item.Attr("subscription") == "none"
	})
	if resp, err := client.Get(get); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET of the deleted account's upload: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if ents, _ := os.ReadDir(filepath.Join(s.Config.DataDir, "uploads")); len(ents) != 0 {
		t.Errorf("uploads directory: %v", ents)
	}
	// Bob still runs; alice's vCard is gone with her account (an iq to an
	// address without an account: service-unavailable).
	if cond, el := ask(t, bob, "v2", `<iq type='get' id='v2' to='alice@localhost'><vCard xmlns='vcard-temp'/></iq>`); cond != "service-unavailable" {
		t.Errorf("alice's vCard after deletion: %s", el)
	}
}

// TestCancelNotAllowedOverSocket: allow_cancel = false.
func TestCancelNotAllowedOverSocket(t *testing.T) {
	s := startRegisterServer(t, "allow_cancel = false")
	alice := login(t, s, "alice", "phone")
	if cond, el := ask(t, alice, "x1", `<iq type='set' id='x1'><query xmlns='jabber:iq:register'><remove/></query></iq>`); cond != "not-allowed" {
		t.Fatalf("remove: %s", el)
	}
	if !canLogin(t, s, "alice", "pw-alice") {
		t.Error("the account is gone")
	}
}

func hasRegisterFeature(f *xml.Element) bool { return f.Child(nsRegisterFeature, "register") != nil }

// TestRegisterBeforeAuthOverSocket: §3.1 sign-up on a stream, over TLS
// only, then SASL on the same stream; a taken name is a conflict.
func TestRegisterBeforeAuthOverSocket(t *testing.T) {
	s := startRegisterServer(t, "allow_registration = true")
	c := xmpptest.Dial(t, s.addr)
	c.OpenStream("localhost")
	if hasRegisterFeature(c.Features) {
		t.Errorf("registration offered before TLS: %s", c.Features)
	}
	c.StartTLS("localhost")
	if !hasRegisterFeature(c.Features) {
		t.Fatalf("registration not offered over TLS: %s", c.Features)
	}
	cond, el := ask(t, c, "r1", `<iq type='get' id='r1'><query xmlns='jabber:iq:register'/></iq>`)
	q := el.Child(nsRegister, "query")
	if cond != "result" || q.Child(nsRegister, "username") == nil || q.Child(nsRegister, "password") == nil || el.Attr("to") != "" {
		t.Fatalf("fields: %s", el)
	}
	if cond, el := ask(t, c, "r2", `<iq type='set' id='r2'><query xmlns='jabber:iq:register'><username>Bob</username><password>x</password></query></iq>`); cond != "conflict" {
		t.Fatalf("taken name: %s", el)
	}
	if cond, el := ask(t, c, "r3", `<iq type='set' id='r3'><query xmlns='jabber:iq:register'><username>dave</username></query></iq>`); cond != "not-acceptable" {
		t.Fatalf("no password: %s", el)
	}
	if cond, el := ask(t, c, "r4", `<iq type='set' id='r4'><query xmlns='jabber:iq:register'><username>dave</username><password>d4ve pw</password></query></iq>`); cond != "result" {
		t.Fatalf("register: %s", el)
	}
	c.AuthSCRAM("localhost", "dave", "d4ve pw")
	if j := c.Bind("home"); j != "dave@localhost/home" {
		t.Fatalf("bound %s", j)
	}
	if cond, el := ask(t, c, "p1", `<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`); cond != "result" {
		t.Fatalf("ping as dave: %s", el)
	}
	// Any other stanza before authentication still ends the stream.
	d := xmpptest.Dial(t, s.addr)
	d.OpenStream("localhost")
	d.StartTLS("localhost")
	d.Send(`<iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if cond := d.ExpectStreamError(); cond != "not-authorized" {
		t.Errorf("ping before auth: %q", cond)
	}
}

// TestRegisterOffOverSocket: by default nothing is offered and a
// registration attempt is service-unavailable (§3.1); no account appears.
func TestRegisterOffOverSocket(t *testing.T) {
	s := startServer(t, nil, nil)
	c := xmpptest.Dial(t, s.addr)
	c.OpenStream("localhost")
	c.StartTLS("localhost")
	if hasRegisterFeature(c.Features) {
		t.Fatalf("registration offered: %s", c.Features)
	}
	if cond, el := ask(t, c, "r1", `<iq type='set' id='r1'><query xmlns='jabber:iq:register'><username>dave</username><password>pw</password></query></iq>`); cond != "service-unavailable" {
		t.Fatalf("register: %s", el)
	}
	if err := c.TrySCRAM("dave", "pw"); err == nil {
		t.Error("dave logs in")
	}
}

// TestRegisterRateLimitOverSocket: registrations_per_hour_per_ip.
func TestRegisterRateLimitOverSocket(t *testing.T) {
	s := startRegisterServer(t, "allow_registration = true\nregistrations_per_hour_per_ip = 2")
	for i, name := range []string{"u1", "u2", "u3"} {
		c := xmpptest.DialTLS(t, s.tlsAddr)
		c.OpenStream("localhost")
		if !hasRegisterFeature(c.Features) {
			t.Fatalf("registration not offered over direct TLS: %s", c.Features)
		}
		cond, el := ask(t, c, "r", `<iq type='set' id='r'><query xmlns='jabber:iq:register'><username>`+name+`</username><password>pw</password></query></iq>`)
		want := "result"
		if i == 2 {
			want = "policy-violation"
		}
		if cond != want {
			t.Fatalf("%s: %s, want %s", name, el, want)
		}
		if i == 2 && !strings.Contains(el.String(), `type="wait"`) {
			t.Errorf("rate error not of type wait: %s", el)
		}
		c.Raw().Close()
	}
}

// TestRegisterConfig: the [register] section over its defaults; unknown
// keys and a negative rate are errors.
func TestRegisterConfig(t *testing.T) {
	m, err := loadModuleConfig(t, "")
	if err != nil || m.Register != (register.Config{AllowCancel: true, RegistrationsPerHourPerIP: 3}) {
		t.Fatalf("defaults: %+v, %v", m.Register, err)
	}
	m, err = loadModuleConfig(t, "[register]\nallow_registration = true\nallow_cancel = false\nregistrations_per_hour_per_ip = 0\n")
	if err != nil || m.Register != (register.Config{AllowRegistration: true}) {
		t.Fatalf("set: %+v, %v", m.Register, err)
	}
	// skald.example.toml's commented [register] is the defaults.
	example, err := os.ReadFile("../../skald.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, tail, _ := strings.Cut(string(example), "# [register]\n")
	lines := []string{"[register]"}
	for _, l := range strings.Split(tail, "\n") {
		if strings.HasPrefix(l, "# [") {
			break
		}
		if strings.Contains(l, " = ") {
			lines = append(lines, strings.TrimPrefix(l, "# "))
		}
	}
	if m, err := loadModuleConfig(t, strings.Join(lines, "\n")); err != nil || m.Register != register.DefaultConfig() || len(lines) != 4 {
		t.Errorf("skald.example.toml's [register] %q gives %+v, %v; want the defaults", lines, m.Register, err)
	}
	for _, bad := range []string{"[register]\nallow_signup = true\n", "[register]\nregistrations_per_hour_per_ip = -1\n"} {
		if _, err := loadModuleConfig(t, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestCancelLeavesRoomsOverSocket: an account deleted in-band loses its
// room affiliations (register's AfterDelete hook reaches muc), so that a
// new account of the same name would not own the room.
func TestCancelLeavesRoomsOverSocket(t *testing.T) {
	s := startRegisterServer(t, "")
	alice := login(t, s, "alice", "phone")
	bob := login(t, s, "bob", "desk")
	alice.Send(`<presence to='` + room + `/Al'><x xmlns='` + nsMUC + `'/></presence>`)
	alice.Expect(func(e *xml.Element) bool { return e.Local == "message" && e.Child("", "subject") != nil })
	admin := `<query xmlns='` + nsMUC + `#admin'>`
	for i, iq := range []string{
		`<query xmlns='` + nsMUC + `#owner'><x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_persistentroom'><value>1</value></field></x></query>`,
		admin + `<item jid='bob@localhost' affiliation='owner'/></query>`,
	} {
		id := "s" + string(rune('0'+i))
		if cond, el := ask(t, alice, id, `<iq type='set' id='`+id+`' to='`+room+`'>`+iq+`</iq>`); cond != "result" {
			t.Fatalf("%s: %s", iq, el)
		}
	}
	alice.Send(`<iq type='set' id='x1'><query xmlns='jabber:iq:register'><remove/></query></iq>`)
	if el := alice.Expect(isID("x1")); el.Attr("type") != "result" {
		t.Fatalf("remove: %s", el)
	}
	alice.ExpectStreamError()
	cond, el := ask(t, bob, "o1", `<iq type='get' id='o1' to='`+room+`'>`+admin+`<item affiliation='owner'/></query></iq>`)
	if cond != "result" || strings.Contains(el.String(), "alice@localhost") || !strings.Contains(el.String(), "bob@localhost") {
		t.Fatalf("owners after alice's account was deleted: %s", el)
	}
}
