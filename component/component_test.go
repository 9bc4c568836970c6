package component_test

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/component"
	"github.com/skald-xmpp/skald/internal/metrics"
	"github.com/skald-xmpp/skald/internal/metrics/metricstest"
	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
)

const (
	gw     = "gw.example.org"
	secret = "s3cr&t"
)

// env is a router serving example.org (account alice, bound as
// alice@example.org/a) with a component server accepting gw.example.org
// on a loopback listener.
type env struct {
	*routertest.Env
	srv   *component.Server
	addr  string
	alice *routertest.Recorder
	reg   *metrics.Registry
}

func start(t *testing.T, tweak func(*component.Config)) *env {
	t.Helper()
	e := &env{Env: routertest.New(t, "alice@example.org")}
	cfg := component.DefaultConfig()
	cfg.Address = "127.0.0.1:0"
	cfg.Domains = []component.Domain{{Domain: gw, Secret: secret}, {Domain: "other.example.org", Secret: "x"}}
	if tweak != nil {
		tweak(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	e.srv = component.New(cfg, e.Router, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.reg = metrics.NewRegistry()
	e.reg.Register(e.srv)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = l.Addr().String()
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.srv.Shutdown(ctx)
		<-done
	})
	_, e.alice = e.Bind("alice@example.org/a", true, 0)
	return e
}

// peer is a raw component connection.
type peer struct {
	t  *testing.T
	nc net.Conn
	rd *xml.Reader
	id string // the server's stream id
	// header is the server's stream header as read.
	header *xml.Element
}

// dial connects and sends a stream header in namespace ns to 'to', then
// reads the server's header.
func (e *env) dial(t *testing.T, ns, to string) *peer {
	t.Helper()
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	p := &peer{t: t, nc: nc, rd: xml.NewReader(bufio.NewReader(nc), xml.DefaultLimits, 0)}
	p.write(`<?xml version='1.0'?><stream:stream xmlns='` + ns + `' xmlns:stream='http://etherx.jabber.org/streams' to='` + to + `'>`)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	root, _, err := p.rd.ReadStreamStart()
	if err != nil {
		t.Fatal("server header:", err)
	}
	p.header, p.id = root, root.Attr("id")
	return p
}

func (p *peer) write(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.nc, s); err != nil {
		p.t.Fatal(err)
	}
}

// next reads the next element, "" at the end of the stream.
func (p *peer) next() string {
	p.t.Helper()
	p.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	el, err := p.rd.Next()
	if errors.Is(err, xml.ErrStreamEnd) {
		return ""
	}
	if err != nil {
		p.t.Fatal("read:", err)
	}
	return el.String()
}

func handshake(id, secret string) string {
	sum := sha1.Sum([]byte(id + secret))
	return hex.EncodeToString(sum[:])
}

// connect opens an authenticated component stream for gw.
func (e *env) connect(t *testing.T) *peer {
	t.Helper()
	p := e.dial(t, component.NSAccept, gw)
	p.write(`<handshake>` + handshake(p.id, secret) + `</handshake>`)
	if got := p.next(); got != `<handshake xmlns="jabber:component:accept"/>` {
		t.Fatalf("handshake answered %s", got)
	}
	waitFor(t, func() bool { return e.Router.IsComponentDomain(gw) && e.srv.ComponentConnected(gw) })
	return p
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met in 5s")
}

func streamError(cond string) string {
	return `<error xmlns="http://etherx.jabber.org/streams"><` + cond + ` xmlns="urn:ietf:params:xml:ns:xmpp-streams"/></error>`
}

