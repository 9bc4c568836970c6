package ping

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
)

func TestPing(t *testing.T) {
	e := routertest.New(t, "romeo@example.org", "juliet@example.org")
	e.Router.Register(New())
	s, rec := e.Bind("romeo@example.org/orchard", true, 0)
	unavailable := `<error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`
	tests := []struct {
		name, in, want string
	}{{
		name: "server",
		in:   `<iq type="get" id="p1" to="example.org"><ping xmlns="urn:xmpp:ping"/></iq>`,
		want: `<iq xmlns="jabber:client" type="result" id="p1" from="example.org" to="romeo@example.org/orchard"/>`,
	}, {
		name: "own bare JID, no 'to'",
		in:   `<iq type="get" id="p2"><ping xmlns="urn:xmpp:ping"/></iq>`,
		want: `<iq xmlns="jabber:client" type="result" id="p2" to="romeo@example.org/orchard"/>`,
	}, {
		name: "own bare JID",
		in:   `<iq type="get" id="p3" to="romeo@example.org"><ping xmlns="urn:xmpp:ping"/></iq>`,
		want: `<iq xmlns="jabber:client" type="result" id="p3" to="romeo@example.org/orchard"/>`,
	}, {
		name: "someone else's bare JID",
		in:   `<iq type="get" id="p4" to="juliet@example.org"><ping xmlns="urn:xmpp:ping"/></iq>`,
		want: `<iq xmlns="jabber:client" id="p4" from="juliet@example.org" to="romeo@example.org/orchard" type="error">` + unavailable,
	}, {
		name: "ping is get only",
		in:   `<iq type="set" id="p5" to="example.org"><ping xmlns="urn:xmpp:ping"/></iq>`,
		want: `<iq xmlns="jabber:client" id="p5" from="example.org" to="romeo@example.org/orchard" type="error">` + unavailable,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.Send(s, tt.in)
			routertest.Expect(t, rec, tt.want)
		})
	}
}

func TestFeatures(t *testing.T) {
	server, account := New().DiscoFeatures()
	if len(server) != 1 || server[0] != NS || len(account) != 1 || account[0] != NS {
		t.Errorf("DiscoFeatures() = %v, %v", server, account)
	}
}
