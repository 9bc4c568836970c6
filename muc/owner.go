package muc

import (
	"strconv"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
)

const formRoomConfig = "http://jabber.org/protocol/muc#roomconfig"

// ownerIQLocked serves the owner protocol (§10): the configuration form,
// its submission (an empty one accepts an instant room, §10.1.2), the
// cancelling of a new room's configuration, and destroying (§10.9).
func (m *Module) ownerIQLocked(rm *room, _ *occupant, iq *router.IQ) (*xml.Element, error) {
	if rm.affiliation(iq.From.Bare()) != affOwner {
		return nil, stanza.E(stanza.Forbidden, "only owners configure the room") // §10.2
	}
	if iq.Type() == stanza.TypeGet {
		return stanza.Result(iq.Stanza).Append(xml.New(NSOwner, "query").Append(m.configForm(rm))), nil
	}
	if d := iq.Payload.Child(NSOwner, "destroy"); d != nil {
		m.destroyLocked(rm, d)
		return stanza.Result(iq.Stanza), nil
	}
	x := iq.Payload.Child(nsData, "x")
	switch x.Attr("type") {
	case "cancel":
		if rm.locked {
			// §10.1.3: cancelling a new room's configuration destroys it.
			m.destroyLocked(rm, nil)
		}
		return stanza.Result(iq.Stanza), nil
	case "submit":
	default:
		return nil, stanza.E(stanza.BadRequest, "expected a submitted or cancelled data form")
	}
	if ft := fieldValue(x, "FORM_TYPE"); ft != "" && ft != formRoomConfig {
		return nil, stanza.E(stanza.BadRequest, "wrong FORM_TYPE")
	}
	cfg, err := m.applyForm(rm.cfg, x)
	if err != nil {
		return nil, err
	}
	wasLocked, old := rm.locked, rm.cfg
	rm.cfg, rm.locked = cfg, false
	if cfg.MembersOnly {
		// Non-members leave a room made members-only (§9.3, status 322).
		for _, o := range rm.sortedOccupants() {
			if affRank[rm.affiliation(o.bare)] < affRank[affMember] {
				m.removeOccupantLocked(rm, o, []string{statusMembersOnly})
			}
		}
	}
	if !wasLocked {
		// §10.2.1: occupants learn that the configuration changed, and
		// how, when it concerns their privacy (status codes 170-173).
		x := xml.New(NSUser, "x").Append(xml.New(NSUser, "status", "code", statusConfigChange))
		for _, c := range configChangeCodes(old, cfg) {
			x.Append(xml.New(NSUser, "status", "code", c))
		}
		note := xml.New(nsClient, "message", "from", rm.jid.String(), "type", "groupchat").Append(x)
		for _, o := range rm.sortedOccupants() {
			for _, sj := range o.order {
				m.send(sj, note.Clone())
			}
		}
	}
	m.persistLocked(rm)
	m.emptiedLocked(rm)
	return stanza.Result(iq.Stanza), nil
}

// destroyLocked destroys a room (§10.9): every occupant gets unavailable
// presence with <destroy/> (its alternate venue and reason, if given).
func (m *Module) destroyLocked(rm *room, d *xml.Element) {
	for _, o := range rm.sortedOccupants() {
		for _, sj := range o.order {
			x := xml.New(NSUser, "x").Append(xml.New(NSUser, "item", "affiliation", affNone, "role", roleNone))
			dd := xml.New(NSUser, "destroy")
			if d != nil {
				dd.SetAttr("jid", d.Attr("jid"))
				if pw := d.Child(NSOwner, "password"); pw != nil {
					dd.Append(xml.New(NSUser, "password").AppendText(pw.Text())) // §10.9: the alternate venue's
				}
				if r := d.Child(NSOwner, "reason"); r != nil {
					dd.Append(xml.New(NSUser, "reason").AppendText(r.Text()))
				}
			}
			x.Append(dd, xml.New(NSUser, "status", "code", statusSelf))
			m.send(sj, xml.New(nsClient, "presence", "from", rm.occupantJID(o.nick).String(), "type", "unavailable").Append(x,
				xml.New(nsOccupantID, "occupant-id", "id", m.occupantID(rm.jid, o.bare)))) // XEP-0421 §4
			m.dropSessionLocked(rm, sj)
		}
	}
	rm.occupants, rm.bySession = map[string]*occupant{}, map[jid.JID]*occupant{}
	rm.cfg.Persistent = false
	m.persistLocked(rm)
	m.removeLocked(rm)
}

