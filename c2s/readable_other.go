//go:build !linux

package c2s

// socketReadable cannot tell on this platform: batches of messages then
// hold only what is already buffered.
func (c *conn) socketReadable() bool { return false }
