package server_test

import (
	"fmt"
	"testing"
)

// TestIQToServerResource: the server has no resources of its own, so an
// iq get/set to domain/resource is not the server's to answer as if it
// were addressed to the domain; it gets service-unavailable from the
// address it was sent to (RFC 6120 §10.5.2 and §8.3, RFC 6121 §8.5). The
// bare domain still answers.
func TestIQToServerResource(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	for i, tc := range []struct{ to, payload, want, from string }{
		{"localhost", `<ping xmlns='urn:xmpp:ping'/>`, "result", "localhost"},
		{"localhost/anything", `<ping xmlns='urn:xmpp:ping'/>`, "service-unavailable", "localhost/anything"},
		{"localhost/anything", `<query xmlns='http://jabber.org/protocol/disco#info'/>`, "service-unavailable", "localhost/anything"},
		{"localhost/anything", `<query xmlns='jabber:iq:version'/>`, "service-unavailable", "localhost/anything"},
	} {
		id := fmt.Sprintf("q%d", i)
		cond, el := ask(t, alice, id, `<iq type='get' id='`+id+`' to='`+tc.to+`'>`+tc.payload+`</iq>`)
		if cond != tc.want || el.Attr("from") != tc.from {
			t.Errorf("%s to %s: %s", tc.payload, tc.to, el)
		}
	}
}
