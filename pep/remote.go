package pep

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/skald-xmpp/skald/disco"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
)

// Remote contacts (users of other servers) get notifications as local
// ones do, at the full JIDs of their available resources that asked for
// them (XEP-0163 §4.3.1 item 4, §4.3.2 item 3). What the server knows of
// those resources comes from the presence their server sends our
// accounts (router.RemotePresenceObserver): availability, priority and
// the XEP-0115 <c/>, whose ver is resolved as a local client's is (the
// cache of verified SHA-1 vers, else a disco#info query to the remote
// full JID over server-to-server, router.QueryRemote).
//
// A contact of whom the server has no presence at all gets at most one
// notification, at its bare JID, when its subscription is "from" only:
// its server sends us no presence then (XEP-0163 §2.4's note: the use of
// presence works only with "both"), and §4.3.2 item 2 allows one
// notification to the bare JID without presence information. A "both"
// contact with no resource known is offline: nothing is sent.

// Bounds on the remote resources tracked: a remote server decides how
// many resources its users have.
const (
	maxRemoteResources          = 10000
	maxRemoteResourcesPerDomain = 1000
)

// remoteContacts tracks the available resources of remote contacts.
// mu is taken with no other lock held, and under it only the sessions'
// own (leaf) mutexes.
type remoteContacts struct {
	mu       sync.Mutex
	byFull   map[jid.JID]*remoteResource
	byBare   map[jid.JID]map[jid.JID]*remoteResource
	byDomain map[string]int
	clock    uint64 // counts presences, to find the resource heard of longest ago
}

// remoteResource is one available resource of a remote contact. Its
// transient session holds what a local session holds for pep (presence,
// priority, caps under capsKey) and sends over server-to-server.
type remoteResource struct {
	s      *router.Session
	via    jid.JID         // a domain of ours it sends presence to: caps queries go from it
	owners map[string]bool // local accounts it sent presence to, which have it as a contact (guarded by remoteContacts.mu)
	heard  uint64          // remoteContacts.clock at its latest presence
}

// remoteSender sends a remote resource's events through the router,
// which hands stanzas from our accounts to remote JIDs to s2s.
type remoteSender struct{ r *router.Router }

var errNotQueued = errors.New("pep: not queued for the remote server")

func (rs remoteSender) Send(st *xml.Element) error {
	to, err := jid.Parse(st.Attr("to"))
	if err != nil || rs.r.SendTo(to, st) == 0 {
		return errNotQueued
	}
	return nil
}

func (remoteSender) Close(string) {}

// RemotePresence implements router.RemotePresenceObserver: available
// presence from a remote resource to a local account that has it as a
// contact records the resource (and resolves its caps); unavailable or
// error presence forgets it for that account.
func (m *Module) RemotePresence(ctx context.Context, p *xml.Element, from, to jid.JID) {
	if !from.IsFull() || to.Local() == "" || !m.r.IsRemote(from) {
		return
	}
	owner := to.Bare()
	switch p.Attr("type") {
	case "":
	case "unavailable", "error":
		m.forgetRemote(from, owner)
		return
	default:
		return // subscriptions and probes say nothing of the resource
	}
	if !m.isContact(ctx, owner, from) {
		m.forgetRemote(from, owner)
		return
	}
	prio := 0
	if el := p.Child(p.Space, "priority"); el != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(el.Text())); err == nil && n >= -128 && n <= 127 {
			prio = n
		}
	}
	rr, newOwner := m.rememberRemote(from, owner)
	if rr == nil {
		return // over the bounds
	}
	// Only availability and priority matter here: an empty presence
	// keeps the table's memory small whatever remote clients send.
	rr.s.SetPresence(xml.New(p.Space, "presence"), prio)
	if newOwner && lastItemsSent(rr.s) {
		// Its last items were sent already, for the accounts it had
		// sent presence to; this one's come now (§4.3.3 item 2).
		if err := m.sendLastOf(ctx, owner, rr.s, storage.SendLastOnSubAndPresence); err != nil {
			m.log.Error("pep: last items not sent", "owner", owner.String(), "to", from.String(), "err", err)
		}
	}
	if p.Child(disco.NSCaps, "c") != nil {
		m.BroadcastPresence(ctx, rr.s, p)
	}
}

// isContact reports whether contact is in owner's roster with a
// subscription either way: its presence then flows to owner legitimately
// (RFC 6121), and who may have notifications is decided when they are
// sent (a "from" or "both" subscription, roster and mayAccess). Strangers'
// directed presence is not kept.
func (m *Module) isContact(ctx context.Context, owner, contact jid.JID) bool {
	it, ok, err := m.ros.Item(ctx, owner.String(), contact.Bare().String())
	if err != nil || !ok {
		return false
	}
	return it.Subscription == storage.SubTo || it.Subscription == storage.SubFrom || it.Subscription == storage.SubBoth
}

// rememberRemote returns the resource's record, made if new, with owner
// among its owners, and whether owner is new there. At the bounds the
// resource heard of longest ago (of the same domain, when that domain's
// bound is reached) makes room: a remote server that ended without
// unavailable presence leaves records nobody else removes.
func (m *Module) rememberRemote(full, owner jid.JID) (*remoteResource, bool) {
	rc := &m.remote
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.clock++
	rr := rc.byFull[full]
	if rr == nil {
		switch {
		case rc.byDomain[full.Domain()] >= maxRemoteResourcesPerDomain:
			rc.evictLocked(full.Domain())
		case len(rc.byFull) >= maxRemoteResources:
			rc.evictLocked("")
		}
		if rc.byFull == nil {
			rc.byFull = make(map[jid.JID]*remoteResource)
			rc.byBare = make(map[jid.JID]map[jid.JID]*remoteResource)
			rc.byDomain = make(map[string]int)
		}
		s := router.NewSession(full, "s2s-pep:"+full.Domain(), remoteSender{m.r})
		s.SetValue(capsKey{}, &clientCaps{})
		rr = &remoteResource{s: s, via: owner.DomainJID(), owners: make(map[string]bool)}
		rc.byFull[full] = rr
		if rc.byBare[full.Bare()] == nil {
			rc.byBare[full.Bare()] = make(map[jid.JID]*remoteResource)
		}
		rc.byBare[full.Bare()][full] = rr
		rc.byDomain[full.Domain()]++
	}
	rr.heard = rc.clock
	isNew := !rr.owners[owner.String()]
	rr.owners[owner.String()] = true
	return rr, isNew
}

