package muc

import (
	"sync"

	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// Remote occupants are users of other servers, whose stanzas reach the
// service over server-to-server streams (router.HandleFromRemote hands
// them to HandleServiceStanza with a transient session of the remote
// full JID) and to whom the room's stanzas go back the same way
// (router.SendTo of a remote JID). The room knows them by full JID, as
// it knows local sessions. What differs:
//
//   - they never create rooms (§10.1.1 not-allowed: creation is a local
//     user's privilege, and a remote server could otherwise name users
//     until max_rooms is reached);
//   - their sessions have no end the router tells us of: they leave by
//     unavailable presence, by a presence error, or when a stanza to
//     them bounces (router.Bounce hands the room the error reply of the
//     stanza, presence or message, and ghost.go removes the session);
//   - their count per remote domain, over every room, is bounded
//     (remoteOccupants).

// remoteOccupants counts the occupant sessions of remote domains. Its
// mutex is a leaf, taken under room.mu.
type remoteOccupants struct {
	mu       sync.Mutex
	byDomain map[string]int
}

// isRemote reports whether s is a remote user's transient session.
func (m *Module) isRemote(full jid.JID) bool { return m.r.IsRemote(full) }

// admitRemote counts one more session of full's domain, or refuses it
// past max_remote_occupants_per_domain (§7.2.10's wait error, as a full
// room: a later try may find room).
func (m *Module) admitRemote(full jid.JID) error {
	m.remote.mu.Lock()
	defer m.remote.mu.Unlock()
	if m.remote.byDomain == nil {
		m.remote.byDomain = make(map[string]int)
	}
	d := full.Domain()
	if m.remote.byDomain[d] >= m.cfg.MaxRemoteOccupantsPerDomain {
		return &stanza.Error{Type: stanza.Wait, Condition: stanza.ServiceUnavailable, Text: "too many users of your server are here"}
	}
	m.remote.byDomain[d]++
	return nil
}

// releaseRemote forgets one session of full's domain.
func (m *Module) releaseRemote(full jid.JID) {
	if !m.isRemote(full) {
		return
	}
	m.remote.mu.Lock()
	defer m.remote.mu.Unlock()
	d := full.Domain()
	if m.remote.byDomain[d]--; m.remote.byDomain[d] <= 0 {
		delete(m.remote.byDomain, d)
	}
}

// RemoteOccupants returns how many occupant sessions domain has (tests,
// metrics).
func (m *Module) RemoteOccupants(domain string) int {
	m.remote.mu.Lock()
	defer m.remote.mu.Unlock()
	return m.remote.byDomain[domain]
}

// dropSessionLocked takes a session out of the room's session index and
// the remote count; rm.mu is held.
func (m *Module) dropSessionLocked(rm *room, full jid.JID) {
	if _, ok := rm.bySession[full]; !ok {
		return
	}
	delete(rm.bySession, full)
	m.releaseRemote(full)
	if s := m.r.Session(full); s != nil {
		joinedOf(s).set(rm.jid, false)
	}
}

// stillBound reports whether a session that is entering may: a local one
// must still be bound (see enter), a remote one has no binding.
func (m *Module) stillBound(s *router.Session) bool {
	return m.isRemote(s.JID()) || m.r.Session(s.JID()) == s
}
