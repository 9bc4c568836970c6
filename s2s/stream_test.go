package s2s_test

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/certs"
	"github.com/skald-xmpp/skald/internal/metrics"
	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/s2s"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

const nsDB = "jabber:server:dialback"

// node is one s2s server on loopback serving domain, with the account
// user@domain bound as session "user@domain/res" recording its stanzas.
type node struct {
	srv    *s2s.Server
	r      *router.Router
	addr   string
	domain string
	rec    *routertest.Recorder
	// metrics holds the node's s2s metrics.
	metrics *metrics.Registry
}

func startNode(t *testing.T, domain, secret string, requireTLS bool, routes map[string]string) *node {
	t.Helper()
	return startNodeRoots(t, domain, secret, requireTLS, routes, nil)
}

// tweak, when set, adjusts the next node's configuration.
var tweak func(*s2s.Config)

// alsoServe, when set, are more domains the next node serves.
var alsoServe []string

// alsoCertify, when set, are more names the next node's certificate
// covers (a hosted service domain).
var alsoCertify []string

// withService, when set, is registered as a module of the next node.
var withService router.Module

// startNodeRoots is startNode verifying peers with roots; the node's own
// certificate is added to roots.
func startNodeRoots(t *testing.T, domain, secret string, requireTLS bool, routes map[string]string, roots *x509.CertPool) *node {
	t.Helper()
	st := memory.New()
	if err := st.CreateUser(context.Background(), "user@"+domain, storage.Credentials{}); err != nil {
		t.Fatal(err)
	}
	r := router.New(router.Config{Domains: append([]string{domain}, alsoServe...), Users: st})
	if withService != nil {
		r.Register(withService)
	}
	cfg := s2s.DefaultConfig()
	cfg.RequireEncryption = requireTLS
	cfg.Routes = routes
	cfg.ConnectTimeout = 3 * time.Second
	if tweak != nil {
		tweak(&cfg)
	}
	dir := t.TempDir()
	cf, kf, err := certs.EnsureSelfSigned(dir, append([]string{domain}, alsoCertify...))
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := certs.Load(cf, kf)
	if err != nil {
		t.Fatal(err)
	}
	if roots != nil {
		pem, err := os.ReadFile(cf)
		if err != nil || !roots.AppendCertsFromPEM(pem) {
			t.Fatalf("adding %s to the roots: %v", cf, err)
		}
	}
	srv := s2s.New(cfg, r, s2s.Options{TLS: tlsCfg, Secret: []byte(secret), Roots: roots,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	reg := metrics.NewRegistry()
	reg.Register(srv)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	rec := &routertest.Recorder{}
	s := router.NewSession(jid.MustParse("user@"+domain+"/res"), "test", rec)
	r.Bind(context.Background(), s)
	s.SetPresence(xml.New("jabber:client", "presence"), 0)
	return &node{srv: srv, r: r, addr: l.Addr().String(), domain: domain, rec: rec, metrics: reg}
}

// open dials n as an originating server would and sends a server stream
// header with the given attributes, returning the connection after our
// header has been answered.
func open(t *testing.T, n *node, attrs string) *xmpptest.Conn {
	t.Helper()
	c := xmpptest.Dial(t, n.addr)
	c.Send(`<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' version='1.0' ` + attrs + `>`)
	c.ReadHeader()
	return c
}

func TestStreamHeaderErrors(t *testing.T) {
	b := startNode(t, "b.test", "b-secret", false, nil)
	for _, tc := range []struct{ name, header, want string }{
		{"to a domain not served", `<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' from='o.test' to='unknown.test' version='1.0'>`, "host-unknown"},
		{"no to", `<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' from='o.test' version='1.0'>`, "host-unknown"},
		{"client namespace", `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='o.test' to='b.test' version='1.0'>`, "invalid-namespace"},
		{"from our own domain", `<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' from='b.test' to='b.test' version='1.0'>`, "invalid-from"},
		{"from with a localpart", `<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' from='u@o.test' to='b.test' version='1.0'>`, "invalid-from"},
		{"from with a resource", `<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' from='o.test/r' to='b.test' version='1.0'>`, "invalid-from"},
		{"our domain in capitals", `<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' from='B.TEST' to='b.test' version='1.0'>`, "invalid-from"},
		{"to with a localpart", `<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' from='o.test' to='u@b.test' version='1.0'>`, "host-unknown"},
		{"old version", `<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' from='o.test' to='b.test'>`, "unsupported-version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := xmpptest.Dial(t, b.addr)
			c.Send(tc.header)
			c.ReadHeader()
			if got := c.ExpectStreamError(); got != tc.want {
				t.Fatalf("stream error %q, want %q", got, tc.want)
			}
			c.ExpectClosed()
		})
	}
}

func TestStanzaBeforeVerification(t *testing.T) {
	b := startNode(t, "b.test", "b-secret", false, nil)
	c := open(t, b, `from='o.test' to='b.test'`)
	c.Next() // features
	c.Send(`<message from='x@o.test' to='user@b.test'><body>spoof</body></message>`)
	if got := c.ExpectStreamError(); got != "not-authorized" {
		t.Fatalf("stream error %q, want not-authorized", got)
	}
	if got := b.rec.Take(); len(got) != 0 {
		t.Fatalf("delivered before verification: %v", got)
	}
}

// dialback runs the originating server's side of XEP-0220 by hand for
// o.test against b, with the key given, and returns the db:result answer.
func dialback(t *testing.T, b *node, key func(streamID string) string) (*xmpptest.Conn, *xml.Element) {
	t.Helper()
	c := open(t, b, `from='o.test' to='b.test'`)
	features := c.Next()
	if features.Child("urn:xmpp:features:dialback", "dialback") == nil {
		t.Fatalf("dialback not offered: %s", features)
	}
	c.Sendf(`<db:result from='o.test' to='b.test'>%s</db:result>`, key(c.Header.Attr("id")))
	res := c.Expect(func(el *xml.Element) bool { return el.Is(nsDB, "result") })
	if res.Attr("from") != "b.test" || res.Attr("to") != "o.test" {
		t.Fatalf("db:result addressed wrongly: %s", res)
	}
	return c, res
}

func TestDialbackInvalidKey(t *testing.T) {
	o := startNode(t, "o.test", "o-secret", false, nil)
	b := startNode(t, "b.test", "b-secret", false, map[string]string{"o.test": o.addr})
	c, res := dialback(t, b, func(id string) string {
		return s2s.DialbackKey([]byte("not o's secret"), "b.test", "o.test", id)
	})
	if res.Attr("type") != "invalid" {
		t.Fatalf("forged key answered %s", res)
	}
	if got := c.ExpectStreamError(); got != "not-authorized" {
		t.Fatalf("stream error %q, want not-authorized", got)
	}
}

func TestDialbackValidKey(t *testing.T) {
	o := startNode(t, "o.test", "o-secret", false, nil)
	b := startNode(t, "b.test", "b-secret", false, map[string]string{"o.test": o.addr})
	c, res := dialback(t, b, func(id string) string {
		return s2s.DialbackKey([]byte("o-secret"), "b.test", "o.test", id)
	})
	if res.Attr("type") != "valid" {
		t.Fatalf("o's own key answered %s", res)
	}
	c.Send(`<message from='x@o.test/r' to='user@b.test' type='chat'><body>hi</body></message>`)
	deadline := time.Now().Add(5 * time.Second)
	var got []string
	for len(got) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		got = b.rec.Take()
	}
	if len(got) != 1 || !strings.Contains(got[0], "<body>hi</body>") || !strings.Contains(got[0], `from="x@o.test/r"`) || !strings.Contains(got[0], "jabber:client") {
		t.Fatalf("delivered %v", got)
	}
	// o.test is verified, evil.test is not (RFC 6120 §4.9.3.9).
	c.Send(`<message from='x@evil.test' to='user@b.test'><body>spoof</body></message>`)
	if got := c.ExpectStreamError(); got != "invalid-from" {
		t.Fatalf("stream error %q, want invalid-from", got)
	}
}

