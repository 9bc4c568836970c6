package bosh

import (
	"bytes"
	"strconv"
	"sync"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/stream"
)

// pollingInterval is the 'polling' announced: the shortest interval
// between two empty requests of a polling session (hold 0, XEP-0124 §12).
const pollingInterval = 2 * time.Second

// exchange is one HTTP request and, once answered, its response.
type exchange struct {
	req   *request
	first bool      // the session creation request
	since time.Time // when it came
	done  chan struct{}
	resp  []byte
	// status is the HTTP status: 200 but for a terminal binding error
	// to a legacy client (XEP-0124 §17.1).
	status int
}

func newExchange(req *request) *exchange {
	return &exchange{req: req, since: time.Now(), done: make(chan struct{}), status: 200}
}

// outUnit is an element c2s wrote, ready for a response's <body/>.
type outUnit struct {
	b            []byte
	streamPrefix bool // uses the stream: prefix, which the wrapper declares
}

// session is one BOSH session: the client's requests on one side, the
// c2s stream it carries on the other (conn). Everything is guarded by mu,
// which is taken before Server.mu, never the reverse.
type session struct {
	srv  *Server
	sid  string
	conn *conn

	// Fixed at creation.
	wait       time.Duration
	hold       int
	requests   int
	inactivity time.Duration
	legacy     bool // no 'ver' in the creation request: HTTP error codes
	content    string
	domain     string
	lang       string
	version    string // the client's xmpp:version
	secure     bool
	ipKey      string // the client's address for max_sessions_per_ip, "" if not counted

	mu sync.Mutex
	// Client side (XEP-0124 §14).
	lastRID      uint64               // the highest rid handled: all before it were
	pending      map[uint64]*exchange // arrived ahead of lastRID+1
	held         []*exchange          // handled, unanswered, in rid order
	cache        map[uint64][]byte    // the last responses, for repeated rids (§14.3)
	cacheOrder   []uint64
	lastResponse time.Time // when the last request was answered
	lastPoll     time.Time // when the last empty request of a polling session came
	lastPollIdle bool      // ... and its response carried no payload
	// Stream side.
	in            []byte        // what c2s has yet to read
	inEOF         bool          // the client's input ended
	inWake        chan struct{} // closed and replaced when in, inEOF or the deadline change
	out           []outUnit     // elements to send
	outBytes      int
	outWake       chan struct{} // closed and replaced when out drains
	streamID      string
	streamVersion string
	streamError   []byte // a <stream:error/> c2s wrote, for remote-stream-error
	awaitRestart  bool   // a SASL <success/> went out, no restart request yet (XEP-0206 §5)
	ended         bool
	final         []byte // the terminal body nobody was waiting for yet
	removed       bool
}

// maxOutBytes bounds what waits for the client's next request; c2s's
// writes block beyond it (its write timeout then cuts a client that does
// not poll, as a TCP client that does not read).
const maxOutBytes = 1 << 20

// cacheSize is how many responses are kept for repeated rids: one per
// request the client may have outstanding.
func (s *session) cacheSize() int { return s.requests }

// receive takes a request of the session (not its creation) and returns
// its exchange, answered or to be answered (XEP-0124 §14.2, §14.3).
func (s *session) receive(req *request) *exchange {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := newExchange(req)
	if s.ended {
		s.answerFinal(x)
		return x
	}
	if req.ack > 0 {
		s.dropCachedUpTo(req.ack)
	}
	switch {
	case req.rid <= s.lastRID:
		if b, ok := s.cache[req.rid]; ok {
			s.answer(x, b, false)
			return x
		}
		for i, old := range s.held {
			if old.req.rid == req.rid {
				// The client resent a request it got no answer to:
				// the old one gets a recoverable error and the new one
				// takes its place (§14.3).
				s.held[i] = x
				s.answerError(old)
				return x
			}
		}
		s.terminate(x, condItemNotFound)
		return x
	case req.rid > s.lastRID+uint64(s.requests):
		// Beyond the window: the same error as too small a rid, so an
		// attacker learns nothing (§14.3).
		s.terminate(x, condItemNotFound)
		return x
	}
	if old := s.pending[req.rid]; old != nil {
		s.pending[req.rid] = x
		s.answerError(old)
		return x
	}
	// Overactivity (§11): more unanswered requests than 'requests'.
	if len(s.held)+len(s.pending)+1 > s.requests && !req.terminate {
		s.terminate(x, condPolicyViolation)
		return x
	}
	if req.rid > s.lastRID+1 {
		s.pending[req.rid] = x
		return x
	}
	s.handle(x)
	for !s.ended {
		next := s.pending[s.lastRID+1]
		if next == nil {
			break
		}
		delete(s.pending, next.req.rid)
		s.handle(next)
	}
	return x
}

