package router_test

import (
	"context"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// TestRemoteToService: stanzas from remote servers to a hosted service
// domain reach the service, with a transient session of the remote JID
// whose answers go back over the transport from the service's JID; the
// service's stanzas to remote JIDs (SendTo, RouteMessage) go over the
// transport from the service domain, and a bounce of one comes back to
// the service as the error reply of the unreachable JID.
func TestRemoteToService(t *testing.T) {
	env := routertest.New(t, "alice@example.org")
	remote := &fakeRemote{}
	env.Router.SetRemote(remote)
	svc := &echoService{}
	env.Router.Register(svc)
	ctx := context.Background()
	for d, want := range map[string]bool{"example.org": true, "svc.localhost": true, "remote.example": false} {
		if env.Router.IsHosted(d) != want {
			t.Errorf("IsHosted(%s) = %v", d, !want)
		}
	}
	if env.Router.IsRemote(jid.MustParse("room@svc.localhost")) {
		t.Error("a hosted service's JID is remote")
	}

	for _, raw := range []string{
		`<presence from='bob@remote.example/x' to='room@svc.localhost/Bob'/>`,
		`<message from='bob@remote.example/x' to='room@svc.localhost' type='groupchat' id='m1'><body>hi</body></message>`,
		`<iq from='bob@remote.example/x' to='room@svc.localhost' type='get' id='i1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
	} {
		if err := env.Router.HandleFromRemote(ctx, "remote.example", routertest.Parse(t, raw)); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
	}
	routertest.Equal(t, "the service got", svc.got,
		"presence room@svc.localhost/Bob from bob@remote.example/x",
		"message room@svc.localhost from bob@remote.example/x",
		"iq room@svc.localhost from bob@remote.example/x")
	svc.got = nil
	// The service's error (echoService refuses presence) goes back over
	// the transport, from the JID the remote user addressed.
	routertest.Equal(t, "answered", remote.take(),
		`room@svc.localhost/Bob>bob@remote.example/x: <presence xmlns="jabber:client" from="room@svc.localhost/Bob" to="bob@remote.example/x" type="error"><error type="modify"><not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></presence>`)

	// The service sends to a remote occupant.
	p := routertest.Parse(t, `<presence from='room@svc.localhost/Al' to='bob@remote.example/x'/>`)
	if n := env.Router.SendTo(jid.MustParse("bob@remote.example/x"), p); n != 1 {
		t.Fatalf("SendTo a remote JID reached %d", n)
	}
	// Nothing but a hosted JID sends over the transport.
	if n := env.Router.SendTo(jid.MustParse("bob@remote.example/x"), routertest.Parse(t, `<presence from='eve@elsewhere.example' to='bob@remote.example/x'/>`)); n != 0 {
		t.Fatalf("SendTo from a foreign JID reached %d", n)
	}
	// A mediated invitation from a room (no client session).
	inv := routertest.Parse(t, `<message from='room@svc.localhost' to='dave@remote.example'><x xmlns='http://jabber.org/protocol/muc#user'><invite from='alice@example.org/a'/></x></message>`)
	if err := env.Router.RouteMessage(ctx, &router.MessageEvent{Stanza: inv, From: jid.MustParse("room@svc.localhost"), To: jid.MustParse("dave@remote.example")}); err != nil {
		t.Fatal(err)
	}
	routertest.Equal(t, "sent", remote.take(),
		`room@svc.localhost/Al>bob@remote.example/x: <presence xmlns="jabber:client" from="room@svc.localhost/Al" to="bob@remote.example/x"/>`,
		`room@svc.localhost>dave@remote.example: <message xmlns="jabber:client" from="room@svc.localhost" to="dave@remote.example"><x xmlns="http://jabber.org/protocol/muc#user"><invite from="alice@example.org/a"/></x></message>`)

	// The stream to remote.example fails: the service learns that bob is
	// unreachable, as an error reply from him; nothing goes out.
	env.Router.Bounce(routertest.Parse(t, `<message from='room@svc.localhost/Al' to='bob@remote.example/x' type='groupchat'><body>x</body></message>`), stanza.RemoteServerTimeout)
	routertest.Equal(t, "the service got", svc.got, "message room@svc.localhost/Al from bob@remote.example/x")
	if got := remote.take(); len(got) != 0 {
		t.Fatalf("a bounce was answered: %v", got)
	}
}
