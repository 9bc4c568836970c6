package server_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/server"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/push"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage/memory"
)

// fakeAppServer is an XEP-0357 app server: a second Skald serving
// push.test, on which a test handler takes the pubsub publishes that
// reach the domain over s2s and answers them as told.
type fakeAppServer struct {
	*fedServer
	got   chan *xml.Element
	reply chan error // nil: a result; else the error answered
}

func startAppServer(t *testing.T, res *fakeSRV) *fakeAppServer {
	t.Helper()
	as := &fakeAppServer{got: make(chan *xml.Element, 16), reply: make(chan error, 16)}
	as.fedServer = startFederatedWith(t, "push.test", res, "", func(s *server.Server) {
		s.Router.HandleIQ(stanza.TypeSet, push.NSPubSub, "pubsub", router.ToServer,
			router.IQHandlerFunc(func(_ context.Context, iq *router.IQ) (*xml.Element, error) {
				as.got <- iq.Stanza.Clone()
				select {
				case err := <-as.reply:
					return nil, err
				default:
					return stanza.Result(iq.Stanza), nil
				}
			}))
	})
	return as
}

// next waits for the next publish.
func (as *fakeAppServer) next(t *testing.T) *xml.Element {
	t.Helper()
	select {
	case el := <-as.got:
		return el
	case <-time.After(15 * time.Second):
		t.Fatal("the app server got no publish")
		return nil
	}
}

// none checks that no publish arrives for a while.
func (as *fakeAppServer) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case el := <-as.got:
		t.Fatalf("unexpected publish: %s", el)
	case <-time.After(d):
	}
}

var pushID = regexp.MustCompile(` id="[^"]*"`)

const pushOptions = `<x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE"><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var="secret"><value>eruio234vzxc2kla-91</value></field></x>`

// wantPublish is the publish iq the app server gets for one message from
// bob's desk to alice, as the router hands it to the handler; the sender
// is in it with include_sender.
func wantPublish(node string, withSender bool) string {
	sender := ""
	if withSender {
		sender = `<field var="last-message-sender"><value>bob@a.test/desk</value></field>`
	}
	return `<iq xmlns="jabber:client" type="set" from="alice@a.test" to="push.test">` +
		`<pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="` + node + `"><item>` +
		`<notification xmlns="urn:xmpp:push:0"><x xmlns="jabber:x:data" type="submit">` +
		`<field var="FORM_TYPE"><value>urn:xmpp:push:summary</value></field>` +
		`<field var="message-count"><value>1</value></field>` + sender +
		`</x></notification></item></publish>` +
		`<publish-options>` + pushOptions + `</publish-options></pubsub></iq>`
}

func enablePush(t *testing.T, c *xmpptest.Conn, node string) {
	t.Helper()
	c.Send(`<iq type='set' id='push-on'><enable xmlns='urn:xmpp:push:0' jid='push.test' node='` + node + `'>` + pushOptions + `</enable></iq>`)
	if r := c.Expect(func(el *xml.Element) bool { return el.Attr("id") == "push-on" }); r.Attr("type") != "result" {
		t.Fatalf("enable: %s", r)
	}
}

// waitUnbound waits until bare has no session on srv.
func waitUnbound(t *testing.T, srv *server.Server, bare string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(srv.Router.Sessions(bare)) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s still has sessions", bare)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func metricValue(t *testing.T, s *server.Server, name string) float64 {
	t.Helper()
	v, ok := s.Metrics.Value(name)
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	return v
}

// TestPushOffline: alice enables push on a.test for the app server at
// push.test and logs out; bob's message to her goes offline, and the app
// server gets exactly the XEP-0357 publish (summary form, node,
// publish-options) over s2s, from alice's bare JID. When it answers
// item-not-found, the registration is disabled: no more publishes.
func TestPushOffline(t *testing.T) {
	t.Parallel()
	res := &fakeSRV{ports: map[string]int{}}
	a := startFederated(t, "a.test", res, "[push]\ncoalesce_interval = 0\n", "alice", "bob")
	as := startAppServer(t, res)

	alice := a.login(t, "alice", "phone")
	enablePush(t, alice, "node-1")
	alice.Close()
	waitUnbound(t, a.Server, "alice@a.test")

	bob := a.login(t, "bob", "desk")
	bob.Send(`<message to='alice@a.test' type='chat' id='m1'><body>are you there?</body></message>`)
	got := as.next(t)
	if s := pushID.ReplaceAllString(got.String(), ""); s != wantPublish("node-1", false) {
		t.Fatalf("publish:\ngot:  %s\nwant: %s", s, wantPublish("node-1", false))
	}
	deadline := time.Now().Add(10 * time.Second)
	for metricValue(t, a.Server, "skald_push_answered_total") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the result never reached a.test's push module")
		}
		time.Sleep(10 * time.Millisecond)
	}

	as.reply <- stanza.E(stanza.ItemNotFound, "")
	bob.Send(`<message to='alice@a.test' type='chat' id='m2'><body>hello?</body></message>`)
	as.next(t)
	for metricValue(t, a.Server, "skald_push_auto_disabled_total") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the registration was not disabled")
		}
		time.Sleep(10 * time.Millisecond)
	}
	bob.Send(`<message to='alice@a.test' type='chat' id='m3'><body>anyone?</body></message>`)
	as.none(t, 500*time.Millisecond)
}

