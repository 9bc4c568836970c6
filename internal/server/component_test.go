package server_test

import (
	"crypto/sha1"
	"encoding/hex"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/component"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

const componentSection = "[component]\naddress = \"127.0.0.1:0\"\n[[component.domains]]\ndomain = \"gw.localhost\"\nsecret = \"gw-secret\"\n"

// startComponentServer runs a complete server (accounts alice, bob,
// carol on localhost) accepting the component gw.localhost.
func startComponentServer(t *testing.T) *testServer {
	t.Helper()
	return startServerConfig(t, loadConfigFile(t, componentSection), nil, nil)
}

// connectComponent opens an authenticated XEP-0114 stream for
// gw.localhost, as a gateway would.
func connectComponent(t *testing.T, s *testServer) *xmpptest.Conn {
	t.Helper()
	c := xmpptest.Dial(t, s.ComponentAddr())
	c.Send(`<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='gw.localhost'>`)
	c.ReadHeader()
	sum := sha1.Sum([]byte(c.Header.Attr("id") + "gw-secret"))
	c.Send(`<handshake>` + hex.EncodeToString(sum[:]) + `</handshake>`)
	if el := c.Next(); !el.Is(component.NSAccept, "handshake") {
		t.Fatalf("handshake answered %s", el)
	}
	return c
}

// TestComponentEndToEnd: a gateway on gw.localhost and a user of the
// server chat, subscribe to each other's presence and find each other,
// as with a remote server: the user's archive holds both directions,
// the subscription reaches the roster, disco#items lists the gateway.
func TestComponentEndToEnd(t *testing.T) {
	s := startComponentServer(t)
	alice := login(t, s, "alice", "phone")
	alice.Send(`<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>`)
	alice.Expect(isID("r"))
	alice.Send(`<presence/>`)
	gw := connectComponent(t, s)

	// The server lists the gateway (XEP-0030), connected or not.
	_, items := ask(t, alice, "d1", `<iq type='get' to='localhost' id='d1'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`)
	if !strings.Contains(items.String(), `jid="gw.localhost"`) {
		t.Errorf("disco#items lacks the component: %s", items)
	}

	// Subscription to a contact on the gateway: the roster tracks it as
	// for a remote contact, and the gateway's answer completes it.
	alice.Send(`<presence to='bob@gw.localhost' type='subscribe'/>`)
	sub := gw.Expect(func(e *xml.Element) bool { return e.Local == "presence" })
	if sub.Attr("type") != "subscribe" || sub.Attr("from") != "alice@localhost" || sub.Attr("to") != "bob@gw.localhost" {
		t.Fatalf("gateway got %s", sub)
	}
	gw.Send(`<presence from='bob@gw.localhost' to='alice@localhost' type='subscribed'/>`)
	push := alice.Expect(func(e *xml.Element) bool {
		return e.Local == "iq" && strings.Contains(e.String(), `subscription="to"`)
	})
	if !strings.Contains(push.String(), `jid="bob@gw.localhost"`) {
		t.Errorf("roster push %s", push)
	}
	// Available presence from the contact reaches alice.
	gw.Send(`<presence from='bob@gw.localhost/irc' to='alice@localhost'/>`)
	alice.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("from") == "bob@gw.localhost/irc" })

	// Chat both ways.
	alice.Send(`<message to='bob@gw.localhost' type='chat' id='m1'><body>to the gateway</body></message>`)
	got := gw.Expect(func(e *xml.Element) bool { return e.Local == "message" })
	if got.Attr("from") != "alice@localhost/phone" || got.ChildText(component.NSAccept, "body") != "to the gateway" {
		t.Fatalf("gateway got %s", got)
	}
	gw.Send(`<message from='bob@gw.localhost/irc' to='alice@localhost' type='chat' id='m2'><body>from the gateway</body></message>`)
	in := alice.Expect(isMessageWithBody("from the gateway"))
	if in.Attr("from") != "bob@gw.localhost/irc" || in.Child("urn:xmpp:sid:0", "stanza-id") == nil {
		t.Errorf("alice got %s, want it archived (stanza-id)", in)
	}
	if bodies := archivedBodies(t, alice); !reflect.DeepEqual(bodies, []string{"to the gateway", "from the gateway"}) {
		t.Errorf("archive %q", bodies)
	}

	// The gateway queries the server as a remote server would.
	gw.Send(`<iq from='gw.localhost' to='localhost' type='get' id='v1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	info := gw.Expect(func(e *xml.Element) bool { return e.Attr("id") == "v1" })
	if info.Attr("type") != "result" || info.Attr("to") != "gw.localhost" {
		t.Errorf("disco#info answer %s", info)
	}

	// Gone: a message bounces service-unavailable and is not archived.
	gw.Send(`</stream:stream>`)
	gw.ExpectClosed()
	deadline := time.Now().Add(5 * time.Second)
	for s.Component.ComponentConnected("gw.localhost") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	alice.Send(`<message to='bob@gw.localhost' type='chat' id='m3'><body>lost</body></message>`)
	bounce := alice.Expect(func(e *xml.Element) bool { return e.Attr("id") == "m3" })
	if bounce.Attr("type") != "error" || !strings.Contains(bounce.String(), "service-unavailable") {
		t.Errorf("offline bounce %s", bounce)
	}
	if bodies := archivedBodies(t, alice); len(bodies) != 2 {
		t.Errorf("archive after the bounce %q", bodies)
	}
	// Still listed while configured.
	_, items = ask(t, alice, "d2", `<iq type='get' to='localhost' id='d2'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`)
	if !strings.Contains(items.String(), `jid="gw.localhost"`) {
		t.Errorf("disco#items lacks the absent component: %s", items)
	}
}

// TestComponentShutdown: the server's shutdown ends the component's
// stream with system-shutdown and </stream:stream>.
func TestComponentShutdown(t *testing.T) {
	s := startComponentServer(t)
	gw := connectComponent(t, s)
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(t.Context()) }()
	if cond := gw.ExpectStreamError(); cond != "system-shutdown" {
		t.Errorf("stream error %q", cond)
	}
	gw.ExpectClosed()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestComponentConfig: skald.example.toml's commented [component]
// section is the defaults (with its example address and component),
// mistakes are errors naming the option, and a component domain that is
// served otherwise is refused.
func TestComponentConfig(t *testing.T) {
	example, err := os.ReadFile("../../skald.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, tail, _ := strings.Cut(string(example), "# [component]\n")
	var lines []string
	for _, l := range strings.Split("# [component]\n"+tail, "\n") {
		if strings.HasPrefix(l, "# [") && !strings.HasPrefix(l, "# [component") && !strings.HasPrefix(l, "# [[component") && len(lines) > 0 {
			break
		}
		if strings.HasPrefix(l, "# [") || strings.Contains(l, " = ") {
			lines = append(lines, strings.TrimPrefix(l, "# "))
		}
	}
	want := component.DefaultConfig()
	want.Address = "127.0.0.1:5347"
	want.Domains = []component.Domain{{Domain: "irc.localhost", Secret: "change-me"}}
	if m, err := loadModuleConfig(t, strings.Join(lines, "\n")); err != nil || !reflect.DeepEqual(m.Component, want) {
		t.Errorf("skald.example.toml's [component] %q gives %+v, %v; want %+v", lines, m.Component, err, want)
	}
	if m, err := loadModuleConfig(t, ""); err != nil || m.Component.Enabled() {
		t.Errorf("components on by default: %+v, %v", m.Component, err)
	}
	for src, want := range map[string]string{
		"[component]\nadress = \":1\"\n":                                                                                  "adress",
		"[component]\naddress = \"5347\"\n":                                                                               "address",
		"[component]\nmax_stanza_bytes = 100\n":                                                                           "max_stanza_bytes",
		"[component]\nsend_queue_bytes = 100\n":                                                                           "send_queue_bytes",
		"[component]\nhandshake_timeout = \"10ms\"\n":                                                                     "handshake_timeout",
		"[component]\nmax_pending_connections = 0\n":                                                                      "max_pending_connections",
		"[[component.domains]]\ndomain = \"gw.localhost\"\nsecret = \"x\"\n":                                              "address",
		"[component]\naddress = \"127.0.0.1:5347\"\n[[component.domains]]\ndomain = \"gw.localhost\"\n":                   "no secret",
		"[component]\naddress = \"127.0.0.1:5347\"\n[[component.domains]]\ndomain = \"u@gw.localhost\"\nsecret = \"x\"\n": "not a domain",
		"[component]\naddress = \"127.0.0.1:5347\"\n[[component.domains]]\ndomain = \"gw.localhost\"\nsecret = \"x\"\n[[component.domains]]\ndomain = \"GW.localhost\"\nsecret = \"y\"\n": "twice",
		"[component]\naddress = \"127.0.0.1:5347\"\n[[component.domains]]\ndomain = \"gw.localhost\"\nsecrte = \"x\"\n":                                                                   "secrte",
		"[component]\naddress = \"127.0.0.1:5347\"\n[[component.domains]]\ndomain = \"localhost\"\nsecret = \"x\"\n":                                                                      "hosted domain",
		"[component]\naddress = \"127.0.0.1:5347\"\n[[component.domains]]\ndomain = \"conference.localhost\"\nsecret = \"x\"\n":                                                           "[muc] service domain",
		"domains = [\"a.test\", \"gw.test\"]\n[component]\naddress = \"127.0.0.1:5347\"\n[[component.domains]]\ndomain = \"gw.test\"\nsecret = \"x\"\n":                                   "hosted domain",
	} {
		if _, err := loadModuleConfig(t, src); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one naming %s", src, err, want)
		}
	}
	// With MUC off, its domain is free for a component.
	if _, err := loadModuleConfig(t, "[muc]\nenabled = false\n[component]\naddress = \"127.0.0.1:5347\"\n[[component.domains]]\ndomain = \"conference.localhost\"\nsecret = \"x\"\n"); err != nil {
		t.Errorf("conference.localhost without MUC: %v", err)
	}
}

// TestInteropComponent: slixmpp's ComponentXMPP as an echo gateway that
// a slixmpp client finds, subscribes to and chats with, and as a second
// component writing jabber:client stanzas (use_jc_ns) that reach it.
func TestInteropComponent(t *testing.T) {
	runInteropWith(t, "component.py", func() (*testServer, []string) {
		s := startServerConfig(t, loadConfigFile(t, componentSection+"[[component.domains]]\ndomain = \"jc.localhost\"\nsecret = \"jc-secret\"\n"), nil, nil)
		return s, []string{"SKALD_COMPONENT_ADDR=" + s.ComponentAddr()}
	})
}

// TestComponentFederation: a component of a.test (gw.a.test) and a user
// of another server, b.test, chat over s2s both ways: b.test's stream to
// gw.a.test is accepted and verified by dialback like one to a.test, and
// the component's stanzas go out from gw.a.test.
func TestComponentFederation(t *testing.T) {
	res := &fakeSRV{ports: map[string]int{}}
	a := startFederated(t, "a.test", res, "[component]\naddress = \"127.0.0.1:0\"\n[[component.domains]]\ndomain = \"gw.a.test\"\nsecret = \"gw-secret\"\n", "alice")
	res.set("gw.a.test", a.S2SAddr()) // SRV records of the component's domain point at its server
	b := startFederated(t, "b.test", res, "", "bob")

	c := xmpptest.Dial(t, a.ComponentAddr())
	c.Timeout = 15 * time.Second
	c.Send(`<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='gw.a.test'>`)
	c.ReadHeader()
	sum := sha1.Sum([]byte(c.Header.Attr("id") + "gw-secret"))
	c.Send(`<handshake>` + hex.EncodeToString(sum[:]) + `</handshake>`)
	if el := c.Next(); !el.Is(component.NSAccept, "handshake") {
		t.Fatalf("handshake answered %s", el)
	}

	bob := b.login(t, "bob", "laptop")
	bob.Send(`<presence/>`)
	bob.Send(`<message to='echo@gw.a.test' type='chat' id='f1'><body>from b</body></message>`)
	got := c.Expect(func(e *xml.Element) bool { return e.Local == "message" })
	if got.Attr("from") != "bob@b.test/laptop" || got.ChildText(component.NSAccept, "body") != "from b" {
		t.Fatalf("component got %s", got)
	}
	c.Send(`<message from='echo@gw.a.test/bot' to='bob@b.test/laptop' type='chat' id='f2'><body>echo from a</body></message>`)
	m := bob.Expect(isMessageWithBody("echo from a"))
	if m.Attr("from") != "echo@gw.a.test/bot" {
		t.Fatalf("bob got %s", m)
	}
}

// TestComponentCarbons: a chat with a gateway contact is carbon-copied
// (XEP-0280) as one with a remote contact: the user's other client sees
// the message sent to the gateway and the gateway's reply to the first
// client.
func TestComponentCarbons(t *testing.T) {
	s := startComponentServer(t)
	phone := login(t, s, "alice", "phone")
	laptop := login(t, s, "alice", "laptop")
	for _, c := range []*xmpptest.Conn{phone, laptop} {
		if cond, el := ask(t, c, "c1", `<iq type='set' id='c1'><enable xmlns='urn:xmpp:carbons:2'/></iq>`); cond != "result" {
			t.Fatalf("carbons enable: %s %s", cond, el)
		}
		c.Send(`<presence/>`)
	}
	gw := connectComponent(t, s)
	phone.Send(`<message to='bob@gw.localhost' type='chat' id='m1'><body>to the gateway</body></message>`)
	gw.Expect(func(e *xml.Element) bool { return e.Local == "message" && e.Attr("id") == "m1" })
	sent := laptop.Expect(func(e *xml.Element) bool { return e.Child("urn:xmpp:carbons:2", "sent") != nil })
	if !strings.Contains(sent.String(), "to the gateway") || !strings.Contains(sent.String(), `to="bob@gw.localhost"`) {
		t.Errorf("sent carbon %s", sent)
	}
	gw.Send(`<message from='bob@gw.localhost/irc' to='alice@localhost/phone' type='chat' id='m2'><body>from the gateway</body></message>`)
	phone.Expect(isMessageWithBody("from the gateway"))
	recv := laptop.Expect(func(e *xml.Element) bool { return e.Child("urn:xmpp:carbons:2", "received") != nil })
	if !strings.Contains(recv.String(), "from the gateway") || !strings.Contains(recv.String(), `from="bob@gw.localhost/irc"`) {
		t.Errorf("received carbon %s", recv)
	}
}

// TestComponentAbsentPresence: while a component is not connected, the
// presence the server sends for a user (a broadcast to a contact on the
// gateway) is dropped, but a directed presence the user sends (joining a
// room on an IRC gateway) bounces service-unavailable, so that the
// client learns the join failed, as a subscription request does.
func TestComponentAbsentPresence(t *testing.T) {
	s := startComponentServer(t)
	alice := login(t, s, "alice", "phone")
	alice.Send(`<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>`)
	alice.Expect(isID("r"))
	alice.Send(`<presence/>`)
	gw := connectComponent(t, s)
	// bob@gw.localhost subscribes to alice, who approves: a contact of
	// hers to broadcast to.
	gw.Send(`<presence from='bob@gw.localhost' to='alice@localhost' type='subscribe'/>`)
	alice.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("type") == "subscribe" })
	alice.Send(`<presence to='bob@gw.localhost' type='subscribed'/>`)
	gw.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("type") == "subscribed" })
	gw.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("type") == "" })
	gw.Send(`</stream:stream>`)
	gw.ExpectClosed()
	deadline := time.Now().Add(5 * time.Second)
	for s.Component.ComponentConnected("gw.localhost") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}

	alice.Send(`<presence><status>broadcast</status></presence>`)
	alice.Send(`<presence to='#chan%irc.example@gw.localhost/alice' id='j1'/>`)
	alice.Send(`<iq type='get' id='sync' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
	var errs []string
	for {
		el := alice.Next()
		if el.Attr("id") == "sync" {
			break
		}
		if el.Attr("type") == "error" {
			errs = append(errs, el.Attr("id")+" "+el.Attr("from"))
		}
	}
	if want := []string{"j1 #chan%irc.example@gw.localhost/alice"}; !reflect.DeepEqual(errs, want) {
		t.Errorf("errors %q, want %q", errs, want)
	}
}

