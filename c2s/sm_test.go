package c2s_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/metrics"
	"github.com/skald-xmpp/skald/internal/metrics/metricstest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

const (
	nsSM      = "urn:xmpp:sm:3"
	nsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
)

// offlineRecorder is a router module standing in for offline storage: it
// records the ids of the messages it is asked to keep.
type offlineRecorder struct {
	mu  sync.Mutex
	ids []string
}

func (o *offlineRecorder) Name() string { return "offline-recorder" }

func (o *offlineRecorder) StoreOffline(_ context.Context, ev *router.MessageEvent) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ids = append(o.ids, ev.Stanza.Attr("id"))
	return true, nil
}

func (o *offlineRecorder) stored() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.ids)
}

// eventually polls cond for up to 5 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// authed connects and authenticates user, up to the post-SASL features.
func authed(t *testing.T, f *fixture, user string) *xmpptest.Conn {
	t.Helper()
	c := xmpptest.Dial(t, f.addr)
	c.OpenStream("localhost")
	c.StartTLS("localhost")
	c.AuthSCRAM("localhost", user, "secret-"+user)
	return c
}

// enableSM enables stream management and returns <enabled/>.
func enableSM(t *testing.T, c *xmpptest.Conn, resume bool) *xml.Element {
	t.Helper()
	if resume {
		c.Send(`<enable xmlns='urn:xmpp:sm:3' resume='true'/>`)
	} else {
		c.Send(`<enable xmlns='urn:xmpp:sm:3'/>`)
	}
	el := c.Next()
	if !el.Is(nsSM, "enabled") {
		t.Fatalf("expected <enabled/>, got %s", el)
	}
	return el
}

func isSM(local string) func(*xml.Element) bool {
	return func(el *xml.Element) bool { return el.Is(nsSM, local) }
}

func isMessage(id string) func(*xml.Element) bool {
	return func(el *xml.Element) bool { return el.Is("jabber:client", "message") && el.Attr("id") == id }
}

// smFailedCondition returns the stanza error condition in <failed/>.
func smFailedCondition(t *testing.T, el *xml.Element) string {
	t.Helper()
	if !el.Is(nsSM, "failed") {
		t.Fatalf("expected <failed/>, got %s", el)
	}
	if c := el.ChildNS(nsStanzas); c != nil {
		return c.Local
	}
	return ""
}

// readStanzas reads n stanzas, skipping the server's <r/> requests, and
// returns their ids in order.
func readStanzas(t *testing.T, c *xmpptest.Conn, n int) []string {
	t.Helper()
	var ids []string
	for len(ids) < n {
		el := c.Next()
		if el.Is(nsSM, "r") {
			continue
		}
		ids = append(ids, el.Attr("id"))
	}
	return ids
}

func sendMessages(c *xmpptest.Conn, to string, ids ...string) {
	for _, id := range ids {
		c.Sendf(`<message to='%s' type='chat' id='%s'><body>%s</body></message>`, to, id, id)
	}
}

func TestSMEnableBeforeBind(t *testing.T) {
	f := start(t, nil)
	c := authed(t, f, "alice")
	if c.Features.Child(nsSM, "sm") == nil {
		t.Fatalf("no <sm/> feature after authentication: %s", c.Features)
	}
	c.Send(`<enable xmlns='urn:xmpp:sm:3' resume='true'/>`)
	if got := smFailedCondition(t, c.Next()); got != "unexpected-request" {
		t.Fatalf("enable before bind: %s", got)
	}
	// The stream goes on: bind, then enable.
	c.Bind("r")
	enableSM(t, c, true)
}

func TestSMNotOfferedBeforeAuth(t *testing.T) {
	f := start(t, nil)
	c := xmpptest.Dial(t, f.addr)
	c.OpenStream("localhost")
	c.StartTLS("localhost")
	if c.Features.Child(nsSM, "sm") != nil {
		t.Fatalf("<sm/> offered before authentication: %s", c.Features)
	}
}

