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

// fakeComponents is a router.ComponentRouter for one domain, recording
// what it is handed.
type fakeComponents struct {
	domain string
	mu     sync.Mutex
	online bool
	sent   []string
}

func (f *fakeComponents) ComponentDomains() []string { return []string{f.domain} }

func (f *fakeComponents) ComponentConnected(d string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return d == f.domain && f.online
}

func (f *fakeComponents) SendComponent(st *xml.Element, from, to jid.JID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.online {
		return stanza.E(stanza.ServiceUnavailable, "")
	}
	f.sent = append(f.sent, from.String()+">"+to.String()+": "+st.String())
	return nil
}

func (f *fakeComponents) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.sent
	f.sent = nil
	return out
}

func TestComponentRouting(t *testing.T) {
	env := routertest.New(t, "alice@example.org")
	remote := &fakeRemote{}
	env.Router.SetRemote(remote)
	comp := &fakeComponents{domain: "gw.example.org", online: true}
	env.Router.SetComponents(comp)
	alice, rec := env.Bind("alice@example.org/a", true, 0)
	ctx := context.Background()

	if !env.Router.IsHosted("gw.example.org") || !env.Router.IsRemote(jid.MustParse("x@gw.example.org")) {
		t.Fatal("a component domain is hosted for s2s and remote for delivery")
	}

	// A local client's stanzas to the component go to its stream.
	env.Send(alice, `<message to='bob@gw.example.org' id='m1'><body>hi</body></message>`)
	env.Send(alice, `<iq to='gw.example.org' type='get' id='i1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	routertest.Equal(t, "to the component", comp.take(),
		`alice@example.org/a>bob@gw.example.org: <message xmlns="jabber:client" to="bob@gw.example.org" id="m1" from="alice@example.org/a"><body>hi</body></message>`,
		`alice@example.org/a>gw.example.org: <iq xmlns="jabber:client" to="gw.example.org" type="get" id="i1" from="alice@example.org/a"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`)

	// A remote server's stanza to the component goes on to it.
	if err := env.Router.HandleFromRemote(ctx, "remote.example", routertest.Parse(t, `<message from='carol@remote.example/c' to='bob@gw.example.org' id='r1'><body>yo</body></message>`)); err != nil {
		t.Fatal(err)
	}
	routertest.Equal(t, "remote to component", comp.take(),
		`carol@remote.example/c>bob@gw.example.org: <message xmlns="jabber:client" from="carol@remote.example/c" to="bob@gw.example.org" id="r1"><body>yo</body></message>`)

	// The component's stanzas: to a local user as from a remote server,
	// to a remote JID onward over s2s; an iq to the server is answered
	// back over the component's stream.
	for _, raw := range []string{
		`<message from='bob@gw.example.org/irc' to='alice@example.org/a' id='c1' type='chat'><body>back</body></message>`,
		`<message from='bob@gw.example.org' to='carol@remote.example' id='c2'><body>far</body></message>`,
		`<iq from='gw.example.org' to='example.org' type='get' id='c3'><query xmlns='urn:example:none'/></iq>`,
	} {
		if err := env.Router.HandleFromComponent(ctx, "gw.example.org", routertest.Parse(t, raw)); err != nil {
			t.Fatal(raw, err)
		}
	}
	routertest.Expect(t, rec, `<message xmlns="jabber:client" from="bob@gw.example.org/irc" to="alice@example.org/a" id="c1" type="chat"><body>back</body></message>`)
	routertest.Equal(t, "component to remote", remote.take(),
		`bob@gw.example.org>carol@remote.example: <message xmlns="jabber:client" from="bob@gw.example.org" to="carol@remote.example" id="c2"><body>far</body></message>`)
	routertest.Equal(t, "iq answered to the component", comp.take(),
		`example.org>gw.example.org: <iq xmlns="jabber:client" id="c3" from="example.org" to="gw.example.org" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)

	// A stanza the remote transport bounces later goes back to the component.
	env.Router.Bounce(routertest.Parse(t, `<message from='bob@gw.example.org' to='carol@remote.example' id='c4'><body>x</body></message>`), stanza.RemoteServerTimeout)
	routertest.Equal(t, "bounce to the component", comp.take(),
		`carol@remote.example>bob@gw.example.org: <message xmlns="jabber:client" id="c4" from="carol@remote.example" to="bob@gw.example.org" type="error"><body>x</body><error type="wait"><remote-server-timeout xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`)

	// Addresses: 'from' off the component's domain is invalid-from, a
	// missing address improper-addressing.
	for raw, want := range map[string]stream.Condition{
		`<message from='bob@example.org' to='alice@example.org'/>`:        stream.InvalidFrom,
		`<message from='bob@sub.gw.example.org' to='alice@example.org'/>`: stream.InvalidFrom,
		`<message from='alice@example.org' to='carol@remote.example'/>`:   stream.InvalidFrom,
		`<message from='x@remote.example' to='bob@gw.example.org'/>`:      stream.InvalidFrom,
		`<message to='alice@example.org'/>`:                               stream.ImproperAddressing,
		`<message from='bob@gw.example.org'/>`:                            stream.ImproperAddressing,
	} {
		var se *stream.Error
		if err := env.Router.HandleFromComponent(ctx, "gw.example.org", routertest.Parse(t, raw)); !errors.As(err, &se) || se.Condition != want {
			t.Errorf("%s: %v, want %s", raw, err, want)
		}
	}

	// Offline: messages and iqs bounce service-unavailable, and the
	// message is refused before any hook (never archived).
	comp.mu.Lock()
	comp.online = false
	comp.mu.Unlock()
	env.Send(alice, `<message to='bob@gw.example.org' id='m2'><body>hi</body></message>`)
	env.Send(alice, `<iq to='bob@gw.example.org/x' type='get' id='i2'><ping xmlns='urn:xmpp:ping'/></iq>`)
	routertest.Expect(t, rec,
		`<message xmlns="jabber:client" id="m2" from="bob@gw.example.org" to="alice@example.org/a" type="error"><body>hi</body><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`,
		`<iq xmlns="jabber:client" id="i2" from="bob@gw.example.org/x" to="alice@example.org/a" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)
}

// TestComponentBounceToRemote: a remote server's stanza that the
// component transport took but could not deliver (its stream died, see
// component.conn.bounce) is answered to the remote sender over s2s, from
// the unreachable JID, as a refusal at once would be (forward); errors
// and iq results are never answered.
func TestComponentBounceToRemote(t *testing.T) {
	env := routertest.New(t, "alice@example.org")
	remote := &fakeRemote{}
	env.Router.SetRemote(remote)
	env.Router.SetComponents(&fakeComponents{domain: "gw.example.org", online: true})
	for _, raw := range []string{
		`<message from='carol@remote.example/c' to='bob@gw.example.org' id='r1'><body>yo</body></message>`,
		`<iq from='carol@remote.example/c' to='gw.example.org' type='get' id='r2'><ping xmlns='urn:xmpp:ping'/></iq>`,
		`<message from='carol@remote.example/c' to='bob@gw.example.org' id='r3' type='error'/>`,
		`<iq from='carol@remote.example/c' to='gw.example.org' type='result' id='r4'/>`,
	} {
		env.Router.Bounce(routertest.Parse(t, raw), stanza.ServiceUnavailable)
	}
	routertest.Equal(t, "bounced to the remote sender", remote.take(),
		`bob@gw.example.org>carol@remote.example/c: <message xmlns="jabber:client" id="r1" from="bob@gw.example.org" to="carol@remote.example/c" type="error"><body>yo</body><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`,
		`gw.example.org>carol@remote.example/c: <iq xmlns="jabber:client" id="r2" from="gw.example.org" to="carol@remote.example/c" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)
	// A remote stanza to a remote JID is none of ours to answer.
	env.Router.Bounce(routertest.Parse(t, `<message from='carol@remote.example/c' to='dave@elsewhere.example' id='r5'/>`), stanza.ServiceUnavailable)
	if got := remote.take(); len(got) != 0 {
		t.Errorf("answered a stranger's stanza: %q", got)
	}
}
