package server_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/certs"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// TestProsodyFederation federates Skald (s.test) with Debian's Prosody
// (p.test) on loopback: each finds the other by a static route (Skald's
// [s2s.routes]; for Prosody, testdata/prosody/mod_skald_test_routes.lua),
// both have self-signed certificates, so the streams are authenticated by
// dialback over STARTTLS, each server connecting back to the other to
// verify keys. paula@p.test and alice@s.test exchange messages both ways.
// Group chat federates both ways: paula enters alice's room on Skald's
// conference.s.test (streams from and to the service domain), chats and
// reads the room's archive; alice enters a room of Prosody's MUC
// component conference.p.test and chats there; alice's own archive keeps
// neither room's groupchat messages (XEP-0313: the rooms archive them).
// PEP federates both ways: with presence shared and XEP-0115 caps asking
// for OMEMO device lists, each server asks the other's client for its
// caps over server-to-server and sends it the other's publish.
// Without prosody it skips, unless SKALD_REQUIRE_INTEROP=1 (CI).
func TestProsodyFederation(t *testing.T) {
	if _, err := exec.LookPath("prosody"); err != nil {
		if os.Getenv("SKALD_REQUIRE_INTEROP") != "" {
			t.Fatal("prosody not installed (apt-get install prosody)")
		}
		t.Skip("prosody not installed")
	}
	dir := t.TempDir()
	c2sPort, s2sPort := freePort(t), freePort(t)
	res := &fakeSRV{ports: map[string]int{}}
	skald := startFederated(t, "s.test", res, fmt.Sprintf("[s2s.routes]\n\"p.test\" = \"127.0.0.1:%[1]d\"\n\"conference.p.test\" = \"127.0.0.1:%[1]d\"\n", s2sPort), "alice")
	_, skaldPort, _ := net.SplitHostPort(skald.S2SAddr())

	certFile, keyFile, err := certs.EnsureSelfSigned(dir, []string{"p.test"})
	if err != nil {
		t.Fatal(err)
	}
	modules, err := filepath.Abs("testdata/prosody")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "prosody.cfg.lua")
	src := fmt.Sprintf(`run_as_root = true
pidfile = %[1]q
data_path = %[2]q
log = { debug = %[3]q }
plugin_paths = { %[4]q }
interfaces = { "127.0.0.1" }
c2s_ports = { %[5]d }
c2s_direct_tls_ports = { }
s2s_ports = { %[6]d }
http_ports = { }
https_ports = { }
modules_enabled = { "saslauth"; "tls"; "dialback"; "roster"; "disco"; "ping"; "pep"; "skald_test_routes" }
modules_disabled = { "posix"; "limits" }
skald_test_routes = { ["s.test"] = %[7]s; ["conference.s.test"] = %[7]s }
certificates = %[8]q
ssl = { certificate = %[9]q; key = %[10]q }
c2s_require_encryption = true
s2s_require_encryption = true
s2s_secure_auth = false
authentication = "internal_hashed"
password_hash = "SHA-256"
storage = "internal"
VirtualHost "p.test"
Component "conference.p.test" "muc"
	muc_room_locking = false
	modules_enabled = { "dialback" }
`, filepath.Join(dir, "prosody.pid"), filepath.Join(dir, "data"), filepath.Join(dir, "prosody.log"),
		modules, c2sPort, s2sPort, skaldPort, dir, certFile, keyFile)
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("prosodyctl", "--config", cfg, "register", "paula", "p.test", "pw-paula").CombinedOutput(); err != nil {
		t.Fatalf("prosodyctl register: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "prosody", "--config", cfg, "-F")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "prosody.log")); err == nil {
				t.Logf("prosody log:\n%s", b)
			}
		}
	})
	waitPort(t, c2sPort)
	waitPort(t, s2sPort)

	paula := xmpptest.Dial(t, "127.0.0.1:"+strconv.Itoa(c2sPort))
	paula.Timeout = 20 * time.Second
	paula.Login("p.test", "paula", "pw-paula", "cli")
	paula.Send(`<presence/>`)
	alice := skald.login(t, "alice", "phone")
	alice.Send(`<presence/>`)

	paula.Send(`<message to='alice@s.test/phone' type='chat' id='p1'><body>hello from prosody</body></message>`)
	m := expectStanza(alice, "message", "chat", "paula@p.test")
	if m.ChildText("jabber:client", "body") != "hello from prosody" {
		t.Fatalf("alice got %s", m)
	}
	alice.Send(`<message to='paula@p.test/cli' type='chat' id='s1'><body>hello from skald</body></message>`)
	m = paula.Expect(func(el *xml.Element) bool { return el.Local == "message" })
	if m.Attr("type") != "chat" || m.ChildText("jabber:client", "body") != "hello from skald" || m.Attr("from") != "alice@s.test/phone" {
		t.Fatalf("paula got %s", m)
	}
	// alice's archive holds the exchange.
	if bodies := archivedBodies(t, alice); len(bodies) != 2 || bodies[0] != "hello from prosody" || bodies[1] != "hello from skald" {
		t.Fatalf("alice's archive holds %q", bodies)
	}
	// Prosody's stream to Skald was verified by dialback (Skald asked
	// Prosody), and Skald's own stream to Prosody was accepted.
	for name, min := range map[string]float64{
		"skald_s2s_dialback_valid_total":   1,
		"skald_s2s_stanzas_received_total": 1,
		"skald_s2s_stanzas_sent_total":     1,
	} {
		// The writer counts a stanza after its write returns, which may
		// be after paula has read it: wait a little for the count.
		v, _ := skald.Metrics.Value(name)
		for deadline := time.Now().Add(2 * time.Second); v < min && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
			v, _ = skald.Metrics.Value(name)
		}
		if v < min {
			t.Errorf("%s = %v, want at least %v", name, v, min)
		}
	}

	prosodyJoinsSkaldRoom(t, alice, paula)
	skaldJoinsProsodyRoom(t, alice, paula)
	pepWithProsody(t, capsClient{alice}, capsClient{paula})
	// Groupchat stays out of alice's own archive (XEP-0313: the rooms
	// archive theirs).
	if bodies := archivedBodies(t, alice); len(bodies) != 2 {
		t.Fatalf("alice's archive holds %q", bodies)
	}
}

