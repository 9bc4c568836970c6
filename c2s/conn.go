package c2s

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/stream"
)

// conn is one client connection. Its fields are owned by the goroutine
// running serve (the reader) unless noted.
type conn struct {
	srv       *Server
	raw       net.Conn // the TCP connection; closing it ends everything
	nc        net.Conn // raw, or the TLS connection over it
	directTLS bool
	// transport is set for a connection another layer frames and
	// secures (transport.go); nil for TCP.
	transport *Transport
	// capped: the connection holds a place under the connection caps,
	// and one of its address ipKey if that is not "" (conncap.go);
	// guarded by srv.mu.
	capped bool
	ipKey  string
	id     string
	log    *slog.Logger
	rd     *xml.Reader
	q      *outQueue // safe for any goroutine

	domain     string
	lang       string    // the current stream header's xml:lang, if a plausible language tag; "" if none
	tlsConn    *tls.Conn // nc once TLS is up; nil before
	user       string    // authenticated localpart
	authFails  int
	hdrMu      sync.Mutex // guards headerSent, streamID, domain and peer: closeWith runs on any goroutine
	headerSent bool
	streamID   string   // id of the current stream's header; c.id for the first
	peer       string   // bare JID the client's current header claims in 'from'; "" if none
	sess       *session // bound session; nil before bind
	cleanClose bool     // the client closed its stream: no resumption
	registered bool     // an account was registered on this connection (register.go)

	closeOnce  sync.Once
	closeTimer atomic.Pointer[time.Timer] // closeLater's, once armed
	rate       *tokenBucket               // nil: no read limit
	// negotiateBy is when the stream must have a bound resource or a
	// resumed session (NegotiationTimeout after accepting); zero: no bound.
	negotiateBy time.Time
	// The fields below belong to the goroutine that owns the connection
	// (serve, then each awaitInput or resume in turn). sysConn is also
	// read by the parker, under its mutex, once the connection parked.
	sysConn   syscall.RawConn // raw's, once socketReadable needed it
	noSysConn bool            // raw has no syscall.RawConn (see canWaitReadable)
	waitSince time.Time       // start of the wait for input that inputWithin began, until input arrives (gotInput)
	received  int64           // bytes read from the client (TLS: decrypted)
	woke      bool            // a wait for input just ended: awaitInput's or parked (see nextElement)
	polling   bool            // reads must not wait (stanzaReady)

	parking parkState // guarded by srv.parker's mutex
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newConn(s *Server, nc net.Conn, directTLS bool) *conn {
	c := &conn{srv: s, directTLS: directTLS, id: newID(), parking: parkState{index: -1}}
	c.raw = &watchedConn{Conn: nc, c: c}
	c.nc = c.raw
	c.streamID = c.id
	c.log = newConnLogger(c, "", "")
	c.q = newOutQueue(c.raw, s.cfg.SendQueueBytes, s.cfg.WriteTimeout, s.goroutine, c.writeFailed)
	if s.cfg.NegotiationTimeout > 0 {
		c.negotiateBy = time.Now().Add(s.cfg.NegotiationTimeout)
	}
	if s.cfg.ReadBytesPerSecond > 0 {
		c.rate = newTokenBucket(float64(s.cfg.ReadBytesPerSecond), float64(s.cfg.ReadBurstBytes))
	}
	return c
}

// deadlineReader sets the wait deadline before every read (the idle
// timeout from now, or the negotiation deadline if sooner), so any byte
// from the client (whitespace keepalives included) keeps a negotiated
// stream alive, and throttles the connection to its read rate.
type deadlineReader struct{ c *conn }

func (d deadlineReader) Read(p []byte) (int, error) {
	if d.c.polling {
		d.c.nc.SetReadDeadline(pastDeadline)
	} else if d.c.hasWaitDeadline() {
		d.c.nc.SetReadDeadline(d.c.waitDeadline(time.Now()))
	}
	n, err := d.c.nc.Read(p)
	d.c.gotInput(n)
	return n, err
}

// waitDeadline is when a wait for input that began at from ends the
// stream with connection-timeout: the idle timeout after from or, while
// the stream is not yet negotiated (no resource bound, no session
// resumed), the negotiation deadline if that is sooner. Zero: never.
// Connection goroutine only, as for every deadline below.
func (c *conn) waitDeadline(from time.Time) time.Time {
	var d time.Time
	if t := c.srv.cfg.IdleTimeout; t > 0 {
		d = from.Add(t)
	}
	if c.negotiating() && (d.IsZero() || c.negotiateBy.Before(d)) {
		d = c.negotiateBy
	}
	return d
}

// hasWaitDeadline reports whether waits for input have a deadline: then
// every read sets its own (deadlineReader), and a read or wait that set a
// different one need not restore anything; else it must clear it.
func (c *conn) hasWaitDeadline() bool {
	return c.srv.cfg.IdleTimeout > 0 || c.negotiating()
}

// restoreReadDeadline follows a read or wait that set a deadline of its
// own (a probe, the wait in place): where reads set none, it clears it;
// elsewhere the next read sets its own.
func (c *conn) restoreReadDeadline() {
	if !c.hasWaitDeadline() {
		c.nc.SetReadDeadline(time.Time{})
	}
}

func (c *conn) negotiating() bool { return c.sess == nil && !c.negotiateBy.IsZero() }

// negotiated marks the stream as having its session (c.sess set): the
// negotiation deadline no longer applies.
func (c *conn) negotiated() {
	c.restoreReadDeadline()
}

// gotInput accounts for n bytes read from the client: they count against
// its read rate, and they end any wait for input, so that the idle timeout
// of a later wait counts from them (see waitSince).
func (c *conn) gotInput(n int) {
	if n <= 0 {
		return
	}
	c.received += int64(n)
	c.waitSince = time.Time{}
	if c.rate != nil {
		c.rate.take(n)
	}
}

func (c *conn) limits() xml.Limits {
	lim := c.srv.cfg.Limits
	if c.user == "" {
		lim.MaxStanzaBytes = c.srv.cfg.PreAuthMaxStanzaBytes
	}
	return lim
}

// serve runs the connection until it ends, or until it has to wait for
// input between stanzas: then it parks the connection or hands it to a
// new goroutine (see settle) and returns.
func (c *conn) serve() {
	handedOff := false
	defer func() {
		if !handedOff {
			c.finish()
		}
	}()
	c.log.Info("c2s connected", "direct_tls", c.directTLS)
	if c.directTLS {
		if err := c.handshakeTLS(); err != nil {
			c.log.Info("c2s TLS handshake failed", "err", err)
			return
		}
	}
	c.rd = xml.NewReader(deadlineReader{c}, c.limits(), 0)
	handedOff = c.settle(c.run(false))
}

// Waiting for input without the goroutine that ran the stream (parked, see
// park.go, or else on a fresh goroutine): a goroutine's stack grows in
// the TLS handshake, the login and every stanza it handles, and the
// runtime shrinks a stack only while the part in use plus 800 bytes is
// under a quarter of it, so a goroutine blocked in the stream loop keeps
// 4 KB however shallow its frames. A new goroutine starts at 2 KB, which
// the frames of awaitInput fit; a parked connection has no goroutine at
// all. Between stanzas with nothing to read, the stream loop (NextOrIdle)
// returns xml.ErrWouldWait up to serve, awaitInput or resume, which park
// the connection or start a new awaitInput goroutine, and return: the
// goroutine whose stack grew ends. The connection is thus always owned by
// exactly one goroutine or by the parker, and counted once in the
// server's wait group (the new owner takes the count before the old
// goroutine ends).

// settle ends the connection for err, the reason run returned, unless err
// is xml.ErrWouldWait: then it parks the connection, or hands it to a new
// goroutine, and reports true, and the caller must leave the connection
// alone.
func (c *conn) settle(err error) (handedOff bool) {
	if errors.Is(err, xml.ErrWouldWait) {
		if !c.park() {
			c.srv.goroutine(c.awaitInput)
		}
		return true
	}
	c.fail(err)
	return false
}

// awaitInput waits for the client's next input, then runs the connection
// on from where its stream loop stopped.
func (c *conn) awaitInput() {
	handedOff := false
	defer func() {
		if !handedOff {
			c.finish()
		}
	}()
	if err := (deadlineReader{c}).WaitInput(); err != nil {
		c.fail(err)
		return
	}
	c.woke = true
	handedOff = c.settle(c.run(true))
}

func (c *conn) handshakeTLS() error {
	tc := tls.Server(c.raw, c.srv.cfg.TLS)
	// The handshake gets its own deadline, not what is left of the idle
	// timeout from the last read.
	c.raw.SetDeadline(time.Now().Add(30 * time.Second))
	defer c.raw.SetDeadline(time.Time{})
	if err := tc.HandshakeContext(context.Background()); err != nil {
		return err
	}
	c.tlsConn = tc
	c.nc = tc
	c.q.setConn(tc)
	return nil
}

// errCleanClose means the client closed its stream.
var errCleanClose = errors.New("c2s: client closed the stream")

// errPeerStreamError means the client sent a stream error: its stream is
// over, though not cleanly closed (a session may still be resumed, as
// after a broken connection).
var errPeerStreamError = errors.New("c2s: client sent a stream error")

// run reads streams until the connection must end; it returns why, or
// xml.ErrWouldWait to have the caller wait for input (see settle). With
// resumed it goes on with the current stream, after such a wait.
func (c *conn) run(resumed bool) error {
	for {
		var restart bool
		var err error
		if resumed {
			restart, err = c.streamLoop()
			resumed = false
		} else {
			restart, err = c.stream()
		}
		if err != nil {
			return err
		}
		if !restart {
			return nil
		}
	}
}

// stream handles one stream (the connection has one per TLS/SASL restart).
// It returns restart=true when a new stream header must follow.
func (c *conn) stream() (restart bool, err error) {
	c.hdrMu.Lock()
	if c.headerSent {
		// A restarted stream gets a new stream id (RFC 6120 §4.3.3).
		c.streamID = newID()
	}
	c.headerSent = false
	c.peer = "" // until the new header names one
	c.hdrMu.Unlock()
	if err := c.openStream(); err != nil {
		return false, err
	}
	return c.streamLoop()
}

// streamLoop handles the top-level elements of the current stream.
func (c *conn) streamLoop() (restart bool, err error) {
	for {
		el, err := c.nextElement()
		if err != nil {
			return false, err
		}
		if c.batchable(el) {
			// Messages the client sent back to back are routed together
			// (one archive commit for all); the element that ended the
			// batch, if any, is handled after it.
			if el, err = c.handleMessages(el); el == nil || err != nil {
				if err != nil {
					return false, err
				}
				continue
			}
		}
		restart, err := c.handle(el)
		if err != nil || restart {
			return restart, err
		}
	}
}

// nextElement reads the stream's next top-level element; where it would
// wait for input it returns xml.ErrWouldWait instead, if the connection
// can wait without its goroutine (see settle).
//
// A socket that was readable (WaitInput, inputWithin or the parker said
// so) may hold no bytes at all: the client closed its side or the
// connection broke. A poll (NextOrIdle) cannot tell that from no input on
// a plain TCP connection, so when a wait for input ended and the reader
// then read nothing, it reads with Next, which meets the end or the error.
func (c *conn) nextElement() (*xml.Element, error) {
	if !c.canWaitReadable() {
		return c.rd.Next()
	}
	woke := c.woke
	c.woke = false
	for ; ; woke = true {
		before := c.received
		el, err := c.rd.NextOrIdle()
		if !errors.Is(err, xml.ErrWouldWait) {
			return el, err
		}
		if woke && c.received == before && !c.socketReadable() {
			return c.rd.Next()
		}
		if !c.inputWithin(handOffDelay) {
			return nil, err // to the parker or a fresh goroutine (settle)
		}
		// A busy connection keeps its goroutine; whitespace keepalives
		// alone come back here, where the wait can still hand off.
	}
}

// handOffDelay is how long a connection waits for input in place before
// it parks or hands itself to a fresh goroutine: parking, a new goroutine
// and the regrowth of its stack cost about 10 µs of CPU, which a
// connection that is busy (a conversation, a client catching up) should
// not pay per stanza.
const handOffDelay = time.Second

// inputWithin waits in place up to d (and no longer than the idle
// timeout) for the socket to become readable.
func (c *conn) inputWithin(d time.Duration) bool {
	c.waitSince = time.Now() // the idle timeout counts from here (WaitInput, park)
	deadline := c.waitSince.Add(d)
	if w := c.waitDeadline(c.waitSince); !w.IsZero() && w.Before(deadline) {
		deadline = w
	}
	c.nc.SetReadDeadline(deadline)
	err := waitReadable(c.sysConn)
	if err == nil {
		c.waitSince = time.Time{}
	}
	c.restoreReadDeadline()
	return err == nil
}

// batchable reports whether el is a message from a bound client, which
// handleMessages may route together with the messages after it.
func (c *conn) batchable(el *xml.Element) bool {
	return c.sess != nil && el.Space == stream.NSClient && el.Local == "message"
}

// handleMessages routes first and the messages that follow it already
// read (never waiting for more input) as one batch. It returns the element
// that ended the batch, to be handled next (nil if none), or the error
// that ends the stream: a read error only after the messages read before
// it are processed, so none that the client fully sent is lost.
func (c *conn) handleMessages(first *xml.Element) (next *xml.Element, err error) {
	var buf [router.MaxBatch]*xml.Element
	c.inheritLang(first)
	batch := append(buf[:0], first)
	var readErr error
	for len(batch) < len(buf) && c.stanzaReady() {
		el, err := c.rd.Next()
		if err != nil {
			readErr = err
			break
		}
		if !c.batchable(el) {
			next = el
			break
		}
		c.inheritLang(el)
		batch = append(batch, el)
	}
	c.srv.counters.stanzasIn.Add(uint64(len(batch)))
	n, err := c.srv.router.HandleMessagesFromClient(context.Background(), c.sess.rs, batch)
	for range n {
		c.sess.stanzaHandled()
	}
	clear(buf[:len(batch)])
	if err != nil {
		return nil, err
	}
	return next, readErr
}

// openStream reads the client's stream header and answers it with ours
// and the stream features (RFC 6120 §4.2-4.3).
func (c *conn) openStream() error {
	root, contentNS, err := c.rd.ReadStreamStart()
	if err != nil {
		return err
	}
	// A client that put its JID in 'from' gets the bare JID back in our
	// 'to', and one that did not gets no 'to' (RFC 6120 §4.7.2: MUST),
	// also in the header that precedes a stream error below. It proves
	// nothing: authentication decides who the client is.
	peer := ""
	if from, err := jid.Parse(root.Attr("from")); err == nil && root.Attr("from") != "" {
		peer = from.Bare().String()
	}
	c.hdrMu.Lock()
	c.peer = peer
	c.hdrMu.Unlock()
	// The 'to' must be there (RFC 6120 §4.7.2) and an address
	// (improper-addressing, §4.9.3.7, as a missing or malformed one is
	// called elsewhere), and name a domain we serve (host-unknown,
	// §4.9.3.6). A restarted stream may leave it out.
	if to := root.Attr("to"); to != "" || root.HasAttr("to") {
		d, err := jid.Parse(to)
		if err != nil {
			return stream.New(stream.ImproperAddressing, "the stream header's 'to' is no address")
		}
		if d.Local() != "" || d.Resource() != "" || !c.srv.router.IsLocalDomain(d.Domain()) {
			return stream.New(stream.HostUnknown, "")
		}
		if c.domain != "" && d.Domain() != c.domain {
			return stream.New(stream.HostUnknown, "")
		}
		c.hdrMu.Lock()
		c.domain = d.Domain()
		c.hdrMu.Unlock()
	} else if c.domain == "" {
		return stream.New(stream.ImproperAddressing, "the stream header needs a 'to' address")
	}
	c.lang = ""
	if l := root.Lang(); isLanguageTag(l) {
		c.lang = l
	}
	if root.Space != stream.NS || root.Local != "stream" {
		return stream.New(stream.InvalidNamespace, "")
	}
	// The content namespace is jabber:client, declared as the default
	// namespace, or declared nowhere: with "prefix-free canonicalization"
	// each stanza names it itself (RFC 6120 §4.8.2, both styles are
	// acceptable), and the default namespace is then none or the stream
	// namespace.
	if contentNS != stream.NSClient && contentNS != "" && contentNS != stream.NS {
		return stream.New(stream.InvalidNamespace, "")
	}
	if v := root.Attr("version"); v == "" || !stream.VersionAtLeast1(v) {
		return stream.New(stream.UnsupportedVersion, "")
	}
	c.sendHeader()
	return c.push(stream.Features(stream.NSClient, c.features()))
}

// streamOpen reports whether our stream header is out (whitespace is only
// sent between top-level elements of an open stream).
func (c *conn) streamOpen() bool {
	c.hdrMu.Lock()
	defer c.hdrMu.Unlock()
	return c.headerSent
}

func (c *conn) sendHeader() {
	c.hdrMu.Lock()
	defer c.hdrMu.Unlock()
	if c.headerSent {
		return
	}
	c.headerSent = true
	domain := c.domain
	if domain == "" {
		if ds := c.srv.router.Domains(); len(ds) > 0 {
			domain = ds[0]
		}
	}
	c.push(stream.Header(stream.NSClient, domain, c.peer, c.streamID, "en"))
}

func (c *conn) push(b []byte) error { return c.q.push(b) }

func (c *conn) tlsRequiredPending() bool {
	return c.srv.cfg.TLS != nil && c.srv.cfg.RequireTLS && c.tlsConn == nil && c.transport == nil
}

// canStartTLS reports whether STARTTLS may be offered: on TCP, before TLS
// and authentication; never over a transport (transport.go).
func (c *conn) canStartTLS() bool {
	return c.srv.cfg.TLS != nil && c.tlsConn == nil && c.transport == nil && c.user == ""
}

// features lists what may be negotiated next.
func (c *conn) features() []*xml.Element {
	var f []*xml.Element
	switch {
	case c.user == "":
		if c.canStartTLS() {
			st := xml.New(stream.NSTLS, "starttls")
			if c.srv.cfg.RequireTLS {
				st.Append(xml.New(stream.NSTLS, "required"))
			}
			f = append(f, st)
		}
		if !c.tlsRequiredPending() {
			f = append(f, c.mechanisms()...)
			if c.cbInfo().TLS {
				if a := c.sasl2Feature(); a != nil {
					f = append(f, a)
				}
			}
		}
		if c.offerRegistration() {
			f = append(f, xml.New(NSRegisterFeature, "register"))
		}
	default:
		f = c.authenticatedFeatures(false, false)
	}
	return f
}

// authenticatedFeatures lists the features of an authenticated stream:
// after the restart that follows RFC 6120 SASL (nothing bound yet), or
// right after a XEP-0388 <success/> (no restart), which may have bound a
// session or resumed one already (then neither binding nor the legacy
// session are offered, nor stream management once it is on).
func (c *conn) authenticatedFeatures(bound, smOn bool) []*xml.Element {
	var f []*xml.Element
	if !bound {
		f = append(f,
			xml.New(stream.NSBind, "bind"),
			xml.New(stream.NSSession, "session").Append(xml.New(stream.NSSession, "optional")))
	}
	if !smOn {
		f = append(f, xml.New(stream.NSSM, "sm"))
	}
	if c.srv.cfg.CSI {
		f = append(f, xml.New(stream.NSCSI, "csi"))
	}
	return append(f, c.srv.cfg.ExtraFeatures...)
}

// handle processes one top-level element.
func (c *conn) handle(el *xml.Element) (restart bool, err error) {
	switch {
	case el.Is(stream.NS, "error"):
		// The client ended its stream with an error (RFC 6120 §4.9.1.1):
		// answering with an error of our own would only bounce it back.
		cond := ""
		if e := el.FirstElement(); e != nil {
			cond = e.Local
		}
		c.log.Info("c2s stream error from client", "condition", cond)
		return false, errPeerStreamError
	case el.Is(stream.NSTLS, "starttls"):
		return c.startTLS()
	case el.Is(stream.NSSASL, "auth"):
		return c.authenticate(el)
	case el.Is(stream.NSSASL, "abort") && c.user == "":
		// No exchange is under way (authenticate reads the abort of
		// one), but the answer to an abort is the same (RFC 6120 §6.4.4).
		return false, c.saslFailure("aborted", "")
	case el.Is(NSSASL2, "authenticate"):
		return false, c.authenticate2(el)
	case el.Is(NSSASL2, "abort") && c.user == "":
		// As above, for XEP-0388 (§6.5).
		return false, c.push(profileSASL2.failure("aborted", ""))
	case el.Space == stream.NSSM:
		return false, c.handleSM(el)
	case el.Space == stream.NSCSI && c.user != "":
		return false, c.handleCSI(el)
	case el.Space == stream.NSClient && (el.Local == "message" || el.Local == "presence" || el.Local == "iq"):
		c.srv.counters.stanzasIn.Inc()
		c.inheritLang(el)
		return false, c.handleStanza(el)
	case el.Space == stream.NSClient:
		return false, stream.New(stream.UnsupportedStanzaType, "")
	}
	if c.user == "" {
		return false, stream.New(stream.NotAuthorized, "")
	}
	return false, stream.New(stream.UnsupportedStanzaType, "")
}

func (c *conn) startTLS() (bool, error) {
	if !c.canStartTLS() {
		// RFC 6120 §5.4.2.2: failure, then close the stream.
		c.push([]byte(`<failure xmlns="` + stream.NSTLS + `"/>`))
		return false, errCleanClose
	}
	if err := c.push([]byte(`<proceed xmlns="` + stream.NSTLS + `"/>`)); err != nil {
		return false, err
	}
	if err := c.q.drainAndPause(); err != nil {
		return false, err
	}
	if c.rd.Buffered() > 0 {
		// Bytes pipelined after <starttls/> would be plaintext injected into
		// the TLS stream.
		return false, stream.New(stream.PolicyViolation, "data after starttls")
	}
	if err := c.handshakeTLS(); err != nil {
		c.log.Info("c2s TLS handshake failed", "err", err)
		return false, errHandshake
	}
	c.rd = xml.NewReader(deadlineReader{c}, c.limits(), 0)
	return true, nil
}

var errHandshake = errors.New("c2s: TLS handshake failed")

// handleStanza processes a stanza from the client.
func (c *conn) handleStanza(el *xml.Element) error {
	if c.registrationIQ(el) {
		return c.registerUnauthenticated(el)
	}
	if c.user == "" || c.tlsRequiredPending() {
		return stream.New(stream.NotAuthorized, "")
	}
	if c.sess == nil {
		return c.handleUnbound(el)
	}
	if el.Local == "iq" && isSessionIQ(el) {
		c.sess.send(stanza.Result(el))
		c.sess.stanzaHandled()
		return nil
	}
	if el.Local == "iq" && el.Child(stream.NSBind, "bind") != nil && el.Attr("type") == "set" {
		// Rebinding is not allowed (RFC 6120 §7.7.2.?: one resource per stream).
		reply := stanza.ErrorReply(el, stanza.E(stanza.NotAllowed, ""))
		c.sess.send(reply)
		c.sess.stanzaHandled()
		return nil
	}
	ctx := context.Background()
	if err := c.srv.router.HandleFromClient(ctx, c.sess.rs, el); err != nil {
		var se *stream.Error
		if errors.As(err, &se) {
			return se
		}
		return err
	}
	c.sess.stanzaHandled()
	return nil
}

func isSessionIQ(el *xml.Element) bool {
	return el.Attr("type") == "set" && el.Child(stream.NSSession, "session") != nil
}

// handleUnbound accepts only resource binding (and the legacy session iq)
// between authentication and binding.
func (c *conn) handleUnbound(el *xml.Element) error {
	if el.Local != "iq" {
		return stream.New(stream.NotAuthorized, "bind a resource first")
	}
	b := el.Child(stream.NSBind, "bind")
	if t := el.Attr("type"); t == "result" || t == "error" {
		// A response is never answered: not an error with an error (RFC
		// 6120 §8.3.1), not a result, which closes its exchange (§8.2.3).
		return nil
	}
	if el.Attr("type") != "set" || b == nil {
		if !c.forServerOrAccount(el) {
			// RFC 6120 §7.1: not processed, and the stream ends.
			return stream.New(stream.NotAuthorized, "bind a resource first")
		}
		reply := stanza.ErrorReply(el, stanza.E(stanza.NotAuthorized, ""))
		return c.push(reply.Bytes(stream.NSClient))
	}
	res := b.ChildText(stream.NSBind, "resource")
	if res == "" {
		res = newID()[:12]
	}
	full, err := jid.New(c.user, c.domain, res)
	if err != nil {
		reply := stanza.ErrorReply(el, stanza.E(stanza.BadRequest, "invalid resource"))
		return c.push(reply.Bytes(stream.NSClient))
	}
	return c.bind(full, func() []byte {
		reply := stanza.Result(el)
		reply.SetAttr("from", "")
		reply.Append(xml.New(stream.NSBind, "bind").Append(xml.New(stream.NSBind, "jid").AppendText(full.String())))
		return reply.Bytes(stream.NSClient)
	})
}

// bind binds full to this stream's new session: the one session setup of
// both RFC 6120 resource binding (handleUnbound) and XEP-0386 Bind 2
// (sasl2.go). reply returns what answers the request (the bind result, or
// the SASL2 <success/> holding <bound/>); it runs once the session is
// bound (c.sess set, not yet attached: what is routed to it waits) and
// may set the session up, and its bytes go out before anything routed to
// the session.
func (c *conn) bind(full jid.JID, reply func() []byte) error {
	c.sess = newSession(c.srv, full, c)
	c.negotiated()
	c.srv.counters.sessions.Add(1) // until endLocked unbinds it; before Bind, so never below zero
	c.srv.router.Bind(context.Background(), c.sess.rs)
	// The account may have been deleted (XEP-0077 cancellation, XEP-0133
	// delete-user) or disabled (XEP-0133 disable-user, skald user
	// disable) since this stream authenticated: a deletion removes the
	// data and then ends the sessions it finds bound, and disable-user
	// sets the flag and then ends them. Checking after Bind closes the
	// gap: either the deleter or disabler finds this session, or this
	// check finds the account gone or disabled. Without it the stream
	// would run a session of a deleted account and write data a new
	// account of the same name would inherit, or a disabled account's
	// session would outlive disable-user (XEP-0133 §4.3: "MUST result in
	// the termination of any active sessions").
	st, err := c.srv.users.UserStatus(context.Background(), full.Bare().String())
	if err != nil || st.Disabled {
		c.sess.end() // not attached yet: connectionLost would leave it bound
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return stream.New(stream.NotAuthorized, "")
		case err != nil:
			return err
		}
		// As disable-user ends the account's streams (adhoc/disable.go).
		return stream.New(stream.PolicyViolation, disabledText)
	}
	if err := c.push(reply()); err != nil {
		return err
	}
	if se := c.sess.attach(c); se != nil {
		return se // closed before it was attached; attached, it ends with the connection
	}
	c.log = newConnLogger(c, c.user+"@"+c.domain, full.String())
	c.log.Info("c2s bound")
	return nil
}

