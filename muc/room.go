package muc

import (
	"sort"
	"sync"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
)

// Affiliations and roles (§5).
const (
	affOwner   = "owner"
	affAdmin   = "admin"
	affMember  = "member"
	affNone    = "none"
	affOutcast = "outcast"

	roleModerator   = "moderator"
	roleParticipant = "participant"
	roleVisitor     = "visitor"
	roleNone        = "none"
)

// affRank orders affiliations: a user may act only on lower ranks (§5.2).
var affRank = map[string]int{affOutcast: 0, affNone: 1, affMember: 2, affAdmin: 3, affOwner: 4}

// roomConfig is what the owner configures (§10.2).
type roomConfig struct {
	Name          string
	Description   string
	Persistent    bool
	Public        bool
	MembersOnly   bool
	Moderated     bool
	Password      string // non-empty: password-protected
	WhoisAnyone   bool   // non-anonymous: every occupant sees real JIDs
	ChangeSubject bool   // occupants (not only moderators) may set the subject
	MaxUsers      int
	Archiving     bool
	// Language and ContactJIDs are published in the room's disco#info
	// (muc#roominfo_lang, muc#roominfo_contactjid; roominfo.go).
	Language    string   `json:",omitempty"`
	ContactJIDs []string `json:",omitempty"`
}

// room is one chat room. Every field is guarded by mu (see doc.go).
type room struct {
	jid jid.JID // bare: room@service

	mu        sync.Mutex
	gone      bool    // destroyed or emptied and removed: look it up again
	locked    bool    // created, not yet configured (§10.1.1)
	stored    bool    // in the RoomStore
	creator   jid.JID // bare; the account that created it, zero if unknown
	cfg       roomConfig
	affs      map[string]string    // bare JID -> affiliation other than none
	nicks     map[string]string    // bare JID -> reserved nick (§7.10), members and up only
	occupants map[string]*occupant // nick -> occupant
	bySession map[jid.JID]*occupant
	history   []historyItem // oldest first, bounded by addHistory
	historyB  int           // the sizes of history's items together
	subject   string
	subjectBy string // nick that set the subject, "" for the room
	subjectID string // its XEP-0421 occupant id, "" if unknown (stored before)
	// vcard is the room's vCard (XEP-0486 avatar, avatar.go), nil if
	// none; avatarHashes the SHA-1 of each of its photos.
	vcard        *xml.Element
	avatarHashes []string
	// pending holds the iqs passed between occupants (forward.go), by
	// the room's id; pendingOrder their ids, oldest first (answered ones
	// are skipped when the oldest is dropped).
	pending      map[string]pendingIQ
	pendingOrder []string
	// invited holds the invitations the room sent and may pass a decline
	// of (invite.go), keyed by invitee and inviter; invitedOrder their
	// keys, oldest first, bounded by maxPendingInvites.
	invited      map[string]bool
	invitedOrder []string
	// inviteBuckets holds each account's invitation allowance by bare
	// JID, kept across its visits (invite.go).
	inviteBuckets map[string]*inviteBucket
}

// occupant is one nick in a room: one account, with one or more sessions
// (multi-session nicks).
type occupant struct {
	nick     string
	bare     jid.JID
	role     string
	sessions map[jid.JID]*xml.Element // full JID -> its last presence, as sent
	order    []jid.JID                // sessions in joining order
}

// maxHistoryBytes bounds the discussion history a room keeps in memory,
// beside its count (Config.HistoryMessages): at the stanza size limit
// (256 KiB by default) 50 messages in each of 1000 rooms would otherwise
// hold gigabytes, and one account may fill them all. The newest message
// always stays, so a room holds at most this plus one stanza.
const maxHistoryBytes = 256 << 10

// addHistory keeps it as the newest history item and drops the oldest
// while the room keeps more than maxMsgs items or maxHistoryBytes.
func (r *room) addHistory(it historyItem, maxMsgs int) {
	if maxMsgs <= 0 {
		return
	}
	r.history = append(r.history, it)
	r.historyB += it.size
	drop := 0
	for len(r.history)-drop > maxMsgs || (r.historyB > maxHistoryBytes && len(r.history)-drop > 1) {
		r.historyB -= r.history[drop].size
		drop++
	}
	if drop > 0 {
		r.history = append(r.history[:0], r.history[drop:]...)
	}
}

// historyItem is a broadcast groupchat message kept for newcomers.
type historyItem struct {
	msg   *xml.Element // as broadcast, without 'to'
	stamp time.Time
	size  int // characters of its XML, for maxchars
}

func newRoom(j jid.JID, cfg roomConfig) *room {
	return &room{
		jid:       j,
		cfg:       cfg,
		affs:      make(map[string]string),
		nicks:     make(map[string]string),
		occupants: make(map[string]*occupant),
		bySession: make(map[jid.JID]*occupant),
	}
}

// affiliation returns a user's affiliation.
func (r *room) affiliation(bare jid.JID) string {
	if a, ok := r.affs[bare.String()]; ok {
		return a
	}
	return affNone
}

// setAffiliation records a's affiliation; none removes it. Below member
// the user's reserved nick goes too (§9.1: a ban MUST remove it; a
// reservation is what registering as a member gave, register.go).
func (r *room) setAffiliation(bare jid.JID, a string) {
	if affRank[a] < affRank[affMember] {
		delete(r.nicks, bare.String())
	}
	if a == affNone {
		delete(r.affs, bare.String())
		return
	}
	r.affs[bare.String()] = a
}

// defaultRole is the role an affiliation gets on entering (§5.1.2).
func (r *room) defaultRole(aff string) string {
	switch aff {
	case affOwner, affAdmin:
		return roleModerator
	case affMember:
		return roleParticipant
	}
	if r.cfg.Moderated {
		return roleVisitor
	}
	return roleParticipant
}

// sortedOccupants returns the occupants ordered by nick, so that every
// listing and broadcast has a stable order.
func (r *room) sortedOccupants() []*occupant {
	out := make([]*occupant, 0, len(r.occupants))
	for _, o := range r.occupants {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].nick < out[j].nick })
	return out
}

// ownerCount counts the owners: the last one may not leave the room
// ownerless (§10.6).
func (r *room) ownerCount() int {
	n := 0
	for _, a := range r.affs {
		if a == affOwner {
			n++
		}
	}
	return n
}

// heldByCreator reports whether the room counts against account's
// max_rooms_per_account: it created the room and still owns it.
func (r *room) heldByCreator(account jid.JID) bool {
	return !r.gone && r.creator == account && r.affiliation(account) == affOwner
}

// occupantJID returns room@service/nick.
func (r *room) occupantJID(nick string) jid.JID {
	j, _ := r.jid.WithResource(nick)
	return j
}

// seesRealJID reports whether an occupant may learn the real JIDs of the
// others: every occupant in a non-anonymous room, only moderators in a
// semi-anonymous one (§7.2.4, §7.2.5). The presence sent to it and the
// vCards answered to it (forward.go) follow this one rule.
func (r *room) seesRealJID(viewer *occupant) bool {
	return r.cfg.WhoisAnyone || viewer.role == roleModerator
}
