package muc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"sync"

	"github.com/skald-xmpp/skald/internal/metrics"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/mam"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// Module is the MUC service of every hosted domain.
type Module struct {
	cfg     Config
	r       *router.Router
	archive *mam.Module
	store   RoomStore // persistent rooms
	log     *slog.Logger
	domains []string // the service domains
	idKey   []byte   // keys XEP-0421 occupant ids

	// createMu serialises room creation, so that counting an account's
	// rooms and adding one are one step (max_rooms_per_account). It is
	// taken before any room.mu and before mu, never while holding either.
	createMu sync.Mutex
	mu       sync.Mutex       // guards rooms; see doc.go for the lock order
	rooms    map[string]*room // room bare JID -> room

	remote remoteOccupants // sessions of remote users per domain (remote.go)

	messages metrics.Counter // groupchat messages broadcast (metrics.go)
	// messages retracted in rooms' archives: by moderators (XEP-0425),
	// by their authors (XEP-0424)
	moderations, retractions metrics.Counter
}

// New returns the service for the given hosted domains. archive stores
// the rooms' messages; secret keys the occupant ids (XEP-0421: stable
// per room and account, unlinkable across rooms). store keeps persistent
// rooms across restarts.
func New(cfg Config, r *router.Router, archive *mam.Module, store RoomStore, secret []byte, log *slog.Logger) *Module {
	if log == nil {
		log = slog.Default()
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("skald muc occupant-id v1"))
	m := &Module{cfg: cfg, r: r, archive: archive, store: store, log: log, idKey: mac.Sum(nil), rooms: make(map[string]*room)}
	m.domains = ServiceDomains(cfg, r.Domains())
	return m
}

// ServiceDomains returns the service's domains for the hosted domains:
// the [muc] label under each. The server needs them before the module
// exists, for the self-signed certificate that must name them.
func ServiceDomains(cfg Config, hosted []string) []string {
	out := make([]string, 0, len(hosted))
	for _, d := range hosted {
		out = append(out, cfg.Domain+"."+d)
	}
	return out
}

// Name implements router.Module.
func (*Module) Name() string { return "muc" }

// ServiceDomains implements router.Service.
func (m *Module) ServiceDomains() []string { return m.domains }

// HandleServiceStanza implements router.Service.
func (m *Module) HandleServiceStanza(ctx context.Context, s *router.Session, st *xml.Element, to jid.JID) error {
	switch st.Local {
	case "presence":
		return m.handlePresence(ctx, s, st, to)
	case "message":
		return m.handleMessage(ctx, s, st, to)
	default:
		return m.handleIQ(ctx, s, st, to)
	}
}

// SessionBound implements router.SessionObserver: the session's room set
// exists from the start, so that a moderator's goroutine kicking it and
// its own reader never both create one.
func (*Module) SessionBound(_ context.Context, s *router.Session) {
	s.SetValue(joinedKey{}, &joinedRooms{rooms: make(map[jid.JID]bool)})
}

// SessionEnded implements router.SessionObserver: the session leaves every
// room it is in, as if it had sent unavailable presence, so that rooms
// never keep ghosts.
func (m *Module) SessionEnded(ctx context.Context, s *router.Session) {
	for _, rj := range joinedOf(s).list() {
		if rm := m.lockRoom(rj); rm != nil {
			if o := rm.bySession[s.JID()]; o != nil {
				m.leaveLocked(rm, o, s, nil)
			}
			rm.mu.Unlock()
		}
	}
}

// SessionUnavailable implements router.UnavailabilityObserver: a session
// that sends broadcast unavailable presence leaves its rooms too (RFC 6121
// §4.6.3: the recipients of its directed presence learn it is gone).
func (m *Module) SessionUnavailable(ctx context.Context, s *router.Session) {
	m.SessionEnded(ctx, s)
}

// lookup returns an existing room, nil if none.
func (m *Module) lookup(room jid.JID) *room {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rooms[room.String()]
}

// lockRoom returns the room locked, nil if it does not exist. A room
// found gone (removed after lookup) is looked up again.
func (m *Module) lockRoom(room jid.JID) *room {
	for {
		rm := m.lookup(room)
		if rm == nil {
			return nil
		}
		rm.mu.Lock()
		if !rm.gone {
			return rm
		}
		rm.mu.Unlock()
	}
}

