package bosh

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"time"

	"github.com/skald-xmpp/skald/internal/xmlcut"
	"github.com/skald-xmpp/skald/stream"
)

// conn presents a session to c2s as the byte stream of an RFC 6120
// stream (a net.Conn): Read gives what the client's requests stand for
// (session.input), Write cuts what c2s writes into elements for the
// responses. Its state is the session's, under the session's lock, but
// for what only c2s's one writer touches.
type conn struct {
	s             *session
	local, remote net.Addr

	// The writer's own (c2s writes from one goroutine at a time).
	pending []byte // the start of an element whose rest has not been written yet

	// Under s.mu.
	closed        bool
	readDeadline  time.Time
	writeDeadline time.Time
}

// defaultWriteTimeout bounds a write blocked on a full queue when c2s set
// no deadline.
const defaultWriteTimeout = 30 * time.Second

var errOutput = errors.New("bosh: unexpected output from the stream")

// Read implements net.Conn.
func (c *conn) Read(p []byte) (int, error) {
	for {
		n, deadline, wake, err := c.tryRead(p)
		if n > 0 || err != nil || len(p) == 0 {
			return n, err
		}
		if err := waitUntil(wake, deadline); err != nil {
			return 0, err
		}
	}
}

// tryRead reads what the session's input holds; with nothing to read
// yet, it returns what to wait on.
func (c *conn) tryRead(p []byte) (n int, deadline time.Time, wake chan struct{}, err error) {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case c.closed:
		return 0, deadline, nil, net.ErrClosed
	case len(s.in) > 0:
		n = copy(p, s.in)
		s.in = s.in[n:]
		if len(s.in) == 0 {
			s.in = nil
		}
		return n, deadline, nil, nil
	case s.inEOF:
		return 0, deadline, nil, io.EOF
	}
	return 0, c.readDeadline, s.inWake, nil
}

// waitUntil waits for wake to close, or fails with os.ErrDeadlineExceeded
// once deadline (if set) has passed.
func waitUntil(wake chan struct{}, deadline time.Time) error {
	if deadline.IsZero() {
		<-wake
		return nil
	}
	d := time.Until(deadline)
	if d <= 0 {
		return os.ErrDeadlineExceeded
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-wake:
		return nil
	case <-t.C:
		return os.ErrDeadlineExceeded
	}
}

// Write implements net.Conn: every complete element of p is queued for
// the client's next response; an incomplete rest waits for the next
// Write. A write of whitespace alone (c2s's keepalive) is dropped: BOSH
// has its own, the empty response after 'wait'.
func (c *conn) Write(p []byte) (int, error) {
	if len(c.pending) == 0 && len(bytes.TrimLeft(p, " \t\r\n")) == 0 {
		return len(p), nil
	}
	c.pending = append(c.pending, p...)
	b := c.pending
	var units [][]byte
	for {
		b = bytes.TrimLeft(b, " \t\r\n")
		if len(b) == 0 {
			break
		}
		if b[0] != '<' {
			return 0, errOutput
		}
		n, complete := xmlcut.Unit(b)
		if !complete {
			break
		}
		units = append(units, b[:n])
		b = b[n:]
	}
	c.pending = append([]byte(nil), b...)

	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range units {
		c.s.output(u)
	}
	s.flush()
	// Beyond the queue's bound the writer waits for the client to take
	// it, or gives up at its deadline.
	for s.outBytes > maxOutBytes && !s.ended && !c.closed {
		deadline, wake := c.writeDeadline, s.outWake
		if deadline.IsZero() {
			deadline = time.Now().Add(defaultWriteTimeout)
		}
		s.mu.Unlock()
		err := waitUntil(wake, deadline)
		s.mu.Lock()
		if err != nil {
			return 0, err
		}
	}
	if c.closed {
		return 0, net.ErrClosed
	}
	return len(p), nil
}

// output takes one top-level unit c2s wrote (under s.mu): the stream
// header and its end are the session's business, every other element is
// queued with the namespace declarations it inherited from the header
// (XEP-0206 §2: stanzas carry xmlns='jabber:client'; the wrapper declares
// the stream prefix).
func (s *session) output(unit []byte) {
	if s.ended {
		return // the client ended the session: nobody reads this
	}
	name, attrs, _ := xmlcut.StartTag(unit)
	switch {
	case unit[1] == '?':
		return
	case name == "stream:stream" && unit[1] != '/':
		s.streamID = xmlcut.AttrValue(attrs, "id")
		s.streamVersion = xmlcut.AttrValue(attrs, "version")
		return
	case unit[1] == '/': // </stream:stream>
		s.end(s.terminateBody(""), true)
		return
	case name == "stream:error":
		s.streamError = append([]byte(nil), unit...)
		return
	}
	if name == "success" && xmlcut.AttrValue(attrs, "xmlns") == stream.NSSASL {
		s.awaitRestart = true
	}
	u := outUnit{streamPrefix: len(name) > 7 && name[:7] == "stream:"}
	if xmlcut.HasAttr(attrs, "xmlns") {
		u.b = append([]byte(nil), unit...)
	} else {
		decl := ` xmlns="` + stream.NSClient + `"`
		u.b = make([]byte, 0, len(unit)+len(decl))
		u.b = append(u.b, unit[:1+len(name)]...)
		u.b = append(u.b, decl...)
		u.b = append(u.b, unit[1+len(name):]...)
	}
	s.out = append(s.out, u)
	s.outBytes += len(u.b)
}

// Close implements net.Conn: c2s is done with the stream. If it did not
// end the stream with its end tag (an I/O failure, a write timeout), the
// client learns that the connection to the server failed.
func (c *conn) Close() error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	s.wakeReader()
	if !s.ended {
		s.end(s.terminateBody(condRemoteConnFailed), true)
	}
	return nil
}

func (c *conn) LocalAddr() net.Addr  { return c.local }
func (c *conn) RemoteAddr() net.Addr { return c.remote }

func (c *conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *conn) SetReadDeadline(t time.Time) error {
	locked(&c.s.mu, func() {
		c.readDeadline = t
		c.s.wakeReader() // a waiting Read takes the new deadline
	})
	return nil
}

func (c *conn) SetWriteDeadline(t time.Time) error {
	locked(&c.s.mu, func() { c.writeDeadline = t })
	return nil
}
