//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package c2s

import "syscall"

// waitReadable blocks until the socket has bytes to read, or has ended or
// failed (which the read that follows reports), within its read deadline.
// It reads nothing.
func waitReadable(rc syscall.RawConn) error {
	// The runtime's poller is edge-triggered: bytes that arrived before the
	// wait and were not read would not wake it, so the socket is asked
	// first (the poller calls this again after each wake-up). A peek sees
	// the end of the stream too, which a count of queued bytes would not.
	return rc.Read(func(fd uintptr) bool {
		var b [1]byte
		for {
			_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
			if err == syscall.EINTR {
				continue
			}
			return err != syscall.EAGAIN
		}
	})
}
