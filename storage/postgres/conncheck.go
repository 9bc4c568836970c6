package postgres

import (
	"context"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// shouldPing is the pool's ShouldPing hook: it decides, on every acquire,
// whether the connection is pinged (one round trip) before the caller
// gets it.
//
// pgxpool pings only connections idle for more than a second. A backend
// that PostgreSQL ended meanwhile (a server restart, pg_terminate_backend)
// is then handed out dead when the pool is busy, and the caller's
// statement fails: up to MaxConns operations after a restart. A dead
// backend leaves a trace in the socket without any round trip: before
// exiting it sends a FATAL ErrorResponse and closes, so an idle
// connection, which should have nothing to read, is readable (data or
// EOF). peekReadable looks with one non-blocking syscall; such a
// connection is pinged, and pgxpool destroys it when the ping fails and
// takes the next one (or dials), so the caller gets a live connection
// and its statement is never sent on a dead one. A live connection with
// nothing to read costs the syscall only.
//
// Invariant: the socket is peeked only when pgconn has no read of its own
// on it. pgconn starts a background reader goroutine whenever a write
// takes more than 15 ms (a loaded machine) and only asks it to stop
// afterwards: the goroutine may stay parked in Read on the idle
// connection, holding the socket's read lock, until the server sends
// something. A peek then blocks on that lock for ever, and so does the
// Acquire, with no context able to end it (this hung the tests under
// load). It may also have read the server's FATAL message into its
// buffer, where a peek cannot see it. SyncConn returns at once when no
// reader runs and nothing is buffered, and otherwise pings (one round
// trip, which drains and stops the reader); a connection it cannot sync
// is dead, and pinged again and destroyed by pgxpool.
func shouldPing(ctx context.Context, p pgxpool.ShouldPingParams) bool {
	if p.IdleDuration > time.Second {
		return true // pgxpool's own rule: catches what a peek cannot (a silent network)
	}
	pc := p.Conn.PgConn()
	if err := pc.SyncConn(ctx); err != nil {
		return true
	}
	return peekReadable(pc.Conn())
}

// underlying returns the socket below a TLS connection, or c itself.
func underlying(c net.Conn) net.Conn {
	if u, ok := c.(interface{ NetConn() net.Conn }); ok {
		return u.NetConn()
	}
	return c
}
