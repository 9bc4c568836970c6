package bosh

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/hostmeta"
	"github.com/skald-xmpp/skald/internal/httpfront"
	"github.com/skald-xmpp/skald/internal/xml"
)

// Server serves XMPP over BOSH on one HTTP listener and hands each
// session's stream to the c2s server.
type Server struct {
	cfg    Config
	c2s    *c2s.Server
	limits xml.Limits
	hosted func(domain string) bool
	log    *slog.Logger
	http   *http.Server
	// maxBody bounds a request's body: bodyStanzas of the largest
	// stanza and the wrapper around them.
	maxBody int64
	// writeTimeout bounds the writing of a response (a client that does
	// not read it would otherwise hold its handler and connection).
	writeTimeout time.Duration
	// hostMeta lists the host-meta links when this listener serves them.
	hostMeta hostmeta.Links

	// mu guards sessions, perIP and shutting. It is a leaf: a session's
	// lock is taken before it (session.remove), never after.
	mu       sync.Mutex
	sessions map[string]*session
	perIP    map[string]int // sessions open per client address (ipKey)
	shutting bool

	counters counters
	// connLimit caps the HTTP connections open at once (max_connections).
	connLimit *httpfront.ConnLimiter

	stop    chan struct{} // ends the inactivity sweeper
	stopped chan struct{}
}

// bodyOverhead is what a request may hold beyond its stanzas: the
// wrapper and its attributes.
const bodyOverhead = 16 << 10

// bodyStanzas is how many of the largest stanzas one request may carry.
// XEP-0124 defines no attribute to announce a body limit, and a client
// sends what it has queued in one request (§9: requests are bounded, so
// it batches), so one stanza's worth would refuse two large stanzas sent
// together, each of which c2s accepts. Each stanza is still bounded by
// c2s's largest stanza when the body is parsed.
const bodyStanzas = 4

// bodyReadTimeout bounds the reading of a request's body.
const bodyReadTimeout = 30 * time.Second

// responseWriteTimeout bounds the writing of a response. The server has
// no WriteTimeout (a request is held up to 'wait' before its answer), so
// each response sets its own deadline once it is ready.
const responseWriteTimeout = 30 * time.Second

// New returns a server for cfg handing streams to c. TLS (the server's
// certificate) is used when cfg.TLS; limits are c2s's; hosted tells the
// domains served, which a session's 'to' must name.
func New(cfg Config, c *c2s.Server, tlsConfig *tls.Config, limits xml.Limits, hosted func(string) bool, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	if limits.MaxStanzaBytes <= 0 {
		limits = xml.DefaultLimits
	}
	s := &Server{
		cfg: cfg, c2s: c, limits: limits, hosted: hosted, log: log,
		maxBody:      bodyStanzas*limits.MaxStanzaBytes + bodyOverhead,
		writeTimeout: responseWriteTimeout,
		sessions:     make(map[string]*session),
		perIP:        make(map[string]int),
		connLimit:    httpfront.NewConnLimiter(cfg.MaxConnections),
		stop:         make(chan struct{}),
		stopped:      make(chan struct{}),
	}
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * cfg.MaxWait, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	if cfg.TLS {
		if tlsConfig == nil {
			return nil, errors.New("bosh: tls = true needs the server's certificate")
		}
		s.http.TLSConfig = tlsConfig.Clone()
	}
	go s.sweep()
	return s, nil
}

// Address is the configured listening address.
func (s *Server) Address() string { return s.cfg.Address }

// Handler serves the BOSH endpoint at cfg.Path, and the host-meta
// documents once ServeHostMeta was called.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(s.cfg.Path, s.serveBOSH)
	// Clients are configured with and without the final slash alike.
	mux.HandleFunc(s.cfg.Path+"/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != s.cfg.Path+"/" {
			http.NotFound(w, r)
			return
		}
		s.serveBOSH(w, r)
	})
	s.registerHostMeta(mux)
	return mux
}

