//go:build linux || darwin || freebsd || netbsd || openbsd

package postgres

import (
	"errors"
	"net"
	"syscall"
)

// peekReadable reports whether c has something to read (data or EOF) or
// a socket error, without consuming or waiting: recv with MSG_PEEK and
// MSG_DONTWAIT. A socket it cannot inspect counts as not readable (the
// pool's idle rule still applies).
func peekReadable(c net.Conn) bool {
	sc, ok := underlying(c).(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	readable := false
	var buf [1]byte
	err = raw.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// n > 0: unsolicited bytes (a FATAL error before the close);
		// n == 0 without error: EOF; an error other than EAGAIN: a reset.
		readable = n > 0 || (n == 0 && rerr == nil) ||
			(rerr != nil && !errors.Is(rerr, syscall.EAGAIN) && !errors.Is(rerr, syscall.EWOULDBLOCK) && !errors.Is(rerr, syscall.EINTR))
		return true // never park in the poller: this is a peek
	})
	return readable || err != nil
}
