package muc

import (
	"unicode"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

const (
	nsRegister   = "jabber:iq:register"
	formRegister = "http://jabber.org/protocol/muc#register"
	// nodeRoomUser is the disco node a user asks for its reserved nick
	// (§7.12).
	nodeRoomUser = "x-roomuser-item"
)

// Registering with a room (§7.10): a user without an affiliation who
// submits the muc#register form with a nick becomes a member at once
// (no approval flow, §9.9 is not implemented) and has the nick reserved:
// nobody else enters under it or changes to it (§7.2.8, §7.6, conflict),
// and the user learns it from the x-roomuser-item node (§7.12). A
// members-only room takes no registrations from non-members: that would
// let anyone make themselves a member of it; its members, admins and
// owners may register a nick. Nor does a moderated room from a visitor or
// a non-occupant: membership brings voice. Cancelling (XEP-0077 <remove/>) makes a
// member unaffiliated again; an admin or owner only loses the nick (its
// affiliation is not the registration's to take). An admin can set or
// clear a reservation too, with the nick attribute of a member list item
// (§9.5). A reservation lives as long as the affiliation of member or
// higher (room.setAffiliation), so a ban removes it (§9.1). A remote
// user registers only while its domain has fewer members in the room than
// max_remote_occupants_per_domain (policy-violation): a remote server
// could otherwise name users until the room's affiliation lists
// (max_affiliations) are full and its nicks reserved; an admin still
// makes anyone a member.

// reservedBy returns the bare JID that reserved nick, "" if nobody did.
func (r *room) reservedBy(nick string) string {
	for bare, n := range r.nicks {
		if n == nick {
			return bare
		}
	}
	return ""
}

// nickReservedFor reports whether nick is reserved by someone other than
// bare.
func (r *room) nickReservedFor(nick string, bare jid.JID) bool {
	by := r.reservedBy(nick)
	return by != "" && by != bare.String()
}

// loadNicks takes the reservations read back from the store, keeping
// those of users who are still members or higher.
func (r *room) loadNicks(nicks map[string]string) {
	for bare, nick := range nicks {
		if affRank[r.affs[bare]] >= affRank[affMember] && nick != "" {
			r.nicks[bare] = nick
		}
	}
}

// registerIQLocked serves jabber:iq:register on a room (§7.10).
func (m *Module) registerIQLocked(rm *room, o *occupant, iq *router.IQ) (*xml.Element, error) {
	bare := iq.From.Bare()
	aff := rm.affiliation(bare)
	member := affRank[aff] >= affRank[affMember]
	if aff == affOutcast || (rm.cfg.MembersOnly && !member) {
		return nil, stanza.E(stanza.NotAllowed, "you may not register with this room")
	}
	if rm.cfg.Moderated && !member && (o == nil || o.role == roleVisitor) {
		// Members have voice (§5.1.2): registering must not be a way
		// around moderation. A participant, who has voice, may
		// (§7.10: "in a moderated room, normally a participant").
		return nil, stanza.E(stanza.NotAllowed, "only occupants with voice may register with a moderated room")
	}
	q := xml.New(nsRegister, "query")
	if iq.Type() == stanza.TypeGet {
		nick := rm.nicks[bare.String()]
		if member {
			q.Append(xml.New(nsRegister, "registered"))
			if nick != "" {
				q.Append(xml.New(nsRegister, "username").AppendText(nick))
			}
		}
		q.Append(registrationForm(rm, nick))
		return stanza.Result(iq.Stanza).Append(q), nil
	}
	if iq.Payload.Child(nsRegister, "remove") != nil {
		// XEP-0077 §3.2: <remove/> alone, from someone registered.
		switch {
		case len(iq.Payload.Elements()) != 1:
			return nil, stanza.E(stanza.BadRequest, "<remove/> must be alone")
		case !member:
			return nil, stanza.E(stanza.RegistrationRequired, "you are not registered with this room")
		}
		m.unregisterLocked(rm, bare)
		return stanza.Result(iq.Stanza), nil
	}
	nick, err := m.submittedNick(iq.Payload)
	if err != nil {
		return nil, err
	}
	if rm.nickReservedFor(nick, bare) {
		return nil, stanza.E(stanza.ConflictCond, "that nickname is reserved") // §7.10
	}
	if other := rm.occupants[nick]; other != nil && other.bare != bare {
		return nil, stanza.E(stanza.ConflictCond, "that nickname is in use")
	}
	if !member && len(rm.affs) >= m.cfg.MaxAffiliations {
		return nil, stanza.E(stanza.PolicyViolation, "the room's affiliation lists are full")
	}
	if !member && m.isRemote(bare) && rm.membersOf(bare.Domain()) >= m.cfg.MaxRemoteOccupantsPerDomain {
		// A remote server names as many users as it likes: registered,
		// they would fill the room's lists and reserve its nicks.
		return nil, stanza.E(stanza.PolicyViolation, "too many members of your server are registered here")
	}
	if !member {
		rm.setAffiliation(bare, affMember)
	}
	rm.nicks[bare.String()] = nick
	m.persistLocked(rm)
	if !member {
		// §7.10: occupants see the new member's affiliation.
		for _, v := range rm.sortedOccupants() {
			if v.bare == bare {
				m.broadcastPresence(rm, v, nil)
			}
		}
	}
	return stanza.Result(iq.Stanza), nil
}

// membersOf counts the room's members, admins and owners on domain.
func (r *room) membersOf(domain string) int {
	n := 0
	for bare, a := range r.affs {
		if affRank[a] >= affRank[affMember] {
			if j, err := jid.Parse(bare); err == nil && j.Domain() == domain {
				n++
			}
		}
	}
	return n
}

// submittedNick reads the nick of a registration: the muc#register form's
// muc#register_roomnick, or XEP-0077's plain <username/>.
func (m *Module) submittedNick(q *xml.Element) (string, error) {
	var nick string
	if x := q.Child(nsData, "x"); x != nil {
		if x.Attr("type") != "submit" {
			return "", stanza.E(stanza.BadRequest, "expected a submitted data form")
		}
		if ft := fieldValue(x, "FORM_TYPE"); ft != "" && ft != formRegister {
			return "", stanza.E(stanza.BadRequest, "wrong FORM_TYPE")
		}
		nick = fieldValue(x, "muc#register_roomnick")
	} else {
		nick = q.ChildText(nsRegister, "username")
	}
	switch {
	case invisibleNick(nick):
		return "", stanza.E(stanza.BadRequest, "a nickname is required") // §7.10: no valid form; §17.1
	case len(nick) > m.cfg.MaxNickLength:
		return "", stanza.E(stanza.NotAcceptable, "nickname too long")
	}
	// Normalised as the resource of an occupant JID is, so that it
	// compares with the nicks of entering users.
	j, err := jid.New("room", "example.org", nick)
	if err != nil {
		return "", stanza.E(stanza.JIDMalformed, "not a valid nickname") // §17.1: Resourceprep
	}
	return j.Resource(), nil
}

// unregisterLocked cancels a registration: a member becomes unaffiliated
// (and leaves a members-only room, 321, §9.4); an admin or owner keeps
// its affiliation and loses only the reserved nick.
func (m *Module) unregisterLocked(rm *room, bare jid.JID) {
	delete(rm.nicks, bare.String())
	if rm.affiliation(bare) == affMember {
		rm.setAffiliation(bare, affNone)
		for _, v := range rm.sortedOccupants() {
			if v.bare != bare {
				continue
			}
			if rm.cfg.MembersOnly {
				m.removeOccupantLocked(rm, v, []string{statusAffChange})
			} else {
				m.broadcastPresence(rm, v, nil)
			}
		}
	}
	m.persistLocked(rm)
	m.emptiedLocked(rm)
}

// registrationForm is the muc#register form (§7.10, §16.5.1), with the
// current reservation as the nick's value.
func registrationForm(rm *room, nick string) *xml.Element {
	x := xml.New(nsData, "x", "type", "form")
	x.Append(xml.New(nsData, "title").AppendText("Registration with " + rm.jid.String()))
	x.Append(xml.New(nsData, "instructions").AppendText("Choose the nickname to reserve in this room; registering makes you a member."))
	x.Append(xml.New(nsData, "field", "var", "FORM_TYPE", "type", "hidden").
		Append(xml.New(nsData, "value").AppendText(formRegister)))
	f := xml.New(nsData, "field", "var", "muc#register_roomnick", "type", "text-single", "label", "Desired Nickname")
	f.Append(xml.New(nsData, "required"))
	if nick != "" {
		f.Append(xml.New(nsData, "value").AppendText(nick))
	}
	return x.Append(f)
}

// reservedNickInfo answers disco#info on the x-roomuser-item node (§7.12):
// the asker's reserved nick as an identity's name, an empty query if it
// has none.
func reservedNickInfo(rm *room, bare jid.JID) *xml.Element {
	q := xml.New(nsDiscoInfo, "query", "node", nodeRoomUser)
	if nick := rm.nicks[bare.String()]; nick != "" {
		q.Append(xml.New(nsDiscoInfo, "identity", "category", "conference", "type", "text", "name", nick))
	}
	return q
}

// reservationItem reads the reservation an admin's affiliation item sets
// (§9.3, §9.5: nick on a member item reserves it, an empty nick clears
// it): whether it sets one, and which. An item naming its user by nick
// alone (affiliationTarget) sets none. A nick reserved by another is a
// conflict.
func reservationItem(rm *room, target jid.JID, aff string, it *xml.Element) (string, bool, error) {
	nick := it.Attr("nick")
	if !it.HasAttr("nick") || it.Attr("jid") == "" || affRank[aff] < affRank[affMember] {
		return "", false, nil
	}
	if nick != "" {
		j, err := jid.New("room", "example.org", nick)
		if err != nil {
			return "", false, stanza.E(stanza.JIDMalformed, "not a valid nickname")
		}
		nick = j.Resource()
		if rm.nickReservedFor(nick, target) {
			return "", false, stanza.E(stanza.ConflictCond, "that nickname is reserved")
		}
	}
	return nick, true, nil
}

func setReservation(rm *room, target jid.JID, nick string) {
	if nick == "" {
		delete(rm.nicks, target.String())
		return
	}
	rm.nicks[target.String()] = nick
}

// invisibleNick reports whether a nick shows nothing: only spaces and
// invisible format characters (zero-width space, joiners, direction
// marks). §17.1: a service MUST NOT allow empty or invisible nicks.
func invisibleNick(nick string) bool {
	for _, r := range nick {
		if !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}