func TestSMEnable(t *testing.T) {
	f := start(t, func(c *c2s.Config) { c.ResumeTimeout = 90 * time.Second })
	tests := []struct {
		name, enable        string
		wantResume, wantMax string
		wantID              bool
	}{
		{"no resumption", `<enable xmlns='urn:xmpp:sm:3'/>`, "", "", false},
		{"resume=false", `<enable xmlns='urn:xmpp:sm:3' resume='false'/>`, "", "", false},
		{"resume=true", `<enable xmlns='urn:xmpp:sm:3' resume='true'/>`, "true", "90", true},
		{"resume=1", `<enable xmlns='urn:xmpp:sm:3' resume='1' max='10'/>`, "true", "90", true},
	}
	seen := map[string]bool{}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := xmpptest.Dial(t, f.addr)
			c.Login("localhost", "alice", "secret-alice", fmt.Sprint("r", i))
			c.Send(tc.enable)
			el := c.Next()
			if !el.Is(nsSM, "enabled") {
				t.Fatalf("got %s", el)
			}
			if got := el.Attr("resume"); got != tc.wantResume {
				t.Errorf("resume=%q, want %q", got, tc.wantResume)
			}
			if got := el.Attr("max"); got != tc.wantMax {
				t.Errorf("max=%q, want %q", got, tc.wantMax)
			}
			id := el.Attr("id")
			if tc.wantID && (id == "" || seen[id]) {
				t.Errorf("id=%q: want a fresh id", id)
			}
			seen[id] = true
			// Enabling twice fails.
			c.Send(`<enable xmlns='urn:xmpp:sm:3'/>`)
			if got := smFailedCondition(t, c.Next()); got != "unexpected-request" {
				t.Errorf("second enable: %s", got)
			}
		})
	}
}

// <r/> is answered with the number of stanzas handled since <enable/>:
// stanzas before it and nonzas do not count.
func TestSMAckCountsHandledStanzas(t *testing.T) {
	f := start(t, nil)
	bob := xmpptest.Dial(t, f.addr)
	bob.Login("localhost", "bob", "secret-bob", "b")
	alice := xmpptest.Dial(t, f.addr)
	alice.Login("localhost", "alice", "secret-alice", "a")

	sendMessages(alice, "bob@localhost/b", "before")
	bob.Expect(isMessage("before"))
	enableSM(t, alice, false)
	alice.Send(`<r xmlns='urn:xmpp:sm:3'/>`)
	if h := alice.Expect(isSM("a")).Attr("h"); h != "0" {
		t.Fatalf("h=%s after enable, want 0", h)
	}
	sendMessages(alice, "bob@localhost/b", "m1")
	alice.Send(`<iq type='get' id='q1' to='localhost'><query xmlns='urn:example:unknown'/></iq>`) // answered with an error
	alice.Send(`<presence/>`)
	alice.Send(`<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>`)
	alice.Send(`<r xmlns='urn:xmpp:sm:3'/>`)
	alice.Send(`<r xmlns='urn:xmpp:sm:3'/>`)
	var hs []string
	for len(hs) < 2 {
		el := alice.Next()
		if el.Is(nsSM, "a") {
			hs = append(hs, el.Attr("h"))
		}
	}
	if got := strings.Join(hs, ","); got != "4,4" {
		t.Fatalf("h values %s, want 4,4", got)
	}
	bob.Expect(isMessage("m1"))
}