// handle processes the request next in rid order.
func (s *session) handle(x *exchange) {
	req := x.req
	s.lastRID = req.rid
	now := time.Now()
	if s.hold == 0 && req.children > 0 {
		s.lastPollIdle = false // the empty requests are no longer consecutive
	}
	if s.hold == 0 && req.children == 0 && !req.terminate && !req.restart {
		// A polling session polling too often (§12).
		if s.lastPollIdle && now.Sub(s.lastPoll) < pollingInterval {
			s.terminate(x, condPolicyViolation)
			return
		}
		s.lastPoll = now
	}
	switch {
	case req.terminate:
		// §13: the payloads go to the server, then the stream ends as
		// a client's end tag ends it on TCP (a clean end: no XEP-0198
		// resumption).
		s.input(req.payload)
		s.input([]byte(stream.Close))
		s.inEOF = true
		s.wakeReader()
		s.held = append(s.held, x)
		s.end(s.terminateBody(""), false)
		return
	case req.restart:
		// XEP-0206 §5: after SASL success, a request with
		// xmpp:restart='true' and nothing in it opens a new stream.
		if req.children > 0 {
			s.terminate(x, condBadRequest)
			return
		}
		if !s.awaitRestart {
			s.terminate(x, condPolicyViolation)
			return
		}
		s.awaitRestart = false
		to, lang := req.to, req.lang
		if to == "" {
			to = s.domain
		}
		if lang == "" {
			lang = s.lang
		}
		s.input(streamHeader(to, lang, s.version))
	case req.children > 0:
		s.input(req.payload)
	case !s.awaitRestart:
		// An empty request is the client's sign of life: a space on
		// the stream, which c2s counts as a keepalive, keeps its idle
		// timeout from ending a session that polls.
		s.input([]byte(" "))
	}
	s.held = append(s.held, x)
	s.flush()
	for len(s.held) > s.hold {
		s.answerOldest()
	}
}

// input hands bytes to c2s's reader.
func (s *session) input(b []byte) {
	if len(b) == 0 || s.inEOF {
		return
	}
	s.in = append(s.in, b...)
	s.wakeReader()
}

func (s *session) wakeReader() {
	close(s.inWake)
	s.inWake = make(chan struct{})
}

// flush answers the oldest held request with what is queued, if both
// exist.
func (s *session) flush() {
	if len(s.out) > 0 && len(s.held) > 0 {
		s.answerOldest()
	}
}

// answerOldest answers the oldest held request with everything queued.
func (s *session) answerOldest() {
	x := s.held[0]
	s.held = s.held[1:]
	payloads, streamPrefix := s.takeOut()
	s.answer(x, s.responseBody(x, payloads, streamPrefix), true)
	if s.hold == 0 && x.req.children == 0 {
		s.lastPollIdle = len(payloads) == 0
	}
}

// takeOut empties the queue of elements to send.
func (s *session) takeOut() (payloads [][]byte, streamPrefix bool) {
	for _, u := range s.out {
		payloads = append(payloads, u.b)
		streamPrefix = streamPrefix || u.streamPrefix
	}
	s.out, s.outBytes = nil, 0
	close(s.outWake)
	s.outWake = make(chan struct{})
	return payloads, streamPrefix
}

