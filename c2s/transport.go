package c2s

import (
	"crypto/tls"
	"net"
)

// Transport describes a client connection whose framing and security are
// provided by another layer, such as XMPP over WebSocket (RFC 7395,
// package websocket): that layer presents the connection as the byte
// stream of an RFC 6120 stream, and says what protects it.
//
// Such a connection is never offered STARTTLS (the layer under it decides
// about TLS) and never parks in the epoll set: it is not a plain socket
// (see park.go), so its reader goroutine waits for it in Read.
type Transport struct {
	// TLS is the state of a TLS connection the server itself terminated
	// under the transport (wss://), nil if none: SCRAM -PLUS binds to it.
	TLS *tls.ConnectionState
	// Confidential reports that the transport is encrypted, by TLS here
	// or at a trusted TLS-terminating proxy in front of the server:
	// PLAIN is offered only then, as on a TCP stream only after TLS.
	Confidential bool
}

// ServeTransport serves nc, a connection of the given transport, on a
// goroutine the server waits for at shutdown, and reports whether it did
// (not once Shutdown has begun; the caller then closes nc). Every Close of
// nc must end the transport's connection, and nc's Read must honour read
// deadlines by failing with a timeout while leaving nc usable.
func (s *Server) ServeTransport(nc net.Conn, t Transport) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting {
		return false
	}
	c := newConn(s, nc, false)
	c.transport = &t
	c.noSysConn = true // never parked: there is no socket to wait on
	s.conns[c] = struct{}{}
	s.counters.accepted.Inc()
	s.goroutine(c.serve) // under mu, !shutting: see wg
	return true
}

// transportTLS is the TLS state channel bindings come from: the stream's
// own TLS, or the TLS under a transport.
func (c *conn) transportTLS() *tls.ConnectionState {
	if c.tlsConn != nil {
		st := c.tlsConn.ConnectionState()
		return &st
	}
	if c.transport != nil {
		return c.transport.TLS
	}
	return nil
}