// isGroupchat matches a groupchat message from occupant with body.
func isGroupchat(occupant, body string) func(*xml.Element) bool {
	return func(el *xml.Element) bool {
		return el.Local == "message" && el.Attr("type") == "groupchat" && el.Attr("from") == occupant &&
			el.ChildText("jabber:client", "body") == body
	}
}

// isSelfPresence matches an occupant's self-presence (status 110).
func isSelfPresence(occupant string) func(*xml.Element) bool {
	return func(el *xml.Element) bool {
		if el.Local != "presence" || el.Attr("from") != occupant || el.Attr("type") != "" {
			return false
		}
		for _, st := range el.Child(nsMUCUser, "x").ChildrenNamed(nsMUCUser, "status") {
			if st.Attr("code") == "110" {
				return true
			}
		}
		return false
	}
}

// prosodyJoinsSkaldRoom: paula@p.test enters alice's room on
// conference.s.test, both chat, and paula reads the room's archive.
func prosodyJoinsSkaldRoom(t *testing.T, alice, paula *xmpptest.Conn) {
	t.Helper()
	const room = "tea@conference.s.test"
	alice.Send(`<presence to='` + room + `/Al'/>`)
	alice.Expect(isSelfPresence(room + "/Al"))
	paula.Send(`<presence to='` + room + `/Paula'><x xmlns='` + nsMUC + `'/></presence>`)
	self := paula.Expect(func(el *xml.Element) bool {
		return el.Attr("from") == room+"/Paula" && (el.Attr("type") == "error" || isSelfPresence(room+"/Paula")(el))
	})
	if self.Attr("type") == "error" {
		t.Fatalf("paula could not enter: %s", self)
	}
	in := alice.Expect(func(el *xml.Element) bool { return el.Local == "presence" && el.Attr("from") == room+"/Paula" })
	if _, item := mucStatuses(in); item != "none/participant paula@p.test/cli" {
		t.Fatalf("alice saw %s", in)
	}
	paula.Send(`<message to='` + room + `' type='groupchat' id='g1'><body>hi from prosody</body></message>`)
	alice.Expect(isGroupchat(room+"/Paula", "hi from prosody"))
	paula.Expect(isGroupchat(room+"/Paula", "hi from prosody"))
	alice.Send(`<message to='` + room + `' type='groupchat' id='g2'><body>hi from skald</body></message>`)
	paula.Expect(isGroupchat(room+"/Al", "hi from skald"))

	paula.Send(`<iq type='set' id='rq' to='` + room + `'><query xmlns='` + nsMAM + `' queryid='rq'/></iq>`)
	var bodies []string
	for {
		el := paula.Next()
		if r := el.Child(nsMAM, "result"); el.Local == "message" && r != nil {
			bodies = append(bodies, r.Child("urn:xmpp:forward:0", "forwarded").Child("jabber:client", "message").ChildText("jabber:client", "body"))
			continue
		}
		if el.Local == "iq" && el.Attr("id") == "rq" {
			if el.Attr("type") != "result" {
				t.Fatalf("room archive query: %s", el)
			}
			break
		}
	}
	if len(bodies) != 2 || bodies[0] != "hi from prosody" || bodies[1] != "hi from skald" {
		t.Fatalf("the room's archive, as paula reads it: %q", bodies)
	}
	paula.Send(`<presence to='` + room + `/Paula' type='unavailable'/>`)
	alice.Expect(func(el *xml.Element) bool {
		return el.Attr("from") == room+"/Paula" && el.Attr("type") == "unavailable"
	})
}

