package pep

import (
	"context"
	"strings"
	"sync"

	"github.com/skald-xmpp/skald/disco"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// notifySuffix marks a feature as a request for a node's notifications
// (XEP-0163 §4.3.4, XEP-0060 §9.2 filtered notifications).
const notifySuffix = "+notify"

// maxKnownVers bounds the caps cache; it starts over when full.
const maxKnownVers = 10000

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
// XEP-0115 <c/> of a client's presence, and asks the client for its
// disco#info when the ver is not known yet (§6.3).
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
	if same {
		return
	}
	if hash == "sha-1" {
		m.caps.mu.Lock()
		known := m.caps.known[ver]
		q := m.caps.pending[ver]
		asking := q != nil
		if known == nil {
			if q == nil {
				q = &capsQuery{}
				if m.caps.pending == nil {
					m.caps.pending = make(map[string]*capsQuery)
				}
				m.caps.pending[ver] = q
			}
			q.waiting = append(q.waiting, s)
		}
		m.caps.mu.Unlock()
		if known != nil {
			m.learned(s, ver, known)
			return
		}
		if asking {
			return
		}
	}
	m.askCaps(s, c.Attr("node"), ver, hash)
}

// askCaps sends s the disco#info query on node#ver and learns the answer.
func (m *Module) askCaps(s *router.Session, node, ver, hash string) {
	q := xml.New(disco.NSInfo, "query", "node", node+"#"+ver)
	iq := xml.New(stanza.NSClient, "iq", "type", stanza.TypeGet).Append(q)
	err := m.r.QueryClient(s.JID(), iq, capsQueryTimeout, func(resp *xml.Element) {
		m.capsAnswered(s, ver, hash, resp)
	})
	if err != nil {
		m.capsAnswered(s, ver, hash, nil)
	}
}

// capsAnswered handles the client's disco#info answer (nil: none came).
// A SHA-1 ver whose hash matches the answer is cached for every session
// that shows it; one that does not match is not used at all (XEP-0115
// §5.4: the result MUST be considered invalid). Other hashes, which Skald
// cannot check, serve only the session that was asked.
func (m *Module) capsAnswered(s *router.Session, ver, hash string, resp *xml.Element) {
	var q *xml.Element
	if resp != nil && resp.Attr("type") == stanza.TypeResult {
		q = resp.Child(disco.NSInfo, "query")
	}
	var nodes map[string]bool
	valid := false
	if q != nil {
		var ids []disco.Identity
		for _, id := range q.ChildrenNamed(disco.NSInfo, "identity") {
			ids = append(ids, disco.Identity{Category: id.Attr("category"), Type: id.Attr("type"), Lang: id.Attr("lang"), Name: id.Attr("name")})
		}
		var feats []string
		nodes = make(map[string]bool)
		for _, f := range q.ChildrenNamed(disco.NSInfo, "feature") {
			v := f.Attr("var")
			feats = append(feats, v)
			if node, ok := strings.CutSuffix(v, notifySuffix); ok && node != "" {
				nodes[node] = true
			}
		}
		valid = hash != "sha-1" || disco.CapsVer(ids, feats, q.ChildrenNamed(disco.NSData, "x")) == ver
	}
	if hash != "sha-1" {
		if valid {
			m.learned(s, ver, nodes)
		}
		return
	}
	m.caps.mu.Lock()
	var waiting []*router.Session
	var next *router.Session
	if q := m.caps.pending[ver]; q != nil {
		waiting = q.waiting
		if !valid && q.failed+1 < len(q.waiting) {
			q.failed++
			next = q.waiting[q.failed]
		} else {
			delete(m.caps.pending, ver)
		}
	}
	if valid {
		if m.caps.known == nil || len(m.caps.known) >= maxKnownVers {
			m.caps.known = make(map[string]map[string]bool)
		}
		m.caps.known[ver] = nodes
	}
	m.caps.mu.Unlock()
	if !valid {
		m.log.Debug("pep: caps not verified", "jid", s.JID().String(), "ver", ver)
		if next != nil {
			m.askCaps(next, capsNodeOf(next), ver, hash)
		}
		return
	}
	for _, w := range waiting {
		m.learned(w, ver, nodes)
	}
}

// capsNodeOf returns the caps node s announced.
func capsNodeOf(s *router.Session) string {
	cc := capsOf(s)
	if cc == nil {
		return ""
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.node
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
