package router_test

import (
	"context"
	"errors"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// echoService hosts one service domain: it records what it is given and
// answers presence with an error, to show the router sends that error.
type echoService struct {
	got []string
}

func (*echoService) Name() string             { return "echo-service" }
func (*echoService) ServiceDomains() []string { return []string{"svc.localhost"} }
func (e *echoService) HandleServiceStanza(_ context.Context, s *router.Session, st *xml.Element, to jid.JID) error {
	e.got = append(e.got, st.Local+" "+to.String()+" from "+s.JID().String())
	if st.Local == "presence" {
		return stanza.E(stanza.NotAcceptable, "")
	}
	return nil
}

// TestServiceDomainRouting: message, presence and iq addressed to a hosted
// service domain or a JID on it reach the service module, not delivery,
// presence or the iq table; a service error is answered once; other
// addresses are routed as before.
func TestServiceDomainRouting(t *testing.T) {
	env := routertest.New(t, "alice@localhost")
	svc := &echoService{}
	env.Router.Register(svc)
	alice, rec := env.Bind("alice@localhost/a", true, 0)

	ctx := context.Background()
	for _, raw := range []string{
		`<message to='room@svc.localhost' type='groupchat' id='m1'><body>hi</body></message>`,
		`<iq to='svc.localhost' type='get' id='i1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
	} {
		env.Send(alice, raw)
	}
	// The batch path (several messages at once) hands them over too.
	if _, err := env.Router.HandleMessagesFromClient(ctx, alice, []*xml.Element{
		routertest.Parse(t, `<message to='room@svc.localhost/nick' type='chat' id='m2'/>`),
	}); err != nil {
		t.Fatal(err)
	}
	env.Send(alice, `<presence to='room@svc.localhost/nick' id='p1'/>`)
	routertest.Equal(t, "service saw", svc.got,
		"message room@svc.localhost from alice@localhost/a",
		"iq svc.localhost from alice@localhost/a",
		"message room@svc.localhost/nick from alice@localhost/a",
		"presence room@svc.localhost/nick from alice@localhost/a",
	)
	routertest.Expect(t, rec, `<presence xmlns="jabber:client" id="p1" from="room@svc.localhost/nick" to="alice@localhost/a" type="error"><error type="modify"><not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></presence>`)

	// A domain nobody hosts is still remote.
	env.Send(alice, `<message to='room@other.localhost' id='m3'/>`)
	if got := rec.Take(); len(got) != 1 || errorConditionOf(t, got[0]) != "remote-server-not-found" {
		t.Fatalf("message to an unhosted domain: %v", got)
	}
	if d := env.Router.ServiceDomains(); len(d) != 1 || d[0] != "svc.localhost" || !env.Router.IsServiceDomain("svc.localhost") {
		t.Fatalf("ServiceDomains = %v", d)
	}
}

func errorConditionOf(t *testing.T, raw string) string {
	t.Helper()
	e := routertest.Parse(t, raw).Child(stanza.NSClient, "error")
	if e == nil {
		return ""
	}
	for _, c := range e.Elements() {
		if c.Space == stanza.NSStanzas {
			return c.Local
		}
	}
	return ""
}

// TestAnswerIQ: a service has an iq to an account's bare JID answered by
// the handler registered for it, without a session; an account that does
// not exist, or a payload no handler takes, is service-unavailable.
func TestAnswerIQ(t *testing.T) {
	env := routertest.New(t, "alice@example.org")
	env.Router.HandleIQ("get", "urn:test", "q", router.ToAccount, router.IQHandlerFunc(func(_ context.Context, iq *router.IQ) (*xml.Element, error) {
		if iq.Session != nil || iq.To.String() != "alice@example.org" || iq.From.String() != "bob@example.org/b" {
			t.Errorf("handler got session %v, to %s, from %s", iq.Session, iq.To, iq.From)
		}
		return stanza.Result(iq.Stanza), nil
	}))
	ctx := context.Background()
	from := jid.MustParse("bob@example.org/b")
	iq := routertest.Parse(t, `<iq type='get' id='1'><q xmlns='urn:test'/></iq>`)
	if reply, err := env.Router.AnswerIQ(ctx, iq, from, jid.MustParse("alice@example.org/x")); err != nil || reply.Attr("type") != "result" {
		t.Fatalf("AnswerIQ = %v, %v", reply, err)
	}
	for _, tc := range []struct{ to, iq string }{
		{"nobody@example.org", `<iq type='get' id='2'><q xmlns='urn:test'/></iq>`},
		{"alice@example.org", `<iq type='get' id='3'><other xmlns='urn:test'/></iq>`},
	} {
		if _, err := env.Router.AnswerIQ(ctx, routertest.Parse(t, tc.iq), from, jid.MustParse(tc.to)); !errors.Is(err, stanza.E(stanza.ServiceUnavailable, "")) {
			t.Errorf("AnswerIQ to %s: %v, want service-unavailable", tc.to, err)
		}
	}
}