// lockOrCreate returns the room locked, creating it for creator, its
// owner (and reporting so), if it does not exist. Creating past max_rooms,
// or past the creator's max_rooms_per_account, fails with not-allowed
// (§10.1.1: room creation is restricted).
func (m *Module) lockOrCreate(room, creator jid.JID) (*room, bool, error) {
	for {
		if rm := m.lockRoom(room); rm != nil {
			return rm, false, nil
		}
		rm, err := m.create(room, creator.Bare())
		if err != nil {
			return nil, false, err
		}
		if rm != nil {
			return rm, true, nil
		}
		// Created by another meanwhile: enter that one.
	}
}

// create adds a new room owned by creator and returns it locked, or nil
// if a room of that name appeared meanwhile. Under createMu, so that the
// creator's count cannot be raced past max_rooms_per_account.
func (m *Module) create(room, creator jid.JID) (*room, error) {
	m.createMu.Lock()
	defer m.createMu.Unlock()
	held := 0
	for _, other := range m.roomList() {
		other.mu.Lock()
		if other.heldByCreator(creator) {
			held++
		}
		other.mu.Unlock()
	}
	if held >= m.cfg.MaxRoomsPerAccount {
		return nil, stanza.E(stanza.NotAllowed, "you may create no more rooms")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rooms[room.String()] != nil {
		return nil, nil
	}
	if len(m.rooms) >= m.cfg.MaxRooms {
		return nil, stanza.E(stanza.NotAllowed, "no more rooms may be created")
	}
	rm := newRoom(room, m.defaultConfig())
	rm.locked = true
	rm.creator = creator
	rm.setAffiliation(creator, affOwner)
	// Nobody else has it yet: locking it under m.mu cannot wait.
	rm.mu.Lock()
	m.rooms[room.String()] = rm
	return rm, nil
}

// removeLocked ends a room: its archive is purged and it leaves the
// table; rm.mu is held (room.mu before Module.mu, see doc.go). The purge
// comes first, while the room is still in the table: a user entering a
// new room of the same name waits on rm.mu until it is done, so the purge
// never takes the new room's messages.
func (m *Module) removeLocked(rm *room) {
	if m.archive != nil {
		if err := m.archive.PurgeRoom(context.Background(), rm.jid); err != nil {
			m.log.Error("muc: purging the archive of an ended room failed", "room", rm.jid.String(), "err", err)
		}
	}
	rm.gone = true
	m.mu.Lock()
	if m.rooms[rm.jid.String()] == rm {
		delete(m.rooms, rm.jid.String())
	}
	m.mu.Unlock()
}

func (m *Module) defaultConfig() roomConfig {
	return roomConfig{
		Public:        true,
		WhoisAnyone:   true,
		ChangeSubject: false,
		MaxUsers:      m.cfg.MaxOccupants,
		Archiving:     true,
	}
}

// occupantID returns the XEP-0421 occupant id of an account in a room.
func (m *Module) occupantID(room, bare jid.JID) string {
	mac := hmac.New(sha256.New, m.idKey)
	mac.Write([]byte(room.String()))
	mac.Write([]byte{0})
	mac.Write([]byte(bare.String()))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:18])
}

// joinedKey keys a session's joinedRooms.
type joinedKey struct{}

// joinedRooms is the rooms a session is in, for SessionEnded.
type joinedRooms struct {
	mu    sync.Mutex // leaf
	rooms map[jid.JID]bool
}

func joinedOf(s *router.Session) *joinedRooms {
	if j, ok := s.Value(joinedKey{}).(*joinedRooms); ok {
		return j
	}
	// A session bound before the module was registered (tests): it is
	// only ever called from that session's own goroutine then.
	j := &joinedRooms{rooms: make(map[jid.JID]bool)}
	s.SetValue(joinedKey{}, j)
	return j
}

func (j *joinedRooms) set(room jid.JID, in bool) {
	j.mu.Lock()
	if in {
		j.rooms[room] = true
	} else {
		delete(j.rooms, room)
	}
	j.mu.Unlock()
}

func (j *joinedRooms) list() []jid.JID {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]jid.JID, 0, len(j.rooms))
	for r := range j.rooms {
		out = append(out, r)
	}
	return out
}
