package c2s_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/jid"
)

const (
	nsStreams = "http://etherx.jabber.org/streams"
	nsTLS     = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL    = "urn:ietf:params:xml:ns:xmpp-sasl"
)

// A header without a usable 'to' (RFC 6120 §4.7.2: the initiating entity
// MUST include one) is improper-addressing, the condition for a missing,
// empty or malformed address (§4.9.3.7); an address that is no domain we
// serve is host-unknown (§4.9.3.6).
func TestStreamHeaderAddressing(t *testing.T) {
	f := start(t, nil)
	tests := []struct{ name, header, want string }{
		{"no to", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`, "improper-addressing"},
		{"empty to", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='' version='1.0'>`, "improper-addressing"},
		{"to not a JID", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='a@@b' version='1.0'>`, "improper-addressing"},
		{"to with localpart", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='alice@localhost' version='1.0'>`, "host-unknown"},
		{"to with resource", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost/x' version='1.0'>`, "host-unknown"},
		{"to another domain", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.org' version='1.0'>`, "host-unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := xmpptest.Dial(t, f.addr)
			c.Send(tc.header)
			c.ReadHeader()
			if got := c.ExpectStreamError(); got != tc.want {
				t.Fatalf("got %q, want %s", got, tc.want)
			}
			c.ExpectClosed()
		})
	}
}

// readRawHeader reads the server's bytes up to the end of its stream
// header's opening tag.
func readRawHeader(t *testing.T, nc net.Conn) string {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b bytes.Buffer
	one := make([]byte, 1)
	for !strings.Contains(b.String(), "<stream:stream") || !strings.HasSuffix(b.String(), ">") {
		if _, err := nc.Read(one); err != nil {
			t.Fatalf("reading the header: %v (got %q)", err, b.String())
		}
		b.Write(one)
	}
	return b.String()
}

// The XML declaration is optional; our header comes from the domain, has
// a stream id and version 1.0, and declares the content namespace and the
// "stream" prefix.
func TestStreamResponseHeader(t *testing.T) {
	f := start(t, nil)
	for _, decl := range []string{"", "<?xml version='1.0'?>"} {
		t.Run(fmt.Sprintf("declaration=%q", decl), func(t *testing.T) {
			nc, err := net.Dial("tcp", f.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			io.WriteString(nc, decl+`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`)
			raw := readRawHeader(t, nc)
			tag := raw[strings.Index(raw, "<stream:stream"):]
			for _, want := range []string{`xmlns="jabber:client"`, `xmlns:stream="http://etherx.jabber.org/streams"`, `from="localhost"`, `version="1.0"`, ` id="`} {
				if !strings.Contains(tag, want) {
					t.Errorf("header %s lacks %s", tag, want)
				}
			}
			rd := xml.NewReader(io.MultiReader(strings.NewReader(raw), nc), xml.DefaultLimits, 0)
			root, ns, err := rd.ReadStreamStart()
			if err != nil {
				t.Fatal(err)
			}
			if !root.Is(nsStreams, "stream") || ns != "jabber:client" || root.Attr("id") == "" {
				t.Fatalf("header %s (content namespace %q)", root, ns)
			}
			feat, err := rd.Next()
			if err != nil || !feat.Is(nsStreams, "features") || feat.Child(nsTLS, "starttls") == nil {
				t.Fatalf("features %s, %v", feat, err)
			}
		})
	}
}

// A client that names itself in 'from' gets that bare JID back in 'to';
// one that does not gets no 'to' (RFC 6120 §4.7.2). The header sent
// before a stream error follows the same rule.
func TestStreamResponseHeaderTo(t *testing.T) {
	f := start(t, nil)
	tests := []struct{ name, from, version, want string }{
		{"no from", "", "1.0", ""},
		{"bare JID", " from='alice@localhost'", "1.0", "alice@localhost"},
		{"full JID answered with the bare JID", " from='alice@localhost/phone'", "1.0", "alice@localhost"},
		{"before a stream error", " from='alice@localhost'", "0.9", "alice@localhost"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := xmpptest.Dial(t, f.addr)
			c.Sendf(`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost'%s version='%s'>`, tc.from, tc.version)
			c.ReadHeader()
			got, ok := "", false
			for _, a := range c.Header.Attrs {
				if a.Space == "" && a.Local == "to" {
					got, ok = a.Value, true
				}
			}
			if got != tc.want || ok != (tc.want != "") {
				t.Fatalf("response header %s: 'to' %q, want %q", c.Header, got, tc.want)
			}
		})
	}
}

