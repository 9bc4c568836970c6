package push

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
)

const optionsForm = `<x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE"><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var="secret"><value>s3cr3t</value></field></x>`

// TestEnableErrors: every malformed or refused enable/disable gets one
// error of the right condition, and nothing is registered.
func TestEnableErrors(t *testing.T) {
	e := newEnv(t, testConfig())
	s, rec := e.Bind(juliet+"/phone", true, 0)
	long := strings.Repeat("n", maxNodeBytes+1)
	big := `<x xmlns="jabber:x:data"><field var="FORM_TYPE"><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var="secret"><value>` + strings.Repeat("s", maxOptionsBytes) + `</value></field></x>`
	tests := []struct {
		name, payload, to, cond string
	}{
		{"missing jid", `<enable xmlns="urn:xmpp:push:0" node="n"/>`, "", "bad-request"},
		{"malformed jid", `<enable xmlns="urn:xmpp:push:0" jid="a@b@c" node="n"/>`, "", "jid-malformed"},
		{"missing node", `<enable xmlns="urn:xmpp:push:0" jid="push.example"/>`, "", "bad-request"},
		{"long node", `<enable xmlns="urn:xmpp:push:0" jid="push.example" node="` + long + `"/>`, "", "policy-violation"},
		{"local service", `<enable xmlns="urn:xmpp:push:0" jid="example.org" node="n"/>`, "", "not-acceptable"},
		{"local account", `<enable xmlns="urn:xmpp:push:0" jid="romeo@example.org" node="n"/>`, "", "not-acceptable"},
		{"wrong form type", `<enable xmlns="urn:xmpp:push:0" jid="push.example" node="n"><x xmlns="jabber:x:data"><field var="FORM_TYPE"><value>urn:other</value></field></x></enable>`, "", "bad-request"},
		{"two forms", `<enable xmlns="urn:xmpp:push:0" jid="push.example" node="n">` + optionsForm + optionsForm + `</enable>`, "", "bad-request"},
		{"big form", `<enable xmlns="urn:xmpp:push:0" jid="push.example" node="n">` + big + `</enable>`, "", "policy-violation"},
		{"another account", `<enable xmlns="urn:xmpp:push:0" jid="push.example" node="n"/>`, romeo, "forbidden"},
		{"to the server", `<enable xmlns="urn:xmpp:push:0" jid="push.example" node="n"/>`, "example.org", "service-unavailable"},
		{"disable without jid", `<disable xmlns="urn:xmpp:push:0" node="n"/>`, "", "bad-request"},
		{"disable for another", `<disable xmlns="urn:xmpp:push:0" jid="push.example"/>`, romeo, "forbidden"},
		{"get", `<enable xmlns="urn:xmpp:push:0" jid="push.example" node="n"/>`, "", "service-unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			to, typ := "", "set"
			if tc.to != "" {
				to = ` to="` + tc.to + `"`
			}
			if tc.name == "get" {
				typ = "get"
			}
			e.Send(s, `<iq type="`+typ+`" id="x"`+to+`>`+tc.payload+`</iq>`)
			got := rec.Take()
			if len(got) != 1 || !strings.Contains(got[0], `type="error"`) || !strings.Contains(got[0], "<"+tc.cond+` xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>`) {
				t.Fatalf("got %v, want one %s error", got, tc.cond)
			}
		})
	}
	if regs, _ := e.m.registrations(context.Background(), juliet); len(regs) != 0 {
		t.Fatalf("registered after errors: %v", regs)
	}
}

// TestDiscoFeature: urn:xmpp:push:0 is an account feature (§4.1), not the
// server's.
func TestDiscoFeature(t *testing.T) {
	e := newEnv(t, testConfig())
	s, rec := e.Bind(juliet+"/phone", true, 0)
	e.Send(s, `<iq type="get" id="d1"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`)
	e.Send(s, `<iq type="get" id="d2" to="example.org"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`)
	got := rec.Take()
	if len(got) != 2 || !strings.Contains(got[0], `<feature var="urn:xmpp:push:0"/>`) || strings.Contains(got[1], `urn:xmpp:push:0`) {
		t.Fatalf("disco#info: %v", got)
	}
}

