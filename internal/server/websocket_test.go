package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	ws "github.com/coder/websocket"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

const (
	nsStreams     = "http://etherx.jabber.org/streams"
	nsStreamError = "urn:ietf:params:xml:ns:xmpp-streams"
)

// startWebSocketServer runs a server whose [websocket] section is
// address = "127.0.0.1:0" and the given lines, and returns it with the
// WebSocket endpoint's URL.
func startWebSocketServer(t *testing.T, section string, tweak ...func(*config.Config)) (*testServer, string) {
	t.Helper()
	cfg := loadConfigFile(t, "[websocket]\naddress = \"127.0.0.1:0\"\n"+section+"\n")
	var tw func(*config.Config)
	if len(tweak) > 0 {
		tw = tweak[0]
	}
	s := startServerConfig(t, cfg, nil, tw)
	scheme := "ws://"
	if strings.Contains(section, "tls = true") {
		scheme = "wss://"
	}
	return s, scheme + s.WebSocketAddr() + "/xmpp-websocket"
}

func mechanisms(features *xml.Element) []string {
	var names []string
	if m := features.Child("urn:ietf:params:xml:ns:xmpp-sasl", "mechanisms"); m != nil {
		for _, e := range m.Elements() {
			names = append(names, e.Text())
		}
	}
	return names
}

