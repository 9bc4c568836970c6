package router_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/stream"
)

// fakeRemote is a router.RemoteRouter recording what it is handed.
type fakeRemote struct {
	mu   sync.Mutex
	sent []string // "from>to: stanza", the stanza with every xmlns
	err  error
}

func (f *fakeRemote) SendRemote(st *xml.Element, from, to jid.JID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.sent = append(f.sent, from.String()+">"+to.String()+": "+st.String())
	return nil
}

func (f *fakeRemote) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.sent
	f.sent = nil
	return out
}

func TestRemoteOutbound(t *testing.T) {
	env := routertest.New(t, "alice@example.org")
	remote := &fakeRemote{}
	env.Router.SetRemote(remote)
	alice, rec := env.Bind("alice@example.org/a", true, 0)

	env.Send(alice, `<message to='bob@remote.example' id='m1'><body>hi</body></message>`)
	env.Send(alice, `<iq to='bob@remote.example/x' type='get' id='i1'><ping xmlns='urn:xmpp:ping'/></iq>`)
	env.Send(alice, `<presence to='bob@remote.example' type='probe'/>`) // no presence module: dropped
	routertest.Equal(t, "to the remote router", remote.take(),
		`alice@example.org/a>bob@remote.example: <message xmlns="jabber:client" to="bob@remote.example" id="m1" from="alice@example.org/a"><body>hi</body></message>`,
		`alice@example.org/a>bob@remote.example/x: <iq xmlns="jabber:client" to="bob@remote.example/x" type="get" id="i1" from="alice@example.org/a"><ping xmlns="urn:xmpp:ping"/></iq>`)

	// A refusal by the transport answers the sender.
	remote.err = stanza.E(stanza.ResourceConstraint, "")
	env.Send(alice, `<message to='bob@remote.example' id='m2'><body>hi</body></message>`)
	routertest.Expect(t, rec, `<message xmlns="jabber:client" id="m2" from="bob@remote.example" to="alice@example.org/a" type="error"><body>hi</body><error type="wait"><resource-constraint xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`)

	// A later failure comes back through Bounce, addressed from the
	// remote JID; an error is never answered.
	env.Router.Bounce(routertest.Parse(t, `<message from='alice@example.org/a' to='bob@remote.example' id='m3'><body>x</body></message>`), stanza.RemoteServerTimeout)
	env.Router.Bounce(routertest.Parse(t, `<message from='alice@example.org/a' to='bob@remote.example' type='error' id='m4'/>`), stanza.RemoteServerTimeout)
	routertest.Expect(t, rec, `<message xmlns="jabber:client" id="m3" from="bob@remote.example" to="alice@example.org/a" type="error"><body>x</body><error type="wait"><remote-server-timeout xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`)
}

func TestNoRemoteRouter(t *testing.T) {
	env := routertest.New(t, "alice@example.org")
	alice, rec := env.Bind("alice@example.org/a", true, 0)
	env.Send(alice, `<message to='bob@remote.example' id='m1'><body>hi</body></message>`)
	routertest.Expect(t, rec, `<message xmlns="jabber:client" id="m1" from="bob@remote.example" to="alice@example.org/a" type="error"><body>hi</body><error type="cancel"><remote-server-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`)
}

