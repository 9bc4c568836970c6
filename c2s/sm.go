package c2s

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/stream"
)

// smRegistry maps stream-management ids to resumable sessions, and
// remembers for a while how many stanzas the server handled in sessions
// that ended, for the 'h' of a <failed/> resumption (XEP-0198 §5).
type smRegistry struct {
	srv *Server
	mu  sync.Mutex
	ids map[string]*session

	gone     map[string]goneSession
	goneRing []string // ids in the order they ended; len <= maxGone
	goneNext int      // ring position of the oldest once full
}

// goneSession is what is kept of a resumable session that ended.
type goneSession struct {
	account string // bare JID: only its owner learns h
	handled uint32
	at      time.Time
}

// maxGone and goneTTL bound the ended sessions remembered (~100 bytes
// each).
const (
	maxGone = 10000
	goneTTL = time.Hour
)

func newSMRegistry(srv *Server) *smRegistry {
	return &smRegistry{srv: srv, ids: make(map[string]*session), gone: make(map[string]goneSession)}
}

// retire removes an ended session's id, remembering its handled count.
func (r *smRegistry) retire(id, account string, handled uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.ids, id)
	if len(r.goneRing) < maxGone {
		r.goneRing = append(r.goneRing, id)
	} else {
		delete(r.gone, r.goneRing[r.goneNext])
		r.goneRing[r.goneNext] = id
		r.goneNext = (r.goneNext + 1) % maxGone
	}
	r.gone[id] = goneSession{account: account, handled: handled, at: time.Now()}
}

// handledBy returns the handled count of account's ended session id.
func (r *smRegistry) handledBy(id, account string) (uint32, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g, ok := r.gone[id]
	if !ok || g.account != account || time.Since(g.at) > goneTTL {
		return 0, false
	}
	return g.handled, true
}

func (r *smRegistry) add(id string, s *session) {
	r.mu.Lock()
	r.ids[id] = s
	r.mu.Unlock()
}

func (r *smRegistry) get(id string) *session {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids[id]
}

// shutdown ends every detached session now, so their unacknowledged
// messages reach offline storage before the store closes.
func (r *smRegistry) shutdown(ctx context.Context) {
	r.mu.Lock()
	var detached []*session
	for _, s := range r.ids {
		detached = append(detached, s)
	}
	r.mu.Unlock()
	for _, s := range detached {
		s.endIfDetached()
	}
}

func (s *Server) isShutting() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutting
}

func smFailed(condition string, h *uint32) []byte {
	return smFailedElement(condition, h).Bytes(stream.NSClient)
}

// smFailedElement is XEP-0198's <failed/>; SASL2 and Bind 2 carry it inline.
func smFailedElement(condition string, h *uint32) *xml.Element {
	f := xml.New(stream.NSSM, "failed")
	if h != nil {
		f.SetAttr("h", formatH(*h))
	}
	return f.Append(xml.New(stanza.NSStanzas, condition))
}

func parseH(s string) (uint32, bool) {
	v, err := strconv.ParseUint(s, 10, 32)
	return uint32(v), err == nil
}

// handleSM processes XEP-0198 nonzas.
func (c *conn) handleSM(el *xml.Element) error {
	if c.user == "" {
		return stream.New(stream.NotAuthorized, "")
	}
	switch el.Local {
	case "enable":
		return c.smEnable(el)
	case "resume":
		return c.smResume(el)
	case "r":
		if c.sess == nil || !c.smEnabled() {
			return stream.New(stream.UnsupportedStanzaType, "stream management is not enabled")
		}
		c.sess.mu.Lock()
		h := c.sess.handled
		c.sess.mu.Unlock()
		return c.sess.sendBytes(xml.New(stream.NSSM, "a", "h", formatH(h)).Bytes(stream.NSClient), false)
	case "a":
		if c.sess == nil || !c.smEnabled() {
			return stream.New(stream.UnsupportedStanzaType, "stream management is not enabled")
		}
		h, ok := parseH(el.Attr("h"))
		if !ok {
			return stream.New(stream.BadFormat, "invalid h")
		}
		if se := c.sess.ack(h); se != nil {
			return se
		}
		return nil
	}
	return stream.New(stream.UnsupportedStanzaType, "")
}

func (c *conn) smEnabled() bool {
	c.sess.mu.Lock()
	defer c.sess.mu.Unlock()
	return c.sess.smOn
}

func (c *conn) smEnable(el *xml.Element) error {
	if c.sess == nil {
		return c.push(smFailed("unexpected-request", nil))
	}
	s := c.sess
	s.mu.Lock()
	defer s.mu.Unlock()
	// Queued under the session's lock: no stanza sent after enabling
	// (and so counted) goes out before <enabled/>.
	return c.q.push(c.smEnableLocked(el).Bytes(stream.NSClient))
}