// TestWebSocketHandshakeNeedsXMPPSubprotocol: RFC 7395 §3.1, the
// handshake must negotiate "xmpp"; without it there is no session and the
// request is refused before any upgrade.
func TestWebSocketHandshakeNeedsXMPPSubprotocol(t *testing.T) {
	_, url := startWebSocketServer(t, "tls = false")
	for _, protos := range [][]string{nil, {"chat"}, {"XMPP"}} {
		c, resp, err := xmpptest.DialWebSocketWith(url, &ws.DialOptions{Subprotocols: protos})
		if err == nil {
			c.CloseNow()
			t.Fatalf("subprotocols %q: handshake accepted", protos)
		}
		if resp == nil || resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("subprotocols %q: response %v, want 400", protos, resp)
		}
	}
	// With it, among others, the server picks it.
	c, _, err := xmpptest.DialWebSocketWith(url, &ws.DialOptions{Subprotocols: []string{"chat", "xmpp"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if c.Subprotocol() != "xmpp" {
		t.Fatalf("subprotocol %q", c.Subprotocol())
	}
}

// TestWebSocketSession walks a browser client's path: <open/>, features
// without STARTTLS, SCRAM-SHA-1, a new <open/>, bind, a chat with a TCP
// client both ways, a MAM query, and the <close/> handshake. Every frame
// the server sends is parsed on its own, so each must declare its
// namespaces.
func TestWebSocketSession(t *testing.T) {
	s, url := startWebSocketServer(t, "tls = false")
	alice := xmpptest.DialWebSocket(t, url)
	alice.OpenStream("localhost")
	if alice.Open.Attr("from") != "localhost" || alice.Open.Attr("version") != "1.0" || alice.Open.Attr("id") == "" {
		t.Fatalf("server <open/>: %s", alice.Open)
	}
	if alice.Features.Child("urn:ietf:params:xml:ns:xmpp-tls", "starttls") != nil {
		t.Fatalf("STARTTLS offered over WebSocket: %s", alice.Features)
	}
	mechs := strings.Join(mechanisms(alice.Features), " ")
	if !strings.Contains(mechs, "SCRAM-SHA-1") || strings.Contains(mechs, "PLAIN") || strings.Contains(mechs, "PLUS") {
		t.Fatalf("mechanisms over plain loopback ws: %s", mechs)
	}
	if err := alice.TrySCRAMWith(xmpptest.SCRAM{Mechanism: "SCRAM-SHA-1"}, "alice", "pw-alice"); err != nil {
		t.Fatal(err)
	}
	alice.OpenStream("localhost")
	if alice.Features.Child("urn:ietf:params:xml:ns:xmpp-bind", "bind") == nil {
		t.Fatalf("features after authentication: %s", alice.Features)
	}
	if j := alice.Bind("browser"); j != "alice@localhost/browser" {
		t.Fatalf("bound %s", j)
	}

	bob := login(t, s, "bob", "desk")
	alice.Send(`<message xmlns='jabber:client' to='bob@localhost/desk' type='chat' id='m1'><body>hello over websocket</body></message>`)
	got := bob.Expect(isMessageWithBody("hello over websocket"))
	if got.Attr("from") != "alice@localhost/browser" {
		t.Fatalf("bob got %s", got)
	}
	bob.Send(`<message to='alice@localhost/browser' type='chat' id='m2'><body>hello back</body></message>`)
	back := alice.Expect(func(e *xml.Element) bool { return e.Local == "message" })
	if !back.Is("jabber:client", "message") || back.ChildText("jabber:client", "body") != "hello back" || back.Attr("from") != "bob@localhost/desk" {
		t.Fatalf("alice got %s", back)
	}

	alice.Send(`<iq xmlns='jabber:client' type='set' id='q1'><query xmlns='urn:xmpp:mam:2' queryid='q1'/></iq>`)
	var bodies []string
	for {
		el := alice.Next()
		if r := el.Child(nsMAM, "result"); el.Is("jabber:client", "message") && r != nil {
			msg := r.Child("urn:xmpp:forward:0", "forwarded").Child("jabber:client", "message")
			bodies = append(bodies, msg.ChildText("jabber:client", "body"))
			continue
		}
		if !el.Is("jabber:client", "iq") || el.Attr("id") != "q1" || el.Attr("type") != "result" || el.Child(nsMAM, "fin") == nil {
			t.Fatalf("MAM answer: %s", el)
		}
		break
	}
	if strings.Join(bodies, "|") != "hello over websocket|hello back" {
		t.Fatalf("archive over websocket: %q", bodies)
	}

	alice.CloseStream()
	if rest := alice.ExpectClosed(); len(rest) != 0 {
		t.Fatalf("before <close/>: %v", rest)
	}
}

// TestWebSocketStreamErrors: a frame that breaks RFC 7395's framing gets
// the stream error, after the server's <open/> if it had sent none, then
// <close/> and the closing handshake.
func TestWebSocketStreamErrors(t *testing.T) {
	_, url := startWebSocketServer(t, "tls = false")
	open := `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>`
	tests := []struct {
		name   string
		frames []string // after them, the frame that fails
		bad    string
		binary bool
		want   string
	}{
		{name: "open in the client namespace", bad: `<open xmlns='jabber:client' to='localhost' version='1.0'/>`, want: "invalid-namespace"},
		{name: "RFC 6120 stream header", bad: `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`, want: "not-well-formed"},
		{name: "self-closed stream header", bad: `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'/>`, want: "invalid-namespace"},
		{name: "stanza before open", bad: `<presence xmlns='jabber:client'/>`, want: "bad-format"},
		{name: "two elements in a frame", frames: []string{open}, bad: `<presence xmlns='jabber:client'/><presence xmlns='jabber:client'/>`, want: "not-well-formed"},
		{name: "partial element", frames: []string{open}, bad: `<iq xmlns='jabber:client' type='get' id='1'>`, want: "not-well-formed"},
		{name: "end tag smuggled past the frame", frames: []string{open}, bad: `<presence xmlns='jabber:client'/></frame><frame>`, want: "not-well-formed"},
		{name: "undeclared prefix", frames: []string{open}, bad: `<stream:features/>`, want: "bad-namespace-prefix"},
		{name: "oversize frame", frames: []string{open}, bad: `<message xmlns='jabber:client'><body>` + strings.Repeat("x", 300<<10) + `</body></message>`, want: "policy-violation"},
		{name: "second open before authentication", frames: []string{open}, bad: open, want: "policy-violation"},
		{name: "binary frame", frames: []string{open}, bad: open, binary: true, want: "unsupported-encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := xmpptest.DialWebSocket(t, url)
			for _, f := range tt.frames {
				c.Send(f)
			}
			if tt.binary {
				if err := c.WS.Write(context.Background(), ws.MessageBinary, []byte(tt.bad)); err != nil {
					t.Fatal(err)
				}
			} else {
				c.Send(tt.bad)
			}
			before := c.ExpectClosed()
			if len(before) < 2 || !before[0].Is(xmpptest.NSFraming, "open") {
				t.Fatalf("frames before <close/>: %v", before)
			}
			se := before[len(before)-1]
			if !se.Is(nsStreams, "error") || se.FirstElement() == nil || !se.FirstElement().Is(nsStreamError, tt.want) {
				t.Fatalf("stream error %s, want %s", se, tt.want)
			}
		})
	}
}

// TestWebSocketHostMeta: XEP-0156 discovery documents, readable from any
// origin, announce the endpoint.
func TestWebSocketHostMeta(t *testing.T) {
	s, url := startWebSocketServer(t, "tls = false")
	base := "http://" + s.WebSocketAddr()
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("%s: %s %v", path, resp.Status, resp.Header)
		}
		return resp, string(b)
	}
	resp, body := get("/.well-known/host-meta")
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xrd+xml") {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	rd := xml.NewReader(strings.NewReader(body), xml.DefaultLimits, 0)
	root, _, err := rd.ReadStreamStart()
	if err != nil || !root.Is("http://docs.oasis-open.org/ns/xri/xrd-1.0", "XRD") {
		t.Fatalf("host-meta %q: %v", body, err)
	}
	link, err := rd.Next()
	if err != nil || !link.Is("http://docs.oasis-open.org/ns/xri/xrd-1.0", "Link") ||
		link.Attr("rel") != "urn:xmpp:alt-connections:websocket" || link.Attr("href") != url {
		t.Fatalf("host-meta link %s (%v), want %s", link, err, url)
	}

	resp, body = get("/.well-known/host-meta.json")
	var doc struct {
		Links []struct{ Rel, Href string } `json:"links"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("host-meta.json %q: %v", body, err)
	}
	if len(doc.Links) != 1 || doc.Links[0].Rel != "urn:xmpp:alt-connections:websocket" || doc.Links[0].Href != url {
		t.Fatalf("host-meta.json links %+v, want %s", doc.Links, url)
	}
}

// TestWebSocketOverTLS: wss:// with the server's certificate counts as
// encrypted: PLAIN is offered, and SCRAM -PLUS binds to that TLS.
func TestWebSocketOverTLS(t *testing.T) {
	_, url := startWebSocketServer(t, "tls = true")
	c := xmpptest.DialWebSocket(t, url)
	c.OpenStream("localhost")
	mechs := strings.Join(mechanisms(c.Features), " ")
	if !strings.Contains(mechs, "PLAIN") || !strings.Contains(mechs, "SCRAM-SHA-256-PLUS") {
		t.Fatalf("mechanisms over wss: %s", mechs)
	}
	if c.Features.Child("urn:ietf:params:xml:ns:xmpp-tls", "starttls") != nil {
		t.Fatalf("STARTTLS offered over wss: %s", c.Features)
	}
	if err := c.TrySCRAMWith(xmpptest.SCRAM{}, "alice", "pw-alice"); err != nil {
		t.Fatal(err)
	}
}

// TestWebSocketBehindProxy: behind a declared TLS-terminating proxy a
// plain connection counts as encrypted (PLAIN offered), and host-meta
// announces wss://.
func TestWebSocketBehindProxy(t *testing.T) {
	s, url := startWebSocketServer(t, "tls = false\nbehind_tls_proxy = true\nurl = \"wss://chat.example.com/xmpp-websocket\"")
	c := xmpptest.DialWebSocket(t, url)
	c.OpenStream("localhost")
	if mechs := strings.Join(mechanisms(c.Features), " "); !strings.Contains(mechs, "PLAIN") || strings.Contains(mechs, "PLUS") {
		t.Fatalf("mechanisms behind a TLS proxy: %s", mechs)
	}
	resp, err := http.Get("http://" + s.WebSocketAddr() + "/.well-known/host-meta.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `"href":"wss://chat.example.com/xmpp-websocket"`) {
		t.Fatalf("host-meta.json %s", b)
	}
}

// TestWebSocketOrigins: with origins listed, a browser page from another
// origin is refused; listed ones and clients without Origin connect.
func TestWebSocketOrigins(t *testing.T) {
	_, url := startWebSocketServer(t, "tls = false\norigins = [\"chat.example.com\"]")
	dial := func(origin string) error {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		c, _, err := xmpptest.DialWebSocketWith(url, &ws.DialOptions{Subprotocols: []string{"xmpp"}, HTTPHeader: h})
		if err == nil {
			c.CloseNow()
		}
		return err
	}
	if err := dial("https://evil.example.org"); err == nil {
		t.Fatal("an unlisted origin connected")
	}
	for _, o := range []string{"https://chat.example.com", ""} {
		if err := dial(o); err != nil {
			t.Fatalf("origin %q: %v", o, err)
		}
	}
}

// TestWebSocketShutdown: Shutdown ends a WebSocket stream with
// system-shutdown and <close/>, then closes the WebSocket and stops
// listening.
func TestWebSocketShutdown(t *testing.T) {
	s, url := startWebSocketServer(t, "tls = false")
	c := xmpptest.DialWebSocket(t, url)
	c.Login("localhost", "alice", "pw-alice", "browser")
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- s.Shutdown(ctx)
	}()
	before := c.ExpectClosed()
	se := before[len(before)-1]
	if !se.Is(nsStreams, "error") || !se.FirstElement().Is(nsStreamError, "system-shutdown") {
		t.Fatalf("got %s, want system-shutdown", se)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, _, err := xmpptest.DialWebSocketWith(url, &ws.DialOptions{Subprotocols: []string{"xmpp"}}); err == nil {
		t.Fatal("still accepting after Shutdown")
	}
}

// TestWebSocketConfig: the [websocket] section is checked as the module
// sections are: unknown keys with their line, and plain ws:// off
// loopback without a TLS proxy.
func TestWebSocketConfig(t *testing.T) {
	tests := []struct{ src, wantErr string }{
		{"[websocket]\naddress = \"127.0.0.1:5280\"\ntls = false\n", ""},
		{"[websocket]\naddress = \"0.0.0.0:5280\"\ntls = false\n", "loopback"},
		{"[websocket]\naddress = \"0.0.0.0:5280\"\ntls = false\nbehind_tls_proxy = true\n", ""},
		{"[websocket]\naddres = \":5281\"\n", `:2: unknown key "addres" in [websocket]`},
		{"[websocket]\nmax_connections = 0\n", "max_connections"},
		{"[websocket]\nmax_connections_per_ip = 0\n", "max_connections_per_ip"},
		{"[websocket]\nmax_connections = 5\nmax_connections_per_ip = 2\n", ""},
	}
	for _, tt := range tests {
		_, err := loadModuleConfig(t, tt.src)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%q: %v, want error containing %q", tt.src, err, tt.wantErr)
		}
	}
}

// TestWebSocketKeepalivePing: on a quiet stream the server's keepalive is
// a WebSocket ping, not a whitespace frame (RFC 7395 has none).
func TestWebSocketKeepalivePing(t *testing.T) {
	_, url := startWebSocketServer(t, "tls = false", func(c *config.Config) { c.C2S.KeepaliveInterval = 500 * time.Millisecond })
	pinged := make(chan struct{}, 1)
	wc, _, err := xmpptest.DialWebSocketWith(url, &ws.DialOptions{Subprotocols: []string{"xmpp"}, OnPingReceived: func(context.Context, []byte) bool {
		select {
		case pinged <- struct{}{}:
		default:
		}
		return true
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer wc.CloseNow()
	c := &xmpptest.WSConn{T: t, WS: wc, Timeout: 5 * time.Second}
	c.Login("localhost", "alice", "pw-alice", "browser")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	frames := make(chan string, 1)
	go func() {
		// Reading answers the pings; nothing else may come.
		if _, b, err := wc.Read(ctx); err == nil {
			frames <- string(b)
		}
	}()
	select {
	case <-pinged:
	case f := <-frames:
		t.Fatalf("keepalive sent as a frame: %q", f)
	case <-time.After(5 * time.Second):
		t.Fatal("no ping on a quiet stream")
	}
}

// TestWebSocketNegotiationTimeout: c2s's deadlines hold over WebSocket,
// and a read that timed out leaves the connection usable for the stream
// error and <close/>.
func TestWebSocketNegotiationTimeout(t *testing.T) {
	_, url := startWebSocketServer(t, "tls = false", func(c *config.Config) { c.C2S.NegotiationTimeout = 300 * time.Millisecond })
	c := xmpptest.DialWebSocket(t, url)
	c.OpenStream("localhost")
	before := c.ExpectClosed()
	if len(before) != 1 || !before[0].Is(nsStreams, "error") || !before[0].FirstElement().Is(nsStreamError, "connection-timeout") {
		t.Fatalf("got %v, want connection-timeout", before)
	}
}

// TestWebSocketStreamResumption: XEP-0198 over WebSocket: a browser whose
// WebSocket dropped (no <close/>) resumes its session on a new one and
// gets what arrived meanwhile.
func TestWebSocketStreamResumption(t *testing.T) {
	s, url := startWebSocketServer(t, "tls = false")
	const nsSM = "urn:xmpp:sm:3"
	first := xmpptest.DialWebSocket(t, url)
	first.Login("localhost", "alice", "pw-alice", "browser")
	first.Send(`<enable xmlns='urn:xmpp:sm:3' resume='true'/>`)
	enabled := first.Next()
	if !enabled.Is(nsSM, "enabled") || enabled.Attr("id") == "" {
		t.Fatalf("got %s, want <enabled/>", enabled)
	}
	first.WS.CloseNow()

	bob := login(t, s, "bob", "desk")
	bob.Send(`<message to='alice@localhost/browser' type='chat' id='while-away'><body>while you were away</body></message>`)

	second := xmpptest.DialWebSocket(t, url)
	second.OpenStream("localhost")
	if err := second.TrySCRAMWith(xmpptest.SCRAM{}, "alice", "pw-alice"); err != nil {
		t.Fatal(err)
	}
	second.OpenStream("localhost")
	second.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>`, enabled.Attr("id"))
	if el := second.Next(); !el.Is(nsSM, "resumed") {
		t.Fatalf("got %s, want <resumed/>", el)
	}
	second.Expect(func(e *xml.Element) bool {
		return e.Is("jabber:client", "message") && e.ChildText("jabber:client", "body") == "while you were away"
	})
}

// TestWebSocketShutdownSilentClients: clients that never answer the
// WebSocket closing handshake (RFC 6455 §7.1.1: the server waits for their
// Close frame) do not hold Shutdown past its context: when it is done, the
// connections are cut, not waited for one after the other.
func TestWebSocketShutdownSilentClients(t *testing.T) {
	s, url := startWebSocketServer(t, "tls = false")
	for range 3 {
		c, _, err := xmpptest.DialWebSocketWith(url, &ws.DialOptions{Subprotocols: []string{"xmpp"}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = c.Write(ctx, ws.MessageText, []byte(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="localhost" version="1.0"/>`))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		// and never reads again
	}
	time.Sleep(100 * time.Millisecond) // the streams are open
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	s.Shutdown(ctx)
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Shutdown with a 1s context took %v", took)
	}
}
