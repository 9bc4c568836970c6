package c2s

import (
	"io"
	"net"
	"time"

	"github.com/skald-xmpp/skald/internal/connlimit"
	"github.com/skald-xmpp/skald/stream"
)

// Connection caps (Config.MaxConnections, MaxConnectionsPerIP). A TCP
// connection holds its place from accept to finish, parked or not, so an
// idle client costs no goroutine but still counts. Connections another
// layer hands over (ServeTransport) are capped by that layer.
//
// A connection over a cap is accepted and refused rather than left in the
// kernel's backlog (where it would hold its client in suspense and stale
// connections would pile up): on the STARTTLS listener it gets our stream
// header, a stream error and the closing tag (RFC 6120 §4.9.1.1: the
// header first, also for an error before the stream is set up) without
// our reading its header. The conditions, RFC 6120 §4.9.3: the total cap
// is <resource-constraint/> (§4.9.3.17, "the server lacks the system
// resources necessary to service the stream"), the per-address cap
// <policy-violation/> (§4.9.3.14, a local policy such as a limit on one
// entity's connections).
//
// A refused direct TLS connection (XEP-0368) is closed without a word:
// the stream error could only go inside TLS, and a handshake (key
// exchange, certificate signature) is the very cost the caps are there to
// bound, above all under a flood. Its client sees the connection end in
// the handshake and may try another address or later.

// maxRefusing bounds the refusals being written at once; beyond, a
// refused connection is closed without its stream error, so that a
// flood cannot hold more than this many goroutines and descriptors.
const maxRefusing = 64

// refuseLinger bounds how long a refused connection may stay open while
// its stream error is written and the client's input drained.
const refuseLinger = 2 * time.Second

// admit decides whether nc, just accepted, may be served, and counts it
// if so; else it refuses it (refuse) and returns nil. Called under s.mu
// and while !shutting (refuse starts a goroutine: see wg). The per-address
// counter's mutex is a leaf under s.mu.
func (s *Server) admit(nc net.Conn, directTLS bool) (ipKey string, ok bool) {
	if max := s.cfg.MaxConnections; max > 0 && s.tcpOpen >= max {
		s.counters.refusedTotal.Inc()
		s.refuse(nc, directTLS, stream.ResourceConstraint)
		return "", false
	}
	if s.perIP != nil {
		key := connlimit.IPKey(nc.RemoteAddr().String())
		if !s.perIP.Acquire(key) {
			s.counters.refusedPerIP.Inc()
			s.refuse(nc, directTLS, stream.PolicyViolation)
			return "", false
		}
		ipKey = key
	}
	s.tcpOpen++
	return ipKey, true
}

// release gives back the places of a TCP connection that admit counted.
// Called under s.mu.
func (s *Server) release(c *conn) {
	if !c.capped {
		return
	}
	c.capped = false
	s.tcpOpen--
	if c.ipKey != "" {
		s.perIP.Release(c.ipKey)
	}
}

// refuse ends a connection over a cap (see above): with a stream error
// of condition cond on the STARTTLS listener, at once on direct TLS or
// when maxRefusing refusals are under way. Called under s.mu, !shutting.
func (s *Server) refuse(nc net.Conn, directTLS bool, cond stream.Condition) {
	s.log.Debug("c2s connection refused", "remote", nc.RemoteAddr().String(), "condition", string(cond))
	if directTLS || s.refusing.Add(1) > maxRefusing {
		if !directTLS {
			s.refusing.Add(-1)
		}
		nc.Close()
		return
	}
	s.goroutine(func() {
		defer s.refusing.Add(-1)
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(refuseLinger))
		domain := ""
		if ds := s.router.Domains(); len(ds) > 0 {
			domain = ds[0]
		}
		out := stream.Header(stream.NSClient, domain, "", newID(), "en")
		out = append(out, stream.New(cond, "").Bytes()...)
		out = append(out, stream.Close...)
		if _, err := nc.Write(out); err != nil {
			return
		}
		// Closing a socket with unread input resets the connection,
		// and a reset may destroy what we wrote before the client read
		// it: end our side, then read what the client sends (its
		// header) until it closes, within refuseLinger.
		if tc, ok := nc.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		io.Copy(io.Discard, io.LimitReader(nc, 64<<10))
	})
}
