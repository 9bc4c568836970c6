package loadgen

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
)

// Namespaces the client speaks.
const (
	nsClient  = "jabber:client"
	nsStream  = "http://etherx.jabber.org/streams"
	nsTLS     = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL    = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsBind    = "urn:ietf:params:xml:ns:xmpp-bind"
	nsSession = "urn:ietf:params:xml:ns:xmpp-session"
	nsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
	nsPing    = "urn:xmpp:ping"
	nsSID     = "urn:xmpp:sid:0"
	nsMAM     = "urn:xmpp:mam:2"
	nsRSM     = "http://jabber.org/protocol/rsm"
	nsForward = "urn:xmpp:forward:0"
	nsDelay   = "urn:xmpp:delay"
	nsData    = "jabber:x:data"
)

// readLimits are generous: the client reads what the server sends, and a
// MAM page of big messages is still one stanza at a time.
var readLimits = xml.Limits{MaxStanzaBytes: 16 << 20, MaxDepth: 64, MaxAttrs: 256}

// MessageHandler receives every <message/> that is not a MAM result. It
// runs on the connection's read goroutine and must not block.
type MessageHandler func(c *Client, m *xml.Element)

// Client is one logged-in XMPP client connection. After Login a goroutine
// reads the stream and dispatches: iq replies to Request, MAM results to
// their query, other messages to the handler. Send and Request are safe for
// concurrent use.
type Client struct {
	JID  jid.JID // the bound full JID
	Bare string  // JID.Bare().String()

	nc      net.Conn
	rd      *xml.Reader
	timeout time.Duration
	mech    string // the SASL mechanism, during negotiation

	wmu sync.Mutex

	mu      sync.Mutex
	pending map[string]chan *xml.Element
	queries map[string]*mamCollector
	err     error // why the read loop ended

	handler atomic.Pointer[MessageHandler]
	ids     atomic.Uint64
	done    chan struct{}
}

// ErrTimeout is returned by Request when the server does not answer within
// the target's timeout.
var ErrTimeout = errors.New("loadgen: request timed out")

// StanzaError is an error reply.
type StanzaError struct {
	Type, Condition, Text string
}

func (e *StanzaError) Error() string {
	s := "stanza error " + e.Condition
	if e.Type != "" {
		s += " (" + e.Type + ")"
	}
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

func stanzaError(el *xml.Element) *StanzaError {
	e := el.Child("", "error")
	se := &StanzaError{Type: e.Attr("type"), Condition: "undefined-condition"}
	for _, c := range e.Elements() {
		if c.Space != nsStanzas {
			continue
		}
		if c.Local == "text" {
			se.Text = c.Text()
		} else {
			se.Condition = c.Local
		}
	}
	return se
}

// Login dials the target, negotiates STARTTLS (when enabled), authenticates
// as account i, binds resource and starts the read loop.
func (t *Target) Login(ctx context.Context, i int, resource string) (*Client, error) {
	user, pass := t.User(i), t.Password(i)
	d := net.Dialer{Timeout: t.Timeout}
	nc, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, err
	}
	c := &Client{
		nc:      nc,
		timeout: t.Timeout,
		pending: map[string]chan *xml.Element{},
		queries: map[string]*mamCollector{},
		done:    make(chan struct{}),
	}
	c.rd = xml.NewReader(nc, readLimits, 0)
	deadline := time.Now().Add(t.Timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	nc.SetDeadline(deadline)
	// Cancelling ctx interrupts the synchronous negotiation.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	err = c.negotiate(t, user, pass, resource)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	if err != nil {
		c.nc.Close()
		return nil, fmt.Errorf("login %s: %w", user, err)
	}
	c.nc.SetDeadline(time.Time{})
	go c.readLoop()
	return c, nil
}

