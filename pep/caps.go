package pep

import (
	"context"
	"sync"

	"github.com/skald-xmpp/skald/disco"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
)

// notifySuffix marks a feature as a request for a node's notifications
// (XEP-0163 §4.3.4, XEP-0060 §9.2 filtered notifications).
const notifySuffix = "+notify"

// maxKnownVers bounds the caps cache; it starts over when full.
const maxKnownVers = 10000

// maxCapsWaiting bounds the sessions waiting for the answer about one
// SHA-1 ver. Remote servers show as many resources as they like (and
// those dropped from pep's table stay on the list): unbounded, the list
// would grow while its first session keeps silent, and asking its
// sessions one after the other recurses once per session that fails at
// once. A session past the bound is resolved at its next presence.
const maxCapsWaiting = 1000

type capsKey struct{}

// clientCaps is what a session told of its capabilities (XEP-0115 §4) and
// what PEP made of them. Kept as the session's value under capsKey.
type clientCaps struct {
	mu       sync.Mutex // leaf; guards the fields below
	node     string     // the caps node, asked for as node#ver
	ver      string
	hash     string
	notify   map[string]bool // nodes it wants notifications of; nil until known
	lastDone bool            // last published items sent (once per session)
	// asking is set while the server waits for this client's answer to a
	// caps query: one at a time per session, so that a client changing
	// its ver in a loop cannot fill the router's table of pending queries.
	asking bool
}

func capsOf(s *router.Session) *clientCaps {
	c, _ := s.Value(capsKey{}).(*clientCaps)
	return c
}

// wantsNotify reports whether s asked for node's notifications.
func wantsNotify(s *router.Session, node string) bool {
	c := capsOf(s)
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.notify[node]
}

// capsCache keeps the +notify nodes of each verified SHA-1 caps ver
// (XEP-0115 §5.4: a ver is cached only once its hash checked out) and the
// sessions waiting for a ver being asked about.
type capsCache struct {
	mu      sync.Mutex                 // leaf
	known   map[string]map[string]bool // ver -> nodes
	pending map[string]*capsQuery      // ver -> the query out for it
}

// capsQuery is the disco#info query out for one SHA-1 ver: the sessions
// that showed it, in order, and how many of them were asked in vain. The
// sessions are asked one at a time, so that one client's silence or bad
// answer does not leave the others without capabilities.
type capsQuery struct {
	waiting []*router.Session
	failed  int
}

// BroadcastPresence implements router.PresenceObserver: it reads the
// XEP-0115 <c/> of a client's presence and resolves its ver.
func (m *Module) BroadcastPresence(_ context.Context, s *router.Session, p *xml.Element) {
	c := p.Child(disco.NSCaps, "c")
	if c == nil || c.Attr("ver") == "" {
		return // no caps: keep what an earlier presence said
	}
	ver, hash := c.Attr("ver"), c.Attr("hash")
	cc := capsOf(s)
	if cc == nil {
		cc = &clientCaps{}
		s.SetValue(capsKey{}, cc) // only the session's reader goroutine gets here
	}
	cc.mu.Lock()
	same := cc.ver == ver && cc.hash == hash
	if !same {
		cc.node, cc.ver, cc.hash, cc.notify = c.Attr("node"), ver, hash, nil
	}
	cc.mu.Unlock()
	if !same {
		m.resolveCaps(s, cc)
	}
}

// resolveCaps finds the +notify nodes of the ver s shows: in the cache, by
// joining the query out for the same SHA-1 ver, or by asking s for its
// disco#info (§6.3). While s has a query of its own out, it is not asked
// again: capsAnswered resolves its newest ver then.
func (m *Module) resolveCaps(s *router.Session, cc *clientCaps) {
	cc.mu.Lock()
	node, ver, hash, busy := cc.node, cc.ver, cc.hash, cc.asking
	cc.mu.Unlock()
	if hash == "sha-1" {
		m.caps.mu.Lock()
		known := m.caps.known[ver]
		q := m.caps.pending[ver]
		joined := q != nil
		full := false
		if known == nil && !busy {
			if q == nil {
				q = &capsQuery{}
				if m.caps.pending == nil {
					m.caps.pending = make(map[string]*capsQuery)
				}
				m.caps.pending[ver] = q
			}
			if full = len(q.waiting) >= maxCapsWaiting; !full {
				q.waiting = append(q.waiting, s)
			}
		}
		m.caps.mu.Unlock()
		if known != nil {
			m.learned(s, ver, known)
			return
		}
		if full {
			forgetVer(s, ver)
			return
		}
		if joined {
			return
		}
	}
	if !busy {
		m.askCaps(s, node, ver, hash)
	}
}

// learned records the +notify nodes of a session still showing ver and,
// if it is available and had none yet, sends it the last published items
// (XEP-0163 §4.3.4).
func (m *Module) learned(s *router.Session, ver string, nodes map[string]bool) {
	cc := capsOf(s)
	if cc == nil {
		return
	}
	cc.mu.Lock()
	if cc.ver != ver {
		cc.mu.Unlock()
		return // the client changed its caps meanwhile
	}
	cc.notify = nodes
	cc.mu.Unlock()
	if s.Available() {
		m.lastItemsOnce(context.Background(), s)
	}
}
