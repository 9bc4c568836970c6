package s2s_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/s2s"
	"github.com/skald-xmpp/skald/stanza"
)

// silentPeer is a listener that accepts connections and says nothing.
func silentPeer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	return l.Addr().String()
}

// TestMaxOutgoingStreams: a stanza that needs one more outgoing stream
// than max_outgoing_streams is refused with resource-constraint (RFC 6120
// §8.3.3.18); the existing stream still takes stanzas.
func TestMaxOutgoingStreams(t *testing.T) {
	mute := silentPeer(t)
	tweak = func(c *s2s.Config) { c.MaxOutgoingStreams = 1 }
	b := startNode(t, "b.test", "b-secret", true, map[string]string{"one.test": mute, "two.test": mute})
	tweak = nil
	from := jid.MustParse("user@b.test/res")
	send := func(to string) error {
		msg := routertest.Parse(t, `<message from='user@b.test/res' to='`+to+`'><body>x</body></message>`)
		return b.r.SendRemote(msg, from, jid.MustParse(to))
	}
	if err := send("x@one.test"); err != nil {
		t.Fatal(err)
	}
	var se *stanza.Error
	if err := send("x@two.test"); !errors.As(err, &se) || se.Condition != stanza.ResourceConstraint {
		t.Fatalf("second stream: %v, want resource-constraint", err)
	}
	if err := send("y@one.test"); err != nil {
		t.Fatalf("the existing stream refused a stanza: %v", err)
	}
}

// TestMaxIncomingStreams: a connection over max_incoming_streams is
// closed at once, though it is the first from its address.
func TestMaxIncomingStreams(t *testing.T) {
	tweak = func(c *s2s.Config) { c.MaxIncomingStreams = 1 }
	b := startNode(t, "b.test", "b-secret", false, nil)
	tweak = nil
	open(t, b, `from='o.test' to='b.test'`)
	over, err := net.Dial("tcp", b.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	over.SetReadDeadline(time.Now().Add(3 * time.Second))
	if n, err := over.Read(make([]byte, 100)); n != 0 || err == nil || isTimeout(err) {
		t.Fatalf("connection over max_incoming_streams: read %d bytes, %v; want it closed", n, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestDialbackErrorsEndStream: each db:result whose authoritative server
// cannot be reached is answered type='error' (XEP-0220 §2.4), and after
// a few the stream ends with remote-connection-failed (RFC 6120
// §4.9.3.16) rather than costing a connection per request forever.
func TestDialbackErrorsEndStream(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	b := startNode(t, "b.test", "b-secret", false, map[string]string{"o.test": closed})
	c := open(t, b, `from='o.test' to='b.test'`)
	c.Next()
	for i := 0; i < 3; i++ {
		c.Send(`<db:result from='o.test' to='b.test'>00</db:result>`)
		res := c.Expect(func(el *xml.Element) bool { return el.Is(nsDB, "result") })
		if res.Attr("type") != "error" {
			t.Fatalf("request %d answered %s, want type error", i, res)
		}
	}
	if got := c.ExpectStreamError(); got != "remote-connection-failed" {
		t.Fatalf("stream error %q, want remote-connection-failed", got)
	}
}

// TestDialbackRequestsCapped: a stream may ask for a few verifications,
// then further db:results end it with policy-violation.
func TestDialbackRequestsCapped(t *testing.T) {
	o := startNode(t, "o.test", "o-secret", false, nil)
	b := startNode(t, "b.test", "b-secret", false, map[string]string{"o.test": o.addr})
	c := open(t, b, `from='o.test' to='b.test'`)
	c.Next()
	key := s2s.DialbackKey([]byte("o-secret"), "b.test", "o.test", c.Header.Attr("id"))
	for i := 0; i < 10; i++ {
		c.Sendf(`<db:result from='o.test' to='b.test'>%s</db:result>`, key)
		if res := c.Expect(func(el *xml.Element) bool { return el.Is(nsDB, "result") }); res.Attr("type") != "valid" {
			t.Fatalf("request %d answered %s", i, res)
		}
	}
	c.Sendf(`<db:result from='o.test' to='b.test'>%s</db:result>`, key)
	if got := c.ExpectStreamError(); got != "policy-violation" {
		t.Fatalf("stream error %q, want policy-violation", got)
	}
}

// TestUnauthenticatedStreamTimesOut: a stream that verifies no domain
// ends with connection-timeout 2×connect_timeout after it came, though
// it keeps sending db:verify requests (which we answer) meanwhile.
func TestUnauthenticatedStreamTimesOut(t *testing.T) {
	tweak = func(c *s2s.Config) { c.ConnectTimeout = time.Second }
	b := startNode(t, "b.test", "b-secret", false, nil)
	tweak = nil
	c := open(t, b, `from='r.test' to='b.test'`)
	c.Next()
	start := time.Now()
	for time.Since(start) < 4*time.Second {
		// Raw: the write after the stream's end may fail; the read says why.
		io.WriteString(c.Raw(), `<db:verify from='r.test' to='b.test' id='s1'>00</db:verify>`)
		el := c.Next()
		if el.Is("http://etherx.jabber.org/streams", "error") {
			if el.Child("urn:ietf:params:xml:ns:xmpp-streams", "connection-timeout") == nil {
				t.Fatalf("stream error %s, want connection-timeout", el)
			}
			if d := time.Since(start); d < 1500*time.Millisecond {
				t.Fatalf("ended after %v, before 2×connect_timeout", d)
			}
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatal("the unauthenticated stream is still open after 4s")
}

// TestSASLAttemptsCapped: refused SASL attempts are answered with
// <failure/>, and the third ends the stream (RFC 6120 §6.4.5).
func TestSASLAttemptsCapped(t *testing.T) {
	b := startNode(t, "b.test", "b-secret", false, nil)
	c := open(t, b, `from='o.test' to='b.test'`)
	c.Next()
	c.Send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)
	if el := c.Next(); !el.Is("urn:ietf:params:xml:ns:xmpp-tls", "proceed") {
		t.Fatalf("expected proceed, got %s", el)
	}
	tc := tls.Client(c.Raw(), &tls.Config{InsecureSkipVerify: true, ServerName: "b.test"})
	c = xmpptest.NewConn(t, tc)
	c.Send(`<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' version='1.0' from='o.test' to='b.test'>`)
	c.ReadHeader()
	c.Next() // features
	for i := 0; i < 2; i++ {
		c.Send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'/>`)
		if el := c.Next(); !el.Is("urn:ietf:params:xml:ns:xmpp-sasl", "failure") {
			t.Fatalf("attempt %d answered %s, want failure", i, el)
		}
	}
	c.Send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'/>`)
	if got := c.ExpectStreamError(); got != "policy-violation" {
		t.Fatalf("stream error %q, want policy-violation", got)
	}
}
