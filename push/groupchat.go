package push

import (
	"context"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

const (
	nsMUCUser   = "http://jabber.org/protocol/muc#user"
	nsDelay     = "urn:xmpp:delay"
	nsReference = "urn:xmpp:reference:0"
)

// GroupchatQueued implements router.GroupchatObserver: a room on this
// server queued a message to dormant sessions (doc.go, "Group chats").
func (m *Module) GroupchatQueued(ctx context.Context, msg *xml.Element, to []router.GroupchatRecipient) {
	rm := newRoomMessage(msg)
	if !rm.worth {
		return
	}
	for _, rc := range to {
		m.groupchat(ctx, rm, rc.Session, rc.Nick, rc.Own)
	}
}

// remoteGroupchat handles a groupchat message delivered to local
// sessions (a room on another server sends to its occupants' full JIDs):
// the recipient's nick is the one the room's self-presence named, and a
// message from the nick of any of the account's sessions is its own.
func (m *Module) remoteGroupchat(ctx context.Context, ev *router.MessageEvent, to []*router.Session) {
	dormant := false
	for _, s := range to {
		dormant = dormant || s.Dormant()
	}
	if !dormant {
		return // the usual case, and the cheap one: the clients have it
	}
	rm := newRoomMessage(ev.Stanza)
	if !rm.worth {
		return
	}
	room := ev.From.Bare()
	own := false
	for _, s := range m.r.Sessions(ev.To.Bare().String()) {
		if nick, ok := m.rooms.nick(s, room); ok && nick == ev.From.Resource() {
			own = true
		}
	}
	for _, s := range to {
		nick, _ := m.rooms.nick(s, room)
		m.groupchat(ctx, rm, s, nick, own)
	}
}

// roomMessage is a room message considered for its dormant recipients:
// what does not depend on the recipient is worked out once, however
// many of them a busy room has.
type roomMessage struct {
	msg *xml.Element
	// worth: a message with a body that is neither a subject change nor
	// discussion history (a delay from the room: sent on entering,
	// XEP-0045 §7.2.15); who it mentions is the recipient's question
	worth bool
	room  string // the room's bare JID
	text  string // the body
	key   string // mentionKey(text), once asked for
}

func newRoomMessage(msg *xml.Element) *roomMessage {
	rm := &roomMessage{msg: msg}
	// a room message is no carbon copy: the account is not needed
	if !worthPush(msg, "") {
		return rm // errors, subject changes, metadata only
	}
	rm.text = body(msg)
	if rm.text == "" {
		return rm // encrypted without a fallback body, or a call
	}
	from, err := jid.Parse(msg.Attr("from"))
	if err != nil {
		return rm
	}
	rm.room = from.Bare().String()
	for _, d := range msg.ChildrenNamed(nsDelay, "delay") {
		// compared as JIDs: the room's server need not write its JID in
		// the form the router prepared the message's 'from' in
		if by, err := jid.Parse(d.Attr("from")); err == nil && by.String() == rm.room {
			return rm
		}
	}
	rm.worth = true
	return rm
}

// bodyKey is the body's mentionKey, computed for the first recipient
// that asks (the calls for one message are on one goroutine).
func (rm *roomMessage) bodyKey() string {
	if rm.key == "" {
		rm.key = mentionKey(rm.text)
	}
	return rm.key
}

// groupchat pushes for room message rm queued to session s, whose nick
// in the room is nick (own: the account sent it), when s is dormant and
// the message is worth it: to the registrations s's client enabled.
func (m *Module) groupchat(ctx context.Context, rm *roomMessage, s *router.Session, nick string, own bool) {
	if own || !s.Dormant() {
		return
	}
	account := s.JID().Bare().String()
	regs, err := m.registrations(ctx, account)
	if err != nil {
		m.log.Error("push registrations unreadable", "account", account, "err", err)
		return
	}
	var mine []*registration
	for _, reg := range regs {
		if reg.Resource == s.JID().Resource() {
			mine = append(mine, reg)
		}
	}
	if len(mine) == 0 {
		return
	}
	mode, err := m.groupchatMode(ctx, account)
	if err != nil {
		m.log.Error("push settings unreadable", "account", account, "err", err)
	}
	if !groupchatWorth(rm, account, nick, mode) {
		return
	}
	sender, text := summary(rm.msg, account)
	for _, reg := range mine {
		m.notify(account, reg, 1, sender, text)
	}
}

// groupchatWorth reports whether room message rm to account, whose nick
// in the room is nick ("" if unknown), is worth a push under mode (a
// Groupchat value): one worth it at all (roomMessage.worth), and, unless
// every room message pushes, one that mentions the account.
func groupchatWorth(rm *roomMessage, account, nick, mode string) bool {
	switch {
	case mode == GroupchatNone || !rm.worth:
		return false
	case mode == GroupchatAll:
		return true
	}
	return mentions(rm, account, nick)
}

// mentions reports whether room message rm names the account: its nick
// in the room or its bare JID as a word of the body, compared as RFC 8266
// compares nicks (mentionKey: clients complete nicks in any case, and a
// nick with spaces may be typed with others), or an XEP-0372 mention
// reference to either.
func mentions(rm *roomMessage, account, nick string) bool {
	for _, r := range rm.msg.ChildrenNamed(nsReference, "reference") {
		if r.Attr("type") != "mention" {
			continue
		}
		if uri := r.Attr("uri"); uri == "xmpp:"+account || (nick != "" && uri == "xmpp:"+rm.room+"/"+nick) {
			return true
		}
	}
	key := rm.bodyKey()
	return containsWord(key, mentionKey(account)) || (nick != "" && containsWord(key, mentionKey(nick)))
}

// mentionKey maps s as the PRECIS Nickname profile (RFC 8266 §2.2)
// prepares a nick for comparison, so that a nick is found in a body
// whichever form either is written in: compatibility (width) and
// canonical normalisation (NFKC), case folded (which also folds a Greek
// final sigma, as a nick typed in capitals has none), every space
// character a single ASCII space. A body is not a nick, so where the
// profile would refuse a character this keeps it.
func mentionKey(s string) string {
	s = norm.NFKC.String(cases.Fold().String(norm.NFKC.String(s)))
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.Is(unicode.Zs, r) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// containsWord reports whether w occurs in s with no letter or digit
// right before or after it: "Jules," mentions Jules, "Julesville" does
// not.
func containsWord(s, w string) bool {
	if w == "" {
		return false
	}
	for i := 0; i <= len(s)-len(w); {
		k := strings.Index(s[i:], w)
		if k < 0 {
			return false
		}
		start, end := i+k, i+k+len(w)
		before, _ := utf8.DecodeLastRuneInString(s[:start])
		after, _ := utf8.DecodeRuneInString(s[end:])
		if !wordRune(before) && !wordRune(after) {
			return true
		}
		_, size := utf8.DecodeRuneInString(s[start:])
		i = start + size
	}
	return false
}

// wordRune: letters and digits, and combining marks (a nick followed by
// one is part of another word: "Jose" and "José" decomposed).
func wordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r))
}

