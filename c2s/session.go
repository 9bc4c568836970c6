package c2s

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stream"
)

// session is a bound resource. It outlives its connection when XEP-0198
// resumption is enabled: detached, it keeps what it is sent until the
// client resumes on a new connection or the resume timeout ends it.
//
// Lock order: session.mu, then outQueue.mu (Send pushes under session.mu so
// that the order of unacked stanzas is the order on the wire).
type session struct {
	srv *Server
	rs  *router.Session

	mu        sync.Mutex
	c         *conn // current connection; nil while detached
	handled   uint32
	smOn      bool
	resumable bool
	smID      string
	sent      uint32
	unacked   [][]byte // serialised stanzas the client has not acknowledged, oldest first
	reqOut    bool     // an <r/> is outstanding
	ended     bool
	noResume  bool // replaced or shut down: never detach
	overLimit bool // cut off for too many unacknowledged stanzas (XEP-0198)
	timer     *time.Timer
	detaches  uint64        // counts detachments, so a stale resume timer is ignored
	lost      chan struct{} // closed when the connection lets go (connectionLost), for smResume
	// attached is false until the bind result has been queued; stanzas
	// routed to the session before that wait in early, so nothing can
	// overtake the bind result on the wire.
	attached bool
	early    []earlyOut
	// closeEarly is the stream error of a close that came before attach
	// (the router replaced the session, or adhoc ended the account's
	// streams, between Bind and the bind result): attach returns it, so
	// that the connection ends with it instead of running on with a
	// session ended as if detached.
	closeEarly *stream.Error
	csi        csiState // XEP-0352 (csi.go)
}

var _ router.Sender = (*session)(nil)

func newSession(srv *Server, full jid.JID, c *conn) *session {
	s := &session{srv: srv}
	s.rs = router.NewSession(full, c.id, s)
	return s
}

// earlyOut is what was sent to a session before it was attached.
type earlyOut struct {
	b        []byte
	isStanza bool
}

// attach connects the session to c once the bind result is queued, and
// sends what was routed to the session in between. Stream management may
// already be on (XEP-0386: enabled inline, its <enabled/> in the bind
// result): the client counts what follows that result, so the stanzas
// sent now count too.
//
// It returns the stream error of a close that came before it
// (closeEarly): the caller ends the connection with it, and with it the
// session (noResume is set).
func (s *session) attach(c *conn) *stream.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c = c
	s.attached = true
	if s.closeEarly != nil {
		s.early = nil
		return s.closeEarly
	}
	counted := false
	for _, e := range s.early {
		if s.smOn && e.isStanza {
			s.sent++
			s.unacked = append(s.unacked, e.b)
			counted = true
		}
		c.q.push(e.b)
	}
	s.early = nil
	if counted && !s.reqOut {
		s.reqOut = true
		c.q.push(ackRequest)
	}
	return nil
}

var ackRequest = []byte(`<r xmlns="` + stream.NSSM + `"/>`)

// Send implements router.Sender. An inactive session (XEP-0352, csi.go)
// may hold or drop what can wait.
func (s *session) Send(st *xml.Element) error {
	b := st.Bytes(stream.NSClient)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.csi.inactive {
		if s.ended {
			return errQueueClosed
		}
		switch csiClassify(st) {
		case csiDrop:
			return nil
		case csiHold:
			if s.csi.hold(st, b) {
				return nil
			}
			s.flushHeldLocked() // the hold is full
			return nil
		}
	}
	if len(s.csi.held) > 0 {
		s.flushHeldLocked()
	}
	return s.sendLocked(b, true)
}

// Dormant implements router.DormantSender: the session is detached,
// waiting for XEP-0198 resumption, or its client said it is inactive
// (XEP-0352).
func (s *session) Dormant() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.ended && ((s.c == nil && s.attached && s.smOn) || s.csi.inactive)
}

// send queues a reply produced by the transport itself.
func (s *session) send(st *xml.Element) { s.sendBytes(st.Bytes(stream.NSClient), true) }

func (s *session) sendBytes(b []byte, isStanza bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sendLocked(b, isStanza)
}

// sendLocked is sendBytes with s.mu held.
func (s *session) sendLocked(b []byte, isStanza bool) error {
	if s.ended {
		return errQueueClosed
	}
	if !s.attached {
		s.early = append(s.early, earlyOut{b, isStanza})
		return nil
	}
	if s.smOn && isStanza {
		if len(s.unacked) >= s.srv.cfg.MaxUnacked {
			s.noResume = true
			if s.c != nil && !s.overLimit {
				// A client that does not acknowledge is a slow consumer
				// too; cut it off once, not once per stanza that follows.
				s.overLimit = true
				s.srv.counters.slowConsumer.Inc()
				go s.c.closeWith(stream.New(stream.ResourceConstraint, "too many unacknowledged stanzas"))
			}
			return errQueueFull
		}
		s.sent++
		s.unacked = append(s.unacked, b)
	}
	if s.c == nil {
		if s.smOn {
			return nil // kept for resumption
		}
		return errQueueClosed
	}
	err := s.c.q.push(b)
	if s.smOn && isStanza {
		if err == nil && !s.reqOut {
			s.reqOut = true
			s.c.q.push(ackRequest)
		}
		return nil // in unacked: resent on resume or stored offline
	}
	return err
}

// Close implements router.Sender: the router replaced this session.
func (s *session) Close(condition string) { s.CloseWithText(condition, "") }