// Serve accepts HTTP connections on l until Shutdown, at most
// max_connections at once.
func (s *Server) Serve(l net.Listener) error { return s.connLimit.Serve(s.http, l) }

// serveBOSH answers one request of a session, or creates one.
func (s *Server) serveBOSH(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	// The answers given at once (errors, preflights) are written within
	// writeTimeout; write sets it anew for those that waited.
	rc.SetWriteDeadline(time.Now().Add(s.writeTimeout))
	if !s.cors(w, r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	switch r.Method {
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		http.Error(w, "BOSH (XEP-0124, XEP-0206): POST a <body/>", http.StatusMethodNotAllowed)
		return
	}
	// The body is read within bodyReadTimeout (a client trickling it
	// would otherwise hold the connection); the wait that follows has
	// no read deadline.
	rc.SetReadDeadline(time.Now().Add(bodyReadTimeout))
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	rc.SetReadDeadline(time.Time{})
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.tooLarge(w, b)
		}
		return
	}
	req, err := parseRequest(b, s.limits)
	if err != nil {
		// Not knowing whose it is, nor which version it speaks: the
		// HTTP condition, with the body a current client reads (§17).
		s.countTerminal(condBadRequest)
		s.write(w, "", http.StatusBadRequest, terminateBody(condBadRequest))
		return
	}
	var sess *session
	var x *exchange
	if req.sid == "" {
		sess, x = s.create(req, r)
	} else {
		locked(&s.mu, func() { sess = s.sessions[req.sid] })
		if sess == nil {
			s.countTerminal(condItemNotFound)
			s.write(w, "", http.StatusOK, terminateBody(condItemNotFound))
			return
		}
		s.counters.requests.Inc()
		x = sess.receive(req)
	}
	if sess != nil {
		// A request waits at most 'wait' for something to send; one
		// that came ahead of its turn waits for the requests before it
		// as long as an inactive session lives.
		limit := sess.wait
		if x.req.rid > sess.lastRIDNow()+1 {
			limit += sess.inactivity
		}
		t := time.NewTimer(limit)
		select {
		case <-x.done:
		case <-t.C:
			sess.expire(x)
			<-x.done
		case <-r.Context().Done():
			// The client went away: the answer, when it comes, waits
			// in the cache for the client to repeat the request.
			t.Stop()
			return
		}
		t.Stop()
	}
	content := ""
	if sess != nil {
		content = sess.content
	}
	s.write(w, content, x.status, x.resp)
}

// tooLarge answers a body beyond maxBody with policy-violation. A
// terminal binding condition ends the session (XEP-0124 §17.2), so the
// session named in the wrapper's start tag (read from the prefix) ends
// as on any terminal error: its stream's input ends uncleanly, as a
// dropped connection's would, so a stream-management session can be
// resumed; the requests it held get empty bodies.
func (s *Server) tooLarge(w http.ResponseWriter, prefix []byte) {
	s.countTerminal(condPolicyViolation)
	status := http.StatusOK
	if sid := prefixSID(prefix, s.limits); sid != "" {
		var sess *session
		locked(&s.mu, func() { sess = s.sessions[sid] })
		if sess != nil && sess.endUnclean() {
			status = legacyStatus(condPolicyViolation)
		}
	}
	s.write(w, "", status, terminateBody(condPolicyViolation))
}

// endUnclean ends the session as a dropped connection would and reports
// whether its client is a legacy one (§17.1: HTTP codes).
func (s *session) endUnclean() (legacy bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.end(nil, true)
	return s.legacy
}

// prefixSID is the 'sid' of the <body/> a request's prefix starts with,
// "" if it does not start with one.
func prefixSID(prefix []byte, lim xml.Limits) string {
	root, _, err := xml.NewReader(bytes.NewReader(prefix), lim, 0).ReadStreamStart()
	if err != nil || !root.Is(NSHTTPBind, "body") {
		return ""
	}
	return root.Attr("sid")
}