func TestHandleFromRemote(t *testing.T) {
	env := routertest.New(t, "alice@example.org")
	remote := &fakeRemote{}
	env.Router.SetRemote(remote)
	_, rec := env.Bind("alice@example.org/a", true, 0)
	ctx := context.Background()
	handle := func(raw string) error {
		return env.Router.HandleFromRemote(ctx, "remote.example", routertest.Parse(t, raw))
	}

	if err := handle(`<message from='bob@remote.example/x' to='alice@example.org' type='chat' id='m1'><body>hi</body></message>`); err != nil {
		t.Fatal(err)
	}
	routertest.Expect(t, rec, `<message xmlns="jabber:client" from="bob@remote.example/x" to="alice@example.org" type="chat" id="m1"><body>hi</body></message>`)

	// An iq to the server nobody handles is answered over the transport,
	// from our domain (server streams carry both addresses).
	if err := handle(`<iq from='bob@remote.example/x' to='example.org' type='get' id='i1'><q xmlns='urn:test:none'/></iq>`); err != nil {
		t.Fatal(err)
	}
	routertest.Equal(t, "answer", remote.take(),
		`example.org>bob@remote.example/x: <iq xmlns="jabber:client" id="i1" from="example.org" to="bob@remote.example/x" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)

	for _, tc := range []struct {
		raw  string
		want stream.Condition
	}{
		{`<message from='mallory@other.example' to='alice@example.org'><body>spoof</body></message>`, stream.InvalidFrom},
		{`<message to='alice@example.org'><body>no from</body></message>`, stream.ImproperAddressing},
		{`<message from='' to='alice@example.org'><body>empty from</body></message>`, stream.ImproperAddressing},
		{`<message from='@remote.example' to='alice@example.org'><body>malformed from</body></message>`, stream.ImproperAddressing},
		{`<message from='bob@remote.example' ><body>no to</body></message>`, stream.ImproperAddressing},
		{`<message from='bob@remote.example' to='@example.org'><body>malformed to</body></message>`, stream.ImproperAddressing},
		{`<iq from='bob@remote.example/x' to='alice@@example.org' type='get' id='i2'><ping xmlns='urn:xmpp:ping'/></iq>`, stream.ImproperAddressing},
		{`<message from='bob@remote.example' to='carol@third.example'><body>relay</body></message>`, stream.HostUnknown},
	} {
		err := handle(tc.raw)
		if !errors.Is(err, stream.New(tc.want, "")) {
			t.Errorf("%s: %v, want %s", tc.raw, err, tc.want)
		}
	}
	if got := rec.Take(); len(got) != 0 {
		t.Fatalf("delivered %v", got)
	}
	// A message to an account that does not exist bounces to the remote
	// sender.
	if err := handle(`<message from='bob@remote.example/x' to='nobody@example.org' id='m2'><body>hi</body></message>`); err != nil {
		t.Fatal(err)
	}
	routertest.Equal(t, "bounce", remote.take(),
		`nobody@example.org>bob@remote.example/x: <message xmlns="jabber:client" id="m2" from="nobody@example.org" to="bob@remote.example/x" type="error"><body>hi</body><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`)
}

// TestRemoteStanzaIDsOfOursStripped: a remote server may not claim
// stanza-ids by entities we are authoritative for (an account, a room
// of our MUC service, our domain, in any letter case); its own pass
// (XEP-0359 §3).
func TestRemoteStanzaIDsOfOursStripped(t *testing.T) {
	env := routertest.New(t, "alice@example.org")
	env.Router.Register(&echoService{})
	_, rec := env.Bind("alice@example.org/a", true, 0)
	err := env.Router.HandleFromRemote(context.Background(), "remote.example", routertest.Parse(t,
		`<message from='bob@remote.example/x' to='alice@example.org' type='chat' id='m1'><body>hi</body>`+
			`<stanza-id xmlns='urn:xmpp:sid:0' by='room@svc.localhost' id='forged1'/>`+
			`<stanza-id xmlns='urn:xmpp:sid:0' by='Room@SVC.localhost' id='forged2'/>`+
			`<stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.org' id='forged3'/>`+
			`<stanza-id xmlns='urn:xmpp:sid:0' by='Example.ORG' id='forged4'/>`+
			`<stanza-id xmlns='urn:xmpp:sid:0' by='bob@remote.example' id='theirs'/></message>`))
	if err != nil {
		t.Fatal(err)
	}
	routertest.Expect(t, rec, `<message xmlns="jabber:client" from="bob@remote.example/x" to="alice@example.org" type="chat" id="m1"><body>hi</body><stanza-id xmlns="urn:xmpp:sid:0" by="bob@remote.example" id="theirs"/></message>`)
}