// TestPublishOffline: juliet's phone enables push with publish options
// and goes away; romeo's message goes to offline storage, and the app
// server gets exactly the XEP-0357 §7 publish, options included.
func TestPublishOffline(t *testing.T) {
	cfg := testConfig()
	e := newEnv(t, cfg)
	phone, rec := e.Bind(juliet+"/phone", true, 0)
	e.enable(phone, rec, "node-1", optionsForm)
	e.Router.Unbind(context.Background(), phone)
	r, _ := e.Bind(romeo+"/desk", true, 0)
	e.message(r, `<body>Wherefore art thou?</body>`)
	got := e.remote.wait(t, 1, time.Second)
	want := summaryIQ("node-1", field("message-count", "1")+field("last-message-sender", romeo+"/desk"), optionsForm)
	if withoutID(got[0]) != want {
		t.Fatalf("publish:\ngot:  %s\nwant: %s", withoutID(got[0]), want)
	}
	e.answer(got[0], "result", "")
	if e.m.counters.answered.Load() != 1 || e.m.inFlight.Load() != 0 {
		t.Fatalf("answered %d, in flight %d", e.m.counters.answered.Load(), e.m.inFlight.Load())
	}
}

// TestPublishBody: include_body sends the body, cut at 1024 bytes;
// important_body stands in for it otherwise; include_sender = false
// leaves the sender out.
func TestPublishBody(t *testing.T) {
	long := strings.Repeat("é", 600) // 1200 bytes
	tests := []struct {
		name   string
		tweak  func(*Config)
		body   string
		fields string
	}{
		{"body", func(c *Config) { c.IncludeBody, c.IncludeSender = true, false }, "hello",
			field("message-count", "1") + field("last-message-body", "hello")},
		{"long body", func(c *Config) { c.IncludeBody, c.IncludeSender = true, false }, long,
			field("message-count", "1") + field("last-message-body", strings.Repeat("é", 512)+"…")},
		{"important body", func(c *Config) { c.ImportantBody, c.IncludeSender = "New message", false }, "secret",
			field("message-count", "1") + field("last-message-body", "New message")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.tweak(&cfg)
			e := newEnv(t, cfg)
			phone, rec := e.Bind(juliet+"/phone", true, 0)
			e.enable(phone, rec, "n", "")
			e.Router.Unbind(context.Background(), phone)
			r, _ := e.Bind(romeo+"/desk", true, 0)
			e.message(r, `<body>`+tc.body+`</body>`)
			got := e.remote.wait(t, 1, time.Second)
			if want := summaryIQ("n", tc.fields, ""); withoutID(got[0]) != want {
				t.Fatalf("publish:\ngot:  %s\nwant: %s", withoutID(got[0]), want)
			}
		})
	}
}

// TestDormantSession: a message queued to the enabling session while it
// is detached (or inactive) pushes; while it is live it does not; a
// registration of another resource is not pushed for a message a live
// session of its own took.
func TestDormantSession(t *testing.T) {
	e := newEnv(t, testConfig())
	phone, rec := e.bindDormant(juliet + "/phone")
	e.enable(phone, rec, "n", "")
	r, _ := e.Bind(romeo+"/desk", true, 0)

	e.message(r, `<body>live</body>`)
	if got := e.remote.take(); len(got) != 0 {
		t.Fatalf("pushed to a live session: %v", got)
	}
	rec.dormant.Store(true)
	e.message(r, `<body>while detached</body>`)
	got := e.remote.wait(t, 1, time.Second)
	if !strings.Contains(got[0].String(), `<value>`+romeo+`/desk</value>`) {
		t.Fatalf("publish: %s", got[0])
	}
	e.answer(got[0], "result", "") // else the next push would wait for it
	if n := len(rec.Take()); n != 2 {
		t.Fatalf("the session was queued %d messages, want 2", n)
	}

	// Another client of juliet's, live, takes a message to its full JID:
	// the dormant phone did not get it and it is not archived (no mam
	// here), so no push.
	laptop, _ := e.Bind(juliet+"/laptop", true, 0)
	_ = laptop
	e.Send(r, `<message type="chat" to="`+juliet+`/laptop" id="m2"><body>to the laptop</body></message>`)
	if got := e.remote.take(); len(got) != 0 {
		t.Fatalf("pushed for a message the phone was not sent: %v", got)
	}
}