// Every restart (after TLS, after SASL) gets a new stream id (RFC 6120
// §4.3.3).
func TestStreamIDChangesOnRestart(t *testing.T) {
	f := start(t, nil)
	c := xmpptest.Dial(t, f.addr)
	c.OpenStream("localhost")
	ids := []string{c.Header.Attr("id")}
	c.StartTLS("localhost")
	ids = append(ids, c.Header.Attr("id"))
	c.AuthSCRAM("localhost", "alice", "secret-alice")
	ids = append(ids, c.Header.Attr("id"))
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" || seen[id] {
			t.Fatalf("stream ids %v: want three distinct ids", ids)
		}
		seen[id] = true
	}
}

func TestStartTLSPipelinedData(t *testing.T) {
	f := start(t, nil)
	c := xmpptest.Dial(t, f.addr)
	c.OpenStream("localhost")
	// Plaintext after <starttls/> in the same write: it would be taken as
	// part of the encrypted stream (command injection).
	c.Send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><message to='bob@localhost'><body>injected</body></message>`)
	if el := c.Next(); !el.Is(nsTLS, "proceed") {
		t.Fatalf("expected <proceed/>, got %s", el)
	}
	el, err := c.TryNext()
	switch {
	case err != nil:
		// Closed without a handshake: fine.
	case el.Is(nsStreams, "error") && el.FirstElement().Local == "policy-violation":
	default:
		t.Fatalf("after pipelined data: %s", el)
	}
	c.ExpectClosed()
}

func TestStartTLSTwice(t *testing.T) {
	f := start(t, nil)
	check := func(t *testing.T, c *xmpptest.Conn) {
		if c.Features.Child(nsTLS, "starttls") != nil {
			t.Errorf("STARTTLS offered on an encrypted stream: %s", c.Features)
		}
		c.Send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)
		if el := c.Next(); !el.Is(nsTLS, "failure") {
			t.Fatalf("expected <failure/>, got %s", el)
		}
		c.ExpectClosed()
	}
	t.Run("after STARTTLS", func(t *testing.T) {
		c := xmpptest.Dial(t, f.addr)
		c.OpenStream("localhost")
		c.StartTLS("localhost")
		check(t, c)
	})
	t.Run("direct TLS", func(t *testing.T) {
		c := xmpptest.DialTLS(t, f.tlsAddr)
		c.OpenStream("localhost")
		check(t, c)
	})
}

func TestAuthBeforeRequiredTLS(t *testing.T) {
	f := start(t, nil)
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256"} {
		t.Run(mech, func(t *testing.T) {
			c := xmpptest.Dial(t, f.addr)
			c.OpenStream("localhost")
			c.Sendf(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='%s'>AGFsaWNlAHNlY3JldC1hbGljZQ==</auth>`, mech)
			el := c.Next()
			if !el.Is(nsSASL, "failure") || el.Child(nsSASL, "encryption-required") == nil {
				t.Fatalf("got %s, want <failure><encryption-required/></failure>", el)
			}
			// Not authenticated: stanzas are refused.
			c.Send(`<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`)
			if got := c.ExpectStreamError(); got != "not-authorized" {
				t.Fatalf("stanza after failed auth: %s", got)
			}
		})
	}
}

func exporterBinding(t *testing.T, c *xmpptest.Conn) []byte {
	t.Helper()
	tc, ok := c.Raw().(*tls.Conn)
	if !ok {
		t.Fatalf("not a TLS connection: %T", c.Raw())
	}
	st := tc.ConnectionState()
	if st.Version != tls.VersionTLS13 {
		t.Fatalf("negotiated TLS version %x, want 1.3", st.Version)
	}
	cb, err := st.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
	if err != nil {
		t.Fatal(err)
	}
	return cb
}