// smEnableLocked enables stream management on the bound session (s.mu
// held) and returns the answer, <enabled/> or <failed/>, for the caller
// to send: alone (smEnable) or inside XEP-0386's <bound/>.
func (c *conn) smEnableLocked(el *xml.Element) *xml.Element {
	s := c.sess
	if s.smOn {
		return smFailedElement("unexpected-request", nil)
	}
	s.smOn = true
	s.sent, s.handled = 0, 0
	reply := xml.New(stream.NSSM, "enabled")
	if r := el.Attr("resume"); r == "true" || r == "1" {
		s.resumable = true
		s.smID = newID()
		reply.SetAttr("id", s.smID)
		reply.SetAttr("resume", "true")
		reply.SetAttr("max", strconv.Itoa(int(c.srv.cfg.ResumeTimeout.Seconds())))
		c.srv.sm.add(s.smID, s)
	}
	return reply
}

// takeoverWait bounds how long a resumption waits for the old connection's
// reader to finish the stanza it is handling (see smResume).
const takeoverWait = 5 * time.Second

// conflictGrace bounds how long the conflict stream error may take to
// reach an old connection being taken over before it is simply closed.
const conflictGrace = time.Second

// smResume takes over a detached (or not yet detached) session (XEP-0198 §5).
func (c *conn) smResume(el *xml.Element) error {
	failed, err := c.resumeSession(el, func(resumed *xml.Element, _ jid.JID) []byte {
		return resumed.Bytes(stream.NSClient)
	})
	if failed != nil {
		return c.push(failed.Bytes(stream.NSClient))
	}
	return err
}

// resumeSession takes over the session el (a <resume/>) names, for this stream.
// If it cannot, it returns the <failed/> to answer with (alone, or inside
// the SASL2 <success/>); if it can, it queues head's bytes (given the
// <resumed/> and the session's JID: the plain <resumed/>, or a SASL2
// <success/> holding it, and the stream features) and then what the
// client never acknowledged.
func (c *conn) resumeSession(el *xml.Element, head func(resumed *xml.Element, full jid.JID) []byte) (failed *xml.Element, err error) {
	if c.sess != nil {
		return smFailedElement("unexpected-request", nil), nil
	}
	h, ok := parseH(el.Attr("h"))
	account := c.user + "@" + c.domain
	prev := c.srv.sm.get(el.Attr("previd"))
	if prev == nil {
		// An ended session: its 'h' lets the client resend only what the
		// server never handled (XEP-0198 §5, <failed h/>).
		if handled, known := c.srv.sm.handledBy(el.Attr("previd"), account); known {
			return smFailedElement("item-not-found", &handled), nil
		}
	}
	if !ok || prev == nil || prev.rs.Bare() != account {
		return smFailedElement("item-not-found", nil), nil
	}
	if se := prev.ack(h); se != nil {
		return nil, se
	}
	prev.mu.Lock()
	if prev.ended || prev.noResume {
		// noResume: replaced by a new bind (no longer routed to) or
		// closing for good; it must not come back to life.
		prev.mu.Unlock()
		return smFailedElement("item-not-found", nil), nil
	}
	if live := prev.c; live != nil {
		// The server still holds the old connection, whose reader may be
		// handling stanzas it read before the client gave up on it: they
		// count in the h sent back, or the client would send them again.
		// Close it and take over once its reader has let the session go
		// (connectionLost), or after takeoverWait whatever it is doing.
		//
		// XEP-0198 §5: the old stream gets a conflict stream error. A
		// dead peer's socket usually takes it at once and closes; one
		// that does not within conflictGrace is closed without it.
		lost := make(chan struct{})
		prev.lost = lost
		prev.mu.Unlock()
		live.closeWith(stream.New(stream.Conflict, "the session was resumed on another stream"))
		grace := time.NewTimer(conflictGrace)
		select {
		case <-lost:
		case <-grace.C:
			live.raw.Close()
			select {
			case <-lost:
			case <-time.After(takeoverWait - conflictGrace):
			}
		}
		grace.Stop()
		prev.mu.Lock()
		if prev.ended || prev.noResume {
			prev.mu.Unlock()
			return smFailedElement("item-not-found", nil), nil
		}
	}
	old := prev.c // nil, unless the wait above timed out
	prev.c = c
	if prev.timer != nil {
		prev.timer.Stop()
		prev.timer = nil
	}
	prev.reqOut = false
	resumed := xml.New(stream.NSSM, "resumed", "previd", prev.smID, "h", formatH(prev.handled))
	c.q.push(head(resumed, prev.rs.JID()))
	for _, b := range prev.unacked {
		c.q.push(b)
	}
	if len(prev.unacked) > 0 {
		prev.reqOut = true
		c.q.push(ackRequest)
	}
	// XEP-0352: a resumed stream starts active again.
	prev.csi.inactive = false
	prev.flushHeldLocked()
	prev.mu.Unlock()
	if old != nil {
		// The old connection is dead or dying; it must not end the session.
		old.raw.Close()
	}
	c.sess = prev
	c.negotiated()
	c.log = newConnLogger(c, c.user+"@"+c.domain, prev.rs.JID().String())
	c.log.Info("c2s session resumed", "acked", h)
	return nil, nil
}