// TestNotWorthPush: messages without anything a user reads push nothing;
// encrypted ones and calls do.
func TestNotWorthPush(t *testing.T) {
	tests := []struct {
		name, msg string
		push      bool
	}{
		{"body", `<message type="chat"><body>hi</body></message>`, true},
		{"normal", `<message><body>hi</body></message>`, true},
		{"blank body", `<message type="chat"><body>  </body></message>`, false},
		{"chat state", `<message type="chat"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`, false},
		{"receipt", `<message type="chat"><received xmlns="urn:xmpp:receipts" id="x"/></message>`, false},
		{"marker", `<message type="chat"><displayed xmlns="urn:xmpp:chat-markers:0" id="x"/></message>`, false},
		{"store hint only", `<message type="chat"><store xmlns="urn:xmpp:hints"/></message>`, false},
		{"error", `<message type="error"><body>hi</body></message>`, false},
		{"headline", `<message type="headline"><body>news</body></message>`, false},
		{"omemo", `<message type="chat"><encrypted xmlns="eu.siacs.conversations.axolotl"/></message>`, true},
		{"omemo 2", `<message type="chat"><encrypted xmlns="urn:xmpp:omemo:2"/></message>`, true},
		{"openpgp", `<message type="chat"><openpgp xmlns="urn:xmpp:openpgp:0">x</openpgp></message>`, true},
		{"call", `<message type="chat"><propose xmlns="urn:xmpp:jingle-message:0" id="c"/></message>`, true},
		{"groupchat subject", `<message type="groupchat"><subject>topic</subject></message>`, false},
		// XEP-0045 §8.1: a subject with a body is a message, no subject change.
		{"groupchat message with a subject", `<message type="groupchat"><subject>topic</subject><body>x</body></message>`, true},
		{"received carbon", `<message from="juliet@example.org"><received xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" type="chat" from="a@b"><body>hi</body></message></forwarded></received></message>`, true},
		{"sent carbon", `<message from="juliet@example.org"><sent xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" type="chat"><body>hi</body></message></forwarded></sent></message>`, false},
		{"carbon from another", `<message from="romeo@example.org/desk"><received xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" type="chat" from="a@b"><body>hi</body></message></forwarded></received></message>`, false},
		{"carbon of a chat state", `<message from="juliet@example.org"><received xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" type="chat"><active xmlns="http://jabber.org/protocol/chatstates"/></message></forwarded></received></message>`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := worthPush(routertest.Parse(t, tc.msg), juliet); got != tc.push {
				t.Fatalf("worthPush = %v, want %v", got, tc.push)
			}
		})
	}

	// Through the router: a chat state to an offline account pushes
	// nothing.
	e := newEnv(t, testConfig())
	phone, rec := e.Bind(juliet+"/phone", true, 0)
	e.enable(phone, rec, "n", "")
	e.Router.Unbind(context.Background(), phone)
	r, _ := e.Bind(romeo+"/desk", true, 0)
	e.message(r, `<composing xmlns="http://jabber.org/protocol/chatstates"/>`)
	e.message(r, `<received xmlns="urn:xmpp:receipts" id="x"/>`)
	if got := e.remote.take(); len(got) != 0 {
		t.Fatalf("pushed: %v", got)
	}
}

// TestCoalesce: a burst pushes once at once, and once more at the end of
// the window with the messages it folded; a quiet window sends nothing.
func TestCoalesce(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.CoalesceInterval = time.Second
	e := newEnv(t, cfg)
	phone, rec := e.Bind(juliet+"/phone", true, 0)
	e.enable(phone, rec, "n", "")
	e.Router.Unbind(context.Background(), phone)
	r, _ := e.Bind(romeo+"/desk", true, 0)
	for range 4 {
		e.message(r, `<body>burst</body>`)
	}
	first := e.remote.take()
	if len(first) != 1 || !strings.Contains(first[0].String(), field("message-count", "1")) {
		t.Fatalf("first push: %v", first)
	}
	e.answer(first[0], "result", "") // else the folded push waits for it
	later := e.remote.wait(t, 1, 5*time.Second)
	if !strings.Contains(later[0].String(), field("message-count", "3")) {
		t.Fatalf("folded push: %s", later[0])
	}
	time.Sleep(2 * cfg.CoalesceInterval)
	if got := e.remote.take(); len(got) != 0 {
		t.Fatalf("pushed after a quiet window: %v", got)
	}
	e.m.mu.Lock()
	open := len(e.m.bursts)
	e.m.mu.Unlock()
	if open != 0 {
		t.Fatalf("%d windows still open", open)
	}
}