// forServerOrAccount reports whether a stanza from an authenticated but
// unbound client is addressed to the server itself or the client's own
// account (no 'to', the stream's domain, or the bare JID it authenticated
// as), the only entities it may address before binding (RFC 6120 §7.1).
func (c *conn) forServerOrAccount(el *xml.Element) bool {
	if !el.HasAttr("to") {
		return true
	}
	to, err := jid.Parse(el.Attr("to"))
	if err != nil || to.IsFull() || to.Domain() != c.domain {
		return false
	}
	return to.Local() == "" || to.Local() == c.user
}

// fail ends the connection for err: a stream error is written (after our
// header if we had not sent one), anything else closes quietly.
func (c *conn) fail(err error) {
	var se *stream.Error
	switch {
	case err == nil, errors.Is(err, errCleanClose):
		c.cleanClose = true
		c.closeQuietly(true)
		return
	case errors.Is(err, errPeerStreamError):
		c.closeQuietly(true)
		return
	case errors.Is(err, xml.ErrStreamEnd):
		c.log.Info("c2s stream closed by client")
		c.cleanClose = true
		c.closeQuietly(true)
		return
	case errors.As(err, &se):
	case isTimeout(err):
		se = stream.New(stream.ConnectionTimeout, "")
	default:
		se = stream.FromReadError(err)
	}
	if se == nil {
		c.log.Info("c2s connection lost", "err", err)
		// A client that only shut down its sending side (end of input,
		// no </stream:stream>) may still read: finish lets the queue
		// drain, within the write timeout, before closing, so the
		// replies to its last stanzas reach it.
		if !errors.Is(err, io.EOF) {
			c.raw.Close()
		}
		return
	}
	c.log.Info("c2s stream error", "condition", string(se.Condition), "err", err)
	c.closeWith(se)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// closeWith writes a stream error and the closing tag, then closes. Safe
// from any goroutine.
func (c *conn) closeWith(se *stream.Error) {
	c.closeOnce.Do(func() {
		c.sendHeader()
		c.q.pushAndClose(append(se.Bytes(), stream.Close...))
		c.closeLater()
	})
}

// closeQuietly answers a closed stream with our closing tag.
func (c *conn) closeQuietly(sendClose bool) {
	c.closeOnce.Do(func() {
		c.hdrMu.Lock()
		sent := c.headerSent
		c.hdrMu.Unlock()
		if sendClose && sent {
			c.q.pushAndClose([]byte(stream.Close))
		} else {
			c.q.pushAndClose(nil)
		}
		c.closeLater()
	})
}

// closeLater bounds how long a closing connection may linger on a client
// that does not read its last bytes. finish stops the timer: a connection
// that ended sooner is not kept in memory for the rest of the five seconds.
func (c *conn) closeLater() {
	c.closeTimer.Store(time.AfterFunc(5*time.Second, func() { c.raw.Close() }))
}

// writeFailed runs when the outgoing queue overflows or a write fails, on
// whichever goroutine pushed or flushed: it must not read c.log, which the
// reader replaces.
func (c *conn) writeFailed(err error) {
	if errors.Is(err, errQueueFull) {
		c.srv.counters.slowConsumer.Inc()
		c.srv.log.Warn("c2s slow consumer cut off", "conn", c.id, "remote", c.raw.RemoteAddr().String())
	}
	c.raw.Close()
}

// finish runs when the reader stops: the session is detached for
// resumption or ended.
func (c *conn) finish() {
	c.q.drain() // let a final stream error reach the client (bounded by the write timeout)
	c.raw.Close()
	if t := c.closeTimer.Load(); t != nil {
		t.Stop()
	}
	c.q.shut()
	if c.sess != nil {
		c.sess.connectionLost(c)
	}
	c.srv.forget(c)
	c.log.Info("c2s disconnected")
}

// inheritLang gives a stanza from the client that has no xml:lang the
// language of the stream header, so that whoever gets it knows the
// language of its text (RFC 6120 §4.7.4: SHOULD, when routing or
// delivering it). One with xml:lang of its own, even empty, keeps it.
func (c *conn) inheritLang(st *xml.Element) {
	if c.lang == "" {
		return
	}
	for _, a := range st.Attrs {
		if a.Space == xml.NSXML && a.Local == "lang" {
			return
		}
	}
	st.Attrs = append(st.Attrs, xml.Attr{Space: xml.NSXML, Local: "lang", Value: c.lang})
}

// isLanguageTag reports whether s looks like a BCP 47 language tag
// (RFC 6120 §4.7.4: the value of xml:lang MUST be one): subtags of 1 to 8
// letters and digits joined by hyphens. A header with anything else
// names no language for its stanzas.
func isLanguageTag(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '-':
			if n == 0 {
				return false
			}
			n = 0
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9':
			if n++; n > 8 {
				return false
			}
		default:
			return false
		}
	}
	return n > 0
}