// TestComponentCannotActForUsers: a component is trusted for its own
// domain only (XEP-0114 §3): the account and server iqs it sends to a
// user or to the server (roster, archive, private storage, vCard,
// blocking, PEP, push, admin commands) are refused forbidden, as for a
// remote server.
func TestComponentCannotActForUsers(t *testing.T) {
	s := startComponentServer(t)
	alice := login(t, s, "alice", "phone")
	alice.Send(`<presence/>`)
	gw := connectComponent(t, s)
	for _, iq := range []string{
		`<iq from='gw.localhost' to='alice@localhost' type='set' id='x0'><query xmlns='jabber:iq:roster'><item jid='evil@gw.localhost' subscription='both'/></query></iq>`,
		`<iq from='gw.localhost' to='alice@localhost' type='set' id='x1'><query xmlns='urn:xmpp:mam:2'/></iq>`,
		`<iq from='gw.localhost' to='alice@localhost' type='get' id='x2'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`,
		`<iq from='gw.localhost' to='alice@localhost' type='set' id='x3'><vCard xmlns='vcard-temp'><FN>evil</FN></vCard></iq>`,
		`<iq from='gw.localhost' to='alice@localhost' type='get' id='x4'><blocklist xmlns='urn:xmpp:blocking'/></iq>`,
		`<iq from='bob@gw.localhost/x' to='alice@localhost' type='set' id='x5'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:avatar:metadata'><item id='1'><metadata xmlns='urn:xmpp:avatar:metadata'/></item></publish></pubsub></iq>`,
		`<iq from='gw.localhost' to='localhost' type='set' id='x6'><command xmlns='http://jabber.org/protocol/commands' node='http://jabber.org/protocol/admin#delete-user' action='execute'/></iq>`,
		`<iq from='gw.localhost' to='alice@localhost' type='set' id='x7'><enable xmlns='urn:xmpp:push:0' jid='push.example' node='n'/></iq>`,
	} {
		gw.Send(iq)
		el := gw.Expect(func(e *xml.Element) bool { return e.Local == "iq" })
		if el.Attr("type") != "error" || !strings.Contains(el.String(), "<forbidden ") {
			t.Errorf("%s\nanswered %s, want forbidden", iq, el)
		}
	}
	if cond, roster := ask(t, alice, "r", `<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>`); cond != "result" || strings.Contains(roster.String(), "evil") {
		t.Errorf("alice's roster %s %s", cond, roster)
	}
}
