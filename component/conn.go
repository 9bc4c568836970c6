package component

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/stream"
)

// NSAccept is the content namespace of component streams the server
// accepts (XEP-0114 §3).
const NSAccept = "jabber:component:accept"

// writeTimeout bounds one write to a component: one that takes longer is
// a component that does not read.
const writeTimeout = 30 * time.Second

var (
	errQueueFull  = errors.New("component: send queue full")
	errConnClosed = errors.New("component: stream closed")
	errPeerError  = errors.New("component: stream error from the component")
)

// conn is one component connection. Its reader goroutine (run)
// negotiates the stream and hands stanzas to the router; once the
// component is authenticated a writer goroutine (writeLoop) writes what
// SendComponent queued, in batches.
//
// Before the writer exists the reader writes directly, under wmu, which
// also serialises those writes with a concurrent Shutdown. mu guards the
// queue and the end of the stream: once ending is set nothing joins the
// queue, and the writer writes what is left, then closes the socket.
// Stanzas that never reach the socket (a write fails, the component is
// cut off) bounce to their senders, as s2s bounces what is left on a
// failed stream: none is lost unanswered.
type conn struct {
	s  *Server
	nc net.Conn
	rd *xml.Reader
	id string
	// domain is the component's domain once authenticated; written by
	// run before claim, read by forget on the same goroutine.
	domain string

	wmu    sync.Mutex
	opened bool // our stream header went out
	direct bool // direct writes are over: the writer owns the socket

	mu      sync.Mutex
	queue   []item
	queued  int
	ending  bool
	writing bool          // the writer runs
	wake    chan struct{} // the writer's signal: queue or ending changed
	written chan struct{} // closed when the writer is done
}

// item is one queued write: a stanza (st, kept to bounce it should the
// write fail) or stream data of our own (st nil).
type item struct {
	b  []byte
	st *xml.Element
}

func newConn(s *Server, nc net.Conn) *conn {
	return &conn{s: s, nc: nc, wake: make(chan struct{}, 1), written: make(chan struct{})}
}

func (c *conn) run() {
	authed := false
	err := c.serve(&authed)
	if !authed {
		c.s.counters.handshakeFailures.Inc()
	}
	var se *stream.Error
	var final []byte
	switch {
	case errors.As(err, &se):
		final = se.Bytes()
		c.s.log.Info("component stream error", "domain", c.domain, "remote", c.nc.RemoteAddr().String(), "condition", string(se.Condition))
	case err != nil && !errors.Is(err, errPeerError):
		c.s.log.Debug("component connection lost", "domain", c.domain, "err", err)
	}
	c.end(final)
	c.s.forget(c)
	c.mu.Lock()
	writing := c.writing
	c.mu.Unlock()
	if writing {
		<-c.written
	}
	c.nc.Close()
	// Left when the writer gave up (a failed write, a cut-off) or never
	// ran (cut off between claim and startWriter): nothing joins the
	// queue once ending is set.
	c.mu.Lock()
	left := c.queue
	c.queue, c.queued = nil, 0
	c.mu.Unlock()
	c.bounce(left)
	if authed {
		c.s.log.Info("component disconnected", "domain", c.domain)
	}
}

