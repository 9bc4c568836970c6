package websocket

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	ws "github.com/coder/websocket"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/connlimit"
	"github.com/skald-xmpp/skald/internal/hostmeta"
	"github.com/skald-xmpp/skald/internal/httpfront"
	"github.com/skald-xmpp/skald/internal/metrics"
	"github.com/skald-xmpp/skald/internal/xml"
)

// Server serves XMPP over WebSocket and the host-meta documents on one
// HTTP listener, and hands each WebSocket connection to the c2s server.
type Server struct {
	cfg    Config
	c2s    *c2s.Server
	limits xml.Limits
	log    *slog.Logger
	http   *http.Server
	others hostmeta.Links // more host-meta links (AnnounceAlso)
	// connLimit caps the HTTP connections (max_connections), perIP the
	// WebSocket connections from one address (max_connections_per_ip).
	connLimit *httpfront.ConnLimiter
	perIP     *connlimit.PerIP
	// refusedPerIP counts the handshakes perIP refused.
	refusedPerIP metrics.Counter

	// wg counts two goroutines per connection: its frame reader and its
	// closing handshake (conn.Close starts it; forget ends its count), so
	// it is Added for both in track. Invariant, as in c2s.Server: Add only
	// under mu while !shutting, so Shutdown's Wait, which starts after it
	// set shutting under mu, sees every Add.
	wg sync.WaitGroup
	// mu guards conns and shutting. It is a leaf: under it only the map,
	// the flag, goroutine starts and conn.closeNow (which takes no lock of
	// ours); a connection's closing handshake takes it through forget, so
	// nothing may call into c2s with it held.
	mu       sync.Mutex
	conns    map[*conn]struct{}
	shutting bool
}

// New returns a server for cfg handing streams to c. TLS (the server's
// certificate) is used when cfg.TLS; limits are c2s's, whose largest
// stanza is also the largest frame.
func New(cfg Config, c *c2s.Server, tlsConfig *tls.Config, limits xml.Limits, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	if limits.MaxStanzaBytes <= 0 {
		limits = xml.DefaultLimits
	}
	s := &Server{
		cfg: cfg, c2s: c, limits: limits, log: log, conns: make(map[*conn]struct{}),
		connLimit: httpfront.NewConnLimiter(cfg.MaxConnections),
		perIP:     connlimit.NewPerIP(cfg.MaxConnectionsPerIP),
	}
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	if cfg.TLS {
		if tlsConfig == nil {
			return nil, errors.New("websocket: tls = true needs the server's certificate")
		}
		t := tlsConfig.Clone()
		t.NextProtos = []string{"http/1.1"} // WebSocket upgrades HTTP/1.1 only
		s.http.TLSConfig = t
	}
	return s, nil
}

// Address is the configured listening address.
func (s *Server) Address() string { return s.cfg.Address }

// Handler serves the WebSocket endpoint at cfg.Path and the XEP-0156
// host-meta documents.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(s.cfg.Path, s.serveWebSocket)
	hostmeta.Register(mux, s.hostMetaLinks)
	return mux
}

// Serve accepts HTTP connections on l until Shutdown, at most
// max_connections at once.
func (s *Server) Serve(l net.Listener) error { return s.connLimit.Serve(s.http, l) }

// offersXMPP reports whether the handshake lists the xmpp subprotocol.
func offersXMPP(r *http.Request) bool {
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(h, ",") {
			if strings.TrimSpace(p) == Subprotocol {
				return true
			}
		}
	}
	return false
}

