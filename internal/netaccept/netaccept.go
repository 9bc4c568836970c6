// Package netaccept is the step the TCP transports' accept loops share
// (c2s, s2s, component): take the next connection, and tell the errors
// that end a listener from those a busy system gives for a while.
//
// It imports nothing of Skald.
package netaccept

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// ErrClosed is returned once the server is closing.
var ErrClosed = errors.New("netaccept: server closing")

// Accept returns l's next connection. An error a busy system gives for a
// while is waited out with a back-off from 5 ms to 1 s, as net/http's
// Server does, rather than ending the loop: a timeout, the process or the
// system out of file descriptors (EMFILE, ENFILE: a burst of connections
// the descriptor limit cannot hold; a listener that returned on it would
// stop serving for good), or a connection aborted before it was accepted.
// closing is asked after every error; once it reports true, Accept
// returns ErrClosed. Any other error is returned as it is.
func Accept(l net.Listener, closing func() bool) (net.Conn, error) {
	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err == nil {
			return nc, nil
		}
		if closing() {
			return nil, ErrClosed
		}
		if !retryable(err) {
			return nil, err
		}
		backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
		time.Sleep(backoff)
	}
}

// Serve is a server's accept loop: it hands each connection of l to
// handle until closing reports true or handle returns false (the server
// refused the connection because it is closing; handle has closed it),
// both ErrClosed, or l fails for good (that error, see Accept).
func Serve(l net.Listener, closing func() bool, handle func(net.Conn) bool) error {
	for {
		nc, err := Accept(l, closing)
		if err != nil {
			return err
		}
		if !handle(nc) {
			return ErrClosed
		}
	}
}

func retryable(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ECONNABORTED)
}