// The server asks for an ack after sending stanzas; the client's <a/>
// releases them, so a later resumption resends only what is newer.
func TestSMServerRequestAndClientAck(t *testing.T) {
	f := start(t, nil)
	bob := xmpptest.Dial(t, f.addr)
	bob.Login("localhost", "bob", "secret-bob", "b")
	alice := xmpptest.Dial(t, f.addr)
	alice.Login("localhost", "alice", "secret-alice", "r")
	id := enableSM(t, alice, true).Attr("id")

	sendMessages(bob, "alice@localhost/r", "m1", "m2")
	var got []string
	sawR := false
	for len(got) < 2 {
		el := alice.Next()
		if el.Is(nsSM, "r") {
			sawR = true
			continue
		}
		got = append(got, el.Attr("id"))
	}
	if !sawR {
		// The request may follow the last stanza.
		alice.Expect(isSM("r"))
	}
	if strings.Join(got, ",") != "m1,m2" {
		t.Fatalf("alice got %v", got)
	}
	alice.Send(`<a xmlns='urn:xmpp:sm:3' h='2'/>`)
	alice.Send(`<r xmlns='urn:xmpp:sm:3'/>`) // round trip: the ack is processed
	alice.Expect(isSM("a"))
	sendMessages(bob, "alice@localhost/r", "m3")
	alice.Expect(isMessage("m3"))
	alice.Expect(isSM("r")) // a new request once the previous one was answered

	alice.Raw().Close()
	nu := authed(t, f, "alice")
	nu.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='2'/>`, id)
	if el := nu.Next(); !el.Is(nsSM, "resumed") {
		t.Fatalf("expected <resumed/>, got %s", el)
	}
	if el := nu.Next(); !isMessage("m3")(el) {
		t.Fatalf("expected m3 resent, got %s", el)
	}
	if el := nu.Next(); !el.Is(nsSM, "r") {
		t.Fatalf("expected <r/> after the resent stanzas, got %s", el)
	}
}

// streamErrorElement reads until a stream error and returns it.
func streamErrorElement(t *testing.T, c *xmpptest.Conn) *xml.Element {
	t.Helper()
	for {
		el, err := c.TryNext()
		if err != nil {
			t.Fatalf("expected a stream error, got %v", err)
		}
		if el.Is("http://etherx.jabber.org/streams", "error") {
			return el
		}
	}
}

// wantHandledCountTooHigh checks the stream error XEP-0198 §4 (Acks)
// prescribes for an ack of more stanzas than were sent: undefined-condition
// with <handled-count-too-high h='…' send-count='…'/>.
func wantHandledCountTooHigh(t *testing.T, c *xmpptest.Conn, h, sendCount string) {
	t.Helper()
	el := streamErrorElement(t, c)
	if cond := el.FirstElement(); cond == nil || !cond.Is("urn:ietf:params:xml:ns:xmpp-streams", "undefined-condition") {
		t.Fatalf("want undefined-condition first: %s", el)
	}
	app := el.Child(nsSM, "handled-count-too-high")
	if app == nil || app.Attr("h") != h || app.Attr("send-count") != sendCount {
		t.Fatalf("want <handled-count-too-high xmlns='%s' h='%s' send-count='%s'/>: %s", nsSM, h, sendCount, el)
	}
	c.ExpectClosed()
}

func TestSMAckTooHigh(t *testing.T) {
	for _, h := range []string{"1", "4294967295"} {
		t.Run(h, func(t *testing.T) {
			f := start(t, nil)
			c := xmpptest.Dial(t, f.addr)
			c.Login("localhost", "alice", "secret-alice", "r")
			enableSM(t, c, false)
			c.Sendf(`<a xmlns='urn:xmpp:sm:3' h='%s'/>`, h)
			wantHandledCountTooHigh(t, c, h, "0")
		})
	}
	t.Run("after sends", func(t *testing.T) {
		f := start(t, nil)
		bob := xmpptest.Dial(t, f.addr)
		bob.Login("localhost", "bob", "secret-bob", "b")
		c := xmpptest.Dial(t, f.addr)
		c.Login("localhost", "alice", "secret-alice", "r")
		enableSM(t, c, false)
		sendMessages(bob, "alice@localhost/r", "m1", "m2")
		c.Expect(isMessage("m2"))
		c.Send(`<a xmlns='urn:xmpp:sm:3' h='3'/>`)
		wantHandledCountTooHigh(t, c, "3", "2")
	})
}

// XEP-0198 §5 (Resumption): a <resume/> whose 'h' acknowledges more than
// the old stream sent is the same error as such an <a/>.
func TestSMResumeAckTooHigh(t *testing.T) {
	f := start(t, nil)
	bob := xmpptest.Dial(t, f.addr)
	bob.Login("localhost", "bob", "secret-bob", "b")
	alice := xmpptest.Dial(t, f.addr)
	alice.Login("localhost", "alice", "secret-alice", "r")
	id := enableSM(t, alice, true).Attr("id")
	sendMessages(bob, "alice@localhost/r", "m1")
	alice.Expect(isMessage("m1"))
	alice.Raw().Close()
	nu := authed(t, f, "alice")
	nu.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='5'/>`, id)
	wantHandledCountTooHigh(t, nu, "5", "1")
}

