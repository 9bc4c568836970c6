package c2s

import (
	"errors"
	"net"
	"os"
	"syscall"
	"time"
)

// Parking: an idle connection without a goroutine.
//
// A connection that waited a second for input in place (inputWithin) has
// nothing to do until its client sends something. Rather than keep a
// goroutine blocked on its socket (a 2 KB stack and a goroutine record
// the runtime never frees), it parks: the connection's socket joins an
// epoll set of the server's own (parker, Linux only), and the goroutine
// ends. One goroutine waits on that set; when a parked socket becomes
// readable, or the connection's idle timeout passes, it starts a new
// goroutine that takes the connection on (conn.resume). Where parking is
// not available (another OS, a connection without a socket, one that is
// closing, a server shutting down, an epoll set that cannot be made or
// take the socket) the connection waits on a fresh goroutine instead
// (awaitInput).
//
// A parked connection holds one count of the server's wait group, taken
// by park and given back by the goroutine that resumes it, so Shutdown
// waits for parked connections as for running ones.
//
// Closing: the kernel drops a socket from every epoll set when it is
// closed, without an event, and its descriptor number can be reused at
// once. So every close of a connection goes through watchedConn.Close,
// which first takes the connection out of the parker (resuming it, so
// that its goroutine meets the closed socket and ends the connection) and
// marks it closed, under the parker's lock, so that it can never be
// parked afterwards.

// watchedConn is the accepted connection as the server holds it (conn.raw,
// and under TLS the connection crypto/tls reads from): every Close,
// whoever makes it, tells the parker first.
type watchedConn struct {
	net.Conn
	c *conn
}

func (w *watchedConn) Close() error {
	w.c.srv.parker.closing(w.c)
	return w.Conn.Close()
}

// SyscallConn gives the socket for waiting on it (canWaitReadable).
func (w *watchedConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := w.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}

// unwrapConn returns the connection under a watchedConn, for the vectored
// writes only a *net.TCPConn can do.
func unwrapConn(nc net.Conn) net.Conn {
	if w, ok := nc.(*watchedConn); ok {
		return w.Conn
	}
	return nc
}

// parkState is a connection's standing with the parker; guarded by the
// parker's mutex.
type parkState struct {
	token    uint64    // nonzero while parked
	deadline time.Time // the idle timeout of a parked connection; zero: none
	index    int       // its place in the parker's deadline heap; -1: none
	closed   bool      // its socket is closing: it must not be parked
}

// park hands the idle connection to the server's parker, if it can; then
// the caller's goroutine must leave the connection alone, and it is
// resumed on a new goroutine when its client sends something, or when the
// idle timeout passes. Connection goroutine only.
func (c *conn) park() bool {
	if c.sysConn == nil {
		return false
	}
	from := c.waitSince
	if from.IsZero() {
		from = time.Now()
	}
	return c.srv.parker.park(c, c.waitDeadline(from))
}

// resume takes a parked connection on, on the goroutine the parker
// started: it ends the stream if the idle timeout passed, else it runs
// the stream loop from where it stopped. (It keeps waitSince, which the
// first input clears: resumed without input, by a close or the parker's
// stop, the connection may wait again on a goroutine, and its idle timeout
// still counts from when the wait began.)
func (c *conn) resume(timedOut bool) {
	handedOff := false
	defer func() {
		if !handedOff {
			c.finish()
		}
	}()
	if timedOut {
		c.fail(os.ErrDeadlineExceeded)
		return
	}
	c.woke = true
	handedOff = c.settle(c.run(true))
}