// configForm is the room configuration form with the current values
// (§10.2, the muc#roomconfig FORM_TYPE of §15.5.3).
func (m *Module) configForm(rm *room) *xml.Element {
	c := rm.cfg
	x := xml.New(nsData, "x", "type", "form")
	x.Append(xml.New(nsData, "title").AppendText("Configuration of " + rm.jid.String()))
	add := func(v, typ, label string, values ...string) *xml.Element {
		f := xml.New(nsData, "field", "var", v, "type", typ)
		f.SetAttr("label", label)
		for _, val := range values {
			f.Append(xml.New(nsData, "value").AppendText(val))
		}
		x.Append(f)
		return f
	}
	add("FORM_TYPE", "hidden", "", formRoomConfig)
	add("muc#roomconfig_roomname", "text-single", "Name", c.Name)
	add("muc#roomconfig_roomdesc", "text-single", "Description", c.Description)
	add("muc#roomconfig_lang", "text-single", "Natural language of the discussions (a tag such as en)", c.Language)
	add("muc#roominfo_contactjid", "jid-multi", "Contact addresses shown in the room information (at most "+strconv.Itoa(maxContactJIDs)+")", c.ContactJIDs...)
	add("muc#roomconfig_persistentroom", "boolean", "Keep the room when the last occupant leaves", boolValue(c.Persistent))
	add("muc#roomconfig_publicroom", "boolean", "List the room publicly", boolValue(c.Public))
	add("muc#roomconfig_membersonly", "boolean", "Only members may enter", boolValue(c.MembersOnly))
	add("muc#roomconfig_moderatedroom", "boolean", "Only occupants with voice may send messages", boolValue(c.Moderated))
	add("muc#roomconfig_passwordprotectedroom", "boolean", "A password is required to enter", boolValue(c.Password != ""))
	add("muc#roomconfig_roomsecret", "text-private", "Password", c.Password)
	whois := "moderators"
	if c.WhoisAnyone {
		whois = "anyone"
	}
	w := add("muc#roomconfig_whois", "list-single", "Who may see occupants' real addresses", whois)
	for _, o := range []string{"moderators", "anyone"} {
		w.Append(xml.New(nsData, "option").Append(xml.New(nsData, "value").AppendText(o)))
	}
	add("muc#roomconfig_changesubject", "boolean", "Occupants may change the subject", boolValue(c.ChangeSubject))
	add("muc#roomconfig_maxusers", "text-single", "Most occupants (at most "+strconv.Itoa(m.cfg.MaxOccupants)+")", strconv.Itoa(c.MaxUsers))
	add("muc#roomconfig_enablearchiving", "boolean", "Archive messages (XEP-0313)", boolValue(c.Archiving))
	return x
}

// applyForm returns cfg changed by a submitted form; fields it does not
// know are ignored, a bad value is refused (§10.2: not-acceptable).
func (m *Module) applyForm(cfg roomConfig, x *xml.Element) (roomConfig, error) {
	bad := func(f string) error { return stanza.E(stanza.NotAcceptable, "bad value for "+f) }
	protected := cfg.Password != ""
	for _, f := range x.ChildrenNamed(nsData, "field") {
		v := f.ChildText(nsData, "value")
		name := f.Attr("var")
		var b *bool
		switch name {
		case "muc#roomconfig_roomname":
			cfg.Name = v
		case "muc#roomconfig_roomdesc":
			cfg.Description = v
		case "muc#roomconfig_lang":
			var err error
			if cfg.Language, err = parseLanguage(v); err != nil {
				return cfg, err
			}
		case "muc#roominfo_contactjid":
			var err error
			if cfg.ContactJIDs, err = parseContactJIDs(f); err != nil {
				return cfg, err
			}
		case "muc#roomconfig_persistentroom":
			b = &cfg.Persistent
		case "muc#roomconfig_publicroom":
			b = &cfg.Public
		case "muc#roomconfig_membersonly":
			b = &cfg.MembersOnly
		case "muc#roomconfig_moderatedroom":
			b = &cfg.Moderated
		case "muc#roomconfig_passwordprotectedroom":
			b = &protected
		case "muc#roomconfig_roomsecret":
			cfg.Password = v
		case "muc#roomconfig_whois":
			if v != "anyone" && v != "moderators" {
				return cfg, bad(name)
			}
			cfg.WhoisAnyone = v == "anyone"
		case "muc#roomconfig_changesubject":
			b = &cfg.ChangeSubject
		case "muc#roomconfig_maxusers":
			n, err := strconv.Atoi(v)
			if v == "none" || v == "" {
				n, err = m.cfg.MaxOccupants, nil
			}
			if err != nil || n < 1 || n > m.cfg.MaxOccupants {
				return cfg, bad(name)
			}
			cfg.MaxUsers = n
		case "muc#roomconfig_enablearchiving":
			b = &cfg.Archiving
		}
		if b != nil {
			switch v {
			case "1", "true":
				*b = true
			case "0", "false":
				*b = false
			default:
				return cfg, bad(name)
			}
		}
	}
	if !protected {
		cfg.Password = ""
	} else if cfg.Password == "" {
		return cfg, stanza.E(stanza.NotAcceptable, "a password-protected room needs a password")
	}
	return cfg, nil
}

func fieldValue(x *xml.Element, name string) string {
	for _, f := range x.ChildrenNamed(nsData, "field") {
		if f.Attr("var") == name {
			return f.ChildText(nsData, "value")
		}
	}
	return ""
}

func boolValue(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// configChangeCodes returns the status codes that announce a privacy
// related configuration change (§10.2.1): logging on (170) or off (171),
// the room now non-anonymous (172) or semi-anonymous (173).
func configChangeCodes(old, cfg roomConfig) []string {
	var codes []string
	if old.Archiving != cfg.Archiving {
		codes = append(codes, map[bool]string{true: statusLogging, false: statusNoLogging}[cfg.Archiving])
	}
	if old.WhoisAnyone != cfg.WhoisAnyone {
		codes = append(codes, map[bool]string{true: statusNowNonAnon, false: statusNowSemiAnon}[cfg.WhoisAnyone])
	}
	return codes
}