// TestDisableOnError: item-not-found disables the registration at once;
// a wait error does not count; other errors disable after max_errors in a
// row, and a result in between resets the count.
func TestDisableOnError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		errs     []string // the app server's answers, in order
		disabled bool
	}{
		{"item-not-found", []string{`<error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`}, true},
		{"forbidden", []string{`<error type="auth"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`}, true},
		{"not-authorized", []string{`<error type="auth"><not-authorized xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`}, true},
		// An app server overloaded says so, whatever type it gives the
		// error: it says nothing about the registration.
		{"resource-constraint", []string{`<error type="cancel"><resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`,
			`<error type="cancel"><resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`,
			`<error type="cancel"><resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`}, false},
		{"wait", []string{`<error type="wait"><resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`,
			`<error type="wait"><resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`,
			`<error type="wait"><resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`}, false},
		{"unreachable", []string{`<error type="cancel"><remote-server-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`,
			`<error type="cancel"><remote-server-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`,
			`<error type="cancel"><remote-server-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`}, false},
		{"max errors", []string{`<error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`,
			`<error type="cancel"><internal-server-error xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`,
			`<error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`}, true},
		{"reset by a result", []string{`<error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`,
			`<error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`,
			"", `<error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.MaxErrors = 3
			e := newEnv(t, cfg)
			phone, rec := e.Bind(juliet+"/phone", true, 0)
			e.enable(phone, rec, "n", "")
			e.Router.Unbind(context.Background(), phone)
			r, _ := e.Bind(romeo+"/desk", true, 0)
			for _, answer := range tc.errs {
				e.message(r, `<body>hi</body>`)
				got := e.remote.wait(t, 1, time.Second)
				if answer == "" {
					e.answer(got[0], "result", "")
				} else {
					e.answer(got[0], "error", answer)
				}
			}
			e.m.wg.Wait() // a disabling started by the last answer ends
			waitFor(t, func() bool {
				regs, _ := e.m.registrations(context.Background(), juliet)
				return (len(regs) == 0) == tc.disabled
			})
			// After disabling, nothing more is published (§6).
			e.message(r, `<body>again</body>`)
			n := len(e.remote.take())
			if tc.disabled && n != 0 || !tc.disabled && n != 1 {
				t.Fatalf("disabled %v, but %d pushes after", tc.disabled, n)
			}
			// The store agrees: a module started afresh sees the same.
			fresh := New(cfg, e.Store, e.Router, quiet)
			if regs, _ := fresh.registrations(context.Background(), juliet); (len(regs) == 0) != tc.disabled {
				t.Fatalf("stored registrations: %v", regs)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRegistrations: enabling the same (jid, node) replaces it, with the
// latest options; max_registrations drops the least recently enabled;
// disable removes one node, or every node of a JID; registrations persist.
func TestRegistrations(t *testing.T) {
	cfg := testConfig()
	cfg.MaxRegistrations = 2
	e := newEnv(t, cfg)
	phone, rec := e.Bind(juliet+"/phone", true, 0)
	nodes := func(m *Module) string {
		regs, err := m.registrations(context.Background(), juliet)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range regs {
			opt := ""
			if r.Options != nil {
				opt = "+form"
			}
			out = append(out, r.JID.String()+"#"+r.Node+"@"+r.Resource+opt)
		}
		return strings.Join(out, " ")
	}
	e.enable(phone, rec, "a", "")
	e.enable(phone, rec, "b", "")
	e.enable(phone, rec, "a", optionsForm)
	if got := nodes(e.m); got != "push.example#b@phone push.example#a@phone+form" {
		t.Fatalf("after enabling a again: %s", got)
	}
	e.enable(phone, rec, "c", "")
	if got := nodes(e.m); got != "push.example#a@phone+form push.example#c@phone" {
		t.Fatalf("after a third: %s", got)
	}
	if got := nodes(New(cfg, e.Store, e.Router, quiet)); got != "push.example#a@phone+form push.example#c@phone" {
		t.Fatalf("stored: %s", got)
	}
	e.Send(phone, `<iq type="set" id="d"><disable xmlns="urn:xmpp:push:0" jid="push.example" node="c"/></iq>`)
	routertest.Expect(t, rec, `<iq xmlns="jabber:client" type="result" id="d" to="juliet@example.org/phone"/>`)
	if got := nodes(e.m); got != "push.example#a@phone+form" {
		t.Fatalf("after disabling c: %s", got)
	}
	e.enable(phone, rec, "d", "")
	e.Send(phone, `<iq type="set" id="d2" to="juliet@example.org"><disable xmlns="urn:xmpp:push:0" jid="push.example"/></iq>`)
	routertest.Expect(t, rec, `<iq xmlns="jabber:client" type="result" id="d2" to="juliet@example.org/phone"/>`)
	if got := nodes(New(cfg, e.Store, e.Router, quiet)); got != "" {
		t.Fatalf("after disabling the JID: %s", got)
	}
	// Disabling what is not enabled succeeds.
	e.Send(phone, `<iq type="set" id="d3"><disable xmlns="urn:xmpp:push:0" jid="other.example"/></iq>`)
	routertest.Expect(t, rec, `<iq xmlns="jabber:client" type="result" id="d3" to="juliet@example.org/phone"/>`)
}

// TestInFlightAndTimeout: an unanswered publish times out (counted, the
// registration stays), and beyond max_in_flight pushes are dropped.
func TestInFlightAndTimeout(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MaxInFlight = 1
	cfg.Timeout = time.Second
	e := newEnv(t, cfg)
	phone, rec := e.Bind(juliet+"/phone", true, 0)
	e.enable(phone, rec, "n", "")
	e.Router.Unbind(context.Background(), phone)
	r, _ := e.Bind(romeo+"/desk", true, 0)
	e.message(r, `<body>one</body>`)
	e.message(r, `<body>two</body>`)
	if got := len(e.remote.take()); got != 1 || e.m.counters.dropped.Load() != 1 {
		t.Fatalf("sent %d, dropped %d; want 1 and 1", got, e.m.counters.dropped.Load())
	}
	waitFor(t, func() bool { return e.m.counters.timedOut.Load() == 1 && e.m.inFlight.Load() == 0 })
	if regs, _ := e.m.registrations(context.Background(), juliet); len(regs) != 1 {
		t.Fatal("a timeout disabled the registration")
	}
	e.message(r, `<body>three</body>`)
	if got := len(e.remote.take()); got != 1 {
		t.Fatalf("after the timeout: %d pushes", got)
	}
}

// TestNoFederation: without a remote transport the push is counted as
// unreachable and nothing waits.
func TestNoFederation(t *testing.T) {
	e := newEnv(t, testConfig())
	e.Router.SetRemote(nil)
	phone, rec := e.Bind(juliet+"/phone", true, 0)
	e.enable(phone, rec, "n", "")
	e.Router.Unbind(context.Background(), phone)
	r, _ := e.Bind(romeo+"/desk", true, 0)
	e.message(r, `<body>hi</body>`)
	if e.m.counters.unreachable.Load() != 1 || e.m.inFlight.Load() != 0 {
		t.Fatalf("unreachable %d, in flight %d", e.m.counters.unreachable.Load(), e.m.inFlight.Load())
	}
}

// TestBounced: a publish the transport bounces (the app server's domain
// is unreachable) answers the pending query, never juliet's clients.
func TestBounced(t *testing.T) {
	e := newEnv(t, testConfig())
	phone, rec := e.Bind(juliet+"/phone", true, 0)
	e.enable(phone, rec, "n", "")
	e.Router.Unbind(context.Background(), phone)
	r, _ := e.Bind(romeo+"/desk", true, 0)
	e.message(r, `<body>hi</body>`)
	got := e.remote.wait(t, 1, time.Second)
	_, lrec := e.Bind(juliet+"/laptop", true, 0)
	e.Router.Bounce(got[0], "remote-server-not-found")
	if e.m.counters.failed.Load() != 1 || e.m.inFlight.Load() != 0 {
		t.Fatalf("failed %d, in flight %d", e.m.counters.failed.Load(), e.m.inFlight.Load())
	}
	if out := lrec.Take(); len(out) != 0 {
		t.Fatalf("the bounce reached juliet's client: %v", out)
	}
}

// TestShutdown: after Shutdown an open window ends without its push and
// new messages push nothing.
func TestShutdown(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.CoalesceInterval = time.Second
	e := newEnv(t, cfg)
	phone, rec := e.Bind(juliet+"/phone", true, 0)
	e.enable(phone, rec, "n", "")
	e.Router.Unbind(context.Background(), phone)
	r, _ := e.Bind(romeo+"/desk", true, 0)
	e.message(r, `<body>one</body>`)
	e.message(r, `<body>two</body>`)
	first := e.remote.take()
	if len(first) != 1 {
		t.Fatalf("%d pushes before shutdown", len(first))
	}
	e.answer(first[0], "result", "") // else the next push would wait for it
	e.m.Shutdown()
	e.message(r, `<body>three</body>`)
	time.Sleep(cfg.CoalesceInterval + 500*time.Millisecond)
	if got := e.remote.take(); len(got) != 0 {
		t.Fatalf("pushed after shutdown: %v", got)
	}
}

// archiver marks every message as held by the recipient's archive, as
// mam does.
type archiver struct{}

func (archiver) Name() string { return "archiver" }
func (archiver) InboundMessage(_ context.Context, ev *router.MessageEvent) error {
	ev.Archived = true
	return nil
}

// TestArchivedWhileAnotherClientIsOnline: juliet's laptop is online and
// gets the message; her phone, which enabled push, is not connected. It
// is pushed when the archive holds the message (the woken phone fetches
// it there), not otherwise (it could not get it).
func TestArchivedWhileAnotherClientIsOnline(t *testing.T) {
	for _, archived := range []bool{false, true} {
		e := newEnv(t, testConfig())
		if archived {
			e.Router.Register(archiver{})
		}
		phone, rec := e.Bind(juliet+"/phone", true, 0)
		e.enable(phone, rec, "n", "")
		e.Router.Unbind(context.Background(), phone)
		_, laptop := e.Bind(juliet+"/laptop", true, 0)
		r, _ := e.Bind(romeo+"/desk", true, 0)
		e.message(r, `<body>hi</body>`)
		if n := len(laptop.Take()); n != 1 {
			t.Fatalf("laptop got %d messages", n)
		}
		if got := len(e.remote.take()); (got == 1) != archived {
			t.Fatalf("archived %v: %d pushes", archived, got)
		}
	}
}

// TestCoalesceClientBack: messages folded into a window are not pushed
// when the client is live again by the time it ends.
func TestCoalesceClientBack(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.CoalesceInterval = 500 * time.Millisecond
	e := newEnv(t, cfg)
	phone, rec := e.bindDormant(juliet + "/phone")
	e.enable(phone, rec, "n", "")
	rec.dormant.Store(true)
	r, _ := e.Bind(romeo+"/desk", true, 0)
	e.message(r, `<body>one</body>`)
	e.message(r, `<body>two</body>`)
	first := e.remote.take()
	if len(first) != 1 {
		t.Fatalf("%d pushes, want 1", len(first))
	}
	// Answered, else the folded push would wait for it anyway.
	e.answer(first[0], "result", "")
	rec.dormant.Store(false) // resumed
	time.Sleep(3 * cfg.CoalesceInterval)
	if got := e.remote.take(); len(got) != 0 {
		t.Fatalf("pushed to a client that is back: %v", got)
	}
}

// TestDefaultPrivacy: with the default configuration the app server
// learns that there is a message, not who sent it nor what it says
// (XEP-0357 §9: the notification passes through the app developer's
// servers; the sender is sent only when include_sender is set, as the
// body only with include_body).
func TestDefaultPrivacy(t *testing.T) {
	cfg := DefaultConfig()
	cfg.CoalesceInterval = 0
	e := newEnv(t, cfg)
	phone, rec := e.Bind(juliet+"/phone", true, 0)
	e.enable(phone, rec, "n", "")
	e.Router.Unbind(context.Background(), phone)
	r, _ := e.Bind(romeo+"/desk", true, 0)
	e.message(r, `<body>Wherefore art thou?</body>`)
	got := e.remote.wait(t, 1, time.Second)
	if want := summaryIQ("n", field("message-count", "1"), ""); withoutID(got[0]) != want {
		t.Fatalf("publish:\ngot:  %s\nwant: %s", withoutID(got[0]), want)
	}
}

// TestOnePublishPerRegistrationInFlight: while a registration's publish
// waits for the app server's answer, further pushes to it are dropped
// (its device is being woken already): an app server that never answers
// holds one of the max_in_flight places per registration, so a few
// accounts enabling push to a black hole cannot take them all and stop
// everyone's pushes.
func TestOnePublishPerRegistrationInFlight(t *testing.T) {
	e := newEnv(t, testConfig())
	phone, rec := e.Bind(juliet+"/phone", true, 0)
	e.enable(phone, rec, "a", "")
	e.enable(phone, rec, "b", "")
	e.Router.Unbind(context.Background(), phone)
	r, _ := e.Bind(romeo+"/desk", true, 0)
	for _, b := range []string{"one", "two", "three"} {
		e.message(r, `<body>`+b+`</body>`)
	}
	got := e.remote.take()
	if len(got) != 2 || e.m.inFlight.Load() != 2 || e.m.counters.dropped.Load() != 4 {
		t.Fatalf("sent %d, in flight %d, dropped %d; want 2, 2, 4", len(got), e.m.inFlight.Load(), e.m.counters.dropped.Load())
	}
	// Node a's answer frees it; b still waits.
	for _, iq := range got {
		if strings.Contains(iq.String(), `node="a"`) {
			e.answer(iq, "result", "")
		}
	}
	e.message(r, `<body>four</body>`)
	got = e.remote.take()
	if len(got) != 1 || !strings.Contains(got[0].String(), `node="a"`) {
		t.Fatalf("after a's answer: %v, want one publish to a", got)
	}
}

// TestCoalesceWhileWaiting: a window that ends while the registration's
// last publish is unanswered keeps what it folded for the next window's
// end, after the answer.
func TestCoalesceWhileWaiting(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.CoalesceInterval = 200 * time.Millisecond
	e := newEnv(t, cfg)
	phone, rec := e.Bind(juliet+"/phone", true, 0)
	e.enable(phone, rec, "n", "")
	e.Router.Unbind(context.Background(), phone)
	r, _ := e.Bind(romeo+"/desk", true, 0)
	for range 3 {
		e.message(r, `<body>burst</body>`)
	}
	first := e.remote.take()
	if len(first) != 1 {
		t.Fatalf("first push: %v", first)
	}
	time.Sleep(3 * cfg.CoalesceInterval)
	if got := e.remote.take(); len(got) != 0 {
		t.Fatalf("pushed while the last one waits for its answer: %v", got)
	}
	e.answer(first[0], "result", "")
	later := e.remote.wait(t, 1, 5*time.Second)
	if !strings.Contains(later[0].String(), field("message-count", "2")) {
		t.Fatalf("folded push: %s", later[0])
	}
}

// TestSessionDetached: on a detach with unacknowledged messages, the
// registrations the session enabled get one push for those worth it
// (counted together; groupchat, the account's own messages and chat
// states do not count); another resource's registration gets none.
func TestSessionDetached(t *testing.T) {
	e := newEnv(t, testConfig())
	phone, rec := e.Bind(juliet+"/phone", true, 0)
	e.enable(phone, rec, "n", "")
	tablet, trec := e.Bind(juliet+"/tablet", true, 0)
	e.enable(tablet, trec, "t", "")
	queued := []string{
		`<message xmlns="jabber:client" type="chat" from="romeo@example.org/desk" to="juliet@example.org/phone"><body>one</body></message>`,
		`<message xmlns="jabber:client" type="chat" from="romeo@example.org/desk" to="juliet@example.org/phone"><active xmlns="http://jabber.org/protocol/chatstates"/></message>`,
		`<message xmlns="jabber:client" type="groupchat" from="room@muc.example/nurse" to="juliet@example.org/phone"><body>all</body></message>`,
		`<message xmlns="jabber:client" type="chat" from="juliet@example.org/tablet" to="juliet@example.org/phone"><body>note to self</body></message>`,
		`<iq xmlns="jabber:client" type="result" id="x" to="juliet@example.org/phone"/>`,
		`<message xmlns="jabber:client" type="chat" from="nurse@example.org/home" to="juliet@example.org/phone"><body>two</body></message>`,
	}
	var els []*xml.Element
	for _, q := range queued {
		els = append(els, routertest.Parse(t, q))
	}
	e.Router.Detached(context.Background(), phone, els)
	got := e.remote.wait(t, 1, time.Second)
	if want := summaryIQ("n", field("message-count", "2")+field("last-message-sender", "nurse@example.org/home"), ""); withoutID(got[0]) != want {
		t.Fatalf("publish:\ngot:  %s\nwant: %s", withoutID(got[0]), want)
	}
	e.answer(got[0], "result", "")
	e.Router.Detached(context.Background(), phone, els[1:5])
	time.Sleep(50 * time.Millisecond)
	if out := e.remote.take(); len(out) != 0 {
		t.Fatalf("nothing worth a push queued: %v", out)
	}
}

// TestForgedCarbon: a carbon copy comes from the account's own bare JID
// (XEP-0280 §11); one from anybody else is forged — here to make the
// notification name a sender of the forger's choosing — and is judged as
// the message it is, which nobody reads: no push.
func TestForgedCarbon(t *testing.T) {
	e := newEnv(t, testConfig())
	phone, rec := e.Bind(juliet+"/phone", true, 0)
	e.enable(phone, rec, "n", "")
	e.Router.Unbind(context.Background(), phone)
	forged := `<received xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" type="chat" from="boss@example.org/office" to="juliet@example.org"><body>wire the money</body></message></forwarded></received>`
	r, _ := e.Bind(romeo+"/desk", true, 0)
	e.message(r, forged)
	raw := `<message type="chat" from="mallory@evil.example/x" to="juliet@example.org">` + forged + `</message>`
	if err := e.Router.HandleFromRemote(context.Background(), "evil.example", routertest.Parse(t, raw)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if got := e.remote.take(); len(got) != 0 {
		t.Fatalf("forged carbons pushed: %v", got)
	}
}

// TestRemoteEnable: a remote entity cannot enable (or disable) push for
// an account: forbidden, answered over the remote transport, and nothing
// is registered.
func TestRemoteEnable(t *testing.T) {
	e := newEnv(t, testConfig())
	for _, p := range []string{
		`<enable xmlns="urn:xmpp:push:0" jid="push.example" node="n"/>`,
		`<disable xmlns="urn:xmpp:push:0" jid="push.example"/>`,
	} {
		raw := `<iq type="set" id="r" from="mallory@evil.example/x" to="juliet@example.org">` + p + `</iq>`
		if err := e.Router.HandleFromRemote(context.Background(), "evil.example", routertest.Parse(t, raw)); err != nil {
			t.Fatal(err)
		}
		got := e.remote.take()
		if len(got) != 1 || got[0].Attr("type") != "error" || !strings.Contains(got[0].String(), "<forbidden ") {
			t.Fatalf("remote %s: %v, want one forbidden error", p, got)
		}
	}
	if regs, _ := e.m.registrations(context.Background(), juliet); len(regs) != 0 {
		t.Fatalf("registered by a remote entity: %v", regs)
	}
}

// TestEnabledAgainBeforeTheError: a registration the client enabled
// again after a publish went out (a fresh node at the app server, new
// options) is not the one that publish's error condemns: it stays.
func TestEnabledAgainBeforeTheError(t *testing.T) {
	e := newEnv(t, testConfig())
	phone, rec := e.Bind(juliet+"/phone", true, 0)
	e.enable(phone, rec, "n", "")
	e.Router.Unbind(context.Background(), phone)
	r, _ := e.Bind(romeo+"/desk", true, 0)
	e.message(r, `<body>hi</body>`)
	got := e.remote.wait(t, 1, time.Second)
	phone, rec = e.Bind(juliet+"/phone", true, 0)
	e.enable(phone, rec, "n", optionsForm)
	e.answer(got[0], "error", `<error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`)
	e.m.wg.Wait() // the disabling goroutine
	regs, _ := e.m.registrations(context.Background(), juliet)
	if len(regs) != 1 || regs[0].Options == nil {
		t.Fatalf("registrations after the old publish's error: %v", regs)
	}
}

// TestNewWindowWhileWaiting: a message that opens a new window while the
// registration's last publish (of an earlier window) is unanswered is
// folded into that window, not dropped: it is pushed when the window
// ends after the answer.
func TestNewWindowWhileWaiting(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.CoalesceInterval = 100 * time.Millisecond
	e := newEnv(t, cfg)
	phone, rec := e.Bind(juliet+"/phone", true, 0)
	e.enable(phone, rec, "n", "")
	e.Router.Unbind(context.Background(), phone)
	r, _ := e.Bind(romeo+"/desk", true, 0)
	e.message(r, `<body>one</body>`)
	first := e.remote.wait(t, 1, time.Second)
	waitFor(t, func() bool { // the quiet window closes
		e.m.mu.Lock()
		defer e.m.mu.Unlock()
		return len(e.m.bursts) == 0
	})
	e.message(r, `<body>two</body>`)
	e.answer(first[0], "result", "")
	later := e.remote.wait(t, 1, 5*time.Second)
	if !strings.Contains(later[0].String(), field("message-count", "1")) || !strings.Contains(later[0].String(), "<value>"+romeo+"/desk</value>") {
		t.Fatalf("folded push: %s", later[0])
	}
}
