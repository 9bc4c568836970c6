package router_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
)

var remoteID = regexp.MustCompile(` id="([^"]*)"`)

// TestQueryRemote: an iq sent on an account's behalf to a remote entity
// is answered back to the caller, only by that entity, once; a bounce
// answers it too, and never reaches the account's clients; without a
// transport it fails at once; unanswered, it times out.
func TestQueryRemote(t *testing.T) {
	e := routertest.New(t, "juliet@example.org")
	f := &fakeRemote{}
	e.Router.SetRemote(f)
	_, rec := e.Bind("juliet@example.org/phone", true, 0)
	juliet, app := jid.MustParse("juliet@example.org"), jid.MustParse("push.example")
	newIQ := func() *xml.Element {
		return xml.New(stanza.NSClient, "iq", "type", "set").Append(xml.New("urn:x", "q"))
	}
	sentID := func() string {
		t.Helper()
		out := f.take()
		if len(out) != 1 {
			t.Fatalf("sent %q, want one iq", out)
		}
		m := remoteID.FindStringSubmatch(out[0])
		if m == nil {
			t.Fatalf("no id in %s", out[0])
		}
		return m[1]
	}
	fromRemote := func(domain, raw string) {
		t.Helper()
		if err := e.Router.HandleFromRemote(context.Background(), domain, routertest.Parse(t, raw)); err != nil {
			t.Fatal(err)
		}
	}

	a := newAnswers()
	if err := e.Router.QueryRemote(newIQ(), juliet, app, time.Minute, a.done); err != nil {
		t.Fatal(err)
	}
	id := sentID()
	// Another server answering with the same id is ignored.
	fromRemote("evil.example", `<iq type="result" id="`+id+`" from="evil.example" to="juliet@example.org"/>`)
	fromRemote("push.example", `<iq type="result" id="`+id+`" from="push.example" to="juliet@example.org"/>`)
	fromRemote("push.example", `<iq type="result" id="`+id+`" from="push.example" to="juliet@example.org"/>`)
	routertest.Equal(t, "answers", a.list(), "result from push.example")

	// A bounce answers the query, not juliet's clients.
	b := newAnswers()
	iq := newIQ()
	if err := e.Router.QueryRemote(iq, juliet, app, time.Minute, b.done); err != nil {
		t.Fatal(err)
	}
	sentID()
	e.Router.Bounce(iq, stanza.RemoteServerNotFound)
	routertest.Equal(t, "bounce", b.list(), "error from push.example")
	routertest.Equal(t, "juliet's client", rec.Take())

	// Unanswered: nil after the timeout.
	c := newAnswers()
	if err := e.Router.QueryRemote(newIQ(), juliet, app, 20*time.Millisecond, c.done); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no timeout")
	}
	routertest.Equal(t, "timeout", c.list(), "<nil>")

	// Refused at once: the error, and done is never called.
	f.err = stanza.E(stanza.RemoteServerNotFound, "")
	d := newAnswers()
	if err := e.Router.QueryRemote(newIQ(), juliet, app, time.Minute, d.done); err == nil {
		t.Fatal("refusal not returned")
	}
	e.Router.SetRemote(nil)
	if err := e.Router.QueryRemote(newIQ(), juliet, app, time.Minute, d.done); err == nil {
		t.Fatal("no transport: no error")
	}
	// Only from a local bare JID to a remote one.
	for _, bad := range [][2]string{{"juliet@example.org/phone", "push.example"}, {"juliet@example.org", "romeo@example.org"}, {"a@other.example", "push.example"}} {
		if err := e.Router.QueryRemote(newIQ(), jid.MustParse(bad[0]), jid.MustParse(bad[1]), time.Minute, d.done); err == nil {
			t.Errorf("%s -> %s accepted", bad[0], bad[1])
		}
	}
	time.Sleep(10 * time.Millisecond)
	routertest.Equal(t, "refused", d.list())
}

// TestQueryRemoteNotToServices: a service domain hosted here (a MUC, an
// upload service) is not remote, though no account domain: QueryRemote
// refuses it rather than have the remote transport look for it.
func TestQueryRemoteNotToServices(t *testing.T) {
	e := routertest.New(t, "juliet@example.org")
	e.Router.Register(&echoService{})
	f := &fakeRemote{}
	e.Router.SetRemote(f)
	a := newAnswers()
	iq := xml.New(stanza.NSClient, "iq", "type", "set").Append(xml.New("urn:x", "q"))
	if err := e.Router.QueryRemote(iq, jid.MustParse("juliet@example.org"), jid.MustParse("svc.localhost"), time.Minute, a.done); err == nil {
		t.Fatal("QueryRemote to a hosted service domain accepted")
	}
	routertest.Equal(t, "sent", f.take())
}

// TestQueryRemoteBouncedLate: the remote transport may give up on a
// query's iq after the query timed out (its connect timeout is longer):
// the bounce, an iq error to the account's bare JID, answers nothing and
// reaches none of the account's clients (RFC 6121 §8.5.2.1.3).
func TestQueryRemoteBouncedLate(t *testing.T) {
	e := routertest.New(t, "juliet@example.org")
	f := &fakeRemote{}
	e.Router.SetRemote(f)
	_, rec := e.Bind("juliet@example.org/phone", true, 0)
	a := newAnswers()
	iq := xml.New(stanza.NSClient, "iq", "type", "set").Append(xml.New("urn:x", "q"))
	if err := e.Router.QueryRemote(iq, jid.MustParse("juliet@example.org"), jid.MustParse("push.example"), 10*time.Millisecond, a.done); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no timeout")
	}
	e.Router.Bounce(iq, stanza.RemoteServerTimeout)
	routertest.Equal(t, "answers", a.list(), "<nil>")
	routertest.Equal(t, "juliet's client", rec.Take())
}
