//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package postgres

import "net"

// peekReadable cannot peek at a socket on this platform: the pool's idle
// rule alone decides (see shouldPing).
func peekReadable(net.Conn) bool { return false }
