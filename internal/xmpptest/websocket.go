package xmpptest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	ws "github.com/coder/websocket"

	"github.com/skald-xmpp/skald/internal/xml"
)

// NSFraming is RFC 7395's namespace of <open/> and <close/>.
const NSFraming = "urn:ietf:params:xml:ns:xmpp-framing"

// WSConn is a raw-frame XMPP over WebSocket (RFC 7395) test client: it
// sends exactly the frames a test gives it and parses every frame it
// receives on its own, as a standalone document, so that a frame missing
// a namespace declaration shows as an element in no namespace.
type WSConn struct {
	T  testing.TB
	WS *ws.Conn
	// Open is the server's last <open/>; Features its last features.
	Open     *xml.Element
	Features *xml.Element
	Timeout  time.Duration
}

// DialWebSocket opens a WebSocket to url offering the xmpp subprotocol
// (wss:// without verifying the certificate).
func DialWebSocket(t testing.TB, url string) *WSConn {
	t.Helper()
	c, resp, err := DialWebSocketWith(url, &ws.DialOptions{Subprotocols: []string{"xmpp"}})
	if err != nil {
		t.Fatalf("dial %s: %v (response %v)", url, err, resp)
	}
	if c.Subprotocol() != "xmpp" {
		t.Fatalf("subprotocol %q, want xmpp", c.Subprotocol())
	}
	t.Cleanup(func() { c.CloseNow() })
	return &WSConn{T: t, WS: c, Timeout: 5 * time.Second}
}

// DialWebSocketWith dials with opts, trusting any certificate.
func DialWebSocketWith(url string, opts *ws.DialOptions) (*ws.Conn, *http.Response, error) {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return ws.Dial(ctx, url, opts)
}

// Send writes one text frame.
func (c *WSConn) Send(frame string) {
	c.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	if err := c.WS.Write(ctx, ws.MessageText, []byte(frame)); err != nil {
		c.T.Fatalf("write frame: %v", err)
	}
}

// Sendf writes one text frame built with fmt.Sprintf.
func (c *WSConn) Sendf(format string, args ...any) {
	c.T.Helper()
	c.Send(fmt.Sprintf(format, args...))
}

// ReadFrame returns the next frame's text; a binary frame is an error.
func (c *WSConn) ReadFrame() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	typ, b, err := c.WS.Read(ctx)
	if err != nil {
		return "", err
	}
	if typ != ws.MessageText {
		return "", errors.New("binary frame")
	}
	return string(b), nil
}

// TryNext reads the next frame and parses it.
func (c *WSConn) TryNext() (*xml.Element, error) {
	f, err := c.ReadFrame()
	if err != nil {
		return nil, err
	}
	return ParseFrame(f)
}

// Next reads the next frame's element; it fails the test on error.
func (c *WSConn) Next() *xml.Element {
	c.T.Helper()
	el, err := c.TryNext()
	if err != nil {
		c.T.Fatalf("reading frame: %v", err)
	}
	return el
}

// Expect reads frames until one satisfies match.
func (c *WSConn) Expect(match func(*xml.Element) bool) *xml.Element {
	c.T.Helper()
	for {
		if el := c.Next(); match(el) {
			return el
		}
	}
}

// ParseFrame parses a frame as a standalone document holding exactly one
// element (RFC 7395 §3.3.3).
func ParseFrame(f string) (*xml.Element, error) {
	src, tail := bytes.NewReader([]byte(f)), bytes.NewReader([]byte("</w>"))
	rd := xml.NewReader(io.MultiReader(bytes.NewReader([]byte("<w>")), src, tail), xml.Limits{MaxStanzaBytes: 16 << 20, MaxDepth: 64, MaxAttrs: 256}, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		return nil, err
	}
	el, err := rd.Next()
	if err != nil {
		return nil, fmt.Errorf("frame %q: %w", f, err)
	}
	if _, err := rd.Next(); !errors.Is(err, xml.ErrStreamEnd) || src.Len() > 0 || tail.Len() > 0 || rd.Buffered() > 0 {
		return nil, fmt.Errorf("frame %q holds more than one element", f)
	}
	return el, nil
}

// OpenStream sends <open/> to domain and reads the server's <open/> and
// features.
func (c *WSConn) OpenStream(domain string) {
	c.T.Helper()
	c.Sendf(`<open xmlns='%s' to='%s' version='1.0'/>`, NSFraming, domain)
	c.Open = c.Next()
	if !c.Open.Is(NSFraming, "open") {
		c.T.Fatalf("expected <open/>, got %s", c.Open)
	}
	c.Features = c.Next()
	if !c.Features.Is("http://etherx.jabber.org/streams", "features") {
		c.T.Fatalf("expected stream features, got %s", c.Features)
	}
}

// TrySCRAMWith runs a SCRAM exchange (see SCRAM).
func (c *WSConn) TrySCRAMWith(opt SCRAM, user, password string) error {
	return trySCRAM(c, opt, user, password)
}

// Bind binds a resource and returns the full JID.
func (c *WSConn) Bind(resource string) string {
	c.T.Helper()
	c.Sendf(`<iq xmlns='jabber:client' type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>%s</resource></bind></iq>`, resource)
	el := c.Next()
	j := el.Child("urn:ietf:params:xml:ns:xmpp-bind", "bind").ChildText("urn:ietf:params:xml:ns:xmpp-bind", "jid")
	if !el.Is("jabber:client", "iq") || el.Attr("type") != "result" || j == "" {
		c.T.Fatalf("bind failed: %s", el)
	}
	return j
}

// Login opens the stream, authenticates with SCRAM-SHA-1, restarts the
// stream with a new <open/> and binds resource.
func (c *WSConn) Login(domain, user, password, resource string) string {
	c.T.Helper()
	c.OpenStream(domain)
	if err := c.TrySCRAMWith(SCRAM{Mechanism: "SCRAM-SHA-1"}, user, password); err != nil {
		c.T.Fatal(err)
	}
	c.OpenStream(domain)
	return c.Bind(resource)
}

// CloseStream sends <close/>.
func (c *WSConn) CloseStream() {
	c.T.Helper()
	c.Sendf(`<close xmlns='%s'/>`, NSFraming)
}

// ExpectClosed reads until the server's <close/> and then the end of the
// WebSocket (its closing handshake), failing on anything else but
// elements before the <close/>; it returns the elements before it.
func (c *WSConn) ExpectClosed() []*xml.Element {
	c.T.Helper()
	var before []*xml.Element
	for {
		el, err := c.TryNext()
		if err != nil {
			c.T.Fatalf("expected <close/>, got %v", err)
		}
		if el.Is(NSFraming, "close") {
			break
		}
		before = append(before, el)
	}
	if _, err := c.ReadFrame(); ws.CloseStatus(err) != ws.StatusNormalClosure {
		c.T.Fatalf("after <close/>: %v, want the WebSocket closed normally", err)
	}
	return before
}