// Over TLS 1.3 the -PLUS mechanism is offered with tls-exporter
// (RFC 9266, XEP-0440), and works; a client claiming the server does not
// support channel binding is refused (RFC 5802 downgrade protection).
func TestSCRAMPlusOverTLS13(t *testing.T) {
	f := start(t, nil)
	for _, direct := range []bool{false, true} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) {
			open := func() *xmpptest.Conn {
				if direct {
					c := xmpptest.DialTLS(t, f.tlsAddr)
					c.OpenStream("localhost")
					return c
				}
				c := xmpptest.Dial(t, f.addr)
				c.OpenStream("localhost")
				c.StartTLS("localhost")
				return c
			}
			c := open()
			plus := false
			for _, m := range c.Features.Child(nsSASL, "mechanisms").Elements() {
				plus = plus || m.Text() == "SCRAM-SHA-256-PLUS"
			}
			if !plus {
				t.Fatalf("SCRAM-SHA-256-PLUS not offered: %s", c.Features)
			}
			var types []string
			for _, cb := range c.Features.Child("urn:xmpp:sasl-cb:0", "sasl-channel-binding").Elements() {
				types = append(types, cb.Attr("type"))
			}
			if strings.Join(types, " ") != "tls-exporter" {
				t.Fatalf("channel binding types %v, want [tls-exporter]: %s", types, c.Features)
			}
			if err := c.TrySCRAMWith(xmpptest.SCRAM{Mechanism: "SCRAM-SHA-256-PLUS", GS2: "p=tls-exporter,,", Binding: exporterBinding(t, c)}, "alice", "secret-alice"); err != nil {
				t.Fatal(err)
			}

			c = open()
			if err := c.TrySCRAMWith(xmpptest.SCRAM{Mechanism: "SCRAM-SHA-256-PLUS", GS2: "p=tls-exporter,,", Binding: make([]byte, 32)}, "alice", "secret-alice"); err == nil {
				t.Fatal("wrong channel binding data accepted")
			}
			c = open()
			if err := c.TrySCRAMWith(xmpptest.SCRAM{GS2: "y,,"}, "alice", "secret-alice"); err == nil {
				t.Fatal("'y' flag accepted while the server offers channel binding")
			}
		})
	}
}

// The idle timeout ends a silent stream with connection-timeout; any
// byte, whitespace keepalives included, restarts it. (This machine may be
// loaded: the timeouts leave the client ample time between its writes.)
func TestIdleTimeout(t *testing.T) {
	short := start(t, func(c *c2s.Config) { c.IdleTimeout = 300 * time.Millisecond })
	t.Run("silent before authentication", func(t *testing.T) {
		c := xmpptest.Dial(t, short.addr)
		c.OpenStream("localhost")
		if got := c.ExpectStreamError(); got != "connection-timeout" {
			t.Fatalf("got %q, want connection-timeout", got)
		}
		c.ExpectClosed()
	})

	f := start(t, func(c *c2s.Config) { c.IdleTimeout = 1500 * time.Millisecond })
	// Direct TLS and PLAIN: the client does no slow work between writes.
	login := func(t *testing.T, resource string) *xmpptest.Conn {
		c := xmpptest.DialTLS(t, f.tlsAddr)
		c.OpenStream("localhost")
		c.AuthPlain("localhost", "alice", "secret-alice")
		c.Bind(resource)
		return c
	}
	t.Run("silent bound client", func(t *testing.T) {
		c := login(t, "silent")
		if got := c.ExpectStreamError(); got != "connection-timeout" {
			t.Fatalf("got %q, want connection-timeout", got)
		}
		c.ExpectClosed()
	})
	t.Run("whitespace keepalives", func(t *testing.T) {
		c := login(t, "alive")
		// More than two idle timeouts' worth of keepalives only.
		for range 35 {
			time.Sleep(100 * time.Millisecond)
			c.Send(" ")
		}
		c.Send(`<iq type='get' id='still-there' to='localhost'><query xmlns='urn:example:unknown'/></iq>`)
		if el := c.Next(); el.Attr("id") != "still-there" {
			t.Fatalf("got %s", el)
		}
	})
}

// After Shutdown no goroutine of the server is left: not the readers, the
// flushers, nor a detached stream-management session's.
func TestShutdownLeavesNoGoroutines(t *testing.T) {
	f := start(t, nil)
	a := xmpptest.Dial(t, f.addr)
	a.Login("localhost", "alice", "secret-alice", "a")
	enableSM(t, a, true)
	a.Raw().Close() // detached, waiting for resumption
	b := xmpptest.DialTLS(t, f.tlsAddr)
	b.OpenStream("localhost")
	b.AuthPlain("localhost", "bob", "secret-bob")
	b.Bind("b")
	half := xmpptest.Dial(t, f.addr) // mid-negotiation
	half.OpenStream("localhost")
	eventually(t, "alice is detached", func() bool { return f.srv.ConnCount() == 2 })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if got := b.ExpectStreamError(); got != "system-shutdown" {
		t.Errorf("bob got %q", got)
	}
	if f.router.Session(jid.MustParse("alice@localhost/a")) != nil {
		t.Error("the detached session outlived Shutdown")
	}
	var leaked string
	deadline := time.Now().Add(5 * time.Second)
	for {
		leaked = serverGoroutines()
		if leaked == "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if leaked != "" {
		t.Fatalf("goroutines left after Shutdown:\n%s", leaked)
	}
}