// evictLocked drops the resource heard of longest ago, of domain ("":
// of any domain).
func (rc *remoteContacts) evictLocked(domain string) {
	var oldest *remoteResource
	for full, rr := range rc.byFull {
		if (domain == "" || full.Domain() == domain) && (oldest == nil || rr.heard < oldest.heard) {
			oldest = rr
		}
	}
	if oldest != nil {
		rc.dropLocked(oldest)
	}
}

// forgetRemote takes owner off the resource's owners, and the resource
// off the table when none is left.
func (m *Module) forgetRemote(full, owner jid.JID) {
	rc := &m.remote
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rr := rc.byFull[full]
	if rr == nil {
		return
	}
	delete(rr.owners, owner.String())
	if len(rr.owners) == 0 {
		rc.dropLocked(rr)
	}
}

// dropLocked takes a resource off the table.
func (rc *remoteContacts) dropLocked(rr *remoteResource) {
	full := rr.s.JID()
	rr.s.SetPresence(nil, 0)
	delete(rc.byFull, full)
	if b := rc.byBare[full.Bare()]; b != nil {
		if delete(b, full); len(b) == 0 {
			delete(rc.byBare, full.Bare())
		}
	}
	if rc.byDomain[full.Domain()]--; rc.byDomain[full.Domain()] <= 0 {
		delete(rc.byDomain, full.Domain())
	}
}

// remoteSessions returns the known available resources of a remote
// contact.
func (m *Module) remoteSessions(contact jid.JID) []*router.Session {
	rc := &m.remote
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []*router.Session
	for _, rr := range rc.byBare[contact.Bare()] {
		out = append(out, rr.s)
	}
	return out
}

// remoteOwners returns the local accounts a remote resource sent its
// presence to, which have it as a contact.
func (m *Module) remoteOwners(full jid.JID) []jid.JID {
	rc := &m.remote
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rr := rc.byFull[full]
	if rr == nil {
		return nil
	}
	out := make([]jid.JID, 0, len(rr.owners))
	for o := range rr.owners {
		if j, err := jid.Parse(o); err == nil {
			out = append(out, j)
		}
	}
	return out
}

// remoteVia returns the domain of ours a caps query to full goes from.
func (m *Module) remoteVia(full jid.JID) (jid.JID, bool) {
	rc := &m.remote
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rr := rc.byFull[full]; rr != nil {
		return rr.via, true
	}
	return jid.JID{}, false
}

// RemoteResources returns how many remote resources are tracked (tests).
func (m *Module) RemoteResources() int {
	m.remote.mu.Lock()
	defer m.remote.mu.Unlock()
	return len(m.remote.byFull)
}

// remoteRecipients appends the sessions of a remote contact that get
// owner's notification of node: its known resources that want it, or,
// with none known and a "from" subscription, one transient session of
// its bare JID (see the top of this file).
func (m *Module) remoteRecipients(ctx context.Context, out []*router.Session, owner, contact jid.JID, sub, node string) []*router.Session {
	known := m.remoteSessions(contact)
	if len(known) == 0 {
		if sub != storage.SubFrom {
			return out
		}
		s := router.NewSession(contact.Bare(), "s2s-pep:"+contact.Domain(), remoteSender{m.r})
		if !m.cut(ctx, owner, s) {
			out = append(out, s)
		}
		return out
	}
	for _, s := range m.filterNotify(nil, known, owner, node) {
		if !m.cut(ctx, owner, s) {
			out = append(out, s)
		}
	}
	return out
}

// maxRemoteCapsQueriesPerDomain and maxRemoteCapsQueries bound the caps
// queries out to remote resources at once (XEP-0115 §6.3 disco#info over
// s2s). Each waits in the router's table of pending queries, shared with
// local clients' caps queries and push (router.MaxPendingQueries), until
// answered or timed out; a remote server decides how many resources and
// vers its users show, and resources dropped to make room for newer ones
// keep their query out. Past a bound the resource is not asked; its next
// presence with caps asks again.
const (
	maxRemoteCapsQueriesPerDomain = 32
	maxRemoteCapsQueries          = 1000
)

// remoteCapsQueries counts the caps queries out to remote resources, per
// remote domain. Its mutex is a leaf.
type remoteCapsQueries struct {
	mu       sync.Mutex
	byDomain map[string]int
	total    int
}

// start counts one more query to domain, or reports false past a bound.
func (q *remoteCapsQueries) start(domain string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.total >= maxRemoteCapsQueries || q.byDomain[domain] >= maxRemoteCapsQueriesPerDomain {
		return false
	}
	if q.byDomain == nil {
		q.byDomain = make(map[string]int)
	}
	q.byDomain[domain]++
	q.total++
	return true
}

// end forgets one query to domain (answered, bounced or timed out).
func (q *remoteCapsQueries) end(domain string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.total--
	if q.byDomain[domain]--; q.byDomain[domain] <= 0 {
		delete(q.byDomain, domain)
	}
}