// maxTrackedRooms bounds the rooms on other servers whose nick is kept
// per session: a remote server's self-presences must not grow it without
// end.
const maxTrackedRooms = 1000

// roomNicks keeps the nick each local session holds in rooms on other
// servers, from the rooms' self-presence (XEP-0045 §7.2.2, status 110):
// for mentions, and to tell the account's own messages when the room
// reflects them. Rooms on this server tell the nick themselves
// (router.GroupchatRecipient).
type roomNicks struct {
	mu sync.Mutex // leaf
	m  map[*router.Session]map[jid.JID]string
}

func (r *roomNicks) nick(s *router.Session, room jid.JID) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.m[s][room]
	return n, ok
}

func (r *roomNicks) set(s *router.Session, room jid.JID, nick string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[*router.Session]map[jid.JID]string)
	}
	rooms := r.m[s]
	if rooms == nil {
		rooms = make(map[jid.JID]string)
		r.m[s] = rooms
	}
	if _, ok := rooms[room]; ok || len(rooms) < maxTrackedRooms {
		rooms[room] = nick
	}
}

func (r *roomNicks) forget(s *router.Session, room jid.JID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if room.IsZero() {
		delete(r.m, s)
		return
	}
	delete(r.m[s], room)
	if len(r.m[s]) == 0 {
		delete(r.m, s)
	}
}

// RemotePresence implements router.RemotePresenceObserver: a room on
// another server's self-presence to a local session (status 110) names
// the session's nick there, as does the unavailable one of a nick change
// (303: its item names the new nick). Its other unavailable
// self-presences (leaving, kicked, 307, banned, 301), an unavailable presence
// from the session's own nick with or without status 110 (a destroyed
// room, §10.9, whose example has none; nicks are unique in a room), or a
// presence error from the room ends it, except the errors that deny a
// nick change (§7.6: conflict, not-acceptable), which leave the
// occupant in the room with its nick.
func (m *Module) RemotePresence(_ context.Context, p *xml.Element, from, to jid.JID) {
	if !to.IsFull() || !from.IsFull() {
		return
	}
	s := m.r.Session(to)
	if s == nil {
		return
	}
	room := from.Bare()
	switch p.Attr("type") {
	case "error":
		if e := p.Child(stanza.NSClient, "error"); e != nil &&
			(e.Child(stanza.NSStanzas, "conflict") != nil || e.Child(stanza.NSStanzas, "not-acceptable") != nil) {
			return
		}
		m.rooms.forget(s, room)
		return
	case "", "unavailable":
	default:
		return
	}
	x := p.Child(nsMUCUser, "x")
	self, renamed := false, false
	for _, st := range x.ChildrenNamed(nsMUCUser, "status") {
		self = self || st.Attr("code") == "110"
		renamed = renamed || st.Attr("code") == "303"
	}
	if p.Attr("type") == "unavailable" {
		if self && renamed {
			// a nick change (§7.6): the item names the new nick, which
			// the self-presence that follows names again
			if occ, err := room.WithResource(x.Child(nsMUCUser, "item").Attr("nick")); err == nil && occ.IsFull() {
				m.trackNick(s, room, occ.Resource())
				return
			}
		}
		if nick, ok := m.rooms.nick(s, room); self || (ok && nick == from.Resource()) {
			m.rooms.forget(s, room)
		}
		return
	}
	if self {
		m.trackNick(s, room, from.Resource())
	}
}

// trackNick records s's nick in a remote room. The session may have
// ended since RemotePresence found it, and SessionEnded forgotten its
// rooms before this: a session no longer bound keeps nothing.
func (m *Module) trackNick(s *router.Session, room jid.JID, nick string) {
	m.rooms.set(s, room, nick)
	if m.r.Session(s.JID()) != s {
		m.rooms.forget(s, jid.JID{})
	}
}

// SessionBound implements router.SessionObserver.
func (*Module) SessionBound(context.Context, *router.Session) {}

// SessionEnded implements router.SessionObserver: the session's rooms
// are forgotten.
func (m *Module) SessionEnded(_ context.Context, s *router.Session) {
	m.rooms.forget(s, jid.JID{})
}