// TestPushDetachedSession: alice's phone enables XEP-0198 resumption and
// push, then its connection drops; the session waits for resumption,
// and bob's message queued to it makes a push. A chat state does not.
// After she resumes (live again), nothing is pushed; while her client
// says it is inactive (XEP-0352), a message pushes again.
func TestPushDetachedSession(t *testing.T) {
	t.Parallel()
	res := &fakeSRV{ports: map[string]int{}}
	a := startFederated(t, "a.test", res, "[push]\ncoalesce_interval = 0\ninclude_sender = true\n", "alice", "bob")
	as := startAppServer(t, res)

	alice := a.login(t, "alice", "phone")
	alice.Send(`<presence/>`)
	alice.Send(`<enable xmlns='urn:xmpp:sm:3' resume='true'/>`)
	enabled := alice.Expect(func(el *xml.Element) bool { return el.Is("urn:xmpp:sm:3", "enabled") })
	enablePush(t, alice, "node-2")
	bob := a.login(t, "bob", "desk")

	bob.Send(`<message to='alice@a.test' type='chat' id='live'><body>while online</body></message>`)
	alice.Expect(func(el *xml.Element) bool { return el.Attr("id") == "live" })
	as.none(t, 300*time.Millisecond)
	// Read and acknowledged (the enable result and the message): the
	// detach has nothing to push (TestPushUnackedOnDetach).
	alice.Send(`<a xmlns='urn:xmpp:sm:3' h='2'/>`)
	alice.Send(`<iq type='get' id='acked'><ping xmlns='urn:xmpp:ping'/></iq>`)
	alice.Expect(func(el *xml.Element) bool { return el.Attr("id") == "acked" })

	alice.Raw().Close()
	full := jid.MustParse("alice@a.test/phone")
	deadline := time.Now().Add(10 * time.Second)
	for s := a.Router.Session(full); s == nil || !s.Dormant(); s = a.Router.Session(full) {
		if time.Now().After(deadline) {
			t.Fatal("the session never became dormant")
		}
		time.Sleep(10 * time.Millisecond)
	}
	bob.Send(`<message to='alice@a.test' type='chat' id='s'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`)
	bob.Send(`<message to='alice@a.test' type='chat' id='m1'><body>are you there?</body></message>`)
	got := as.next(t)
	if s := pushID.ReplaceAllString(got.String(), ""); s != wantPublish("node-2", true) {
		t.Fatalf("publish:\ngot:  %s\nwant: %s", s, wantPublish("node-2", true))
	}
	as.none(t, 300*time.Millisecond) // the chat state pushed nothing

	again := xmpptest.Dial(t, a.c2s)
	again.Timeout = 15 * time.Second
	again.OpenStream("a.test")
	again.StartTLS("a.test")
	again.AuthSCRAM("a.test", "alice", "pw-alice")
	again.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='2'/>`, enabled.Attr("id"))
	again.Expect(func(el *xml.Element) bool { return el.Is("urn:xmpp:sm:3", "resumed") })
	again.Expect(func(el *xml.Element) bool { return el.Attr("id") == "m1" })
	bob.Send(`<message to='alice@a.test' type='chat' id='m2'><body>welcome back</body></message>`)
	again.Expect(func(el *xml.Element) bool { return el.Attr("id") == "m2" })
	as.none(t, 300*time.Millisecond)

	// XEP-0352: an inactive client is dormant too (an iOS app about to be
	// frozen with its connection open); active again, it is not.
	again.Send(`<inactive xmlns='urn:xmpp:csi:0'/>`)
	again.Send(`<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>`)
	again.Expect(func(el *xml.Element) bool { return el.Attr("id") == "sync" })
	bob.Send(`<message to='alice@a.test' type='chat' id='m3'><body>still there?</body></message>`)
	again.Expect(func(el *xml.Element) bool { return el.Attr("id") == "m3" })
	if got := as.next(t); !strings.Contains(got.String(), "node-2") {
		t.Fatalf("publish for the inactive session: %s", got)
	}
	again.Send(`<active xmlns='urn:xmpp:csi:0'/>`)
	again.Send(`<iq type='get' id='sync2'><ping xmlns='urn:xmpp:ping'/></iq>`)
	again.Expect(func(el *xml.Element) bool { return el.Attr("id") == "sync2" })
	bob.Send(`<message to='alice@a.test' type='chat' id='m4'><body>ok</body></message>`)
	again.Expect(func(el *xml.Element) bool { return el.Attr("id") == "m4" })
	as.none(t, 300*time.Millisecond)
}

// TestPushConfig: the [push] section is decoded and validated, unknown
// keys are rejected, skald.example.toml shows the defaults, and enabled =
// false leaves the module (and its disco feature) out.
func TestPushConfig(t *testing.T) {
	m, err := loadModuleConfig(t, "[push]\ninclude_body = true\ncoalesce_interval = \"2s\"\nmax_registrations = 3\n")
	if err != nil || !m.Push.IncludeBody || m.Push.CoalesceInterval != 2*time.Second || m.Push.MaxRegistrations != 3 || !m.Push.Enabled {
		t.Fatalf("decoded %+v, %v", m.Push, err)
	}
	example, err := os.ReadFile("../../skald.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, tail, _ := strings.Cut(string(example), "# [push]\n")
	section, _, _ := strings.Cut(tail, "\n\n")
	var lines []string
	for _, l := range strings.Split("# [push]\n"+section, "\n") {
		if strings.HasPrefix(l, "# [") || strings.Contains(l, " = ") {
			lines = append(lines, strings.TrimPrefix(l, "# "))
		}
	}
	if m, err := loadModuleConfig(t, strings.Join(lines, "\n")); err != nil || m.Push != push.DefaultConfig() || len(lines) != 11 {
		t.Errorf("skald.example.toml's [push] %q gives %+v, %v; want the defaults", lines, m.Push, err)
	}
	for _, src := range []string{
		"[push]\ninclude_bodies = true\n",
		"[push]\nmax_registrations = 0\n",
		"[push]\ncoalesce_interval = \"-1s\"\n",
		"[push]\ntimeout = \"10ms\"\n",
		"[push]\nmax_in_flight = 0\n",
		// The router's table of pending server queries is shared (PEP's
		// caps queries use it too): push may take half of it at most.
		"[push]\nmax_in_flight = 5001\n",
		"[push]\nmax_errors = 0\n",
		"[push]\ngroupchat = \"mention\"\n",
	} {
		if _, err := loadModuleConfig(t, src); err == nil {
			t.Errorf("%q accepted", src)
		}
	}

	off := startServer(t, nil, func(*config.Config) {})
	if off.Push == nil {
		t.Fatal("push is off by default")
	}
	cfg := loadConfigFile(t, "domains = [\"localhost\"]\n[push]\nenabled = false\n")
	cfg.DataDir = t.TempDir()
	s, err := server.New(context.Background(), cfg, testLogger(), server.Options{Store: memory.New()})
	if err != nil || s.Push != nil {
		t.Fatalf("enabled = false: %v, module %v", err, s.Push)
	}
	for _, mod := range s.Router.Modules() {
		if mod.Name() == "push" {
			t.Fatal("push registered with enabled = false")
		}
	}
}

// TestInteropPush: a slixmpp client enables push (push.py: XEP-0357
// enable with a publish-options form, and an enable and disable of a
// second node) and logs out; bob's message to her reaches the app server
// as exactly one publish, for the enabled node, with the client's
// options.
func TestInteropPush(t *testing.T) {
	res := &fakeSRV{ports: map[string]int{}}
	var as *fakeAppServer
	runInteropWith(t, "push.py", func() (*testServer, []string) {
		a := startFederated(t, "localhost", res, "", "alice", "bob")
		as = startAppServer(t, res)
		return &testServer{Server: a.Server, addr: a.c2s, tlsAddr: a.c2s}, []string{"SKALD_PUSH_JID=push.test"}
	})
	got := pushID.ReplaceAllString(as.next(t).String(), "")
	want := `<iq xmlns="jabber:client" type="set" from="alice@localhost" to="push.test">` +
		`<pubsub xmlns="http://jabber.org/protocol/pubsub"><publish node="n1"><item>` +
		`<notification xmlns="urn:xmpp:push:0"><x xmlns="jabber:x:data" type="submit">` +
		`<field var="FORM_TYPE"><value>urn:xmpp:push:summary</value></field>` +
		`<field var="message-count"><value>1</value></field>` +
		`</x></notification></item></publish><publish-options>`
	if !strings.HasPrefix(got, want) || !strings.Contains(got, `<field var="secret"><value>slix-secret</value></field>`) ||
		!strings.Contains(got, `<value>http://jabber.org/protocol/pubsub#publish-options</value>`) {
		t.Fatalf("publish:\ngot:  %s\nwant: %s…(the form with the secret)", got, want)
	}
	as.none(t, 500*time.Millisecond) // n2 was disabled
}

