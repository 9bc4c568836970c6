package muc

import (
	"strconv"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
)

const (
	formRoomInfo = "http://jabber.org/protocol/muc#roominfo"
	// nsStableID: groupchat messages are reflected with the sender's id
	// (§7.4).
	nsStableID = "http://jabber.org/protocol/muc#stable_id"
	// nsSelfPingOpt: the service answers a ping to one's own occupant
	// JID itself (XEP-0410 §3.3).
	nsSelfPingOpt = "http://jabber.org/protocol/muc#self-ping-optimization"

	// maxContactJIDs and maxLanguageLen bound what an owner configures
	// for the room information (every disco#info carries it).
	maxContactJIDs = 10
	maxLanguageLen = 35 // RFC 5646 §4.4.1: 35 characters suffice for a tag
)

// roomInfoForm is the XEP-0128 extension of a room's disco#info (§6.4,
// the muc#roominfo FORM_TYPE of §16.5.4). What a room is and how it is
// run (description, language, contacts, who may change the subject,
// whether members may invite, how much history it gives) is told to
// anyone who may ask the room's features. What goes on inside it, the
// subject and the number of occupants, is told to outsiders only of a
// public, open room, which lists itself anyway (§6.3): a hidden or
// members-only room tells it only to its occupants and (members-only)
// members, as §14.4 advises against leaking it.
func (m *Module) roomInfoForm(rm *room, asker jid.JID) *xml.Element {
	c := rm.cfg
	x := xml.New(nsData, "x", "type", "result")
	field := func(v, typ, label string, values ...string) {
		f := xml.New(nsData, "field", "var", v)
		if typ != "" {
			f.SetAttr("type", typ)
		}
		f.SetAttr("label", label)
		for _, val := range values {
			f.Append(xml.New(nsData, "value").AppendText(val))
		}
		x.Append(f)
	}
	field("FORM_TYPE", "hidden", "", formRoomInfo)
	field("muc#roominfo_description", "text-single", "Description", c.Description)
	if c.Language != "" {
		field("muc#roominfo_lang", "text-single", "Language of discussion", c.Language)
	}
	if len(c.ContactJIDs) > 0 {
		field("muc#roominfo_contactjid", "jid-multi", "Contact Addresses", c.ContactJIDs...)
	}
	if m.insider(rm, asker) {
		field("muc#roominfo_subject", "text-single", "Current Discussion Topic", rm.subject)
		field("muc#roominfo_occupants", "text-single", "Number of occupants", strconv.Itoa(len(rm.occupants)))
	}
	field("muc#roominfo_subjectmod", "boolean", "Occupants may change the subject", boolValue(c.ChangeSubject))
	field("muc#roomconfig_changesubject", "boolean", "Occupants may change the subject", boolValue(c.ChangeSubject))
	// invite.go: in a members-only room only admins invite.
	field("muc#roomconfig_allowinvites", "boolean", "Members may invite others", boolValue(!c.MembersOnly))
	if len(rm.avatarHashes) > 0 {
		// XEP-0486 §3.3: only when the room has an avatar.
		field("muc#roominfo_avatarhash", "text-multi", "Avatar hash", rm.avatarHashes...)
	}
	field("muc#maxhistoryfetch", "text-single", "Maximum Number of History Messages Returned by Room", strconv.Itoa(m.cfg.HistoryMessages))
	return x
}

// insider reports whether asker may learn what goes on inside the room
// (roomInfoForm): anyone for a public open room, else its occupants and,
// in a members-only room, its members; never an outcast.
func (m *Module) insider(rm *room, asker jid.JID) bool {
	aff := rm.affiliation(asker.Bare())
	switch {
	case aff == affOutcast:
		return false
	case rm.cfg.Public && !rm.cfg.MembersOnly:
		return true
	case rm.bySession[asker] != nil:
		return true
	}
	return rm.cfg.MembersOnly && affRank[aff] >= affRank[affMember]
}

// parseLanguage checks muc#roomconfig_lang: empty, or a language tag's
// shape (letters, digits and hyphens, RFC 5646), at most maxLanguageLen.
func parseLanguage(v string) (string, error) {
	if len(v) > maxLanguageLen {
		return "", stanza.E(stanza.NotAcceptable, "language tag too long")
	}
	for _, r := range v {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return "", stanza.E(stanza.NotAcceptable, "not a language tag")
		}
	}
	return v, nil
}

// parseContactJIDs checks muc#roominfo_contactjid as configured: at most
// maxContactJIDs addresses, each a valid JID, kept bare and without
// repeats.
func parseContactJIDs(f *xml.Element) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, v := range f.ChildrenNamed(nsData, "value") {
		if v.Text() == "" {
			continue
		}
		j, err := jid.Parse(v.Text())
		if err != nil {
			return nil, stanza.E(stanza.NotAcceptable, "bad contact address")
		}
		s := j.Bare().String()
		if seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	if len(out) > maxContactJIDs {
		return nil, stanza.E(stanza.NotAcceptable, "too many contact addresses")
	}
	return out, nil
}
