package c2s

import (
	"golang.org/x/sys/unix"
)

// socketReadable reports whether the kernel holds received bytes for the
// connection that the server has not read yet (SIOCINQ). It never blocks.
func (c *conn) socketReadable() bool {
	if !c.canWaitReadable() { // sets c.sysConn
		return false
	}
	n := 0
	if err := c.sysConn.Control(func(fd uintptr) {
		n, _ = unix.IoctlGetInt(int(fd), unix.TIOCINQ)
	}); err != nil {
		return false
	}
	return n > 0
}
