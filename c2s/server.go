package c2s

import (
	"context"
	"crypto/tls"
	"errors"
	"github.com/skald-xmpp/skald/internal/netaccept"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skald-xmpp/skald/internal/connlimit"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/stream"
)

// Config configures the transport.
type Config struct {
	TLS *tls.Config // nil: no TLS at all (tests on loopback only)
	// RequireTLS refuses authentication before STARTTLS.
	RequireTLS bool
	Limits     xml.Limits
	// PreAuthMaxStanzaBytes caps elements before authentication.
	PreAuthMaxStanzaBytes int64
	IdleTimeout           time.Duration // no bytes from the client for this long ends the stream
	// NegotiationTimeout bounds the time from accepting a connection to a
	// bound resource (or a resumed session), whatever the client sends
	// meanwhile; 0: no bound but the idle timeout.
	NegotiationTimeout time.Duration
	WriteTimeout       time.Duration
	SendQueueBytes     int
	// AuthFailuresPerMinute bounds failed authentications per client IP;
	// AccountAuthFailuresPerMinute per account name (whether or not the
	// account exists). Further attempts get temporary-auth-failure. 0 means
	// no limit.
	AuthFailuresPerMinute        int
	AccountAuthFailuresPerMinute int
	// ReadBytesPerSecond throttles what one connection may send (0: no
	// limit); a client over the rate is read more slowly, never dropped.
	// ReadBurstBytes is what it may send at once (at least one stanza).
	ReadBytesPerSecond int
	ReadBurstBytes     int
	// KeepaliveInterval is how often a whitespace keepalive goes to a
	// connection nothing was written to for that long (0: never).
	KeepaliveInterval time.Duration
	// ResumeTimeout is how long a stream-management session waits for the
	// client to resume after the connection drops (XEP-0198 max).
	ResumeTimeout time.Duration
	// MaxUnacked bounds stanzas kept for resumption per session.
	MaxUnacked int
	// CSI offers XEP-0352 Client State Indication: an inactive client's
	// presence updates are held and its chat states dropped (csi.go).
	CSI bool
	// Carbons offers XEP-0280 Message Carbons inline in XEP-0386 Bind 2
	// (the carbons module copies messages to sessions that enabled them).
	Carbons bool
	// BoundInfo adds to a XEP-0386 <bound/> what other modules know of the
	// account at the moment of binding (mam: the archive's metadata).
	BoundInfo []BoundInfo
	// ExtraFeatures are added to the post-authentication stream features
	// (e.g. roster versioning, pre-approval, caps).
	ExtraFeatures []*xml.Element
	// Mechanisms lists the SASL mechanisms offered where the connection
	// allows them (PLAIN over TLS, -PLUS with a channel binding), always
	// in sasl.Mechanisms' order, strongest first; nil offers all. Others
	// are refused with invalid-mechanism. An operator migrating accounts
	// with SCRAM-SHA-1 keys only leaves out SCRAM-SHA-256(-PLUS) until
	// their users have logged in once with PLAIN (auth.go).
	Mechanisms []string
	// MaxConnections caps the TCP connections open at once on all the
	// server's listeners together, parked ones included; 0: no cap.
	// MaxConnectionsPerIP caps those of one client address (an IPv4
	// address or an IPv6 /64, connlimit.IPKey); 0: no cap. Connections
	// over a cap are refused with a stream error (conncap.go).
	// Connections handed over by another layer (ServeTransport) count
	// only against that layer's caps.
	MaxConnections      int
	MaxConnectionsPerIP int
	// FastTokens, with a FastTokenLifetime above zero, offers XEP-0484
	// FAST inline in SASL2 (fast.go): tokens are issued into it, valid for
	// FastTokenLifetime, and logins with one are checked against it.
	FastTokens        storage.FastTokens
	FastTokenLifetime time.Duration
	// Registrar, when set, lets clients create an account before
	// authenticating (XEP-0077 in-band registration, register.go), over
	// an encrypted transport only.
	Registrar Registrar
}

// DefaultConfig returns production defaults (TLS must still be set).
func DefaultConfig() Config {
	return Config{
		RequireTLS:                   true,
		Limits:                       xml.DefaultLimits,
		PreAuthMaxStanzaBytes:        16 << 10,
		IdleTimeout:                  5 * time.Minute,
		NegotiationTimeout:           time.Minute,
		WriteTimeout:                 30 * time.Second,
		SendQueueBytes:               1 << 20,
		AuthFailuresPerMinute:        10,
		AccountAuthFailuresPerMinute: 5,
		ReadBytesPerSecond:           64 << 10,
		KeepaliveInterval:            time.Minute,
		ResumeTimeout:                5 * time.Minute,
		MaxUnacked:                   1000,
		CSI:                          true,
		MaxConnectionsPerIP:          100,
		Carbons:                      true,
	}
}