// responseBody renders the response to x: the session creation response
// carries the session's parameters (§7.2, XEP-0206 §3).
func (s *session) responseBody(x *exchange, payloads [][]byte, streamPrefix bool) []byte {
	var w bodyWriter
	w.start(streamPrefix, x.first)
	if x.first {
		w.attr("sid", s.sid)
		w.attr("wait", strconv.Itoa(int(s.wait/time.Second)))
		w.attr("requests", strconv.Itoa(s.requests))
		w.attr("hold", strconv.Itoa(s.hold))
		w.attr("inactivity", strconv.Itoa(int(s.inactivity/time.Second)))
		w.attr("polling", strconv.Itoa(int(pollingInterval/time.Second)))
		w.attr("ver", s.negotiatedVersion(x.req.ver))
		w.attr("from", s.domain)
		w.attr("secure", strconv.FormatBool(s.secure))
		w.attr("ack", strconv.FormatUint(x.req.rid, 10))
		if s.streamID != "" {
			w.attr("authid", s.streamID)
		}
		v := s.streamVersion
		if v == "" {
			v = "1.0"
		}
		w.attr("xmpp:version", v)
		w.attr("xmpp:restartlogic", "true")
	} else if s.lastRID != x.req.rid {
		// §9.1: the highest rid received with all before it, when it
		// is not this request's own.
		w.attr("ack", strconv.FormatUint(s.lastRID, 10))
	}
	return w.end(payloads)
}

// negotiatedVersion is the lower of the client's 'ver' and ours.
func (s *session) negotiatedVersion(client string) string {
	if client != "" && versionLess(client, protocolVersion) {
		return client
	}
	return protocolVersion
}

// versionLess compares major.minor versions, each a separate integer.
func versionLess(a, b string) bool {
	am, an := splitVersion(a)
	bm, bn := splitVersion(b)
	return am < bm || am == bm && an < bn
}

func splitVersion(v string) (major, minor int) {
	i := bytes.IndexByte([]byte(v), '.')
	if i < 0 {
		major, _ = strconv.Atoi(v)
		return major, 0
	}
	major, _ = strconv.Atoi(v[:i])
	minor, _ = strconv.Atoi(v[i+1:])
	return major, minor
}

// answer completes x with body; cache keeps it for a repeated rid.
func (s *session) answer(x *exchange, body []byte, cache bool) {
	x.resp = body
	if cache {
		s.remember(x.req.rid, body)
	}
	s.lastResponse = time.Now()
	close(x.done)
}

// answerError answers a request that a repeat replaced with a
// recoverable binding error (§17.3).
func (s *session) answerError(x *exchange) {
	var w bodyWriter
	w.start(false, false)
	w.attr("type", "error")
	s.answer(x, w.end(nil), false)
}

func (s *session) remember(rid uint64, body []byte) {
	if s.cache == nil {
		s.cache = make(map[uint64][]byte)
	}
	s.cache[rid] = body
	s.cacheOrder = append(s.cacheOrder, rid)
	for len(s.cacheOrder) > s.cacheSize() {
		delete(s.cache, s.cacheOrder[0])
		s.cacheOrder = s.cacheOrder[1:]
	}
}

// dropCachedUpTo forgets the responses the client acknowledged (§9.2).
func (s *session) dropCachedUpTo(ack uint64) {
	for len(s.cacheOrder) > 0 && s.cacheOrder[0] <= ack {
		delete(s.cache, s.cacheOrder[0])
		s.cacheOrder = s.cacheOrder[1:]
	}
}

// terminate ends the session with a terminal binding error, which x
// gets (the others waiting get empty bodies). The stream ends as a
// broken TCP connection would: c2s sees the end of input without an end
// tag, so a stream-management session can be resumed.
func (s *session) terminate(x *exchange, condition string) {
	if s.legacy {
		x.status = legacyStatus(condition)
	}
	s.srv.countTerminal(condition)
	s.answer(x, s.terminateBody(condition), false)
	s.end(nil, true)
}

// legacyStatus is the HTTP status a legacy client gets instead of a
// terminal binding condition (§17.1), 200 where none is defined.
func legacyStatus(condition string) int {
	switch condition {
	case condBadRequest:
		return 400
	case condPolicyViolation:
		return 403
	case condItemNotFound:
		return 404
	}
	return 200
}