func (c *Client) negotiate(t *Target, user, pass, resource string) error {
	feat, err := c.openStream(t.Domain)
	if err != nil {
		return err
	}
	st := feat.Child(nsTLS, "starttls")
	switch {
	case t.StartTLS && st == nil:
		return errors.New("server does not offer STARTTLS")
	case t.StartTLS:
		if err := c.writeString(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`); err != nil {
			return err
		}
		el, err := c.rd.Next()
		if err != nil {
			return err
		}
		if !el.Is(nsTLS, "proceed") {
			return fmt.Errorf("STARTTLS refused: %s", el)
		}
		tc := tls.Client(c.nc, &tls.Config{InsecureSkipVerify: true, ServerName: t.Domain})
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		c.nc = tc
		c.rd = xml.NewReader(tc, readLimits, 0)
		if feat, err = c.openStream(t.Domain); err != nil {
			return err
		}
	case st.Child(nsTLS, "required") != nil:
		return errors.New("server requires STARTTLS")
	}
	if err := c.authenticate(t, feat, user, pass); err != nil {
		return err
	}
	c.rd.Restart()
	if feat, err = c.openStream(t.Domain); err != nil {
		return err
	}
	if feat.Child(nsBind, "bind") == nil {
		return fmt.Errorf("no resource binding offered: %s", feat)
	}
	bind := xml.New(nsBind, "bind").Append(xml.New(nsBind, "resource").AppendText(resource))
	res, err := c.syncIQ(xml.New(nsClient, "iq", "type", "set", "id", "bind").Append(bind))
	if err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	full, err := jid.Parse(res.Child(nsBind, "bind").ChildText(nsBind, "jid"))
	if err != nil || !full.IsFull() {
		return fmt.Errorf("bind: bad JID in %s", res)
	}
	c.JID, c.Bare = full, full.Bare().String()
	// RFC 3921 sessions: only servers that still mark them mandatory need one.
	if s := feat.Child(nsSession, "session"); s != nil && s.Child(nsSession, "optional") == nil {
		if _, err := c.syncIQ(xml.New(nsClient, "iq", "type", "set", "id", "sess").Append(xml.New(nsSession, "session"))); err != nil {
			return fmt.Errorf("session: %w", err)
		}
	}
	return nil
}

// openStream sends a stream header and returns the server's features.
func (c *Client) openStream(domain string) (*xml.Element, error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to="`)
	xml.EscapeAttr(&b, domain)
	b.WriteString(`">`)
	if err := c.writeRaw(b.Bytes()); err != nil {
		return nil, err
	}
	if _, _, err := c.rd.ReadStreamStart(); err != nil {
		return nil, fmt.Errorf("stream header: %w", err)
	}
	el, err := c.rd.Next()
	if err != nil {
		return nil, err
	}
	if el.Is(nsStream, "error") {
		return nil, fmt.Errorf("stream error: %s", el)
	}
	if !el.Is(nsStream, "features") {
		return nil, fmt.Errorf("expected stream features, got %s", el)
	}
	return el, nil
}

// syncIQ sends an iq during negotiation (before the read loop runs) and
// reads until its reply.
func (c *Client) syncIQ(iq *xml.Element) (*xml.Element, error) {
	if err := c.Send(iq); err != nil {
		return nil, err
	}
	id := iq.Attr("id")
	for {
		el, err := c.rd.Next()
		if err != nil {
			return nil, err
		}
		if el.Is(nsStream, "error") {
			return nil, fmt.Errorf("stream error: %s", el)
		}
		if el.Local != "iq" || el.Attr("id") != id {
			continue
		}
		if el.Attr("type") == "error" {
			return nil, stanzaError(el)
		}
		return el, nil
	}
}

// SetHandler installs the handler for incoming messages (nil drops them).
func (c *Client) SetHandler(h MessageHandler) {
	if h == nil {
		c.handler.Store(nil)
		return
	}
	c.handler.Store(&h)
}

func (c *Client) readLoop() {
	var err error
	for {
		var el *xml.Element
		el, err = c.rd.Next()
		if err != nil {
			break
		}
		switch el.Local {
		case "iq":
			c.handleIQ(el)
		case "message":
			if res := el.Child(nsMAM, "result"); res != nil {
				c.handleResult(el, res)
				continue
			}
			if h := c.handler.Load(); h != nil {
				(*h)(c, el)
			}
		case "error":
			if el.Space == nsStream {
				err = fmt.Errorf("stream error: %s", el)
			}
		}
		if err != nil {
			break
		}
	}
	if errors.Is(err, xml.ErrStreamEnd) {
		err = io.EOF
	}
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
	close(c.done)
}

func (c *Client) handleIQ(el *xml.Element) {
	switch el.Attr("type") {
	case "result", "error":
		c.mu.Lock()
		ch := c.pending[el.Attr("id")]
		delete(c.pending, el.Attr("id"))
		c.mu.Unlock()
		if ch != nil {
			ch <- el
		}
	case "get", "set":
		// Answer pings; refuse everything else, as RFC 6120 §8.2.3 asks.
		reply := xml.New(nsClient, "iq", "id", el.Attr("id"), "to", el.Attr("from"), "type", "result")
		if el.Child(nsPing, "ping") == nil {
			reply.SetAttr("type", "error")
			reply.Append(xml.New(nsClient, "error", "type", "cancel").Append(xml.New(nsStanzas, "service-unavailable")))
		}
		c.Send(reply)
	}
}

// Done is closed when the connection's read loop has ended.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the read loop ended (nil while it runs).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *Client) newID() string { return "b" + strconv.FormatUint(c.ids.Add(1), 36) }

func (c *Client) writeString(s string) error { return c.writeRaw([]byte(s)) }

// writeRaw writes bytes as one write, under the write lock.
func (c *Client) writeRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := c.nc.Write(b)
	return err
}

// SendRaw writes a serialised stanza.
func (c *Client) SendRaw(b []byte) error { return c.writeRaw(b) }

// Send writes a stanza.
func (c *Client) Send(e *xml.Element) error { return c.writeRaw(e.Bytes(nsClient)) }

// Request sends an iq, assigning its id, and waits for the reply. An error
// reply is returned as *StanzaError (with the reply).
func (c *Client) Request(ctx context.Context, iq *xml.Element) (*xml.Element, error) {
	id := c.newID()
	iq.SetAttr("id", id)
	ch := make(chan *xml.Element, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	if err := c.Send(iq); err != nil {
		return nil, err
	}
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		if r.Attr("type") == "error" {
			return r, stanzaError(r)
		}
		return r, nil
	case <-c.done:
		if err := c.Err(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
		return nil, ErrTimeout
	}
}

// Ping sends an XEP-0199 ping to the server and waits for any answer. As
// the server handles a session's stanzas in order, a returned ping means
// everything sent before it has been processed.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.Request(ctx, xml.New(nsClient, "iq", "type", "get", "to", c.JID.Domain()).Append(xml.New(nsPing, "ping")))
	var se *StanzaError
	if errors.As(err, &se) {
		return nil // an error reply is an answer all the same
	}
	return err
}

// Available sends initial presence and waits until the server has
// processed it.
func (c *Client) Available(ctx context.Context) error {
	if err := c.writeString(`<presence/>`); err != nil {
		return err
	}
	return c.Ping(ctx)
}

// Close ends the stream, waits briefly for the server to close its side,
// and closes the connection.
func (c *Client) Close() {
	c.writeString(`</stream:stream>`)
	select {
	case <-c.done:
	case <-time.After(2 * time.Second):
	}
	c.nc.Close()
	<-c.done
}

// Keepalive writes a whitespace keepalive (RFC 6120 §4.6.1).
func (c *Client) Keepalive() error { return c.writeString(" ") }
