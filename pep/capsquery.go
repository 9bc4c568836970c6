package pep

import (
	"strings"

	"github.com/skald-xmpp/skald/disco"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// askCaps sends s the disco#info query on node#ver and learns the answer.
func (m *Module) askCaps(s *router.Session, node, ver, hash string) {
	if cc := capsOf(s); cc != nil {
		cc.mu.Lock()
		cc.asking = true
		cc.mu.Unlock()
	}
	q := xml.New(disco.NSInfo, "query", "node", node+"#"+ver)
	iq := xml.New(stanza.NSClient, "iq", "type", stanza.TypeGet).Append(q)
	answered := func(resp *xml.Element) { m.capsAnswered(s, ver, hash, resp) }
	var err error
	if via, ok := m.remoteVia(s.JID()); ok {
		// A remote contact's resource: asked over server-to-server,
		// within the bounds on queries out to remote resources.
		domain := s.JID().Domain()
		if !m.remoteCaps.start(domain) {
			m.capsAnswered(s, ver, hash, nil)
			forgetVer(s, ver) // asked at its next presence
			return
		}
		err = m.r.QueryRemote(iq, via.DomainJID(), s.JID(), capsQueryTimeout, func(resp *xml.Element) {
			m.remoteCaps.end(domain)
			answered(resp)
		})
		if err != nil {
			m.remoteCaps.end(domain) // refused at once: done is not called
		}
	} else {
		err = m.r.QueryClient(s.JID(), iq, capsQueryTimeout, answered)
	}
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
	defer m.capsAnsweredBy(s, ver)
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

// capsAnsweredBy ends s's query about ver and, if s shows another ver by
// now that is still unresolved, resolves that one. (A ver that failed is
// not asked again: the client learns nothing from being asked twice.)
func (m *Module) capsAnsweredBy(s *router.Session, ver string) {
	cc := capsOf(s)
	if cc == nil {
		return
	}
	cc.mu.Lock()
	cc.asking = false
	unresolved := cc.notify == nil && cc.ver != ver
	cc.mu.Unlock()
	if unresolved {
		m.resolveCaps(s, cc)
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

// forgetVer makes s show no ver if it still shows ver unresolved, so that
// its next presence with caps resolves it anew.
func forgetVer(s *router.Session, ver string) {
	cc := capsOf(s)
	if cc == nil {
		return
	}
	cc.mu.Lock()
	if cc.ver == ver && cc.notify == nil {
		cc.ver = ""
	}
	cc.mu.Unlock()
}
