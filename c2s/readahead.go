package c2s

import "time"

// stanzaReady reports whether another stanza from the client can be read
// without waiting for the client, reading it into the buffer if needed.
// handleMessages batches messages only while it holds. It may miss input,
// and a batch then ends early; it never waits for a client that has sent
// nothing more.
//
// Input can be in three places: the XML reader's buffer; TLS records that
// crypto/tls has taken from the socket but not yet decrypted (it reads
// ahead); the kernel's socket buffer. Bytes in the kernel are read with an
// ordinary read, which returns at once (a TLS record cut in two waits for
// its rest, which the client is sending). Records held by crypto/tls are
// reached by a read with a deadline in the past: it decrypts a complete
// record, or fails at once without touching the socket (a timeout leaves
// a tls.Conn usable).
func (c *conn) stanzaReady() bool {
	if c.rd.StanzaBuffered() {
		return true
	}
	if c.socketReadable() {
		if err := c.rd.ReadAhead(); err != nil {
			return false
		}
		return c.rd.StanzaBuffered()
	}
	if c.tlsConn == nil {
		return false
	}
	c.polling = true
	_ = c.rd.ReadAhead() // a timeout when nothing is there; a lasting error comes back at the next read
	c.polling = false
	c.restoreReadDeadline()
	return c.rd.StanzaBuffered()
}

// pastDeadline is a read deadline that has always passed.
var pastDeadline = time.Unix(1, 0)
