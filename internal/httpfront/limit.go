package httpfront

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/skald-xmpp/skald/internal/connlimit"
)

// ConnLimiter caps the connections a listener has open at once
// (max_connections). A connection beyond the cap is accepted and closed
// at once rather than left unaccepted: its descriptor is freed
// immediately, its client learns at once (a closed connection) instead of
// hanging in the kernel's backlog, and the accept loop keeps draining the
// backlog so it holds no stale connections. Idle connections that are
// admitted are bounded by the HTTP server's header and idle timeouts.
type ConnLimiter struct {
	max     int64
	open    atomic.Int64
	refused atomic.Uint64
}

// NewConnLimiter returns a limiter allowing max connections at once.
func NewConnLimiter(max int) *ConnLimiter { return &ConnLimiter{max: int64(max)} }

// Listener wraps l so that its connections count against the limiter.
// A connection leaves the count when closed, also after an HTTP handler
// hijacked it (a WebSocket).
func (c *ConnLimiter) Listener(l net.Listener) net.Listener {
	return &limitListener{Listener: l, lim: c}
}

// Open is the number of connections open now.
func (c *ConnLimiter) Open() int { return int(c.open.Load()) }

// Refused is the number of connections closed at accept, beyond the cap.
func (c *ConnLimiter) Refused() uint64 { return c.refused.Load() }

type limitListener struct {
	net.Listener
	lim *ConnLimiter
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.lim.open.Add(1) <= l.lim.max {
			return &limitedConn{Conn: nc, lim: l.lim}, nil
		}
		l.lim.open.Add(-1)
		l.lim.refused.Add(1)
		nc.Close()
	}
}

// limitedConn gives its place back when first closed.
type limitedConn struct {
	net.Conn
	lim    *ConnLimiter
	closed atomic.Bool
}

func (c *limitedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.lim.open.Add(-1)
	}
	return c.Conn.Close()
}

// ClientAddr is the client's address: behind a declared TLS proxy, the
// address the proxy appended to X-Forwarded-For (the last one: those
// before it are the client's own claims), as otherwise every client
// would share the proxy's address; else the connection's.
func (l Listener) ClientAddr(r *http.Request) string {
	if l.BehindTLSProxy {
		if hops := r.Header.Values("X-Forwarded-For"); len(hops) > 0 {
			list := strings.Split(hops[len(hops)-1], ",")
			if last := strings.TrimSpace(list[len(list)-1]); net.ParseIP(last) != nil {
				return last
			}
		}
	}
	return r.RemoteAddr
}

// ClientKey is the key per-address limits count r under (connlimit.IPKey of
// ClientAddr), or "" for a request behind a TLS proxy that did not say
// whose it is: every such request would count as the proxy's, so none
// is counted.
func (l Listener) ClientKey(r *http.Request) string {
	client := l.ClientAddr(r)
	if l.BehindTLSProxy && client == r.RemoteAddr {
		return ""
	}
	return connlimit.IPKey(client)
}

// Serve runs srv on l, at most c's cap of connections at once, with TLS
// when srv has a TLSConfig, until srv is shut down (nil then).
func (c *ConnLimiter) Serve(srv *http.Server, l net.Listener) error {
	l = c.Listener(l)
	var err error
	if srv.TLSConfig != nil {
		err = srv.ServeTLS(l, "", "")
	} else {
		err = srv.Serve(l)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
