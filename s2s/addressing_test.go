package s2s_test

import (
	"testing"

	"github.com/skald-xmpp/skald/s2s"
)

// TestStanzaAddressing: on a verified stream a stanza's 'from' and 'to'
// must be JIDs (RFC 6120 §4.9.3.7, §8.1.1.2, §8.1.2.2:
// improper-addressing), and 'from' must be on the verified domain
// (§4.9.3.9: invalid-from). Each ends the stream; nothing is delivered.
func TestStanzaAddressing(t *testing.T) {
	o := startNode(t, "o.test", "o-secret", false, nil)
	b := startNode(t, "b.test", "b-secret", false, map[string]string{"o.test": o.addr})
	for _, tc := range []struct{ name, stanza, want string }{
		{"no from", `<message to='user@b.test'><body>x</body></message>`, "improper-addressing"},
		{"malformed from", `<message from='@o.test' to='user@b.test'><body>x</body></message>`, "improper-addressing"},
		{"no to", `<message from='x@o.test'><body>x</body></message>`, "improper-addressing"},
		{"malformed to", `<iq from='x@o.test/r' to='@b.test' type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>`, "improper-addressing"},
		{"unverified from", `<message from='x@evil.test' to='user@b.test'><body>x</body></message>`, "invalid-from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, res := dialback(t, b, func(id string) string {
				return s2s.DialbackKey([]byte("o-secret"), "b.test", "o.test", id)
			})
			if res.Attr("type") != "valid" {
				t.Fatalf("o's own key answered %s", res)
			}
			c.Send(tc.stanza)
			if got := c.ExpectStreamError(); got != tc.want {
				t.Fatalf("stream error %q, want %q", got, tc.want)
			}
			c.ExpectClosed()
			if got := b.rec.Take(); len(got) != 0 {
				t.Fatalf("delivered %v", got)
			}
		})
	}
}

// TestDialbackForOwnDomain: a peer whose header names no domain and whose
// db:result claims the domain we serve gets invalid-from at once (RFC
// 6120 §4.9.3.9, as for such a header), without a verification
// connection: here b.test routes to b itself, so that connection would
// be made.
func TestDialbackForOwnDomain(t *testing.T) {
	routes := map[string]string{}
	b := startNode(t, "b.test", "b-secret", false, routes)
	routes["b.test"] = b.addr
	c := open(t, b, `to='b.test'`)
	c.Next() // features
	c.Send(`<db:result from='b.test' to='b.test'>0123</db:result>`)
	if got := c.ExpectStreamError(); got != "invalid-from" {
		t.Fatalf("stream error %q, want invalid-from", got)
	}
	if n, _ := b.metrics.Value("skald_s2s_streams_in_total"); n != 1 {
		t.Fatalf("%v incoming streams: b connected to itself to verify", n)
	}
}
