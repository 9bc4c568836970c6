package websocket

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	ws "github.com/coder/websocket"

	"github.com/skald-xmpp/skald/stream"
)

// conn presents one WebSocket connection to c2s as the byte stream of an
// RFC 6120 stream (a net.Conn): Read gives the client's frames translated
// by inbound, Write sends what c2s writes as frames cut by outbound.
//
// Frames are read by a goroutine of their own (readFrames), one at a time
// and handed over unbuffered, because c2s reads with deadlines (idle and
// negotiation timeouts) and expects a read that timed out to leave the
// connection usable for the stream error that follows, whereas a
// WebSocket read whose context ends closes the connection.
type conn struct {
	ws     *ws.Conn
	nc     net.Conn // what the upgrade hijacked, to cut a closing handshake short
	local  net.Addr
	remote net.Addr

	frames  chan inFrame  // readFrames to Read
	done    chan struct{} // closed by Close
	cancel  func()        // ends readFrames' context, after the close handshake
	closed  sync.Once     // the first Close starts the close handshake
	onEnd   func(c *conn) // tells the server the connection is gone
	ipKey   string        // counted in the server's perIP, "" if not
	maxLen  int64         // largest frame accepted
	in      inbound       // readFrames' only
	out     outbound      // the writer's only (c2s's flusher: one at a time)
	restart atomic.Bool   // a SASL <success/> went out (see inbound.restartAllowed)

	// Read's own (c2s reads from one goroutine at a time).
	pending []byte
	readErr error

	mu            sync.Mutex // guards the deadlines
	readDeadline  time.Time
	writeDeadline time.Time
}

// defaultWriteTimeout bounds a write when c2s set no deadline.
const defaultWriteTimeout = 30 * time.Second

// inFrame is a translated frame, or the error that ends the input.
type inFrame struct {
	b   []byte
	err error
}

// readFrames reads frames until the connection ends or a frame is bad;
// the error that ended it reaches Read after the frames before it.
func (c *conn) readFrames(ctx context.Context) {
	for {
		b, err := c.readFrame(ctx)
		if err == nil {
			b, err = c.in.frame(b)
			if errors.Is(err, errAfterClose) {
				continue
			}
		}
		select {
		case c.frames <- inFrame{b, err}:
		case <-c.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// readFrame reads one text frame of at most maxLen bytes (RFC 7395 §3.2:
// XMPP goes in text frames only).
func (c *conn) readFrame(ctx context.Context) ([]byte, error) {
	typ, r, err := c.ws.Reader(ctx)
	if err != nil {
		if ws.CloseStatus(err) != -1 {
			// The client closed the WebSocket: the end of its input,
			// with or without <close/> (then the stream ended
			// uncleanly and a stream-management session may resume).
			return nil, io.EOF
		}
		return nil, err
	}
	if typ != ws.MessageText {
		return nil, stream.New(stream.UnsupportedEncoding, "XMPP over WebSocket is sent in text frames")
	}
	b, err := io.ReadAll(io.LimitReader(r, c.maxLen+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > c.maxLen {
		return nil, stream.New(stream.PolicyViolation, "frame too large")
	}
	return b, nil
}

// Read implements net.Conn.
func (c *conn) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		if c.readErr != nil {
			return 0, c.readErr
		}
		var expired <-chan time.Time
		c.mu.Lock()
		deadline := c.readDeadline
		c.mu.Unlock()
		if !deadline.IsZero() {
			wait := time.Until(deadline)
			if wait <= 0 {
				return 0, os.ErrDeadlineExceeded
			}
			t := time.NewTimer(wait)
			defer t.Stop()
			expired = t.C
		}
		select {
		case f := <-c.frames:
			c.pending, c.readErr = f.b, f.err
		case <-expired:
			return 0, os.ErrDeadlineExceeded
		case <-c.done:
			return 0, net.ErrClosed
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// Write implements net.Conn: every complete element of p goes as one
// frame; an incomplete rest waits for the next Write. A whitespace
// keepalive (c2s's, on a quiet stream) becomes a WebSocket ping, which
// RFC 7395 uses instead of whitespace (pings and keepalives): like the
// whitespace on TCP it keeps proxies from timing the connection out, and
// a peer that is gone fails it, here by not answering within the write
// timeout.
func (c *conn) Write(p []byte) (int, error) {
	frames, keepalive, err := c.out.split(p)
	if err != nil {
		return 0, err
	}
	if len(frames) == 0 && !keepalive {
		return len(p), nil
	}
	c.mu.Lock()
	deadline := c.writeDeadline
	c.mu.Unlock()
	if deadline.IsZero() {
		deadline = time.Now().Add(defaultWriteTimeout)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if keepalive {
		// The pong is read by readFrames, which c2s's reader keeps
		// going, and never waits for this writer.
		if err := c.ws.Ping(ctx); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	for _, f := range frames {
		if err := c.ws.Write(ctx, ws.MessageText, f); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Close implements net.Conn: the first call starts the WebSocket closing
// handshake (after c2s wrote <close/>, or an error and <close/>, RFC 7395
// §3.6) on a goroutine of its own and returns; the others return at once.
// The handshake is bounded by the library's timeouts (5 s to write the
// Close frame, 5 s to wait for the client's) and cut by closeNow; it ends
// by telling the server the connection is gone (onEnd). Close does not
// wait for it because a client that never answers would hold whoever
// closes: c2s's reader, or its Shutdown cutting connection after
// connection. Read returns at once either way.
func (c *conn) Close() error {
	c.closed.Do(func() {
		close(c.done)
		go func() {
			c.ws.Close(ws.StatusNormalClosure, "")
			c.cancel()
			c.onEnd(c)
		}()
	})
	return nil
}

// closeNow ends the connection without the closing handshake, also one
// in progress (the library's CloseNow would wait for that): closing the
// hijacked connection makes the handshake's reads and writes fail.
func (c *conn) closeNow() {
	if c.nc != nil {
		c.nc.Close()
		return
	}
	c.ws.CloseNow()
}

func (c *conn) LocalAddr() net.Addr  { return c.local }
func (c *conn) RemoteAddr() net.Addr { return c.remote }

func (c *conn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDeadline, c.writeDeadline = t, t
	c.mu.Unlock()
	return nil
}

func (c *conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDeadline = t
	c.mu.Unlock()
	return nil
}

func (c *conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.writeDeadline = t
	c.mu.Unlock()
	return nil
}
