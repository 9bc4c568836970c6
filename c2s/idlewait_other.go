//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package c2s

import "syscall"

// waitReadable cannot wait on the socket here: the read that follows
// waits instead, holding the reader's buffer.
func waitReadable(syscall.RawConn) error { return nil }