// TestDialbackVerify is the authoritative server's side: b answers
// whether a key for a stream id is its own.
func TestDialbackVerify(t *testing.T) {
	b := startNode(t, "b.test", "b-secret", false, nil)
	c := open(t, b, `from='r.test' to='b.test'`)
	c.Next()
	good := s2s.DialbackKey([]byte("b-secret"), "r.test", "b.test", "stream1")
	for _, tc := range []struct{ key, want string }{{good, "valid"}, {good[:10] + "0" + good[11:], "invalid"}} {
		c.Sendf(`<db:verify from='r.test' to='b.test' id='stream1'>%s</db:verify>`, tc.key)
		v := c.Expect(func(el *xml.Element) bool { return el.Is(nsDB, "verify") })
		if v.Attr("type") != tc.want || v.Attr("id") != "stream1" || v.Attr("from") != "b.test" || v.Attr("to") != "r.test" {
			t.Fatalf("verify answered %s, want type %s", v, tc.want)
		}
	}
}

// TestRequireEncryption: with require_encryption, STARTTLS is offered as
// required, dialback only after it, and a db:result in the clear ends the
// stream.
func TestRequireEncryption(t *testing.T) {
	b := startNode(t, "b.test", "b-secret", true, nil)
	c := open(t, b, `from='o.test' to='b.test'`)
	f := c.Next()
	tls := f.Child("urn:ietf:params:xml:ns:xmpp-tls", "starttls")
	if tls == nil || tls.Child("urn:ietf:params:xml:ns:xmpp-tls", "required") == nil {
		t.Fatalf("features %s: want required STARTTLS", f)
	}
	if f.Child("urn:xmpp:features:dialback", "dialback") != nil {
		t.Fatalf("dialback offered before TLS: %s", f)
	}
	c.Send(`<db:result from='o.test' to='b.test'>00</db:result>`)
	if got := c.ExpectStreamError(); got != "policy-violation" {
		t.Fatalf("stream error %q, want policy-violation", got)
	}
}