// CloseWithText implements router.TextCloser: the stream error carries
// text. A session detached for XEP-0198 resumption ends without one, and
// can no longer be resumed.
func (s *session) CloseWithText(condition, text string) {
	s.mu.Lock()
	s.noResume = true
	c := s.c
	if c == nil && !s.attached && !s.ended {
		// Bound, its connection about to attach it (conn.bind): that
		// connection ends with this error.
		if s.closeEarly == nil {
			s.closeEarly = stream.New(stream.Condition(condition), text)
		}
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	if c != nil {
		c.closeWith(stream.New(stream.Condition(condition), text))
		return
	}
	s.srv.goroutine(s.end)
}

// stanzaHandled counts a client stanza as handled (XEP-0198 h): called only
// after the router has delivered or durably stored it.
func (s *session) stanzaHandled() {
	s.mu.Lock()
	s.handled++
	s.mu.Unlock()
}

// ack processes an <a h=…/> (or resume's h): drops acknowledged stanzas.
func (s *session) ack(h uint32) *stream.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	base := s.sent - uint32(len(s.unacked)) // count acknowledged before
	n := h - base                           // newly acknowledged (mod 2^32)
	if n > uint32(len(s.unacked)) {
		// XEP-0198 §4 (Acks): undefined-condition with the counts.
		se := stream.New(stream.UndefinedCondition, "acknowledged more stanzas than were sent")
		se.App = xml.New(stream.NSSM, "handled-count-too-high", "h", formatH(h), "send-count", formatH(s.sent))
		return se
	}
	for i := range n {
		s.unacked[i] = nil
	}
	s.unacked = s.unacked[n:]
	if len(s.unacked) == 0 {
		s.unacked = nil
	}
	s.reqOut = false
	return nil
}

// connectionLost detaches the session from c, for resumption if enabled,
// or ends it.
func (s *session) connectionLost(c *conn) {
	s.mu.Lock()
	if s.c != c || s.ended {
		s.mu.Unlock()
		return
	}
	s.c = nil
	if s.lost != nil {
		close(s.lost)
		s.lost = nil
	}
	if s.smOn && s.resumable && !s.noResume && !c.cleanClose && !s.srv.isShutting() {
		s.detaches++
		n := s.detaches
		// Once Shutdown has begun, its smRegistry.shutdown ends every
		// detached session instead.
		s.timer = time.AfterFunc(s.srv.cfg.ResumeTimeout, func() { s.srv.goUnlessShutting(func() { s.expire(n) }) })
		// What the client never acknowledged waits here, perhaps unread:
		// the router tells the push module (XEP-0357). Not when the client
		// said it was inactive: what was queued since then was pushed on
		// delivery already (Dormant).
		var queued [][]byte
		if !s.csi.inactive {
			queued = slices.Clone(s.unacked)
		}
		s.mu.Unlock()
		c.log.Info("c2s session detached, waiting for resumption")
		if len(queued) > 0 {
			s.srv.router.Detached(context.Background(), s.rs, parseStanzas(queued))
		}
		return
	}
	s.mu.Unlock()
	s.end()
}

// end removes the session from the router and hands whatever the client
// never acknowledged back to the router, which keeps messages offline.
func (s *session) end() {
	s.mu.Lock()
	s.endLocked()
}

// expire ends the session for the resume timeout of its detachment n,
// unless a client resumed it (or it was detached again) since: the timer
// may fire while smResume is taking the session over.
func (s *session) expire(n uint64) {
	s.mu.Lock()
	if s.c != nil || s.detaches != n {
		s.mu.Unlock()
		return
	}
	s.endLocked()
}

// endIfDetached ends the session unless a connection holds it.
func (s *session) endIfDetached() {
	s.mu.Lock()
	if s.c != nil {
		s.mu.Unlock()
		return
	}
	s.endLocked()
}

// endLocked is end with s.mu held; it unlocks s.mu.
func (s *session) endLocked() {
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	left := s.unacked
	s.unacked = nil
	if s.timer != nil {
		s.timer.Stop()
	}
	id, handled := s.smID, s.handled
	s.mu.Unlock()
	if id != "" {
		s.srv.sm.retire(id, s.rs.Bare(), handled)
	}
	// Unacknowledged messages are kept before the session disappears from
	// the router: once it is gone from the table, nothing it held may be
	// missing from offline storage. (A message routed to it meanwhile is
	// refused by Send, as the session is ended, and stored offline too.)
	ctx := context.Background()
	if len(left) > 0 {
		s.srv.router.Undelivered(ctx, s.rs, parseStanzas(left))
	}
	s.srv.router.Unbind(ctx, s.rs)
	s.srv.counters.sessions.Add(-1)
}

// parseStanzas turns serialised stanzas back into elements.
func parseStanzas(bufs [][]byte) []*xml.Element {
	var b bytes.Buffer
	b.WriteString(`<s xmlns="` + stream.NSClient + `">`)
	for _, x := range bufs {
		b.Write(x)
	}
	b.WriteString(`</s>`)
	rd := xml.NewReader(&b, xml.Limits{MaxStanzaBytes: int64(b.Len()) + 1, MaxDepth: 256, MaxAttrs: 1024}, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		return nil
	}
	var out []*xml.Element
	for {
		el, err := rd.Next()
		if err != nil {
			return out
		}
		out = append(out, el)
	}
}

func formatH(h uint32) string { return strconv.FormatUint(uint64(h), 10) }