// isUpgrade reports whether r asks for a WebSocket; anything else gets
// Accept's 426 Upgrade Required.
func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// serveWebSocket upgrades the request and hands the connection to c2s.
func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	// RFC 7395 §3.1: the handshake must negotiate "xmpp"; a server may
	// not answer with a subprotocol the client did not offer (RFC 6455
	// §4.2.2), so without it there is no XMPP session to accept.
	if isUpgrade(r) && !offersXMPP(r) {
		http.Error(w, `the WebSocket subprotocol "xmpp" is required (RFC 7395)`, http.StatusBadRequest)
		return
	}
	// The per-address cap is checked before the upgrade, so a refusal
	// is a plain HTTP answer the client can read.
	key := s.cfg.ClientKey(r)
	if key != "" && !s.perIP.Acquire(key) {
		s.log.Info("websocket: max_connections_per_ip reached", "addr", key, "max_connections_per_ip", s.cfg.MaxConnectionsPerIP)
		s.refusedPerIP.Inc()
		http.Error(w, "too many connections from your address", http.StatusTooManyRequests)
		return
	}
	release := func() {
		if key != "" {
			s.perIP.Release(key)
		}
	}
	hw := &hijackRecorder{ResponseWriter: w}
	wc, err := ws.Accept(hw, r, &ws.AcceptOptions{
		Subprotocols:       []string{Subprotocol},
		OriginPatterns:     s.cfg.Origins,
		InsecureSkipVerify: s.cfg.AnyOrigin(),
	})
	if err != nil {
		s.log.Debug("websocket handshake refused", "remote", r.RemoteAddr, "err", err)
		release()
		return // Accept answered
	}
	wc.SetReadLimit(-1) // frames are bounded by readFrame, which answers with a stream error
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{
		ws:     wc,
		nc:     hw.nc,
		local:  addr(r.Host),
		remote: addr(s.cfg.ClientAddr(r)),
		ipKey:  key,
		frames: make(chan inFrame),
		done:   make(chan struct{}),
		cancel: cancel,
		onEnd:  s.forget,
		maxLen: s.limits.MaxStanzaBytes,
	}
	c.in = inbound{limits: s.limits, restartAllowed: func() bool { return c.restart.Swap(false) }}
	c.out = outbound{sawSuccess: func() { c.restart.Store(true) }}
	if !s.track(c, ctx) {
		wc.Close(ws.StatusGoingAway, "shutting down")
		cancel()
		release()
		return
	}
	t := c2s.Transport{TLS: r.TLS, Confidential: r.TLS != nil || s.cfg.BehindTLSProxy}
	if !s.c2s.ServeTransport(c, t) {
		c.Close()
	}
}

// track registers c and starts its frame reader, unless Shutdown has
// begun.
func (s *Server) track(c *conn, ctx context.Context) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(2) // under mu, !shutting: see wg; the reader's and the close's
	go func() {
		defer s.wg.Done()
		c.readFrames(ctx)
	}()
	return true
}

// forget ends a connection's closing handshake: it leaves the table and
// its count in wg.
func (s *Server) forget(c *conn) {
	func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.conns, c)
	}()
	if c.ipKey != "" {
		s.perIP.Release(c.ipKey)
	}
	s.wg.Done()
}

// Shutdown stops accepting and waits, until ctx is done, for the
// WebSocket connections to end; c2s.Server.Shutdown ends their streams
// (an error, then <close/>), so it is called first. When ctx is done the
// connections left are cut.
func (s *Server) Shutdown(ctx context.Context) error {
	s.setShutting()
	err := s.http.Shutdown(ctx)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return err
	case <-ctx.Done():
		s.cutAll()
		return ctx.Err()
	}
}

func (s *Server) setShutting() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shutting = true
}

// cutAll cuts the connections left.
func (s *Server) cutAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.closeNow()
	}
}

// addr is a net.Addr for an address HTTP reports as a string.
type addr string

func (a addr) Network() string { return "tcp" }
func (a addr) String() string  { return string(a) }

// hijackRecorder keeps the connection the WebSocket upgrade hijacks, so
// that conn.closeNow can cut it while a closing handshake is in progress.
type hijackRecorder struct {
	http.ResponseWriter
	nc net.Conn
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	h.nc = nc
	return nc, rw, err
}