// serverGoroutines returns the stacks of goroutines running code of
// package c2s, other than test goroutines.
func serverGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "skald/c2s.") && !strings.Contains(g, "testing.tRunner") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

// A stream error from the client ends its stream (RFC 6120 §4.9.1.1): the
// server closes its own with the closing tag and answers no error with an
// error of its own, before authentication or after binding.
func TestClientStreamErrorClosesStream(t *testing.T) {
	f := start(t, nil)
	const clientError = `<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`
	for _, bound := range []bool{false, true} {
		t.Run(fmt.Sprintf("bound=%v", bound), func(t *testing.T) {
			c := xmpptest.Dial(t, f.addr)
			if bound {
				c.Login("localhost", "alice", "secret-alice", "phone")
			} else {
				c.OpenStream("localhost")
			}
			c.Send(clientError)
			for {
				el, err := c.TryNext()
				if err == xml.ErrStreamEnd {
					return
				}
				if err != nil {
					t.Fatalf("expected the closing tag, got %v", err)
				}
				if el.Is(nsStreams, "error") {
					t.Fatalf("a stream error answered with %s", el)
				}
			}
		})
	}
}

// A stanza without xml:lang gets the language of the client's stream
// header when it is delivered; one with its own keeps it (RFC 6120
// §4.7.4).
func TestStanzasInheritStreamLanguage(t *testing.T) {
	f := start(t, nil)
	a := xmpptest.Dial(t, f.addr)
	a.Lang = "de"
	a.Login("localhost", "alice", "secret-alice", "a1")
	b := xmpptest.Dial(t, f.addr)
	b.Login("localhost", "bob", "secret-bob", "b1")
	a.Send(`<message to='bob@localhost/b1' type='chat' id='m1'><body>hallo</body></message>`)
	a.Send(`<message to='bob@localhost/b1' type='chat' id='m2' xml:lang='fr'><body>salut</body></message>`)
	a.Send(`<iq to='bob@localhost/b1' type='get' id='q1'><query xmlns='jabber:iq:version'/></iq>`)
	for _, want := range []struct{ id, lang string }{{"m1", "de"}, {"m2", "fr"}, {"q1", "de"}} {
		el := b.Next()
		if el.Attr("id") != want.id || el.Lang() != want.lang {
			t.Fatalf("bob got %s, want id %s with xml:lang %q", el, want.id, want.lang)
		}
	}
}

// A header need not declare the content namespace as the default one:
// with "prefix-free canonicalization" each stanza names jabber:client
// itself (RFC 6120 §4.8.2: both styles are acceptable).
func TestStreamHeaderPrefixFree(t *testing.T) {
	f := start(t, nil)
	for name, header := range map[string]string{
		"stream namespace as the default": `<stream xmlns='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`,
		"no default namespace":            `<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`,
	} {
		t.Run(name, func(t *testing.T) {
			c := xmpptest.Dial(t, f.addr)
			c.Send(header)
			c.ReadHeader()
			if feat := c.Next(); !feat.Is(nsStreams, "features") || feat.Child(nsTLS, "starttls") == nil {
				t.Fatalf("expected features with starttls, got %s", feat)
			}
			// The whole login, every header in the same style, and
			// stanzas that name their namespace.
			c.HeaderFormat = strings.Replace(header, "'localhost'", "'%s'", 1)
			c.StartTLS("localhost")
			c.AuthSCRAM("localhost", "alice", "secret-alice")
			c.Send(`<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>`)
			if el := c.Next(); el.Attr("type") != "result" || el.Attr("id") != "b1" {
				t.Fatalf("bind answered %s", el)
			}
			c.Send(`<iq xmlns='jabber:client' type='get' id='u1'><query xmlns='urn:example:unknown'/></iq>`)
			if el := c.Next(); !el.Is("jabber:client", "iq") || el.Attr("id") != "u1" || el.Attr("type") != "error" {
				t.Fatalf("iq answered %s", el)
			}
		})
	}
}
