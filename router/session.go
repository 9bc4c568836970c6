package router

import (
	"sync"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
)

// Sender is the transport side of a session: a connection's bounded
// outgoing queue. Send must not block on the network; it fails when the
// queue is full or closed (the transport then cuts the slow consumer off).
type Sender interface {
	Send(st *xml.Element) error
	// Close ends the connection with the given stream error condition
	// (e.g. "conflict" when another session takes the resource over).
	Close(condition string)
}

// TextCloser is a Sender that can say why it ends the stream: the text
// of the stream error (RFC 6120 §4.9.2), for a human. c2s's sessions are
// TextClosers.
type TextCloser interface {
	CloseWithText(condition, text string)
}

// DormantSender is a Sender that can tell whether a client is reading
// what it queues now (the push module notifies the app servers of
// clients that are not, XEP-0357).
type DormantSender interface {
	// Dormant reports whether stanzas queued now wait for a client that
	// is not running: the session is detached, kept for XEP-0198
	// resumption, or its client said it is inactive (XEP-0352).
	Dormant() bool
}

// Session is a bound resource as the router sees it. Its presence fields
// are set by the presence module and read by delivery.
type Session struct {
	jid  jid.JID
	bare string // jid.Bare().String(), cached for map lookups
	out  Sender
	ID   string // stream id, for logs

	mu         sync.Mutex // leaf lock: guards the fields below
	available  bool
	priority   int
	presence   *xml.Element // last broadcast available presence
	interested bool         // requested the roster (RFC 6121 §2.1.6)
	carbons    bool
	mamQueried time.Time // MAMQueriedAt
	mamByQuery bool      // mamQueried is a query's, not the Bind 2's
	values     map[any]any
}

// NewSession returns a session for the full JID j writing to out.
func NewSession(j jid.JID, id string, out Sender) *Session {
	return &Session{jid: j, bare: j.Bare().String(), out: out, ID: id}
}

// JID is the session's full JID.
func (s *Session) JID() jid.JID { return s.jid }

// Bare is the account's bare JID as a string.
func (s *Session) Bare() string { return s.bare }

// Send queues a stanza for the client.
func (s *Session) Send(st *xml.Element) error { return s.out.Send(st) }

// Close ends the session's stream with the given stream error condition
// (register ends every session of a cancelled account with
// "not-authorized", XEP-0077 §3.2). A session waiting for XEP-0198
// resumption ends without it.
func (s *Session) Close(condition string) { s.out.Close(condition) }

// CloseWithText is Close with a text for the stream error (adhoc's
// disable-user says the account is disabled); a transport that cannot
// carry one (not a TextCloser) closes without it. The text is for the
// user: never internal error text.
func (s *Session) CloseWithText(condition, text string) {
	if tc, ok := s.out.(TextCloser); ok {
		tc.CloseWithText(condition, text)
		return
	}
	s.out.Close(condition)
}

// Dormant reports whether the session's client is not reading what it is
// sent now (DormantSender); false for a transport that cannot tell.
func (s *Session) Dormant() bool {
	d, ok := s.out.(DormantSender)
	return ok && d.Dormant()
}

// Available reports whether the session has sent available presence.
func (s *Session) Available() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.available }

// Priority is the priority of the last available presence.
func (s *Session) Priority() int { s.mu.Lock(); defer s.mu.Unlock(); return s.priority }

// Presence returns the last available presence broadcast (nil if none).
func (s *Session) Presence() *xml.Element { s.mu.Lock(); defer s.mu.Unlock(); return s.presence }

// SetPresence records the session's broadcast presence; nil means
// unavailable. It returns whether the session was available before.
func (s *Session) SetPresence(p *xml.Element, priority int) (wasAvailable bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wasAvailable = s.available
	s.presence = p
	s.available = p != nil
	s.priority = priority
	return wasAvailable
}

// Interested reports whether the session has requested the roster and so
// receives roster pushes.
func (s *Session) Interested() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.interested }

// SetInterested marks the session as having requested the roster.
func (s *Session) SetInterested() { s.mu.Lock(); s.interested = true; s.mu.Unlock() }

// Carbons reports whether Message Carbons are enabled.
func (s *Session) Carbons() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.carbons }

// SetCarbons enables or disables Message Carbons.
func (s *Session) SetCarbons(on bool) { s.mu.Lock(); s.carbons = on; s.mu.Unlock() }

// MAMQueried reports whether the client has queried its archive in this
// session (it then catches up from the archive, not from offline storage).
func (s *Session) MAMQueried() bool { return !s.MAMQueriedAt().IsZero() }

// MAMQueriedAt is when the client first caught up from its archive in
// this session (else when it bound with XEP-0386 Bind 2), zero if
// neither. Its catch-up covers what was archived before; what was
// archived since is in its answers only if it pages forward: one paging
// back from the end (<before/>) never sees it. The offline module sends
// what was stored offline after this time.
func (s *Session) MAMQueriedAt() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.mamQueried }

// SetMAMQueried records that the client catches up from its archive; it
// is called before the archive is read. Only the first call counts (see
// MAMQueriedAt); it moves a Bind 2's mark (SetMAMBound) later, since its
// answers hold what was archived between the two.
func (s *Session) SetMAMQueried() {
	s.mu.Lock()
	if !s.mamByQuery {
		s.mamQueried, s.mamByQuery = time.Now(), true
	}
	s.mu.Unlock()
}

// SetMAMBound records that the session bound with XEP-0386 Bind 2, which
// has offline messages left to MAM (§3.2) until a catch-up query.
func (s *Session) SetMAMBound() {
	s.mu.Lock()
	if s.mamQueried.IsZero() {
		s.mamQueried = time.Now()
	}
	s.mu.Unlock()
}

// Value returns per-session state a module stored under key.
func (s *Session) Value(key any) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.values[key]
}

// SetValue stores per-session state for a module; use an unexported key
// type, as with context values.
func (s *Session) SetValue(key, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = make(map[any]any)
	}
	s.values[key] = v
}
