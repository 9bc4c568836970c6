package muc

import (
	"sort"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// adminIQLocked serves the admin protocol (§8, §9): lists by affiliation
// or role (get) and role and affiliation changes (set): kick, voice,
// moderator, ban, member, admin, owner. A set is checked whole before
// anything changes.
func (m *Module) adminIQLocked(rm *room, o *occupant, iq *router.IQ) (*xml.Element, error) {
	items := iq.Payload.ChildrenNamed(NSAdmin, "item")
	if len(items) == 0 {
		return nil, stanza.E(stanza.BadRequest, "no item")
	}
	myAff := rm.affiliation(iq.From.Bare())
	myRole := roleNone
	if o != nil {
		myRole = o.role
	}
	if iq.Type() == stanza.TypeGet {
		return m.adminListLocked(rm, myAff, myRole, iq, items[0])
	}
	var changes []func()
	for _, it := range items {
		ch, err := m.checkChangeLocked(rm, myAff, myRole, iq.From, it)
		if err != nil {
			return nil, err
		}
		changes = append(changes, ch)
	}
	if !keepsAnOwner(rm, items) {
		// Each item alone leaves an owner; together they would not.
		return nil, stanza.E(stanza.ConflictCond, "the room would have no owner") // §10.6
	}
	if n := affiliationsAfter(rm, items); n > len(rm.affs) && n > m.cfg.MaxAffiliations {
		return nil, stanza.E(stanza.PolicyViolation, "the room's affiliation lists are full")
	}
	for _, ch := range changes {
		ch()
	}
	m.persistLocked(rm)
	m.emptiedLocked(rm)
	return stanza.Result(iq.Stanza), nil
}

// adminListLocked answers a list request (§9.5 member list, §9.8 ban
// list, §8.5 voice list, §9.10 moderator list, §10.5 owner list).
func (m *Module) adminListLocked(rm *room, myAff, myRole string, iq *router.IQ, it *xml.Element) (*xml.Element, error) {
	q := xml.New(NSAdmin, "query")
	if aff := it.Attr("affiliation"); aff != "" {
		if _, ok := affRank[aff]; !ok || aff == affNone {
			return nil, stanza.E(stanza.BadRequest, "bad affiliation")
		}
		if affRank[myAff] < affRank[affAdmin] && !membersSeeMembers(rm, myAff, aff) {
			return nil, stanza.E(stanza.Forbidden, "")
		}
		var jids []string
		for j, a := range rm.affs {
			if a == aff {
				jids = append(jids, j)
			}
		}
		sort.Strings(jids)
		for _, j := range jids {
			it := xml.New(NSAdmin, "item", "affiliation", aff, "jid", j)
			if n := rm.nicks[j]; n != "" {
				it.SetAttr("nick", n) // §17.4: the reserved nick
			}
			q.Append(it)
		}
		return stanza.Result(iq.Stanza).Append(q), nil
	}
	role := it.Attr("role")
	if role != roleModerator && role != roleParticipant && role != roleVisitor {
		return nil, stanza.E(stanza.BadRequest, "bad role")
	}
	if myRole != roleModerator {
		return nil, stanza.E(stanza.Forbidden, "")
	}
	for _, o := range rm.sortedOccupants() {
		if o.role == role {
			// §17.4: the full JID (its latest session's).
			q.Append(xml.New(NSAdmin, "item", "affiliation", rm.affiliation(o.bare), "role", role, "nick", o.nick, "jid", o.order[len(o.order)-1].String()))
		}
	}
	return stanza.Result(iq.Stanza).Append(q), nil
}

// membersSeeMembers reports whether a member may read an affiliation
// list: in a members-only, non-anonymous room, members see who the
// members, admins and owners are (not the ban list), as §9.5 allows
// (muc#roomconfig_getmemberlist). Clients encrypting for a private group
// (OMEMO in Conversations) fetch these lists to learn every member's JID.
func membersSeeMembers(rm *room, myAff, list string) bool {
	return rm.cfg.MembersOnly && rm.cfg.WhoisAnyone && affRank[myAff] >= affRank[affMember] && list != affOutcast
}

// checkChangeLocked checks one item of an admin set and returns the
// change to make.
func (m *Module) checkChangeLocked(rm *room, myAff, myRole string, actor jid.JID, it *xml.Element) (func(), error) {
	reason := it.Child(NSAdmin, "reason")
	if it.Attr("role") != "" && it.Attr("affiliation") != "" {
		return nil, stanza.E(stanza.BadRequest, "an item changes a role or an affiliation, not both") // §17.4
	}
	if role := it.Attr("role"); role != "" {
		// Role changes (§8.2 kick, §8.3-8.4 voice, §9.6-9.7 moderator).
		target := rm.occupants[it.Attr("nick")]
		switch {
		case myRole != roleModerator:
			return nil, stanza.E(stanza.Forbidden, "only moderators change roles")
		case target == nil:
			return nil, stanza.E(stanza.ItemNotFound, "no such occupant")
		case role != roleNone && role != roleVisitor && role != roleParticipant && role != roleModerator:
			return nil, stanza.E(stanza.BadRequest, "bad role")
		case affRank[rm.affiliation(target.bare)] >= affRank[affAdmin] && affRank[rm.affiliation(target.bare)] >= affRank[myAff]:
			// §8.2, §8.4: not on admins and owners (but an owner on an admin).
			return nil, stanza.E(stanza.NotAllowed, "")
		case role == roleVisitor && affRank[rm.affiliation(target.bare)] >= affRank[affAdmin]:
			return nil, stanza.E(stanza.NotAllowed, "an admin's or owner's voice is not revoked") // §8.4: by anyone
		case (role == roleModerator || target.role == roleModerator) && affRank[myAff] < affRank[affAdmin]:
			return nil, stanza.E(stanza.NotAllowed, "only admins grant or revoke moderation") // §9.6
		}
		return func() {
			if rm.occupants[target.nick] != target {
				return // gone meanwhile (an earlier item of the same set)
			}
			if role == roleNone {
				m.removeOccupantLocked(rm, target, []string{statusKicked}, actorElement(actor, rm), reasonElement(reason))
				return
			}
			target.role = role
			m.broadcastPresence(rm, target, nil)
		}, nil
	}
	aff := it.Attr("affiliation")
	if _, ok := affRank[aff]; !ok {
		return nil, stanza.E(stanza.BadRequest, "bad affiliation")
	}
	target, ok := affiliationTarget(rm, it)
	if !ok {
		return nil, stanza.E(stanza.BadRequest, "bad jid")
	}
	cur := rm.affiliation(target)
	switch {
	case affRank[myAff] < affRank[affAdmin]:
		return nil, stanza.E(stanza.Forbidden, "only admins change affiliations")
	case aff == affOutcast && target == actor.Bare():
		return nil, stanza.E(stanza.ConflictCond, "you cannot ban yourself") // §9.1
	case myAff != affOwner && (affRank[cur] >= affRank[affAdmin] || affRank[aff] >= affRank[affAdmin]):
		return nil, stanza.E(stanza.NotAllowed, "only owners change admins and owners") // §9.1, §10.3
	case cur == affOwner && aff != affOwner && rm.ownerCount() == 1:
		return nil, stanza.E(stanza.ConflictCond, "the room would have no owner") // §10.6
	}
	nick, setNick, err := reservationItem(rm, target, aff, it)
	if err != nil {
		return nil, err
	}
	return func() {
		rm.setAffiliation(target, aff)
		if setNick {
			setReservation(rm, target, nick)
		}
		present := false
		for _, o := range rm.sortedOccupants() {
			if o.bare != target {
				continue
			}
			present = true
			switch {
			case aff == affOutcast:
				m.removeOccupantLocked(rm, o, []string{statusBanned}, actorElement(actor, rm), reasonElement(reason)) // §9.1
			case rm.cfg.MembersOnly && affRank[aff] < affRank[affMember]:
				m.removeOccupantLocked(rm, o, []string{statusAffChange}, actorElement(actor, rm), reasonElement(reason)) // §9.4
			default:
				o.role = rm.defaultRole(aff)
				m.broadcastPresence(rm, o, nil)
			}
		}
		if !present {
			m.announceAffiliationLocked(rm, target, aff)
		}
	}, nil
}

// affiliationTarget returns the bare JID an affiliation item names: by
// jid, or by an occupant's nick (§9.1 examples).
func affiliationTarget(rm *room, it *xml.Element) (jid.JID, bool) {
	target, err := jid.Parse(it.Attr("jid"))
	if err != nil {
		o := rm.occupants[it.Attr("nick")]
		if o == nil || it.Attr("jid") != "" {
			return jid.JID{}, false
		}
		target = o.bare
	}
	return target.Bare(), true
}

// keepsAnOwner reports whether the room still has an owner once every
// affiliation item of a checked admin set is applied (§10.6: the last
// owner may not go, also when a set names several).
func keepsAnOwner(rm *room, items []*xml.Element) bool {
	owners := make(map[jid.JID]bool)
	for j, a := range rm.affs {
		if a == affOwner {
			b, err := jid.Parse(j)
			if err != nil {
				continue
			}
			owners[b] = true
		}
	}
	if len(owners) == 0 {
		return true // nothing to keep (checked items made none either)
	}
	for _, it := range items {
		aff := it.Attr("affiliation")
		if aff == "" || it.Attr("role") != "" {
			continue
		}
		if target, ok := affiliationTarget(rm, it); ok {
			owners[target] = aff == affOwner
		}
	}
	for _, own := range owners {
		if own {
			return true
		}
	}
	return false
}

// affiliationsAfter counts the room's affiliations once every
// affiliation item of a checked admin set is applied ([muc]
// max_affiliations).
func affiliationsAfter(rm *room, items []*xml.Element) int {
	changed := make(map[string]bool) // bare JID -> has an affiliation after
	for _, it := range items {
		aff := it.Attr("affiliation")
		if aff == "" || it.Attr("role") != "" {
			continue
		}
		if target, ok := affiliationTarget(rm, it); ok {
			changed[target.String()] = aff != affNone
		}
	}
	n := len(rm.affs)
	for j, has := range changed {
		_, had := rm.affs[j]
		switch {
		case has && !had:
			n++
		case !has && had:
			n--
		}
	}
	return n
}

// announceAffiliationLocked tells the occupants who may see real JIDs of
// an affiliation change of a user not in the room (§9.3-9.4 for members:
// a message from the room with the item), so that clients keep their
// member lists, which OMEMO group chats encrypt for, current.
func (m *Module) announceAffiliationLocked(rm *room, target jid.JID, aff string) {
	x := xml.New(NSUser, "x").Append(xml.New(NSUser, "item", "affiliation", aff, "jid", target.String()))
	for _, v := range rm.sortedOccupants() {
		if !rm.cfg.WhoisAnyone && v.role != roleModerator {
			continue
		}
		for _, sj := range v.order {
			m.send(sj, xml.New(nsClient, "message", "from", rm.jid.String()).Append(x.Clone()))
		}
	}
}

// actorElement names who acted (§8.2): by nick in the room, else by JID,
// but only where every occupant may see real JIDs: in a semi-anonymous
// room an admin who is not in it stays unnamed (every occupant gets the
// same item), or the room would show a real JID to non-moderators (§4.1).
func actorElement(actor jid.JID, rm *room) *xml.Element {
	if o := rm.bySession[actor]; o != nil {
		return xml.New(NSUser, "actor", "nick", o.nick)
	}
	if !rm.cfg.WhoisAnyone {
		return nil
	}
	return xml.New(NSUser, "actor", "jid", actor.Bare().String())
}

func reasonElement(r *xml.Element) *xml.Element {
	if r == nil {
		return nil
	}
	return xml.New(NSUser, "reason").AppendText(r.Text())
}
