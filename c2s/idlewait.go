package c2s

import (
	"crypto/tls"
	"errors"
	"os"
	"syscall"
	"time"
)

// probeDeadline is a read deadline that has always passed: a read with it
// returns only what is already buffered, or fails at once.
var probeDeadline = time.Unix(1, 0)

// The connection's reader (deadlineReader) is an xml.InputWaiter: between
// stanzas, with nothing buffered, the XML reader polls it and, when the
// client has sent nothing, gives up its read buffer. The stream loop then
// waits up to a second in place (inputWithin) and, if nothing comes, parks
// the connection (park.go) or, where it cannot, hands it to a fresh
// goroutine that waits in WaitInput on the smallest stack (see settle in
// conn.go). Most connections spend their life there: no read buffer and,
// parked, no goroutine.

// PollInput implements xml.InputWaiter. Input can be in the kernel's socket
// buffer, or in TLS records that crypto/tls has already taken from the
// socket (it reads ahead), which would never make the socket readable
// again. Those are reached by a read whose deadline has passed: it returns
// decrypted input or fails at once without touching the socket (a read
// timeout leaves a tls.Conn usable).
func (d deadlineReader) PollInput(p []byte) (n int, ready bool, err error) {
	c := d.c
	if c.socketReadable() {
		return 0, true, nil
	}
	tc, ok := c.nc.(*tls.Conn)
	if !ok {
		return 0, false, nil
	}
	tc.SetReadDeadline(probeDeadline)
	n, err = tc.Read(p)
	c.restoreReadDeadline()
	c.gotInput(n)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = nil
	}
	return n, false, err
}

// WaitInput implements xml.InputWaiter: it waits for the socket to become
// readable, within the idle timeout. Where the socket cannot be reached it
// returns at once and the read that follows waits instead.
func (d deadlineReader) WaitInput() error {
	c := d.c
	from := time.Now()
	if !c.waitSince.IsZero() { // the wait began in place (inputWithin)
		from, c.waitSince = c.waitSince, time.Time{}
	}
	c.nc.SetReadDeadline(c.waitDeadline(from))
	if !c.canWaitReadable() {
		return nil
	}
	return waitReadable(c.sysConn)
}

// canWaitReadable reports whether the raw socket can be reached, for
// WaitInput to wait on it and socketReadable to ask it (a net.Pipe in
// tests cannot); it sets c.sysConn once. Connection goroutine only.
func (c *conn) canWaitReadable() bool {
	if c.sysConn == nil && !c.noSysConn {
		if sc, ok := c.raw.(syscall.Conn); ok {
			c.sysConn, _ = sc.SyscallConn()
		}
		c.noSysConn = c.sysConn == nil
	}
	return c.sysConn != nil
}