func TestSMResumeAfterConnectionCut(t *testing.T) {
	f := start(t, nil)
	bob := xmpptest.Dial(t, f.addr)
	bob.Login("localhost", "bob", "secret-bob", "b")
	alice := xmpptest.Dial(t, f.addr)
	alice.Login("localhost", "alice", "secret-alice", "r")
	id := enableSM(t, alice, true).Attr("id")
	if id == "" {
		t.Fatal("no stream management id")
	}

	sendMessages(alice, "bob@localhost/b", "from-alice")
	bob.Expect(isMessage("from-alice"))
	sendMessages(bob, "alice@localhost/r", "m1", "m2", "m3")
	if got := readStanzas(t, alice, 3); strings.Join(got, ",") != "m1,m2,m3" {
		t.Fatalf("alice got %v", got)
	}
	alice.Send(`<a xmlns='urn:xmpp:sm:3' h='1'/>`)
	alice.Send(`<r xmlns='urn:xmpp:sm:3'/>`) // round trip: the ack is processed
	alice.Expect(isSM("a"))
	alice.Raw().Close()

	nu := authed(t, f, "alice")
	nu.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='1'/>`, id)
	el := nu.Next()
	if !el.Is(nsSM, "resumed") || el.Attr("previd") != id || el.Attr("h") != "1" {
		t.Fatalf("expected <resumed previd='%s' h='1'/>, got %s", id, el)
	}
	var resent []string
	for {
		el := nu.Next()
		if el.Is(nsSM, "r") {
			break
		}
		resent = append(resent, el.Attr("id"))
	}
	if got := strings.Join(resent, ","); got != "m2,m3" {
		t.Fatalf("resent %s, want m2,m3", got)
	}
	// The resumed stream goes on with the same counters and routing.
	nu.Send(`<a xmlns='urn:xmpp:sm:3' h='3'/>`)
	nu.Send(`<r xmlns='urn:xmpp:sm:3'/>`)
	if h := nu.Expect(isSM("a")).Attr("h"); h != "1" {
		t.Fatalf("h=%s after resumption, want 1", h)
	}
	sendMessages(bob, "alice@localhost/r", "m4")
	nu.Expect(isMessage("m4"))
	sendMessages(nu, "bob@localhost/b", "after")
	if el := bob.Expect(isMessage("after")); el.Attr("from") != "alice@localhost/r" {
		t.Fatalf("from=%s after resumption", el.Attr("from"))
	}
}

// A resumption that fails leaves the client free to bind normally.
func TestSMResumeUnknownPrevid(t *testing.T) {
	f := start(t, nil)
	c := authed(t, f, "alice")
	c.Send(`<resume xmlns='urn:xmpp:sm:3' previd='no-such-session' h='0'/>`)
	if got := smFailedCondition(t, c.Next()); got != "item-not-found" {
		t.Fatalf("got %s, want item-not-found", got)
	}
	if j := c.Bind("r"); j != "alice@localhost/r" {
		t.Fatalf("bound %s", j)
	}
	enableSM(t, c, true)
}

func TestSMResumeByAnotherUser(t *testing.T) {
	f := start(t, nil)
	alice := xmpptest.Dial(t, f.addr)
	alice.Login("localhost", "alice", "secret-alice", "r")
	id := enableSM(t, alice, true).Attr("id")
	alice.Raw().Close()
	eventually(t, "alice's connection is gone", func() bool { return f.srv.ConnCount() == 0 })

	bob := authed(t, f, "bob")
	bob.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>`, id)
	if got := smFailedCondition(t, bob.Next()); got != "item-not-found" {
		t.Fatalf("got %s, want item-not-found", got)
	}
	bob.Bind("b")
	// Alice's session is untouched and still resumable by her.
	nu := authed(t, f, "alice")
	nu.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>`, id)
	if el := nu.Next(); !el.Is(nsSM, "resumed") {
		t.Fatalf("alice's resumption: %s", el)
	}
}

// A detached session that is never resumed ends after the resume timeout;
// the messages its client never acknowledged go to offline storage.
func TestSMResumeTimeoutKeepsUnackedOffline(t *testing.T) {
	rec := &offlineRecorder{}
	f := start(t, func(c *c2s.Config) { c.ResumeTimeout = 200 * time.Millisecond }, rec)
	bob := xmpptest.Dial(t, f.addr)
	bob.Login("localhost", "bob", "secret-bob", "b")
	alice := xmpptest.Dial(t, f.addr)
	alice.Login("localhost", "alice", "secret-alice", "r")
	id := enableSM(t, alice, true).Attr("id")

	sendMessages(bob, "alice@localhost/r", "m1", "m2", "m3")
	readStanzas(t, alice, 3)
	alice.Send(`<a xmlns='urn:xmpp:sm:3' h='1'/>`)
	alice.Send(`<r xmlns='urn:xmpp:sm:3'/>`)
	alice.Expect(isSM("a"))
	alice.Raw().Close()

	full := jid.MustParse("alice@localhost/r")
	eventually(t, "the session ends", func() bool { return f.router.Session(full) == nil })
	if got := strings.Join(rec.stored(), ","); got != "m2,m3" {
		t.Fatalf("kept offline %q, want m2,m3", got)
	}
	nu := authed(t, f, "alice")
	nu.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='1'/>`, id)
	if got := smFailedCondition(t, nu.Next()); got != "item-not-found" {
		t.Fatalf("resuming an expired session: %s", got)
	}
}

