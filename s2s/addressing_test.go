package s2s_test

import (
	"crypto/tls"
	"testing"

	"github.com/skald-xmpp/skald/internal/xmpptest"
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

// TestStartTLSDiscardsDialback: a domain verified by dialback in the
// clear is forgotten when the stream restarts over TLS (RFC 6120
// §5.4.3.3), so a stanza after the restart is not-authorized.
func TestStartTLSDiscardsDialback(t *testing.T) {
	o := startNode(t, "o.test", "o-secret", false, nil)
	b := startNode(t, "b.test", "b-secret", false, map[string]string{"o.test": o.addr})
	c, res := dialback(t, b, func(id string) string {
		return s2s.DialbackKey([]byte("o-secret"), "b.test", "o.test", id)
	})
	if res.Attr("type") != "valid" {
		t.Fatalf("o's own key answered %s", res)
	}
	c.Send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)
	if el := c.Next(); !el.Is("urn:ietf:params:xml:ns:xmpp-tls", "proceed") {
		t.Fatalf("expected proceed, got %s", el)
	}
	tc := tls.Client(c.Raw(), &tls.Config{InsecureSkipVerify: true, ServerName: "b.test"})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	sc := xmpptest.NewConn(t, tc)
	sc.Send(`<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' version='1.0' from='o.test' to='b.test'>`)
	sc.ReadHeader()
	sc.Next() // features
	sc.Send(`<message from='x@o.test' to='user@b.test'><body>verified in the clear</body></message>`)
	if got := sc.ExpectStreamError(); got != "not-authorized" {
		t.Fatalf("stream error %q, want not-authorized", got)
	}
	if got := b.rec.Take(); len(got) != 0 {
		t.Fatalf("delivered %v", got)
	}
}

// TestStreamHeaderVersion: a peer with a higher version gets our stream
// at version 1.0 (RFC 6120 §4.7.5); one below 1.0 gets
// unsupported-version.
func TestStreamHeaderVersion(t *testing.T) {
	b := startNode(t, "b.test", "b-secret", false, nil)
	for _, tc := range []struct{ version, wantErr string }{{"1.1", ""}, {"2.0", ""}, {"0.9", "unsupported-version"}} {
		t.Run(tc.version, func(t *testing.T) {
			c := xmpptest.Dial(t, b.addr)
			c.Sendf(`<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' from='o.test' to='b.test' version='%s'>`, tc.version)
			c.ReadHeader()
			if v := c.Header.Attr("version"); v != "1.0" {
				t.Fatalf("our header says version %q", v)
			}
			if tc.wantErr != "" {
				if got := c.ExpectStreamError(); got != tc.wantErr {
					t.Fatalf("stream error %q, want %q", got, tc.wantErr)
				}
				return
			}
			if f := c.Next(); !f.Is("http://etherx.jabber.org/streams", "features") {
				t.Fatalf("expected features, got %s", f)
			}
		})
	}
}
