package muc

import (
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
)

const formRequest = "http://jabber.org/protocol/muc#request"

// voiceRequestLocked serves the muc#request form (§7.13, §8.6): a
// visitor's request for voice goes to every moderator as a form to
// approve; a moderator's submitted approval gives the nick voice. A
// request from an occupant who has voice already is ignored.
func (m *Module) voiceRequestLocked(rm *room, o *occupant, from jid.JID, x *xml.Element) error {
	if o.role == roleModerator && fieldValue(x, "muc#roomnick") != "" {
		switch fieldValue(x, "muc#request_allow") {
		case "1", "true":
		default:
			return nil // declined, or the request skipped
		}
		target := rm.occupants[fieldValue(x, "muc#roomnick")]
		if target == nil {
			return stanza.E(stanza.ItemNotFound, "no such occupant")
		}
		if target.role == roleVisitor {
			target.role = roleParticipant
			m.broadcastPresence(rm, target, nil)
		}
		return nil
	}
	if o.role != roleVisitor || fieldValue(x, "muc#role") != roleParticipant {
		return nil
	}
	form := xml.New(nsData, "x", "type", "form").
		Append(xml.New(nsData, "title").AppendText("Voice request"))
	field := func(v, typ, label, value string) {
		f := xml.New(nsData, "field", "var", v, "type", typ)
		f.SetAttr("label", label)
		form.Append(f.Append(xml.New(nsData, "value").AppendText(value)))
	}
	field("FORM_TYPE", "hidden", "", formRequest)
	field("muc#role", "list-single", "Requested role", roleParticipant)
	field("muc#jid", "jid-single", "User ID", from.String())
	field("muc#roomnick", "text-single", "Room Nickname", o.nick)
	field("muc#request_allow", "boolean", "Grant voice to this person?", "false")
	for _, v := range rm.sortedOccupants() {
		if v.role != roleModerator {
			continue
		}
		for _, sj := range v.order {
			m.send(sj, xml.New(nsClient, "message", "from", rm.jid.String()).Append(form.Clone()))
		}
	}
	return nil
}