func TestHandshake(t *testing.T) {
	tests := []struct {
		name string
		ns   string
		to   string
		send func(p *peer) string // what the component sends after the header
		want []string             // what follows the server's header, "" = end of stream
		from string               // the server header's 'from'
	}{
		{"ok", component.NSAccept, gw, func(p *peer) string { return `<handshake>` + handshake(p.id, secret) + `</handshake>` },
			[]string{`<handshake xmlns="jabber:component:accept"/>`}, gw},
		{"uppercase and spaces forgiven", component.NSAccept, "GW.example.org", func(p *peer) string {
			return `<handshake> ` + strings.ToUpper(handshake(p.id, secret)) + "\n</handshake>"
		}, []string{`<handshake xmlns="jabber:component:accept"/>`}, gw},
		{"wrong secret", component.NSAccept, gw, func(p *peer) string { return `<handshake>` + handshake(p.id, "wrong") + `</handshake>` },
			[]string{streamError("not-authorized"), ""}, gw},
		{"another stream's id", component.NSAccept, gw, func(p *peer) string { return `<handshake>` + handshake("3BF96D32", secret) + `</handshake>` },
			[]string{streamError("not-authorized"), ""}, gw},
		{"stanza before handshake", component.NSAccept, gw, func(p *peer) string {
			return `<message from='bob@gw.example.org' to='alice@example.org'/>`
		}, []string{streamError("not-authorized"), ""}, gw},
		{"unknown domain", component.NSAccept, "nope.example.org", nil, []string{streamError("host-unknown"), ""}, ""},
		{"hosted domain is no component", component.NSAccept, "example.org", nil, []string{streamError("host-unknown"), ""}, ""},
		{"no to", component.NSAccept, "", nil, []string{streamError("host-unknown"), ""}, ""},
		{"client namespace", "jabber:client", gw, nil, []string{streamError("invalid-namespace"), ""}, gw},
		{"server namespace", "jabber:server", gw, nil, []string{streamError("invalid-namespace"), ""}, gw},
	}
	e := start(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.dial(t, tt.ns, tt.to)
			if p.header.Attr("from") != tt.from || len(p.id) < 16 {
				t.Errorf("server header %s, want from %q and a long id", p.header.String(), tt.from)
			}
			if p.header.HasAttr("version") {
				t.Errorf("server header %s has a version: XEP-0114 streams have none", p.header.String())
			}
			if tt.send != nil {
				p.write(tt.send(p))
			}
			for i, want := range tt.want {
				if got := p.next(); got != want {
					t.Fatalf("element %d: %s, want %s", i, got, want)
				}
			}
			p.write(`</stream:stream>`)
			p.nc.Close()
			waitFor(t, func() bool { return !e.srv.ComponentConnected(gw) })
		})
	}
	for name, want := range map[string]float64{"skald_component_handshakes_total": 2, "skald_component_handshake_failures_total": 8, "skald_component_connections_total": 10} {
		if got := metricstest.Value(t, e.reg, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

// TestConflict: a second stream for a connected domain is refused; the
// first keeps the domain.
func TestConflict(t *testing.T) {
	e := start(t, nil)
	first := e.connect(t)
	second := e.dial(t, component.NSAccept, gw)
	for _, want := range []string{streamError("conflict"), ""} {
		if got := second.next(); got != want {
			t.Fatalf("second: %s, want %s", got, want)
		}
	}
	e.Send(e.aliceSession(), `<message to='bob@gw.example.org' id='m1'><body>still here</body></message>`)
	if got := first.next(); !strings.Contains(got, `id="m1"`) {
		t.Fatalf("first component got %s", got)
	}
	// Once the first is gone, the domain is free again.
	first.write(`</stream:stream>`)
	if got := first.next(); got != "" {
		t.Fatalf("first after its close: %s", got)
	}
	waitFor(t, func() bool { return !e.srv.ComponentConnected(gw) })
	e.connect(t)
}

func (e *env) aliceSession() *router.Session {
	return e.Router.Session(jid.MustParse("alice@example.org/a"))
}

// TestRouting: stanzas both ways over a real component stream.
func TestRouting(t *testing.T) {
	e := start(t, nil)
	p := e.connect(t)
	alice := e.aliceSession()

	// Local user to the component: in the stream's namespace, with the
	// user's full JID.
	e.Send(alice, `<message to='bob@gw.example.org' id='m1' type='chat'><body>hi</body></message>`)
	e.Send(alice, `<iq to='gw.example.org' type='get' id='i1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	e.Send(alice, `<presence to='bob@gw.example.org' type='probe'/>`) // no presence module here: dropped
	for _, want := range []string{
		`<message xmlns="jabber:component:accept" to="bob@gw.example.org" id="m1" type="chat" from="alice@example.org/a"><body>hi</body></message>`,
		`<iq xmlns="jabber:component:accept" to="gw.example.org" type="get" id="i1" from="alice@example.org/a"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
	} {
		if got := p.next(); got != want {
			t.Fatalf("component got %s\nwant %s", got, want)
		}
	}

	// The component to the local user, from any JID on its domain, in
	// its namespace or in jabber:client.
	p.write(`<iq from='gw.example.org' to='alice@example.org/a' type='result' id='i1'><query xmlns='http://jabber.org/protocol/disco#info'><identity category='gateway' type='irc'/></query></iq>`)
	p.write(`<message xmlns='jabber:client' from='bob@gw.example.org/irc' to='alice@example.org/a' id='r1' type='chat'><body>hello</body></message>`)
	routertest.Equal(t, "alice", e.takeAlice(t, 2),
		`<iq xmlns="jabber:client" from="gw.example.org" to="alice@example.org/a" type="result" id="i1"><query xmlns="http://jabber.org/protocol/disco#info"><identity category="gateway" type="irc"/></query></iq>`,
		`<message xmlns="jabber:client" from="bob@gw.example.org/irc" to="alice@example.org/a" id="r1" type="chat"><body>hello</body></message>`)

	// An iq to the server is answered over the stream (no handler here).
	p.write(`<iq from='gw.example.org' to='example.org' type='get' id='s1'><query xmlns='jabber:iq:version'/></iq>`)
	if got, want := p.next(), `<iq xmlns="jabber:component:accept" id="s1" from="example.org" to="gw.example.org" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`; got != want {
		t.Fatalf("server's answer %s\nwant %s", got, want)
	}
	// To a remote domain without federation: answered to the component.
	p.write(`<message from='bob@gw.example.org' to='carol@remote.example' id='x1'><body>far</body></message>`)
	if got, want := p.next(), `<message xmlns="jabber:component:accept" id="x1" from="carol@remote.example" to="bob@gw.example.org" type="error"><body>far</body><error type="cancel"><remote-server-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`; got != want {
		t.Fatalf("remote refusal %s\nwant %s", got, want)
	}
	for name, want := range map[string]float64{"skald_component_stanzas_received_total": 4, "skald_component_stanzas_sent_total": 4, "skald_component_connected": 1} {
		if got := metricstest.Value(t, e.reg, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

// TestStreamErrors: what ends an authenticated component stream.
func TestStreamErrors(t *testing.T) {
	tests := []struct {
		name, send, want string
	}{
		{"from another domain", `<message from='bob@example.org' to='alice@example.org/a'><body>x</body></message>`, "invalid-from"},
		{"from a local user, to a remote JID", `<message from='alice@example.org/a' to='carol@remote.example'><body>x</body></message>`, "invalid-from"},
		{"from the other component, to it", `<message from='bob@other.example.org' to='x@other.example.org'><body>x</body></message>`, "invalid-from"},
		{"from a subdomain", `<message from='bob@sub.gw.example.org' to='alice@example.org/a'><body>x</body></message>`, "invalid-from"},
		{"from the other component", `<message from='bob@other.example.org' to='alice@example.org/a'><body>x</body></message>`, "invalid-from"},
		{"malformed from", `<message from='@gw.example.org' to='alice@example.org/a'><body>x</body></message>`, "invalid-from"},
		{"no from", `<message to='alice@example.org/a'><body>x</body></message>`, "improper-addressing"},
		{"no to", `<message from='bob@gw.example.org'><body>x</body></message>`, "improper-addressing"},
		{"not a stanza", `<handshake>00</handshake>`, "unsupported-stanza-type"},
		{"too large", `<message from='bob@gw.example.org' to='alice@example.org/a'><body>` + strings.Repeat("x", 20000) + `</body></message>`, "policy-violation"},
		{"not well-formed", `<message from='bob@gw.example.org' to='alice@example.org/a'></iq>`, "not-well-formed"},
	}
	e := start(t, func(c *component.Config) { c.MaxStanzaBytes = 10000; c.SendQueueBytes = 10000 })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := e.connect(t)
			p.write(tt.send)
			if got, want := p.next(), `<error xmlns="http://etherx.jabber.org/streams"><`+tt.want+` `; !strings.HasPrefix(got, want) {
				t.Fatalf("%s, want %s...", got, want)
			}
			if got := p.next(); got != "" {
				t.Fatalf("%s after the stream error", got)
			}
			waitFor(t, func() bool { return !e.srv.ComponentConnected(gw) })
			if got := e.alice.Take(); len(got) != 0 {
				t.Errorf("alice got %s", got)
			}
		})
	}
}

// TestOffline: while no component is connected, messages and iqs to its
// domain bounce service-unavailable (RFC 6120 §10.4.2); presence is
// dropped.
func TestOffline(t *testing.T) {
	e := start(t, nil)
	p := e.connect(t)
	p.write(`</stream:stream>`)
	if got := p.next(); got != "" {
		t.Fatalf("after our close: %s", got)
	}
	waitFor(t, func() bool { return !e.srv.ComponentConnected(gw) })
	alice := e.aliceSession()
	e.Send(alice, `<message to='bob@gw.example.org' id='m1' type='chat'><body>hi</body></message>`)
	e.Send(alice, `<iq to='gw.example.org' type='get' id='i1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	e.Send(alice, `<presence to='bob@gw.example.org' type='probe'/>`)
	e.Send(alice, `<message to='bob@gw.example.org' id='m2' type='error'/>`)
	routertest.Expect(t, e.alice,
		`<message xmlns="jabber:client" id="m1" from="bob@gw.example.org" to="alice@example.org/a" type="error"><body>hi</body><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`,
		`<iq xmlns="jabber:client" id="i1" from="gw.example.org" to="alice@example.org/a" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)
}

// TestShutdown: the stream ends with system-shutdown and
// </stream:stream>, after what was queued, and Shutdown returns once the
// connection's goroutines are done.
func TestShutdown(t *testing.T) {
	e := start(t, nil)
	p := e.connect(t)
	e.Send(e.aliceSession(), `<message to='bob@gw.example.org' id='m1'><body>last</body></message>`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<message xmlns="jabber:component:accept" to="bob@gw.example.org" id="m1" from="alice@example.org/a"><body>last</body></message>`,
		streamError("system-shutdown"), "",
	} {
		if got := p.next(); got != want {
			t.Fatalf("%s, want %s", got, want)
		}
	}
	if e.srv.ComponentConnected(gw) {
		t.Error("still connected after Shutdown")
	}
}

// TestSlowConsumer: a component that does not read is cut off once its
// queue is full; the stanza that overflowed it is refused.
func TestSlowConsumer(t *testing.T) {
	e := start(t, func(c *component.Config) { c.MaxStanzaBytes = 10000; c.SendQueueBytes = 10000 })
	p := e.connect(t)
	alice := e.aliceSession()
	body := strings.Repeat("x", 4000)
	refused := false
	for i := 0; i < 20000 && !refused; i++ {
		e.Send(alice, `<message to='bob@gw.example.org'><body>`+body+`</body></message>`)
		for _, st := range e.alice.Take() {
			if strings.Contains(st, "resource-constraint") || strings.Contains(st, "service-unavailable") {
				refused = true
			}
		}
	}
	if !refused {
		t.Fatal("a component that never reads was never cut off")
	}
	waitFor(t, func() bool { return !e.srv.ComponentConnected(gw) })
	if got := metricstest.Value(t, e.reg, "skald_component_slow_consumer_disconnects_total"); got != 1 {
		t.Errorf("slow consumer disconnects = %v, want 1", got)
	}
	p.nc.Close()
}

// takeAlice waits until alice's session was sent n stanzas and returns them.
func (e *env) takeAlice(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	waitFor(t, func() bool { got = append(got, e.alice.Take()...); return len(got) >= n })
	return got
}

// TestHandshakeTimeout: a component that does not authenticate within
// handshake_timeout is cut off with connection-timeout, whatever it
// sends meanwhile.
func TestHandshakeTimeout(t *testing.T) {
	e := start(t, func(c *component.Config) { c.HandshakeTimeout = time.Second })
	p := e.dial(t, component.NSAccept, gw)
	p.write(" ")
	start := time.Now()
	for _, want := range []string{streamError("connection-timeout"), ""} {
		if got := p.next(); got != want {
			t.Fatalf("%s, want %s", got, want)
		}
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Errorf("cut off after %v, want about 1s", d)
	}
	if got := metricstest.Value(t, e.reg, "skald_component_handshake_failures_total"); got != 1 {
		t.Errorf("handshake failures = %v, want 1", got)
	}
}

// TestPendingCap: connections that have not authenticated yet are capped
// (max_pending_connections): one over the cap is closed at once, without
// a header, so that idle connections cannot pile up until
// handshake_timeout; authenticated streams do not count, and a slot
// frees when a pending connection ends.
func TestPendingCap(t *testing.T) {
	e := start(t, func(c *component.Config) { c.MaxPendingConnections = 2 })
	e.connect(t) // authenticated: not pending
	var pending []net.Conn
	for i := 0; i < 2; i++ {
		nc, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		pending = append(pending, nc)
	}
	waitFor(t, func() bool { return metricstest.Value(t, e.reg, "skald_component_connections_total") == 3 })
	over, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	over.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := over.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("a connection over the cap read %d bytes, %v; want it closed", n, err)
	}
	if got := metricstest.Value(t, e.reg, "skald_component_connections_refused_total"); got != 1 {
		t.Errorf("refused = %v, want 1", got)
	}
	// A pending connection leaves: the next one is served.
	pending[0].Close()
	waitFor(t, func() bool {
		nc, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		io.WriteString(nc, `<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='`+gw+`'>`)
		nc.SetReadDeadline(time.Now().Add(time.Second))
		n, _ := nc.Read(make([]byte, 1))
		return n == 1
	})
}

// TestCutOffBounces: when a component that does not read is cut off,
// every message queued for it and not written to its socket bounces to
// its sender (as s2s bounces what is left on a failed stream): none is
// lost unanswered. Each message either reached the component's socket
// or was answered with an error (a batch cut mid-write may be both).
func TestCutOffBounces(t *testing.T) {
	e := start(t, func(c *component.Config) { c.MaxStanzaBytes = 10000; c.SendQueueBytes = 10000 })
	p := e.connect(t)
	alice := e.aliceSession()
	body := strings.Repeat("x", 3000)
	bounced := map[string]bool{}
	sent := 0
	for ; sent < 20000 && e.srv.ComponentConnected(gw); sent++ {
		e.Send(alice, fmt.Sprintf(`<message to='bob@gw.example.org' id='m%d'><body>%s</body></message>`, sent, body))
	}
	if e.srv.ComponentConnected(gw) {
		t.Fatal("a component that never reads was never cut off")
	}
	// What reached the socket, up to the cut.
	received := map[string]bool{}
	p.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		el, err := p.rd.Next()
		if err != nil {
			break
		}
		if el.Local == "message" {
			received[el.Attr("id")] = true
		}
	}
	waitFor(t, func() bool {
		for _, st := range e.alice.Take() {
			if el := routertest.Parse(t, st); el.Attr("type") == "error" {
				bounced[el.Attr("id")] = true
			}
		}
		for i := 0; i < sent; i++ {
			if id := fmt.Sprintf("m%d", i); !received[id] && !bounced[id] {
				return false
			}
		}
		return true
	})
}