// write sends a response body. The security headers keep a browser from
// running what a body holds (elements from other users, in text/xml
// which it would render) if it is ever opened as a page.
func (s *Server) write(w http.ResponseWriter, content string, status int, body []byte) {
	if content == "" {
		content = "text/xml; charset=utf-8"
	}
	// A client that does not read its response does not hold the
	// handler and its connection beyond writeTimeout.
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.writeTimeout))
	h := w.Header()
	h.Set("Content-Type", content)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.WriteHeader(status)
	w.Write(body)
}

// create opens a session (XEP-0124 §7, XEP-0206 §3) and hands its stream
// to c2s; the creation response waits for the stream's features.
func (s *Server) create(req *request, r *http.Request) (*session, *exchange) {
	x := newExchange(req)
	fail := func(condition string) (*session, *exchange) {
		if req.ver == "" {
			x.status = legacyStatus(condition)
		}
		x.resp = terminateBody(condition)
		s.countTerminal(condition)
		close(x.done)
		return nil, x
	}
	switch {
	case req.to == "":
		return fail(condImproperAddressing)
	case s.hosted != nil && !s.hosted(req.to):
		return fail(condHostUnknown)
	case req.terminate || req.restart || req.children > 0:
		return fail(condBadRequest)
	}
	sess := &session{
		srv:        s,
		sid:        newSID(),
		wait:       s.cfg.MaxWait,
		hold:       1,
		inactivity: s.cfg.MaxInactivity,
		legacy:     req.ver == "",
		content:    allowedContent(req.content),
		domain:     req.to,
		lang:       req.lang,
		version:    req.version,
		secure:     r.TLS != nil || s.cfg.BehindTLSProxy,
		lastRID:    req.rid,
		pending:    make(map[uint64]*exchange),
		inWake:     make(chan struct{}),
		outWake:    make(chan struct{}),
	}
	if req.wait >= 0 && time.Duration(req.wait)*time.Second < sess.wait {
		sess.wait = time.Duration(req.wait) * time.Second
	}
	if req.hold >= 0 {
		sess.hold = min(req.hold, s.cfg.MaxHold)
	}
	if sess.version == "" {
		// XEP-0206 §3: the client SHOULD say; XMPP over BOSH is
		// RFC 6120 (SASL, bind, restarts), so a client that does not is
		// taken to mean 1.0 rather than refused with
		// unsupported-version.
		sess.version = "1.0"
	}
	sess.requests = sess.hold + 1
	sess.lastResponse = time.Now()
	sess.conn = &conn{s: sess, local: addr(r.Host), remote: addr(s.cfg.ClientAddr(r))}
	// Behind a proxy that did not say whose request it is, every address
	// would be the proxy's: not counted ("").
	sess.ipKey = s.cfg.ClientKey(r)
	sess.in = streamHeader(req.to, req.lang, sess.version)

	if condition := s.admit(sess); condition != "" {
		return fail(condition)
	}
	s.counters.created.Inc()

	x.first = true
	locked(&sess.mu, func() {
		sess.held = []*exchange{x}
		if sess.hold == 0 {
			sess.answerOldest()
		}
	})
	t := c2s.Transport{TLS: r.TLS, Confidential: sess.secure}
	if !s.c2s.ServeTransport(sess.conn, t) {
		sess.endWith(condSystemShutdown)
	}
	return sess, x
}

// admit enters a new session in the table, or returns the condition
// refusing it.
func (s *Server) admit(sess *session) (condition string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.shutting:
		return condSystemShutdown
	case len(s.sessions) >= s.cfg.MaxSessions:
		s.log.Warn("bosh: max_sessions reached", "max_sessions", s.cfg.MaxSessions)
		return condUndefined
	case sess.ipKey != "" && s.perIP[sess.ipKey] >= s.cfg.MaxSessionsPerIP:
		s.log.Info("bosh: max_sessions_per_ip reached", "addr", sess.ipKey, "max_sessions_per_ip", s.cfg.MaxSessionsPerIP)
		return condPolicyViolation
	}
	s.sessions[sess.sid] = sess
	if sess.ipKey != "" {
		s.perIP[sess.ipKey]++
	}
	return ""
}