// skaldJoinsProsodyRoom: alice@s.test enters (and so creates) a room of
// Prosody's MUC component; paula enters it too, and they chat.
func skaldJoinsProsodyRoom(t *testing.T, alice, paula *xmpptest.Conn) {
	t.Helper()
	const room = "lounge@conference.p.test"
	alice.Send(`<presence to='` + room + `/Al'><x xmlns='` + nsMUC + `'/></presence>`)
	self := alice.Expect(func(el *xml.Element) bool {
		return el.Attr("from") == room+"/Al" && (el.Attr("type") == "error" || isSelfPresence(room+"/Al")(el))
	})
	if self.Attr("type") == "error" {
		t.Fatalf("alice could not enter: %s", self)
	}
	paula.Send(`<presence to='` + room + `/Paula'><x xmlns='` + nsMUC + `'/></presence>`)
	paula.Expect(isSelfPresence(room + "/Paula"))
	alice.Expect(func(el *xml.Element) bool { return el.Local == "presence" && el.Attr("from") == room+"/Paula" })
	alice.Send(`<message to='` + room + `' type='groupchat' id='g3'><body>skald in prosody</body></message>`)
	paula.Expect(isGroupchat(room+"/Al", "skald in prosody"))
	alice.Expect(isGroupchat(room+"/Al", "skald in prosody"))
	paula.Send(`<message to='` + room + `' type='groupchat' id='g4'><body>prosody answers</body></message>`)
	alice.Expect(isGroupchat(room+"/Paula", "prosody answers"))
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitPort(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("port %d: %v", port, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pepWithProsody: alice@s.test and paula@p.test share presence, with
// XEP-0115 caps asking for OMEMO device lists; each server asks the
// other's client for the caps it does not know, over server-to-server,
// and each user gets the other's device list publish (XEP-0163).
func pepWithProsody(t *testing.T, alice, paula capsClient) {
	t.Helper()
	for _, c := range []capsClient{alice, paula} {
		c.Send(`<iq type='get' id='roster'><query xmlns='jabber:iq:roster'/></iq>`)
		c.expect(func(el *xml.Element) bool { return el.Attr("id") == "roster" })
	}
	paula.Send(`<presence to='alice@s.test' type='subscribe'/>`)
	alice.expect(func(el *xml.Element) bool { return el.Local == "presence" && el.Attr("type") == "subscribe" })
	alice.Send(`<presence to='paula@p.test' type='subscribed'/>`)
	alice.Send(`<presence to='paula@p.test' type='subscribe'/>`)
	paula.expect(func(el *xml.Element) bool { return el.Local == "presence" && el.Attr("type") == "subscribe" })
	paula.Send(`<presence to='alice@s.test' type='subscribed'/>`)
	alice.expect(func(el *xml.Element) bool { return el.Local == "presence" && el.Attr("type") == "subscribed" })
	// Presence with caps both ways: each server learns the other's
	// client wants device lists.
	paula.presence()
	alice.expect(func(el *xml.Element) bool {
		return el.Local == "presence" && el.Attr("from") == "paula@p.test/cli" && el.Child("http://jabber.org/protocol/caps", "c") != nil
	})
	alice.presence()
	paula.expect(func(el *xml.Element) bool {
		return el.Local == "presence" && el.Attr("from") == "alice@s.test/phone" && el.Child("http://jabber.org/protocol/caps", "c") != nil
	})

	// Skald -> Prosody. The caps query to paula may still be on its way:
	// the publish's event waits for it, or the last item comes once
	// the answer is in.
	publishItem(t, alice, "pa", nsDeviceList, "current", `<list xmlns='`+nsDeviceList+`'><device id='1111'/></list>`)
	if ev := paula.expect(pepEvent("alice@s.test", nsDeviceList, "current")); !strings.Contains(ev.String(), "1111") || ev.Attr("to") != "paula@p.test/cli" {
		t.Fatalf("paula got %s", ev)
	}
	// Prosody -> Skald.
	publishItem(t, paula, "pp", nsDeviceList, "current", `<list xmlns='`+nsDeviceList+`'><device id='2222'/></list>`)
	if ev := alice.expect(pepEvent("paula@p.test", nsDeviceList, "current")); !strings.Contains(ev.String(), "2222") || ev.Attr("to") != "alice@s.test/phone" {
		t.Fatalf("alice got %s", ev)
	}
}
