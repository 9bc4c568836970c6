package adhoc

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
)

// maxOpenSessions bounds the open sessions of all accounts together:
// the per-account cap alone would let many accounts grow the table once
// commands for everybody exist.
const maxOpenSessions = 10000

// maxRemembered bounds the ended session ids remembered so that reusing
// one is answered session-expired rather than bad-sessionid.
const maxRemembered = 1024

// session is one command execution (XEP-0050, Session Lifetime), bound to the full
// JID that started it.
type session struct {
	id, node string
	owner    jid.JID
	lang     string
	stage    int    // the index of the form last shown
	forms    []Form // submitted, one per stage passed
	expires  time.Time
	busy     bool // checked out by a request being handled
}

// sessionTable holds the open sessions and remembers recently ended
// ones. Its mutex is a leaf: no I/O, no calls out.
type sessionTable struct {
	timeout time.Duration
	perAcct int
	maxOpen int
	now     func() time.Time
	newID   func() string // random; tests make it predictable

	mu         sync.Mutex
	open       map[string]*session
	ended      map[string]string // id -> owner's full JID
	endedOrder []string
}

func newSessionTable(cfg Config, now func() time.Time) *sessionTable {
	return &sessionTable{timeout: cfg.SessionTimeout, perAcct: cfg.MaxSessionsPerAccount, maxOpen: maxOpenSessions, now: now, newID: randomID,
		open: map[string]*session{}, ended: map[string]string{}}
}

func randomID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// expireLocked ends sessions idle past the timeout (lazily: the table
// is small, bounded per account, and walked on every request).
func (t *sessionTable) expireLocked() {
	now := t.now()
	for _, s := range t.open {
		if !s.busy && now.After(s.expires) {
			t.endLocked(s)
		}
	}
}

func (t *sessionTable) endLocked(s *session) {
	delete(t.open, s.id)
	t.rememberLocked(s.id, s.owner)
}

func (t *sessionTable) rememberLocked(id string, owner jid.JID) {
	if len(t.endedOrder) == maxRemembered {
		delete(t.ended, t.endedOrder[0])
		t.endedOrder = t.endedOrder[1:]
	}
	t.ended[id] = owner.String()
	t.endedOrder = append(t.endedOrder, id)
}

// start starts a checked-out session for owner, unless its account has
// as many open as allowed (resource-constraint: it may retry later).
func (t *sessionTable) start(owner jid.JID, node, lang string) (*session, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireLocked()
	n := 0
	for _, s := range t.open {
		if s.owner.Bare() == owner.Bare() {
			n++
		}
	}
	if n >= t.perAcct {
		return nil, stanza.E(stanza.ResourceConstraint, "too many commands in progress; complete or cancel some")
	}
	if len(t.open) >= t.maxOpen {
		return nil, stanza.E(stanza.ResourceConstraint, "too many commands in progress on this server; try again later")
	}
	s := &session{id: t.newID(), node: node, owner: owner, lang: lang, busy: true}
	t.open[s.id] = s
	return s, nil
}

// oneShot returns the id of a session that ends as it starts (a command
// without stages): remembered as ended, as the XEP's ids are never
// reused.
func (t *sessionTable) oneShot(owner jid.JID) string {
	id := t.newID()
	t.mu.Lock()
	t.rememberLocked(id, owner)
	t.mu.Unlock()
	return id
}

// checkOut takes the session id for a request of requester on node. An
// id that is not requester's open session of node is bad-sessionid
// (XEP-0050: "cannot accept the specified sessionid"); one of requester's that ended (completed,
// canceled, timed out) is session-expired.
func (t *sessionTable) checkOut(id string, requester jid.JID, node string) (*session, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireLocked()
	s := t.open[id]
	switch {
	case s != nil && s.owner == requester && s.node == node:
		if s.busy {
			// The same requester's requests are handled in order; this
			// would take a second stream of one full JID.
			return nil, stanza.E(stanza.ResourceConstraint, "the session is busy")
		}
		s.busy = true
		return s, nil
	case s == nil && t.ended[id] == requester.String():
		return nil, cmdError(stanza.NotAllowed, "session-expired", "")
	}
	return nil, cmdError(stanza.BadRequest, "bad-sessionid", "")
}

// checkIn returns a session after a request, its timeout restarted.
func (t *sessionTable) checkIn(s *session) {
	t.mu.Lock()
	s.busy = false
	s.expires = t.now().Add(t.timeout)
	t.mu.Unlock()
}

// end ends a checked-out session.
func (t *sessionTable) end(s *session) {
	t.mu.Lock()
	t.endLocked(s)
	t.mu.Unlock()
}

// dropOwner ends the sessions of a full JID whose stream ended.
func (t *sessionTable) dropOwner(owner jid.JID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.open {
		if s.owner == owner && !s.busy {
			t.endLocked(s)
		}
	}
}

// count is the number of open sessions (tests).
func (t *sessionTable) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.open)
}
