package s2s_test

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/s2s"
)

// TestDomainsNormalised: a header 'from' of O.TEST and a db:result and
// stanzas from o.test are one domain (RFC 7622 §3.2), and 'to' B.TEST is
// the b.test we serve.
func TestDomainsNormalised(t *testing.T) {
	o := startNode(t, "o.test", "o-secret", false, nil)
	b := startNode(t, "b.test", "b-secret", false, map[string]string{"o.test": o.addr})
	c := open(t, b, `from='O.TEST' to='B.Test'`)
	c.Next()
	key := s2s.DialbackKey([]byte("o-secret"), "b.test", "o.test", c.Header.Attr("id"))
	c.Sendf(`<db:result from='o.test' to='b.TEST'>%s</db:result>`, key)
	res := c.Expect(func(el *xml.Element) bool { return el.Is(nsDB, "result") })
	if res.Attr("type") != "valid" || res.Attr("from") != "b.test" || res.Attr("to") != "o.test" {
		t.Fatalf("db:result answered %s", res)
	}
	c.Send(`<message from='x@O.test/r' to='user@b.test' type='chat'><body>hi</body></message>`)
	deadline := time.Now().Add(5 * time.Second)
	var got []string
	for len(got) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		got = b.rec.Take()
	}
	if len(got) != 1 || !strings.Contains(got[0], "<body>hi</body>") {
		t.Fatalf("delivered %v", got)
	}
}

// TestDialbackNotADomain: a db:result whose 'from' or 'to' is a JID
// with a localpart or resource ends the stream.
func TestDialbackNotADomain(t *testing.T) {
	b := startNode(t, "b.test", "b-secret", false, nil)
	for _, tc := range []struct{ name, el, want string }{
		{"from with a resource", `<db:result from='o.test/r' to='b.test'>00</db:result>`, "invalid-from"},
		{"from with a localpart", `<db:result from='u@o.test' to='b.test'>00</db:result>`, "invalid-from"},
		{"to with a localpart", `<db:result from='o.test' to='u@b.test'>00</db:result>`, "host-unknown"},
		{"verify to with a resource", `<db:verify from='o.test' to='b.test/r' id='s1'>00</db:verify>`, "host-unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := open(t, b, `to='b.test'`)
			c.Next()
			c.Send(tc.el)
			if got := c.ExpectStreamError(); got != tc.want {
				t.Fatalf("stream error %q, want %q", got, tc.want)
			}
		})
	}
}

// TestVerifiedForOnePair: o.test verified for b.test may not send to
// c.test, another domain of the same server (XEP-0220 §2: a verification
// is for one pair of domains).
func TestVerifiedForOnePair(t *testing.T) {
	o := startNode(t, "o.test", "o-secret", false, nil)
	alsoServe = []string{"c.test"}
	b := startNode(t, "b.test", "b-secret", false, map[string]string{"o.test": o.addr})
	alsoServe = nil
	c, res := dialback(t, b, func(id string) string {
		return s2s.DialbackKey([]byte("o-secret"), "b.test", "o.test", id)
	})
	if res.Attr("type") != "valid" {
		t.Fatalf("dialback %s", res)
	}
	c.Send(`<message from='x@o.test' to='user@c.test'><body>not verified for c.test</body></message>`)
	if got := c.ExpectStreamError(); got != "invalid-from" {
		t.Fatalf("stream error %q, want invalid-from", got)
	}
}

// TestRequireValidCertificatesIncoming: with require_valid_certificates,
// a dialback key that its server vouches for does not authenticate a
// peer without a valid certificate: the db:result is answered
// type='error' and stanzas are still refused.
func TestRequireValidCertificatesIncoming(t *testing.T) {
	o := startNode(t, "o.test", "o-secret", false, nil)
	tweak = func(c *s2s.Config) { c.RequireValidCertificates = true }
	b := startNode(t, "b.test", "b-secret", false, map[string]string{"o.test": o.addr})
	tweak = nil
	c := open(t, b, `from='o.test' to='b.test'`)
	c.Next()
	c.Sendf(`<db:result from='o.test' to='b.test'>%s</db:result>`, s2s.DialbackKey([]byte("o-secret"), "b.test", "o.test", c.Header.Attr("id")))
	res := c.Expect(func(el *xml.Element) bool { return el.Is(nsDB, "result") })
	if res.Attr("type") != "error" || !strings.Contains(res.String(), "policy-violation") {
		t.Fatalf("db:result answered %s, want type error, policy-violation", res)
	}
	c.Send(`<message from='x@o.test' to='user@b.test'><body>x</body></message>`)
	if got := c.ExpectStreamError(); got != "not-authorized" {
		t.Fatalf("stream error %q, want not-authorized", got)
	}
}

// TestRequireValidCertificatesOutgoing: with require_valid_certificates,
// b does not authenticate by dialback to o, whose certificate b does not
// trust: the stanza bounces with remote-server-timeout and o gets
// nothing; with a certificate b trusts, it goes.
func TestRequireValidCertificatesOutgoing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		roots   *x509.CertPool
		arrives bool
	}{{"self-signed", nil, false}, {"trusted", x509.NewCertPool(), true}} {
		t.Run(tc.name, func(t *testing.T) {
			oRoutes := map[string]string{}
			o := startNodeRoots(t, "o.test", "o-secret", true, oRoutes, tc.roots)
			tweak = func(c *s2s.Config) { c.RequireValidCertificates = true }
			b := startNodeRoots(t, "b.test", "b-secret", true, map[string]string{"o.test": o.addr}, tc.roots)
			tweak = nil
			oRoutes["b.test"] = b.addr
			msg := routertest.Parse(t, `<message from='user@b.test/res' to='user@o.test' id='m1'><body>secure</body></message>`)
			if err := b.r.SendRemote(msg, jid.MustParse("user@b.test/res"), jid.MustParse("user@o.test")); err != nil {
				t.Fatal(err)
			}
			want := b.rec
			if tc.arrives {
				want = o.rec
			}
			deadline := time.Now().Add(5 * time.Second)
			var got []string
			for len(got) == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
				got = want.Take()
			}
			if tc.arrives && (len(got) != 1 || !strings.Contains(got[0], "secure")) {
				t.Fatalf("o's user got %v", got)
			}
			if !tc.arrives && (len(got) != 1 || !strings.Contains(got[0], "remote-server-timeout")) {
				t.Fatalf("b's user got %v, want a remote-server-timeout bounce", got)
			}
			if !tc.arrives {
				if got := o.rec.Take(); len(got) != 0 {
					t.Fatalf("o's user got %v", got)
				}
			}
		})
	}
}