// XEP-0198 §5: the <failed/> answering a resumption of a session that
// ended MAY carry 'h', the stanzas the server handled in it, so the
// client resends only the rest (and creates no duplicates). Only the
// session's own account learns it.
func TestSMResumeExpiredGivesH(t *testing.T) {
	f := start(t, func(c *c2s.Config) { c.ResumeTimeout = 200 * time.Millisecond })
	alice := xmpptest.Dial(t, f.addr)
	alice.Login("localhost", "alice", "secret-alice", "r")
	id := enableSM(t, alice, true).Attr("id")
	// Two stanzas handled: a message to bob (offline) and a ping.
	alice.Send(`<message to='bob@localhost' type='chat' id='m1'><body>hi</body></message>`)
	alice.Send(`<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`)
	alice.Expect(func(e *xml.Element) bool { return e.Attr("id") == "p1" })
	alice.Raw().Close()
	eventually(t, "the session ends", func() bool { return f.router.Session(jid.MustParse("alice@localhost/r")) == nil })

	bob := authed(t, f, "bob")
	bob.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>`, id)
	el := bob.Next()
	if got := smFailedCondition(t, el); got != "item-not-found" || el.HasAttr("h") {
		t.Fatalf("another account resuming alice's session: %s", el)
	}
	nu := authed(t, f, "alice")
	nu.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>`, id)
	el = nu.Next()
	if got := smFailedCondition(t, el); got != "item-not-found" || el.Attr("h") != "2" {
		t.Fatalf("resuming an expired session: %s, want item-not-found with h='2'", el)
	}
	if j := nu.Bind("r"); j != "alice@localhost/r" {
		t.Fatalf("bound %s", j)
	}
}