// Server accepts client connections.
type Server struct {
	cfg    Config
	router *router.Router
	users  storage.Users
	log    *slog.Logger
	limit  *authLimiter
	sm     *smRegistry
	parker *parker
	// perIP counts the TCP connections of each client address (nil: no
	// per-address cap); refusing counts the refusals being written.
	perIP    *connlimit.PerIP
	refusing atomic.Int32
	// counters are the metrics counted as things happen (metrics.go).
	counters counters

	// wg counts every goroutine this server starts. Invariant: a goroutine
	// started from one wg does not count (Serve's accept loop, which runs
	// on its caller's goroutine, and timer callbacks) is added to wg under
	// mu and only while !shutting (startConn, goUnlessShutting), so each
	// such Add happens before Shutdown's Wait, which starts after Shutdown
	// set shutting under mu. (An Add racing a Wait at a zero count could
	// start a goroutine that Shutdown does not wait for.) Goroutines
	// started by counted ones (a connection's flusher, a replaced
	// session's end) may use goroutine directly: the count is not zero.
	// A parked connection holds a count too (see park.go).
	wg        sync.WaitGroup
	mu        sync.Mutex // guards the fields below
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	tcpOpen   int // TCP connections counted against MaxConnections (conncap.go)
	shutting  bool
	keepalive bool // the keepalive goroutine has been started

	done chan struct{} // closed by Shutdown
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("c2s: server closed")

// NewServer returns a server routing through r and authenticating against
// users.
func NewServer(cfg Config, r *router.Router, users storage.Users, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	if cfg.Limits.MaxStanzaBytes <= 0 {
		cfg.Limits = xml.DefaultLimits
	}
	if cfg.PreAuthMaxStanzaBytes <= 0 || cfg.PreAuthMaxStanzaBytes > cfg.Limits.MaxStanzaBytes {
		cfg.PreAuthMaxStanzaBytes = min(16<<10, cfg.Limits.MaxStanzaBytes)
	}
	if cfg.SendQueueBytes <= 0 {
		cfg.SendQueueBytes = 1 << 20
	}
	if cfg.ReadBurstBytes < int(cfg.Limits.MaxStanzaBytes) {
		cfg.ReadBurstBytes = int(cfg.Limits.MaxStanzaBytes)
	}
	if cfg.MaxUnacked <= 0 {
		cfg.MaxUnacked = 1000
	}
	s := &Server{
		cfg: cfg, router: r, users: users, log: log,
		limit:     newAuthLimiter(cfg.AuthFailuresPerMinute, cfg.AccountAuthFailuresPerMinute),
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*conn]struct{}),
	}
	if cfg.MaxConnectionsPerIP > 0 {
		s.perIP = connlimit.NewPerIP(cfg.MaxConnectionsPerIP)
	}
	s.sm = newSMRegistry(s)
	s.parker = newParker(s)
	s.done = make(chan struct{})
	return s
}

// goroutine runs f on a goroutine the server waits for at shutdown.
func (s *Server) goroutine(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// goUnlessShutting starts f as a counted goroutine unless Shutdown has
// begun, and reports whether it did; for callers that are not themselves
// counted (see wg).
func (s *Server) goUnlessShutting(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting {
		return false
	}
	s.goroutine(f)
	return true
}

// Serve accepts connections on l until Shutdown. With directTLS the TLS
// handshake happens first (XEP-0368).
func (s *Server) Serve(l net.Listener, directTLS bool) error {
	s.mu.Lock()
	if s.shutting {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	if s.cfg.KeepaliveInterval > 0 && !s.keepalive {
		s.keepalive = true
		s.goroutine(s.keepalives) // under mu, !shutting: see wg
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	err := netaccept.Serve(l, s.isShutting, func(nc net.Conn) bool {
		if !s.startConn(nc, directTLS) {
			nc.Close() // shutting down: the next Accept fails and ends the loop
		}
		return true
	})
	if errors.Is(err, netaccept.ErrClosed) {
		return ErrServerClosed
	}
	return err
}

// startConn registers a connection and starts serving it, unless the
// server is shutting down (false: the caller closes nc) or the
// connection is over a cap (then it is refused, see conncap.go).
func (s *Server) startConn(nc net.Conn, directTLS bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting {
		return false
	}
	ipKey, ok := s.admit(nc, directTLS)
	if !ok {
		return true
	}
	c := newConn(s, nc, directTLS)
	c.capped, c.ipKey = true, ipKey
	s.conns[c] = struct{}{}
	s.counters.accepted.Inc()
	s.goroutine(c.serve) // under mu, !shutting: see wg
	return true
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.release(c)
	s.mu.Unlock()
}

// Shutdown stops accepting, ends every stream with system-shutdown, and
// waits for connections to finish until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.shutting {
		close(s.done)
	}
	s.shutting = true
	for l := range s.listeners {
		l.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.closeWith(stream.New(stream.SystemShutdown, ""))
	}
	s.parker.stop()
	s.sm.shutdown(context.Background())
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.raw.Close() // c.nc belongs to the reader (STARTTLS swaps it)
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}

// ConnCount returns the number of open connections.
func (s *Server) ConnCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

var whitespace = []byte(" ")

// keepalives sends a single space (RFC 6120 §4.6.1) to every connection
// nothing was written to for KeepaliveInterval, so NAT and proxies keep
// quiet connections open and dead peers are noticed by the write.
func (s *Server) keepalives() {
	t := time.NewTicker(s.cfg.KeepaliveInterval / 2)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			s.mu.Lock()
			conns := make([]*conn, 0, len(s.conns))
			for c := range s.conns {
				conns = append(conns, c)
			}
			s.mu.Unlock()
			for _, c := range conns {
				if now.Sub(time.Unix(0, c.q.lastWrite.Load())) >= s.cfg.KeepaliveInterval && c.streamOpen() {
					c.q.push(whitespace)
				}
			}
		}
	}
}
