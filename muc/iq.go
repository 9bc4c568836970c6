package muc

import (
	"context"
	"sort"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/mam"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

// handleIQ answers an iq to the service, a room or an occupant: exactly
// one reply for a get or set (a returned error is that reply); results and
// errors are dropped, the service asks nothing.
func (m *Module) handleIQ(ctx context.Context, s *router.Session, st *xml.Element, to jid.JID) error {
	typ := st.Attr("type")
	switch typ {
	case stanza.TypeGet, stanza.TypeSet:
	case stanza.TypeResult, stanza.TypeError:
		if to.IsFull() {
			m.forwardResponse(s, st, to)
		}
		return nil // the service itself asks nothing
	default:
		return stanza.E(stanza.BadRequest, "bad iq type")
	}
	if st.Attr("id") == "" {
		return stanza.E(stanza.BadRequest, "iq without id")
	}
	payloads := st.Elements()
	if len(payloads) != 1 {
		return stanza.E(stanza.BadRequest, "iq get/set must have exactly one child")
	}
	iq := &router.IQ{Stanza: st, Payload: payloads[0], From: s.JID(), To: to, Session: s}
	var reply *xml.Element
	var err error
	switch {
	case to.Local() == "":
		reply, err = m.serviceIQ(iq)
	case to.IsFull():
		reply, err = m.occupantIQ(ctx, iq)
		if err == nil && reply == nil {
			return nil // passed on: the target's answer comes back through forwardResponse
		}
	default:
		reply, err = m.roomIQ(ctx, iq)
	}
	if err != nil {
		return err
	}
	if reply == nil {
		return stanza.E(stanza.InternalServerError, "") // never: one reply per iq
	}
	reply.SetAttr("id", st.Attr("id"))
	reply.SetAttr("from", to.String())
	m.send(s.JID(), reply)
	return nil
}

// serviceIQ answers iqs to the service domain: disco (§6.1, §6.3) and
// ping.
func (m *Module) serviceIQ(iq *router.IQ) (*xml.Element, error) {
	p := iq.Payload
	switch {
	case iq.Type() == stanza.TypeGet && p.Is(nsDiscoInfo, "query"):
		if p.Attr("node") != "" {
			return nil, stanza.E(stanza.ItemNotFound, "")
		}
		q := xml.New(nsDiscoInfo, "query")
		q.Append(xml.New(nsDiscoInfo, "identity", "category", "conference", "type", "text", "name", "Chatrooms"))
		for _, f := range []string{nsDiscoInfo, nsDiscoItems, NS, nsPing, nsOccupantID, nsStableID, nsSelfPingOpt, nsVCard} {
			q.Append(xml.New(nsDiscoInfo, "feature", "var", f))
		}
		return stanza.Result(iq.Stanza).Append(q), nil
	case iq.Type() == stanza.TypeGet && p.Is(nsDiscoItems, "query"):
		if p.Attr("node") != "" {
			return nil, stanza.E(stanza.ItemNotFound, "")
		}
		return stanza.Result(iq.Stanza).Append(m.publicRooms(iq.To.Domain())), nil
	case iq.Type() == stanza.TypeGet && p.Is(nsPing, "ping"):
		return stanza.Result(iq.Stanza), nil
	}
	return nil, stanza.E(stanza.ServiceUnavailable, "")
}

// publicRooms lists the public, configured rooms of a service (§6.3).
func (m *Module) publicRooms(service string) *xml.Element {
	q := xml.New(nsDiscoItems, "query")
	var items []*xml.Element
	for _, rm := range m.roomList() {
		rm.mu.Lock()
		if rm.jid.Domain() == service && !rm.gone && !rm.locked && rm.cfg.Public {
			it := xml.New(nsDiscoItems, "item", "jid", rm.jid.String())
			it.SetAttr("name", rm.cfg.Name)
			items = append(items, it)
		}
		rm.mu.Unlock()
	}
	sortByJID(items)
	for _, it := range items {
		q.Append(it)
	}
	return q
}

// roomIQ answers iqs to a room: disco, ping, the room's archive, and the
// admin and owner protocols.
func (m *Module) roomIQ(ctx context.Context, iq *router.IQ) (*xml.Element, error) {
	p := iq.Payload
	rm := m.lockRoom(iq.To.Bare())
	if rm == nil {
		return nil, stanza.E(stanza.ItemNotFound, "no such room")
	}
	locked := true
	defer func() {
		if locked {
			rm.mu.Unlock()
		}
	}()
	if rm.locked && rm.affiliation(iq.From.Bare()) != affOwner {
		// A room being created does not exist yet for anyone but its
		// owner, as for entering it (§10.1.1).
		return nil, stanza.E(stanza.ItemNotFound, "no such room")
	}
	o := rm.bySession[iq.From]
	get := iq.Type() == stanza.TypeGet
	switch {
	case get && p.Is(nsDiscoInfo, "query"):
		switch p.Attr("node") {
		case "":
			return stanza.Result(iq.Stanza).Append(m.roomInfo(rm, iq.From)), nil
		case nodeRoomUser:
			return stanza.Result(iq.Stanza).Append(reservedNickInfo(rm, iq.From.Bare())), nil // §7.12
		}
		return nil, stanza.E(stanza.ItemNotFound, "")
	case p.Is(nsRegister, "query"):
		return m.registerIQLocked(rm, o, iq)
	case get && p.Is(nsDiscoItems, "query"):
		// Occupants are not listed: in rooms that are not public that
		// would tell who is in (§6.5 allows an empty list).
		return stanza.Result(iq.Stanza).Append(xml.New(nsDiscoItems, "query")), nil
	case get && p.Is(nsPing, "ping"):
		return stanza.Result(iq.Stanza), nil
	case p.Is(nsVCard, "vCard"):
		return m.vcardIQLocked(rm, iq)
	case mam.IsQuery(p):
		if err := m.mayReadArchive(rm, o, iq.From.Bare()); err != nil {
			return nil, err
		}
		// Real JIDs (XEP-0313 "MUC Archives") for whoever may see them
		// now: everyone in a non-anonymous room, else moderators.
		realJIDs := rm.cfg.WhoisAnyone || (o != nil && o.role == roleModerator)
		// The query reads the store only: the room need not stay locked,
		// and must not, or a long query would hold up the room.
		rm.mu.Unlock()
		locked = false
		return m.archive.QueryRoom(ctx, iq, rm.jid, realJIDs)
	case p.Is(nsModerate, "moderate"):
		return m.moderateLocked(ctx, rm, o, iq)
	case p.Is(NSOwner, "query"):
		return m.ownerIQLocked(rm, o, iq)
	case p.Is(NSAdmin, "query"):
		return m.adminIQLocked(rm, o, iq)
	}
	return nil, stanza.E(stanza.ServiceUnavailable, "")
}

// mayReadArchive decides who reads a room's archive (XEP-0313 "MUC
// Archives": those who could read the conversation in the room). Never an
// outcast. Always an occupant, and a member (or admin, owner) even when
// absent. Anyone else only in a room anyone may enter without asking: public
// (listed), open (not members-only) and without a password; a client
// such as Converse.js reads such a room's archive before joining, as
// Prosody allows. A hidden, members-only or password-protected room's
// archive stays with its occupants and members.
func (m *Module) mayReadArchive(rm *room, o *occupant, bare jid.JID) error {
	if m.archive == nil {
		return stanza.E(stanza.ServiceUnavailable, "")
	}
	aff := rm.affiliation(bare)
	switch {
	case aff == affOutcast:
		return stanza.E(stanza.Forbidden, "")
	case o != nil, affRank[aff] >= affRank[affMember]:
		return nil
	case rm.cfg.Public && !rm.cfg.MembersOnly && rm.cfg.Password == "":
		return nil
	}
	return stanza.E(stanza.Forbidden, "only occupants and members may read this room's archive")
}

// roomInfo is a room's disco#info (§6.4) with its muc_* features and the
// muc#roominfo form (roominfo.go), as asker may see it.
func (m *Module) roomInfo(rm *room, asker jid.JID) *xml.Element {
	q := xml.New(nsDiscoInfo, "query")
	id := xml.New(nsDiscoInfo, "identity", "category", "conference", "type", "text")
	id.SetAttr("name", rm.cfg.Name)
	q.Append(id)
	pick := func(on bool, yes, no string) string {
		if on {
			return yes
		}
		return no
	}
	features := []string{
		nsDiscoInfo, NS, nsPing, nsOccupantID, nsStableID, nsSelfPingOpt, nsRegister, formRequest, nsVCard,
		pick(rm.cfg.Persistent, "muc_persistent", "muc_temporary"),
		pick(rm.cfg.Public, "muc_public", "muc_hidden"),
		pick(rm.cfg.MembersOnly, "muc_membersonly", "muc_open"),
		pick(rm.cfg.Moderated, "muc_moderated", "muc_unmoderated"),
		pick(rm.cfg.WhoisAnyone, "muc_nonanonymous", "muc_semianonymous"),
		pick(rm.cfg.Password != "", "muc_passwordprotected", "muc_unsecured"),
	}
	if m.archive != nil && rm.cfg.Archiving {
		features = append(features, mam.NS, mam.NSExtended, mam.NSSID, mam.NSFulltext, nsModerate, mam.NSRetract, mam.NSRetractTombstone)
	}
	for _, f := range features {
		q.Append(xml.New(nsDiscoInfo, "feature", "var", f))
	}
	return q.Append(m.roomInfoForm(rm, asker))
}

func sortByJID(items []*xml.Element) {
	sort.Slice(items, func(i, j int) bool { return items[i].Attr("jid") < items[j].Attr("jid") })
}
