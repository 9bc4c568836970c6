package component

import (
	"context"
	"errors"
	"github.com/skald-xmpp/skald/internal/netaccept"
	"log/slog"
	"net"
	"sync"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/stream"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("component: server closed")

// Server accepts component streams and is the router's ComponentRouter.
//
// Locks: Server.mu (the tables) and conn.mu (a connection's queue) are
// leaves: SendComponent and Shutdown look a connection up under the
// former and push or end under the latter alone. Nothing that may block
// on the network or call the router runs under either.
type Server struct {
	cfg      Config
	r        *router.Router
	log      *slog.Logger
	secrets  map[string]string // canonical domain -> secret
	counters counters

	ctx    context.Context // ended by Shutdown: the router's work for a stanza
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine of the server

	mu        sync.Mutex
	closing   bool
	listeners []net.Listener
	conns     map[*conn]bool   // every connection, authenticated or not
	byDomain  map[string]*conn // authenticated streams
}

// New returns the server for cfg and installs it as r's component
// router; cfg must be valid.
func New(cfg Config, r *router.Router, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: cfg, r: r, log: log, secrets: map[string]string{},
		conns: map[*conn]bool{}, byDomain: map[string]*conn{}}
	for _, d := range cfg.Domains {
		if j, err := jid.Parse(d.Domain); err == nil {
			s.secrets[j.String()] = d.Secret
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	r.SetComponents(s)
	return s
}

// ComponentDomains implements router.ComponentRouter.
func (s *Server) ComponentDomains() []string { return s.cfg.DomainNames() }

// ComponentConnected implements router.ComponentRouter.
func (s *Server) ComponentConnected(d string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byDomain[d] != nil
}

// SendComponent implements router.ComponentRouter: st is queued on the
// stream of the component serving to's domain, or refused with
// service-unavailable when none is connected (RFC 6120 §10.4.2's answer
// for an entity of ours that is not there) and resource-constraint when
// the component's queue overflows (the component is then cut off).
func (s *Server) SendComponent(st *xml.Element, from, to jid.JID) error {
	s.mu.Lock()
	c := s.byDomain[to.Domain()]
	s.mu.Unlock()
	if c == nil {
		return stanza.E(stanza.ServiceUnavailable, "")
	}
	// jabber:client elements are written without xmlns: on the stream
	// they are in its default namespace, jabber:component:accept.
	if err := c.push(st.Bytes(stanza.NSClient), st); err != nil {
		if errors.Is(err, errQueueFull) {
			return stanza.E(stanza.ResourceConstraint, "")
		}
		return stanza.E(stanza.ServiceUnavailable, "")
	}
	return nil
}

// isClosing reports whether Shutdown has begun (the accept loop's stop
// signal, netaccept.Accept).
func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Serve accepts component connections on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	err := netaccept.Serve(l, s.isClosing, func(nc net.Conn) bool {
		s.counters.connections.Inc()
		c := newConn(s, nc)
		switch s.start(c, c.run) {
		case errOverCap:
			// Closed without a word, as s2s does: a header and a stream
			// error per refused connection are the work the cap avoids.
			s.counters.refused.Inc()
			nc.Close()
		case ErrServerClosed:
			nc.Close()
			return false
		}
		return true
	})
	if errors.Is(err, netaccept.ErrClosed) {
		return ErrServerClosed
	}
	return err
}

// errOverCap refuses a connection over max_pending_connections.
var errOverCap = errors.New("component: too many pending connections")

// start registers c and runs f on a goroutine Shutdown waits for, unless
// the server is shutting down (ErrServerClosed) or as many connections
// as max_pending_connections have not authenticated yet (errOverCap).
func (s *Server) start(c *conn, f func()) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return ErrServerClosed
	}
	// Every authenticated stream is in both tables (claim, forget).
	if len(s.conns)-len(s.byDomain) >= s.cfg.MaxPendingConnections {
		return errOverCap
	}
	s.conns[c] = true
	s.wg.Add(1)
	go func() { defer s.wg.Done(); f() }()
	return nil
}

// goroutine runs f on a goroutine Shutdown waits for, unless the server
// is shutting down.
func (s *Server) goroutine(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); f() }()
	return true
}

// claim makes c the stream of domain unless another holds it (XEP-0114
// §3: a name the server will not service now is a conflict; the
// connected component keeps it).
func (s *Server) claim(c *conn, domain string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byDomain[domain] != nil || s.closing {
		return false
	}
	s.byDomain[domain] = c
	return true
}

// taken reports whether a component is connected for domain.
func (s *Server) taken(domain string) bool { return s.ComponentConnected(domain) }

// forget removes c, and its domain if it held it.
func (s *Server) forget(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if c.domain != "" && s.byDomain[c.domain] == c {
		delete(s.byDomain, c.domain)
	}
}

// Shutdown stops accepting, ends every stream with system-shutdown and
// </stream:stream> (after what is queued) and waits for the connections' goroutines
// until ctx ends, then cuts the sockets left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for _, l := range s.listeners {
		l.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		// RFC 6120 §4.9.3.20: the component may come back later.
		c.end(stream.New(stream.SystemShutdown, "").Bytes())
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		for _, c := range conns {
			c.nc.Close()
		}
		<-done
	}
	s.cancel()
	return err
}