// endWith ends the session with a terminal condition the client gets.
func (s *session) endWith(condition string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.end(s.terminateBody(condition), true)
}

// locked runs f holding mu, and lets go of it if f panics: net/http
// recovers a handler's panic and goes on serving, so a lock held across
// one would stall every later request of the session, or for the
// server's lock, the whole endpoint.
func locked(mu *sync.Mutex, f func()) {
	mu.Lock()
	defer mu.Unlock()
	f()
}

// lastRIDNow reads lastRID under the session's lock.
func (s *session) lastRIDNow() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastRID
}

// newSID returns an unguessable session id (XEP-0124 §7.2, §20.3): 128
// bits from crypto/rand.
func newSID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// allowedContent is the Content-Type of a session's responses: the
// client's 'content' (§7.1) when it is an XML or plain-text type, the
// default otherwise. Other types (text/html) would let a page that
// creates a session in a victim's browser have it render other users'
// elements as HTML.
func allowedContent(content string) string {
	mt, _, err := mime.ParseMediaType(content)
	if err != nil {
		return ""
	}
	switch mt {
	case "text/xml", "application/xml", "text/plain":
		return content
	}
	return ""
}

// forget removes a session from the table (under the session's lock).
func (s *Server) forget(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[sess.sid] == sess {
		delete(s.sessions, sess.sid)
		if sess.ipKey != "" {
			if s.perIP[sess.ipKey]--; s.perIP[sess.ipKey] <= 0 {
				delete(s.perIP, sess.ipKey)
			}
		}
	}
}

// Sessions returns the number of sessions open.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// sweep ends the sessions that have been inactive too long (§10), and
// answers requests whose handlers are gone (session.sweep).
func (s *Server) sweep() {
	defer close(s.stopped)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			for _, sess := range s.snapshot() {
				sess.sweep(now)
			}
		}
	}
}

func (s *Server) snapshot() []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]*session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		list = append(list, sess)
	}
	return list
}

// cors sets the CORS headers of a request from an allowed Origin, and
// reports whether the request may proceed. Browser clients (Converse.js,
// JSXC) are often served from another origin than the BOSH endpoint.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if !strings.EqualFold(u.Host, r.Host) && !s.originAllowed(u) {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
	return true
}

// originAllowed matches an Origin against origins: a pattern
// with "://" against scheme://host, any other against the host.
func (s *Server) originAllowed(u *url.URL) bool {
	if s.cfg.AnyOrigin() {
		return true
	}
	for _, p := range s.cfg.Origins {
		target := strings.ToLower(u.Host)
		if strings.Contains(p, "://") {
			target = strings.ToLower(u.Scheme + "://" + u.Host)
		}
		if ok, _ := path.Match(strings.ToLower(p), target); ok {
			return true
		}
	}
	return false
}

// Shutdown stops accepting, ends the sessions left with system-shutdown
// and waits, until ctx is done, for the requests in progress.
// c2s.Server.Shutdown ends the streams (a stream error each, which their
// clients get as remote-stream-error), so it is called first.
func (s *Server) Shutdown(ctx context.Context) error {
	var already bool
	locked(&s.mu, func() { already, s.shutting = s.shutting, true })
	if !already {
		close(s.stop)
		<-s.stopped
	}
	for _, sess := range s.snapshot() {
		sess.endWith(condSystemShutdown)
	}
	return s.http.Shutdown(ctx)
}

// addr is a net.Addr for an address HTTP reports as a string.
type addr string

func (a addr) Network() string { return "tcp" }
func (a addr) String() string  { return string(a) }