// </stream:stream> ends the session at once: no resumption, and what was
// not acknowledged goes offline.
func TestSMCleanCloseEndsSession(t *testing.T) {
	rec := &offlineRecorder{}
	f := start(t, nil, rec)
	bob := xmpptest.Dial(t, f.addr)
	bob.Login("localhost", "bob", "secret-bob", "b")
	alice := xmpptest.Dial(t, f.addr)
	alice.Login("localhost", "alice", "secret-alice", "r")
	id := enableSM(t, alice, true).Attr("id")
	sendMessages(bob, "alice@localhost/r", "m1")
	readStanzas(t, alice, 1)

	alice.Close()
	alice.ExpectClosed()
	full := jid.MustParse("alice@localhost/r")
	eventually(t, "the session ends", func() bool { return f.router.Session(full) == nil })
	if got := strings.Join(rec.stored(), ","); got != "m1" {
		t.Fatalf("kept offline %q, want m1", got)
	}
	nu := authed(t, f, "alice")
	nu.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>`, id)
	if got := smFailedCondition(t, nu.Next()); got != "item-not-found" {
		t.Fatalf("resuming a cleanly closed session: %s", got)
	}
}

// Stanzas routed to a detached session are kept and sent on resumption.
func TestSMDetachedSessionKeepsStanzas(t *testing.T) {
	rec := &offlineRecorder{}
	f := start(t, nil, rec)
	bob := xmpptest.Dial(t, f.addr)
	bob.Login("localhost", "bob", "secret-bob", "b")
	alice := xmpptest.Dial(t, f.addr)
	alice.Login("localhost", "alice", "secret-alice", "r")
	id := enableSM(t, alice, true).Attr("id")
	alice.Raw().Close()
	eventually(t, "alice's connection is gone", func() bool { return f.srv.ConnCount() == 1 })
	if f.router.Session(jid.MustParse("alice@localhost/r")) == nil {
		t.Fatal("the detached session is no longer routed to")
	}

	sendMessages(bob, "alice@localhost/r", "d1", "d2")
	bob.Send(`<iq type='get' id='sync' to='localhost'><query xmlns='urn:example:unknown'/></iq>`)
	if el := bob.Next(); el.Attr("id") != "sync" {
		t.Fatalf("bob got %s (a detached session must take messages)", el)
	}
	if got := rec.stored(); len(got) != 0 {
		t.Fatalf("stored offline while detached: %v", got)
	}

	nu := authed(t, f, "alice")
	nu.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>`, id)
	if el := nu.Next(); !el.Is(nsSM, "resumed") || el.Attr("h") != "0" {
		t.Fatalf("expected <resumed h='0'/>, got %s", el)
	}
	if got := readStanzas(t, nu, 2); strings.Join(got, ",") != "d1,d2" {
		t.Fatalf("resent %v, want d1,d2", got)
	}
}

// Resuming while the server still holds the old connection takes the
// session over from it.
func TestSMResumeReplacesLiveConnection(t *testing.T) {
	f := start(t, nil)
	old := xmpptest.Dial(t, f.addr)
	old.Login("localhost", "alice", "secret-alice", "r")
	id := enableSM(t, old, true).Attr("id")

	nu := authed(t, f, "alice")
	nu.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>`, id)
	if el := nu.Next(); !el.Is(nsSM, "resumed") {
		t.Fatalf("got %s", el)
	}
	// XEP-0198 §5: the server SHOULD send the old stream a 'conflict'
	// stream error and close it.
	if got := old.ExpectStreamError(); got != "conflict" {
		t.Fatalf("old stream got %q, want conflict", got)
	}
	old.ExpectClosed()
	nu.Send(`<r xmlns='urn:xmpp:sm:3'/>`)
	nu.Expect(isSM("a"))
	if f.router.Session(jid.MustParse("alice@localhost/r")) == nil {
		t.Fatal("the resumed session is not bound")
	}
}

// A session replaced by a new bind of the same resource cannot be resumed
// (it is no longer routed to).
func TestSMReplacedSessionNotResumable(t *testing.T) {
	f := start(t, nil)
	old := xmpptest.Dial(t, f.addr)
	old.Login("localhost", "alice", "secret-alice", "r")
	id := enableSM(t, old, true).Attr("id")
	nu := xmpptest.Dial(t, f.addr)
	nu.Login("localhost", "alice", "secret-alice", "r")
	if got := old.ExpectStreamError(); got != "conflict" {
		t.Fatalf("old got %q", got)
	}
	third := authed(t, f, "alice")
	third.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>`, id)
	if got := smFailedCondition(t, third.Next()); got != "item-not-found" {
		t.Fatalf("resuming a replaced session: %s", got)
	}
}