// serve runs the stream: header, handshake, then stanzas until the end.
func (c *conn) serve(authed *bool) error {
	s := c.s
	c.rd = xml.NewReader(c.nc, xml.Limits{MaxStanzaBytes: int64(s.cfg.MaxStanzaBytes), MaxDepth: 32, MaxAttrs: 64}, 4096)
	c.nc.SetReadDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	root, ns, err := c.rd.ReadStreamStart()
	if err != nil {
		c.open("")
		return readError(err)
	}
	c.id = newStreamID()
	// XEP-0114 §3: 'to' is the component's name, compared in its
	// canonical form (RFC 7622 §3.2).
	domain, known := "", false
	if to, err := jid.Parse(root.Attr("to")); err == nil && to.Local() == "" && to.Resource() == "" {
		domain = to.String()
		_, known = s.secrets[domain]
	}
	if known {
		c.open(domain)
	} else {
		c.open("")
	}
	switch {
	case !root.Is(stream.NS, "stream"), ns != NSAccept:
		// XEP-0114 §3: a namespace the server does not accept.
		return stream.New(stream.InvalidNamespace, "")
	case !known:
		return stream.New(stream.HostUnknown, "")
	case s.taken(domain):
		// Refuse the newcomer; the connected component keeps its name.
		return stream.New(stream.Conflict, "")
	}
	el, err := c.rd.Next()
	if err != nil {
		return readError(err)
	}
	if !el.Is(NSAccept, "handshake") || !validHandshake(el.Text(), c.id, s.secrets[domain]) {
		// XEP-0114 §3: invalid credentials close the stream, with
		// not-authorized (SHOULD); anything but a handshake is none.
		return stream.New(stream.NotAuthorized, "")
	}
	c.domain = domain
	if !s.claim(c, domain) {
		c.domain = ""
		return stream.New(stream.Conflict, "")
	}
	*authed = true
	s.counters.handshakes.Inc()
	if !c.startWriter() {
		return stream.New(stream.SystemShutdown, "")
	}
	s.log.Info("component connected", "domain", domain, "remote", c.nc.RemoteAddr().String())
	c.nc.SetReadDeadline(time.Time{})
	for {
		el, err := c.rd.Next()
		if err != nil {
			if errors.Is(err, xml.ErrStreamEnd) {
				return nil
			}
			return readError(err)
		}
		if el.Is(stream.NS, "error") {
			return errPeerError
		}
		if (el.Space != NSAccept && el.Space != stanza.NSClient) || (el.Local != "message" && el.Local != "presence" && el.Local != "iq") {
			return stream.New(stream.UnsupportedStanzaType, "")
		}
		toClientNS(el)
		s.counters.stanzasIn.Inc()
		if err := s.r.HandleFromComponent(s.ctx, domain, el); err != nil {
			return err
		}
	}
}

// readError maps a read error to the stream error to send, if any: a
// protocol error (RFC 6120 §4.9.3) or a timeout before authentication.
func readError(err error) error {
	if se := stream.FromReadError(err); se != nil {
		return se
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return stream.New(stream.ConnectionTimeout, "")
	}
	return err
}

// validHandshake checks the handshake's character data: the lowercase
// hex SHA-1 of the stream id and the secret (XEP-0114 §3), compared in
// constant time. Surrounding whitespace and uppercase hex are forgiven.
func validHandshake(text, id, secret string) bool {
	sum := sha1.Sum([]byte(id + secret))
	want := hex.EncodeToString(sum[:])
	got := strings.ToLower(strings.TrimSpace(text))
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// toClientNS moves a stanza read from the stream into jabber:client, the
// router's namespace: it and each descendant that inherited the stream's
// namespace.
func toClientNS(e *xml.Element) {
	if e.Space == NSAccept {
		e.Space = stanza.NSClient
	}
	for _, ch := range e.Elements() {
		toClientNS(ch)
	}
}

// open writes our stream header (XEP-0114 §3: from the component's
// name, with the stream id the handshake hashes). It goes out before any
// stream error, even one about the component's header (RFC 6120 §4.9.1.1).
func (c *conn) open(from string) {
	if c.id == "" {
		c.id = newStreamID()
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version='1.0'?><stream:stream xmlns:stream="` + stream.NS + `" xmlns="` + NSAccept + `"`)
	if from != "" {
		b.WriteString(` from="`)
		xml.EscapeAttr(&b, from)
		b.WriteByte('"')
	}
	b.WriteString(` id="` + c.id + `">`)
	c.wmu.Lock()
	c.opened = true
	c.wmu.Unlock()
	c.writeDirect(b.Bytes())
}

// writeDirect writes before the writer exists.
func (c *conn) writeDirect(b ...[]byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.direct {
		return errConnClosed
	}
	c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	bufs := net.Buffers(b)
	_, err := bufs.WriteTo(c.nc)
	return err
}

// startWriter hands the socket's writes to the writer goroutine, whose
// first write is the empty <handshake/> that tells the component it is
// in (XEP-0114 §3), before any stanza queued since claim.
//
// wmu is held until the writer owns the queue: a concurrent end (Shutdown)
// then either finds direct writes still open (and writes its stream
// error itself) or the writer running (and queues it), never neither.
// wmu is taken before mu, and nothing takes them the other way round.
func (c *conn) startWriter() bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	hs := []byte(`<handshake/>`)
	c.mu.Lock()
	if c.ending {
		c.mu.Unlock()
		return false
	}
	c.direct = true
	c.queue = append([]item{{b: hs}}, c.queue...)
	c.queued += len(hs)
	c.writing = true
	c.mu.Unlock()
	if !c.s.goroutine(c.writeLoop) {
		// Shutting down: direct writes again, for the stream error to
		// come; one an end queued meanwhile for the writer goes out
		// now (not the <handshake/>, queue[0]; stanzas are left to
		// bounce).
		c.mu.Lock()
		c.writing, c.direct = false, false
		var tail [][]byte
		if c.ending {
			for _, it := range c.queue[1:] {
				if it.st == nil {
					tail = append(tail, it.b)
				}
			}
		}
		c.mu.Unlock()
		if len(tail) > 0 {
			c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
			bufs := net.Buffers(tail)
			bufs.WriteTo(c.nc) // wmu is held
			c.nc.Close()
		}
		return false
	}
	return true
}

