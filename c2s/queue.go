package c2s

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// errQueueFull means the client reads more slowly than stanzas arrive for
// it; the connection is cut rather than let it hold the router up.
var errQueueFull = errors.New("c2s: send queue full")

// errQueueClosed means the connection is closing or closed.
var errQueueClosed = errors.New("c2s: connection closed")

// outQueue is a connection's bounded outgoing queue. Producers (any
// goroutine) append serialised stanzas; a flusher goroutine, started on
// demand and exiting as soon as the queue is empty, writes everything
// pending in one vectored write. An idle connection therefore holds neither
// a writer goroutine nor any buffer.
//
// Invariant: flushing is true exactly while a flusher goroutine runs; only
// it touches the network for writing.
type outQueue struct {
	// lastWrite is the time of the last completed write (unix nanoseconds),
	// read by the keepalive loop.
	lastWrite atomic.Int64

	mu       sync.Mutex
	cond     sync.Cond // signalled when a flush completes (for drain); L is &mu
	bufs     net.Buffers
	size     int
	limit    int
	flushing bool
	closed   bool
	paused   bool  // TLS handshake in progress: nothing may be written
	err      error // first write error
	// closeAfter closes the connection once what is queued is written.
	closeAfter bool

	nc           net.Conn
	writeTimeout time.Duration
	spawn        func(func()) // tracked goroutine starter
	onError      func(error)  // called once when a write fails or the queue overflows
}

func newOutQueue(nc net.Conn, limit int, writeTimeout time.Duration, spawn func(func()), onError func(error)) *outQueue {
	q := &outQueue{nc: nc, limit: limit, writeTimeout: writeTimeout, spawn: spawn, onError: onError}
	q.cond.L = &q.mu
	q.lastWrite.Store(time.Now().UnixNano())
	return q
}

// push queues b for writing. It never blocks on the network.
func (q *outQueue) push(b []byte) error {
	q.mu.Lock()
	if q.closed || q.closeAfter || q.paused {
		q.mu.Unlock()
		return errQueueClosed
	}
	if q.size+len(b) > q.limit && q.size > 0 {
		q.closed = true
		first := q.setErr(errQueueFull)
		q.mu.Unlock()
		q.report(first, errQueueFull)
		return errQueueFull
	}
	q.bufs = append(q.bufs, b)
	q.size += len(b)
	start := !q.flushing
	q.flushing = true
	q.mu.Unlock()
	if start {
		q.spawn(q.flush)
	}
	return nil
}

// pushAndClose queues a final b (a stream error or closing tag) and closes
// the connection once everything before it has been written.
func (q *outQueue) pushAndClose(b []byte) {
	q.mu.Lock()
	if q.closed || q.closeAfter {
		q.mu.Unlock()
		return
	}
	if b != nil {
		q.bufs = append(q.bufs, b)
		q.size += len(b)
	}
	q.closeAfter = true
	start := !q.flushing
	q.flushing = true
	q.mu.Unlock()
	if start {
		q.spawn(q.flush)
	}
}

func (q *outQueue) flush() {
	for {
		q.mu.Lock()
		if len(q.bufs) == 0 || q.closed {
			q.flushing = false
			closeNow := q.closeAfter && !q.closed
			if closeNow {
				q.closed = true
			}
			q.bufs = nil
			q.cond.Broadcast()
			nc := q.nc // under the lock: a direct TLS handshake's setConn may replace it
			q.mu.Unlock()
			if closeNow {
				nc.Close()
			}
			return
		}
		batch := q.bufs
		q.bufs = nil
		q.size = 0
		nc := q.nc
		q.mu.Unlock()

		if q.writeTimeout > 0 {
			nc.SetWriteDeadline(time.Now().Add(q.writeTimeout))
		}
		err := writeBatch(nc, batch)
		q.lastWrite.Store(time.Now().UnixNano())
		if err != nil {
			q.mu.Lock()
			q.closed = true
			q.flushing = false
			q.bufs = nil
			first := q.setErr(err) // before drain can see flushing == false
			q.cond.Broadcast()
			q.mu.Unlock()
			q.report(first, err)
			return
		}
	}
}

// setErr records the queue's first error (q.mu held) and reports whether
// err was it. It is set in the same critical section that closes the
// queue, so drain never returns nil for a failed queue.
func (q *outQueue) setErr(err error) bool {
	if q.err != nil {
		return false
	}
	q.err = err
	return true
}

// report calls onError for the first error, without q.mu held.
func (q *outQueue) report(first bool, err error) {
	if first && q.onError != nil {
		q.onError(err)
	}
}

// drain waits until everything queued so far has been written (or the
// queue failed). Used before STARTTLS swaps the connection.
func (q *outQueue) drain() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.flushing {
		q.cond.Wait()
	}
	return q.err
}

// drainAndPause waits until everything queued is written, then refuses
// pushes until setConn: during a STARTTLS handshake a stray write (a
// keepalive) would corrupt it. Both happen under one lock hold, so nothing
// can slip in between.
func (q *outQueue) drainAndPause() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.flushing {
		q.cond.Wait()
	}
	q.paused = true
	return q.err
}

// setConn replaces the connection (after the TLS handshake) and lifts a
// pause. The queue must be drained.
func (q *outQueue) setConn(nc net.Conn) {
	q.mu.Lock()
	q.nc = nc
	q.paused = false
	q.mu.Unlock()
}

// shut marks the queue closed without writing anything more.
func (q *outQueue) shut() {
	q.mu.Lock()
	q.closed = true
	q.bufs = nil
	q.mu.Unlock()
}

// coalesceMax bounds one coalesced write (and the scratch buffer).
const coalesceMax = 64 << 10

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, coalesceMax); return &b }}

// writeBatch writes a batch of serialised stanzas. A TCP connection takes
// them in one vectored write. Anything else (TLS) would turn each buffer
// into a Write of its own, that is a TLS record and a system call per
// stanza (a MAM page is 50 result messages, a stream-management message is
// the stanza and an <r/>): the buffers are copied into writes of up to
// coalesceMax bytes instead.
func writeBatch(nc net.Conn, batch net.Buffers) error {
	if tc, ok := unwrapConn(nc).(*net.TCPConn); ok {
		_, err := batch.WriteTo(tc)
		return err
	}
	if len(batch) == 1 {
		_, err := batch.WriteTo(nc)
		return err
	}
	bp := scratchPool.Get().(*[]byte)
	defer scratchPool.Put(bp)
	buf := (*bp)[:0]
	for _, b := range batch {
		if len(buf) > 0 && len(buf)+len(b) > coalesceMax {
			if _, err := nc.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		if len(b) >= coalesceMax {
			if _, err := nc.Write(b); err != nil {
				return err
			}
			continue
		}
		buf = append(buf, b...)
	}
	if len(buf) > 0 {
		if _, err := nc.Write(buf); err != nil {
			return err
		}
	}
	*bp = buf[:0]
	return nil
}