// Too many unacknowledged stanzas end the stream; nothing is lost.
func TestSMMaxUnacked(t *testing.T) {
	rec := &offlineRecorder{}
	f := start(t, func(c *c2s.Config) { c.MaxUnacked = 2 }, rec)
	reg := metrics.NewRegistry()
	reg.Register(f.srv)
	bob := xmpptest.Dial(t, f.addr)
	bob.Login("localhost", "bob", "secret-bob", "b")
	alice := xmpptest.Dial(t, f.addr)
	alice.Login("localhost", "alice", "secret-alice", "r")
	enableSM(t, alice, true)
	sendMessages(bob, "alice@localhost/r", "m1", "m2", "m3", "m4", "m5")
	if got := alice.ExpectStreamError(); got != "resource-constraint" {
		t.Fatalf("got %q, want resource-constraint", got)
	}
	// Cut off once, counted once, however many stanzas hit the limit.
	waitValue(t, reg, "skald_c2s_slow_consumer_disconnects_total", 1)
	eventually(t, "all five messages are kept offline", func() bool { return len(rec.stored()) == 5 })
	if v := metricstest.Value(t, reg, "skald_c2s_slow_consumer_disconnects_total"); v != 1 {
		t.Fatalf("slow consumer cut-offs %v, want 1", v)
	}
	got := rec.stored()
	slices.Sort(got)
	if strings.Join(got, ",") != "m1,m2,m3,m4,m5" {
		t.Fatalf("kept offline %v", got)
	}
}

// slowIQ answers iqs of urn:example:slow once its gate opens: an old
// connection's reader is then still handling a stanza when the client
// resumes elsewhere.
type slowIQ struct{ entered, gate chan struct{} }

func (s *slowIQ) Name() string { return "slow-iq" }

func (s *slowIQ) RegisterIQ(r *router.Router) {
	r.HandleIQ("get", "urn:example:slow", "q", router.ToServer,
		router.IQHandlerFunc(func(_ context.Context, iq *router.IQ) (*xml.Element, error) {
			s.entered <- struct{}{}
			<-s.gate
			return stanza.Result(iq.Stanza), nil
		}))
}

// TestSMResumeCountsWhatTheOldConnectionHandles: a stanza the old
// connection's reader is still handling when the client resumes on a new
// connection counts in the h of <resumed/> (XEP-0198 §5): the server
// takes the session over only once the old reader is done, so the client
// does not send it again, and the reply reaches the client.
func TestSMResumeCountsWhatTheOldConnectionHandles(t *testing.T) {
	slow := &slowIQ{entered: make(chan struct{}, 1), gate: make(chan struct{})}
	f := start(t, nil, slow)
	old := xmpptest.Dial(t, f.addr)
	old.Login("localhost", "alice", "secret-alice", "r")
	id := enableSM(t, old, true).Attr("id")
	old.Send(`<iq type='get' id='slow' to='localhost'><q xmlns='urn:example:slow'/></iq>`)
	<-slow.entered // the old reader is inside the handler

	nu := authed(t, f, "alice")
	nu.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>`, id)
	time.AfterFunc(300*time.Millisecond, func() { close(slow.gate) })
	el := nu.Next()
	if !el.Is(nsSM, "resumed") || el.Attr("h") != "1" {
		t.Fatalf("got %s, want <resumed h='1'/>: the iq the old connection was handling", el)
	}
	// Its reply, which the old connection could no longer write, comes on
	// the new one with what else was unacknowledged.
	nu.Expect(func(el *xml.Element) bool { return el.Local == "iq" && el.Attr("id") == "slow" })
}