// TestPushUnackedOnDetach: bob's message reaches alice's live phone,
// which never acknowledges it (XEP-0198) before its connection drops: the
// message may never have been read, and the session now waits for
// resumption with it queued, so the app server is told once, on detach.
// A message she acknowledged, or detaching with nothing unacknowledged,
// pushes nothing.
func TestPushUnackedOnDetach(t *testing.T) {
	t.Parallel()
	res := &fakeSRV{ports: map[string]int{}}
	a := startFederated(t, "a.test", res, "[push]\ncoalesce_interval = 0\ninclude_sender = true\n", "alice", "bob")
	as := startAppServer(t, res)
	bob := a.login(t, "bob", "desk")
	full := jid.MustParse("alice@a.test/phone")
	detach := func(alice *xmpptest.Conn) {
		t.Helper()
		alice.Raw().Close()
		deadline := time.Now().Add(10 * time.Second)
		for s := a.Router.Session(full); s == nil || !s.Dormant(); s = a.Router.Session(full) {
			if time.Now().After(deadline) {
				t.Fatal("the session never became dormant")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	connect := func() *xmpptest.Conn {
		t.Helper()
		waitUnbound(t, a.Server, "alice@a.test")
		alice := a.login(t, "alice", "phone")
		alice.Send(`<presence/>`)
		alice.Send(`<enable xmlns='urn:xmpp:sm:3' resume='true'/>`)
		alice.Expect(func(el *xml.Element) bool { return el.Is("urn:xmpp:sm:3", "enabled") })
		enablePush(t, alice, "node-3")
		return alice
	}

	// Read and acknowledged: nothing to push when the connection drops.
	alice := connect()
	bob.Send(`<message to='alice@a.test' type='chat' id='read'><body>seen</body></message>`)
	alice.Expect(func(el *xml.Element) bool { return el.Attr("id") == "read" })
	alice.Send(`<a xmlns='urn:xmpp:sm:3' h='2'/>`) // the enable result and the message
	alice.Send(`<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>`)
	alice.Expect(func(el *xml.Element) bool { return el.Attr("id") == "sync" })
	detach(alice)
	as.none(t, 500*time.Millisecond)
	a.Router.Session(full).Close(string("not-authorized")) // ends it

	// Queued, never acknowledged: one push on detach.
	alice = connect()
	bob.Send(`<message to='alice@a.test' type='chat' id='m1'><body>are you there?</body></message>`)
	alice.Expect(func(el *xml.Element) bool { return el.Attr("id") == "m1" })
	as.none(t, 300*time.Millisecond) // live: no push
	detach(alice)
	got := as.next(t)
	if s := pushID.ReplaceAllString(got.String(), ""); s != wantPublish("node-3", true) {
		t.Fatalf("publish on detach:\ngot:  %s\nwant: %s", s, wantPublish("node-3", true))
	}
	as.none(t, 300*time.Millisecond)
}

// TestPushGroupchat: bob@b.test, with push enabled, is in a room on
// b.test and in one on a.test (over s2s), and says he is inactive
// (XEP-0352). Room messages that do not mention him push nothing; one
// that mentions his nick pushes, from the local room and from the
// remote one alike (groupchat = "mentions", the default). Once he
// chooses every room message (the ad-hoc command), any pushes.
func TestPushGroupchat(t *testing.T) {
	t.Parallel()
	res := &fakeSRV{ports: map[string]int{}}
	a := startFederated(t, "a.test", res, "", "alice")
	res.set("conference.a.test", a.S2SAddr())
	b := startFederated(t, "b.test", res, "[push]\ncoalesce_interval = 0\ninclude_sender = true\n", "bob", "dave")
	as := startAppServer(t, res)
	const localRoom = "talk@conference.b.test"

	alice := a.login(t, "alice", "phone")
	alice.Send(`<presence/>`)
	alice.Expect(isFrom("presence", "alice@a.test/phone")) // her own
	alice.Send(`<presence to='` + fedRoom + `/Al'/>`)      // an instant room
	wantPresence(t, alice, fedRoom+"/Al", "", "100 170 201 110", "owner/moderator alice@a.test/phone")
	dave := b.login(t, "dave", "desk")
	dave.Send(`<presence/>`)
	dave.Expect(isFrom("presence", "dave@b.test/desk"))
	dave.Send(`<presence to='` + localRoom + `/Dave'/>`)
	wantPresence(t, dave, localRoom+"/Dave", "", "100 170 201 110", "owner/moderator dave@b.test/desk")

	bob := b.login(t, "bob", "phone")
	bob.Send(`<presence/>`)
	enablePush(t, bob, "node-g")
	enterRemote(t, bob, "Bob")
	bob.Send(`<presence to='` + localRoom + `/Bob'><x xmlns='` + nsMUC + `'/></presence>`)
	bob.Expect(func(el *xml.Element) bool {
		codes, _ := mucStatuses(el)
		return el.Local == "presence" && el.Attr("from") == localRoom+"/Bob" && strings.Contains(codes, "110")
	})
	bob.Send(`<inactive xmlns='urn:xmpp:csi:0'/>`)
	bob.Send(`<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>`)
	bob.Expect(func(el *xml.Element) bool { return el.Attr("id") == "sync" })

	answered := 0.0
	for _, tc := range []struct {
		c      *xmpptest.Conn
		room   string
		body   string
		sender string // "" for no push
	}{
		{alice, fedRoom, "hello all", ""},
		{alice, fedRoom, "Bob: look at this", fedRoom + "/Al"},
		{dave, localRoom, "hello all", ""},
		{dave, localRoom, "bob?", localRoom + "/Dave"},
	} {
		tc.c.Send(`<message to='` + tc.room + `' type='groupchat'><body>` + tc.body + `</body></message>`)
		if tc.sender == "" {
			as.none(t, 500*time.Millisecond)
			continue
		}
		got := as.next(t)
		if s := got.String(); !strings.Contains(s, `<publish node="node-g">`) || !strings.Contains(s, `<field var="last-message-sender"><value>`+tc.sender+`</value></field>`) {
			t.Fatalf("publish for %q: %s", tc.body, s)
		}
		// The next push waits for this one's answer.
		answered++
		deadline := time.Now().Add(10 * time.Second)
		for metricValue(t, b.Server, "skald_push_answered_total") != answered {
			if time.Now().After(deadline) {
				t.Fatal("the result never reached b.test's push module")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// Bob chooses every room message, with the ad-hoc command (his
	// client may send while inactive): "hello all" pushes now.
	const node = "https://skald.im/commands#push-groupchat"
	bob.Send(`<iq type='set' id='cmd1' to='b.test'><command xmlns='http://jabber.org/protocol/commands' node='` + node + `' action='execute'/></iq>`)
	form := bob.Expect(func(el *xml.Element) bool { return el.Attr("id") == "cmd1" })
	sid := form.Child("http://jabber.org/protocol/commands", "command").Attr("sessionid")
	if sid == "" || !strings.Contains(form.String(), "now: mentions") {
		t.Fatalf("command form: %s", form)
	}
	bob.Send(`<iq type='set' id='cmd2' to='b.test'><command xmlns='http://jabber.org/protocol/commands' node='` + node + `' sessionid='` + sid + `'>` +
		`<x xmlns='jabber:x:data' type='submit'><field var='groupchat'><value>all</value></field></x></command></iq>`)
	if done := bob.Expect(func(el *xml.Element) bool { return el.Attr("id") == "cmd2" }); !strings.Contains(done.String(), `status="completed"`) {
		t.Fatalf("command: %s", done)
	}
	dave.Send(`<message to='` + localRoom + `' type='groupchat'><body>hello all</body></message>`)
	if got := as.next(t); !strings.Contains(got.String(), `<value>`+localRoom+`/Dave</value>`) {
		t.Fatalf("publish: %s", got)
	}
}