// terminateBody is the terminal body of the session: a condition, or,
// for the end of the stream, remote-stream-error with the stream error
// if c2s wrote one (XEP-0206 §6), with what was left to send before it.
func (s *session) terminateBody(condition string) []byte {
	payloads, streamPrefix := s.takeOut()
	if condition == "" && s.streamError != nil {
		condition = condRemoteStreamError
		payloads = append(payloads, s.streamError)
		streamPrefix = true
	}
	if condition != "" {
		s.srv.countTerminal(condition)
	}
	var w bodyWriter
	w.start(streamPrefix, false)
	w.attr("type", "terminate")
	if condition != "" {
		w.attr("condition", condition)
	}
	return w.end(payloads)
}

// end ends the session: the stream's input ends (uncleanly if said so),
// the oldest request waiting gets final and the others empty bodies; if
// none waits and final is not nil, the next request gets it. The session
// leaves the server's table once nothing is owed to the client.
func (s *session) end(final []byte, unclean bool) {
	if s.ended {
		return
	}
	s.ended = true
	if unclean {
		s.inEOF = true
		s.wakeReader()
	}
	waiting := append([]*exchange(nil), s.held...)
	s.held = nil
	for _, x := range s.pending {
		waiting = append(waiting, x)
	}
	s.pending = nil
	for _, x := range waiting {
		body := final
		if body == nil {
			var w bodyWriter
			w.start(false, false)
			body = w.end(nil)
		}
		final = nil
		s.answer(x, body, false)
	}
	s.final = final
	if final == nil {
		s.remove()
	}
	// Writers blocked on a full queue give up.
	close(s.outWake)
	s.outWake = make(chan struct{})
}

// answerFinal answers a request that came after the session ended.
func (s *session) answerFinal(x *exchange) {
	if s.final == nil {
		s.answer(x, terminateBody(condItemNotFound), false)
		return
	}
	s.answer(x, s.final, false)
	s.final = nil
	s.remove()
}

func (s *session) remove() {
	if !s.removed {
		s.removed = true
		s.srv.forget(s)
	}
}

// expire answers x, held for the session's 'wait' with nothing to send,
// with an empty body (and any older request still held first, so that
// answers keep rid order); a request still waiting for an earlier rid
// that never came ends the session.
func (s *session) expire(x *exchange) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending[x.req.rid] == x {
		delete(s.pending, x.req.rid)
		s.terminate(x, condItemNotFound)
		return
	}
	for i, h := range s.held {
		if h == x {
			for range i + 1 {
				s.answerOldest()
			}
			return
		}
	}
}

// sweep ends the session if it has had no request waiting for longer
// than its inactivity period (§10). It also does what the handlers of
// requests whose clients went away no longer do: a request held longer
// than 'wait' is answered (into the cache, for the client's repeat), and
// one waiting for an earlier rid longer than 'wait' and 'inactivity' ends
// the session.
func (s *session) sweep(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.held) > 0 && now.Sub(s.held[0].since) > s.wait+time.Second {
		s.answerOldest()
	}
	for _, x := range s.pending {
		if now.Sub(x.since) > s.wait+s.inactivity {
			delete(s.pending, x.req.rid)
			s.terminate(x, condItemNotFound)
			return
		}
	}
	if len(s.held) > 0 || len(s.pending) > 0 || now.Sub(s.lastResponse) <= s.inactivity {
		return
	}
	if s.ended {
		s.final = nil
		s.remove()
		return
	}
	s.end(nil, true)
}

// streamHeader is the stream header a session creation or restart stands
// for, as an RFC 6120 client would send it.
func streamHeader(to, lang, version string) []byte {
	var b bytes.Buffer
	b.WriteString(`<stream:stream xmlns="` + stream.NSClient + `" xmlns:stream="` + stream.NS + `"`)
	for _, a := range [][2]string{{"to", to}, {"xml:lang", lang}, {"version", version}} {
		if a[1] == "" {
			continue
		}
		b.WriteString(" " + a[0] + `="`)
		xml.EscapeAttr(&b, a[1])
		b.WriteByte('"')
	}
	b.WriteByte('>')
	return b.Bytes()
}