// TestOutgoingBetweenNodes: a stanza b.test routes to o.test goes over a
// stream b sets up with STARTTLS and arrives at o's user from b's user.
// With self-signed certificates the stream is authenticated by dialback
// (o connects back to b to verify the key); with certificates the peers
// trust, by SASL EXTERNAL, and no dialback happens.
func TestOutgoingBetweenNodes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		roots    *x509.CertPool
		external bool
	}{{"dialback", nil, false}, {"sasl external", x509.NewCertPool(), true}} {
		t.Run(tc.name, func(t *testing.T) {
			oRoutes := map[string]string{}
			o := startNodeRoots(t, "o.test", "o-secret", true, oRoutes, tc.roots)
			b := startNodeRoots(t, "b.test", "b-secret", true, map[string]string{"o.test": o.addr}, tc.roots)
			// Written before any stream exists: o reads it when verifying b.
			oRoutes["b.test"] = b.addr
			msg := routertest.Parse(t, `<message from='user@b.test/res' to='user@o.test' type='chat'><body>over s2s</body></message>`)
			if err := b.r.SendRemote(msg, jid.MustParse("user@b.test/res"), jid.MustParse("user@o.test")); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(5 * time.Second)
			var got []string
			for len(got) == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
				got = o.rec.Take()
			}
			if len(got) != 1 || !strings.Contains(got[0], "over s2s") {
				t.Fatalf("o's user got %v", got)
			}
			ext, _ := o.metrics.Value("skald_s2s_sasl_external_total")
			db, _ := o.metrics.Value("skald_s2s_dialback_valid_total")
			if tc.external && (ext != 1 || db != 0) || !tc.external && (ext != 0 || db != 1) {
				t.Fatalf("SASL EXTERNAL %v, dialback %v", ext, db)
			}
		})
	}
}

// TestQueueAndTimeout: while a stream is set up stanzas wait in its
// queue; beyond queue_stanzas one is refused at once (resource-
// constraint), and when the peer never answers, the queued ones bounce
// to their senders with remote-server-timeout (RFC 6120 §8.3.3.16).
func TestQueueAndTimeout(t *testing.T) {
	// A peer that accepts connections and says nothing.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	tweak = func(c *s2s.Config) { c.QueueStanzas = 1; c.ConnectTimeout = time.Second }
	b := startNode(t, "b.test", "b-secret", true, map[string]string{"mute.test": l.Addr().String()})
	tweak = nil
	from, to := jid.MustParse("user@b.test/res"), jid.MustParse("x@mute.test")
	first := routertest.Parse(t, `<message from='user@b.test/res' to='x@mute.test' id='1'><body>a</body></message>`)
	if err := b.r.SendRemote(first, from, to); err != nil {
		t.Fatal(err)
	}
	second := routertest.Parse(t, `<message from='user@b.test/res' to='x@mute.test' id='2'><body>b</body></message>`)
	var se *stanza.Error
	if err := b.r.SendRemote(second, from, to); !errors.As(err, &se) || se.Condition != stanza.ResourceConstraint {
		t.Fatalf("second stanza: %v, want resource-constraint", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	var got []string
	for len(got) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		got = b.rec.Take()
	}
	if len(got) != 1 || !strings.Contains(got[0], `id="1"`) || !strings.Contains(got[0], "remote-server-timeout") || !strings.Contains(got[0], `from="x@mute.test"`) {
		t.Fatalf("bounced %v", got)
	}
}

// TestLimits: a stanza over max_stanza_bytes from a verified peer ends
// its stream (RFC 6120 §13.12: policy-violation), and connections over
// connections_per_ip are closed at once.
func TestLimits(t *testing.T) {
	o := startNode(t, "o.test", "o-secret", false, nil)
	tweak = func(c *s2s.Config) { c.MaxStanzaBytes = 10000; c.ConnectionsPerIP = 2 }
	b := startNode(t, "b.test", "b-secret", false, map[string]string{"o.test": o.addr})
	tweak = nil
	c, res := dialback(t, b, func(id string) string {
		return s2s.DialbackKey([]byte("o-secret"), "b.test", "o.test", id)
	})
	if res.Attr("type") != "valid" {
		t.Fatalf("dialback %s", res)
	}
	// c is one stream from this address; a second is served, a third is
	// over the limit and closed without a word.
	open(t, b, `from='o.test' to='b.test'`)
	over, err := net.Dial("tcp", b.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	over.Write([]byte(`<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' from='o.test' to='b.test' version='1.0'>`))
	over.SetReadDeadline(time.Now().Add(3 * time.Second))
	if n, err := over.Read(make([]byte, 100)); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection over connections_per_ip: read %d bytes, %v; want it closed", n, err)
	}
	c.Send(`<message from='x@o.test' to='user@b.test'><body>` + strings.Repeat("x", 12000) + `</body></message>`)
	if got := c.ExpectStreamError(); got != "policy-violation" {
		t.Fatalf("stream error %q, want policy-violation", got)
	}
	if got := b.rec.Take(); len(got) != 0 {
		t.Fatalf("delivered %v", got)
	}
}