// push queues b, the serialised st, for the component, or cuts a
// component whose queue is full off (a slow consumer): what it holds
// then bounces (writeLoop, run), and st is refused.
func (c *conn) push(b []byte, st *xml.Element) error {
	c.mu.Lock()
	if c.ending {
		c.mu.Unlock()
		return errConnClosed
	}
	if c.queued+len(b) > c.s.cfg.SendQueueBytes {
		c.ending = true
		c.mu.Unlock()
		c.s.counters.slowConsumer.Inc()
		c.s.log.Warn("component slow consumer cut off", "domain", c.domain)
		c.nc.Close()
		c.signal()
		return errQueueFull
	}
	c.queue = append(c.queue, item{b, st})
	c.queued += len(b)
	// Counted before the writer can see it: once the component has it,
	// the count says so.
	c.s.counters.stanzasOut.Inc()
	c.mu.Unlock()
	c.signal()
	return nil
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// end ends the stream: final (a stream error, or nil) and the closing
// tag go out after what is queued. Before the writer runs they are
// written at once and the socket closed, which ends the reader.
func (c *conn) end(final []byte) {
	c.mu.Lock()
	if c.ending {
		c.mu.Unlock()
		return
	}
	c.ending = true
	if c.writing {
		if final != nil {
			c.queue = append(c.queue, item{b: final})
		}
		c.queue = append(c.queue, item{b: []byte(stream.Close)})
		c.mu.Unlock()
		c.signal()
		return
	}
	c.mu.Unlock()
	c.wmu.Lock()
	opened := c.opened
	c.wmu.Unlock()
	if opened {
		if final != nil {
			c.writeDirect(final, []byte(stream.Close))
		} else {
			c.writeDirect([]byte(stream.Close))
		}
	}
	c.nc.Close()
}

// writeLoop writes the queue in batches (one vectored write each) until
// the stream ends, then closes the socket, which ends the reader.
func (c *conn) writeLoop() {
	defer close(c.written)
	defer c.nc.Close()
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && !c.ending {
			c.mu.Unlock()
			<-c.wake
			c.mu.Lock()
		}
		batch := c.queue
		c.queue, c.queued = nil, 0
		ending := c.ending
		c.mu.Unlock()
		if len(batch) > 0 {
			c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
			bufs := make(net.Buffers, len(batch))
			for i, it := range batch {
				bufs[i] = it.b
			}
			if _, err := bufs.WriteTo(c.nc); err != nil {
				// What part of the batch arrived is unknown: all of it
				// bounces, as on s2s; run bounces what is left once the
				// socket's close has ended the reader.
				c.mu.Lock()
				c.ending = true
				c.mu.Unlock()
				c.bounce(batch)
				return
			}
		}
		if ending {
			c.mu.Lock()
			left := len(c.queue)
			c.mu.Unlock()
			if left == 0 {
				return
			}
		}
	}
}

// bounce answers the senders of the stanzas in items, which will not
// reach the component (RFC 6120 §10.4.2: the domain is ours, its entity
// is gone). No lock is held: the router sends the errors.
func (c *conn) bounce(items []item) {
	for _, it := range items {
		if it.st != nil {
			c.s.counters.bounced.Inc()
			c.s.r.Bounce(it.st, stanza.ServiceUnavailable)
		}
	}
}

// newStreamID returns an unguessable stream id: the handshake hashes it,
// so a replayed handshake of another stream is worthless.
func newStreamID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
