package s2s

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"github.com/skald-xmpp/skald/internal/netaccept"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("s2s: server closed")

// Options are what the server needs besides its section.
type Options struct {
	// TLS is the server's certificate: offered to incoming streams
	// (STARTTLS) and presented as client certificate on outgoing ones
	// (for the peer's SASL EXTERNAL).
	TLS *tls.Config
	// Roots verifies peers' certificates; nil uses the system's.
	Roots *x509.CertPool
	// Secret is the dialback secret (DeriveSecret of the server secret
	// unless the section sets dialback_secret).
	Secret []byte
	// Resolver finds remote servers; nil is net.DefaultResolver.
	Resolver Resolver
	Log      *slog.Logger
}

// Server is the server-to-server transport: it is the router's
// RemoteRouter for outgoing stanzas and serves incoming streams.
//
// Lock order: Server.mu is a leaf except for non-blocking channel sends
// (an outgoing stream's queue) made under it; nothing that may block on
// the network or call the router runs under it. inStream.wmu guards one
// incoming connection's writes and is taken without Server.mu held.
type Server struct {
	cfg      Config
	r        *router.Router
	tls      *tls.Config
	roots    *x509.CertPool
	secret   []byte
	resolver Resolver
	log      *slog.Logger
	counters counters
	now      func() time.Time // the clock of back-off; tests set a fake

	ctx    context.Context // ended by Shutdown: cancels dials and verifications
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine of the server

	mu        sync.Mutex
	closing   bool
	listeners []net.Listener
	out       map[pair]*outStream
	in        map[*inStream]bool
	perIP     map[string]int
	backoff   *backoffTable // remote domains recently unreachable
}

// pair is an outgoing stream's (local domain, remote domain): RFC 6120
// streams are one-way; one stream per pair is reused for every stanza.
type pair struct{ local, remote string }

// New returns the transport for router r and installs it as r's remote
// router.
func New(cfg Config, r *router.Router, opt Options) *Server {
	s := &Server{
		cfg: cfg, r: r, tls: opt.TLS, roots: opt.Roots, secret: opt.Secret,
		resolver: opt.Resolver, log: opt.Log,
		out: make(map[pair]*outStream), in: make(map[*inStream]bool), perIP: make(map[string]int),
		backoff: newBackoffTable(cfg.RetryBackoffMax, backoffDomains), now: time.Now,
	}
	if s.resolver == nil {
		s.resolver = net.DefaultResolver
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	r.SetRemote(s)
	return s
}

// goroutine starts f tracked by Shutdown; false when shutting down.
// Called with s.mu held, so that Shutdown's Wait sees every Add.
func (s *Server) goroutineLocked(f func()) bool {
	if s.closing {
		return false
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); f() }()
	return true
}

// SendRemote implements router.RemoteRouter: st joins the queue of the
// stream from from's domain to to's domain, which is set up on demand. A
// full queue refuses the stanza with resource-constraint (the router
// answers the sender).
func (s *Server) SendRemote(st *xml.Element, from, to jid.JID) error {
	p := pair{from.Domain(), to.Domain()}
	if !s.r.IsHosted(p.local) || s.r.IsHosted(p.remote) {
		return stanza.E(stanza.RemoteServerNotFound, "")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return stanza.E(stanza.RemoteServerTimeout, "")
	}
	o := s.out[p]
	if o == nil {
		if cond, ok := s.backoff.refused(p.remote, s.now()); ok {
			// The last attempt failed moments ago: say so at once
			// rather than spend another lookup, connection and
			// connect_timeout finding the same (RFC 6120 §8.3.3.15-16).
			s.counters.backoffRefused.Inc()
			return stanza.E(cond, "")
		}
		if len(s.out) >= s.cfg.MaxOutgoingStreams {
			// RFC 6120 §8.3.3.18: the server lacks the resources to
			// serve the request now (a later try may find room);
			// remote-server-timeout would blame a remote server that was
			// never tried.
			s.counters.refusedOut.Inc()
			return stanza.E(stanza.ResourceConstraint, "")
		}
		o = newOutStream(s, p)
		if !s.goroutineLocked(o.run) {
			return stanza.E(stanza.RemoteServerTimeout, "")
		}
		s.out[p] = o
		s.counters.outStreams.Inc()
	}
	select {
	case o.queue <- st:
		return nil
	default:
		s.counters.overflow.Inc()
		return stanza.E(stanza.ResourceConstraint, "")
	}
}

// peerAlive forgets any back-off on domain: a stream with it was just
// authenticated (ours to it became ready, or its to us verified), so it
// is up.
func (s *Server) peerAlive(domain string) {
	s.mu.Lock()
	s.backoff.forget(domain)
	s.mu.Unlock()
}

// removeOut forgets o; afterwards no stanza joins its queue.
func (s *Server) removeOut(o *outStream) {
	s.mu.Lock()
	if s.out[o.pair] == o {
		delete(s.out, o.pair)
	}
	s.mu.Unlock()
}

// isClosing reports whether Shutdown has begun (the accept loop's stop
// signal, netaccept.Accept).
func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Serve accepts incoming streams on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	err := netaccept.Serve(l, s.isClosing, func(nc net.Conn) bool { s.accept(nc); return true })
	if errors.Is(err, netaccept.ErrClosed) {
		return ErrServerClosed
	}
	return err
}

// accept starts an incoming stream, within the per-address and overall
// limits. A connection over them is closed without a word: answering
// (RFC 6120 §4.9.3.17 resource-constraint) would need a header and a
// write per refused connection, the work the limit is there to avoid.
func (s *Server) accept(nc net.Conn) {
	ip, _, _ := net.SplitHostPort(nc.RemoteAddr().String())
	in := &inStream{s: s, nc: nc, ip: ip, authed: make(map[pair]bool)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perIP[ip] >= s.cfg.ConnectionsPerIP || len(s.in) >= s.cfg.MaxIncomingStreams {
		s.counters.refused.Inc()
		nc.Close()
		return
	}
	if s.closing {
		nc.Close()
		return
	}
	// Registered and counted before the stream's goroutine starts: it may
	// have answered its peer, even ended, before accept returns.
	s.perIP[ip]++
	s.in[in] = true
	s.counters.inStreams.Inc()
	s.goroutineLocked(in.run) // not closing, and s.mu is held: it starts
}

func (s *Server) removeIn(in *inStream) {
	s.mu.Lock()
	delete(s.in, in)
	if s.perIP[in.ip]--; s.perIP[in.ip] <= 0 {
		delete(s.perIP, in.ip)
	}
	s.mu.Unlock()
}

// Shutdown stops accepting, writes what is queued on ready outgoing
// streams, ends every stream with </stream:stream> (stanzas for streams
// still being set up bounce with remote-server-timeout) and waits for
// every goroutine, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for _, l := range s.listeners {
		l.Close()
	}
	outs := make([]*outStream, 0, len(s.out))
	for _, o := range s.out {
		outs = append(outs, o)
	}
	ins := make([]*inStream, 0, len(s.in))
	for in := range s.in {
		ins = append(ins, in)
	}
	s.mu.Unlock()
	s.cancel()
	for _, o := range outs {
		o.stop()
	}
	for _, in := range ins {
		in.close()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
