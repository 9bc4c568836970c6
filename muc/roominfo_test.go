package muc_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
)

const (
	nsDiscoInfo  = "http://jabber.org/protocol/disco#info"
	nsData       = "jabber:x:data"
	formRoomInfo = "http://jabber.org/protocol/muc#roominfo"
)

// roomInfoFields returns the muc#roominfo form of a disco#info result as
// var -> values, nil if it has none.
func roomInfoFields(t *testing.T, res *xml.Element) map[string][]string {
	t.Helper()
	for _, x := range res.Child(nsDiscoInfo, "query").ChildrenNamed(nsData, "x") {
		fields := map[string][]string{}
		for _, f := range x.ChildrenNamed(nsData, "field") {
			var vals []string
			for _, v := range f.ChildrenNamed(nsData, "value") {
				vals = append(vals, v.Text())
			}
			fields[f.Attr("var")] = vals
		}
		if slices.Equal(fields["FORM_TYPE"], []string{formRoomInfo}) {
			if x.Attr("type") != "result" {
				t.Fatalf("roominfo form of type %q", x.Attr("type"))
			}
			return fields
		}
	}
	return nil
}

// TestRoomInfo: a room's disco#info carries the muc#roominfo form (§6.4,
// §16.5.4) with the configured description, language and contacts; what
// goes on inside (subject, occupant count) reaches outsiders of public
// open rooms only (§14.4); the room's name is the identity's; the
// features of stable ids, self-ping, registration and voice requests are
// announced.
func TestRoomInfo(t *testing.T) {
	tests := []struct {
		name    string
		fields  []string // room configuration besides the defaults below
		asker   string   // carol's standing: "outsider", "member", "occupant", "outcast"
		inside  bool     // subject and occupants shown
		private bool     // the room is members-only (carol joins as a member)
	}{
		{name: "public open room, outsider", asker: "outsider", inside: true},
		{name: "hidden room, outsider", fields: []string{"muc#roomconfig_publicroom", "0"}, asker: "outsider"},
		{name: "hidden room, occupant", fields: []string{"muc#roomconfig_publicroom", "0"}, asker: "occupant", inside: true},
		{name: "hidden room, member not in it", fields: []string{"muc#roomconfig_publicroom", "0"}, asker: "member"},
		{name: "members-only room, outsider", fields: []string{"muc#roomconfig_membersonly", "1"}, asker: "outsider", private: true},
		{name: "members-only room, member not in it", fields: []string{"muc#roomconfig_membersonly", "1"}, asker: "member", inside: true, private: true},
		{name: "public open room, outcast", asker: "outcast"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			alice, bob, carol := e.user("alice", "a"), e.user("bob", "b"), e.user("carol", "c")
			fields := append([]string{
				"muc#roomconfig_roomname", "Tea", "muc#roomconfig_roomdesc", "For tea drinkers",
				"muc#roomconfig_lang", "en", "muc#roominfo_contactjid", "alice@example.org/phone",
			}, tc.fields...)
			e.create(alice, fields...)
			if tc.private {
				e.send(alice, `<iq type='set' id='m' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='member' jid='bob@example.org'/></query></iq>`)
			}
			e.join(bob, "Bob")
			e.send(alice, `<message to='%R' type='groupchat'><subject>Darjeeling</subject></message>`)
			switch tc.asker {
			case "member", "occupant":
				e.send(alice, `<iq type='set' id='m' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='member' jid='carol@example.org'/></query></iq>`)
			case "outcast":
				e.send(alice, `<iq type='set' id='m' to='%R'><query xmlns='`+nsMUC+`#admin'><item affiliation='outcast' jid='carol@example.org'/></query></iq>`)
			}
			if tc.asker == "occupant" {
				e.join(carol, "Carol")
			}
			alice.take(t)
			carol.take(t)

			e.send(carol, `<iq type='get' id='i' to='%R'><query xmlns='`+nsDiscoInfo+`'/></iq>`)
			res := carol.last(t)
			if res.Attr("type") != "result" {
				t.Fatalf("disco#info: %s", res)
			}
			if id := res.Child(nsDiscoInfo, "query").Child(nsDiscoInfo, "identity"); id.Attr("name") != "Tea" || id.Attr("category") != "conference" {
				t.Errorf("identity %s", id)
			}
			for _, f := range []string{"http://jabber.org/protocol/muc#stable_id", "http://jabber.org/protocol/muc#self-ping-optimization", "jabber:iq:register", "http://jabber.org/protocol/muc#request"} {
				if !strings.Contains(res.String(), `var="`+f+`"`) {
					t.Errorf("feature %s missing", f)
				}
			}
			got := roomInfoFields(t, res)
			if got == nil {
				t.Fatalf("no muc#roominfo form: %s", res)
			}
			want := map[string][]string{
				"muc#roominfo_description":     {"For tea drinkers"},
				"muc#roominfo_lang":            {"en"},
				"muc#roominfo_contactjid":      {"alice@example.org"},
				"muc#roominfo_subjectmod":      {"0"},
				"muc#roomconfig_changesubject": {"0"},
				"muc#maxhistoryfetch":          {"50"},
			}
			occupants := "2"
			if tc.asker == "occupant" {
				occupants = "3"
			}
			for k, v := range want {
				if !slices.Equal(got[k], v) {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if tc.inside {
				if !slices.Equal(got["muc#roominfo_subject"], []string{"Darjeeling"}) || !slices.Equal(got["muc#roominfo_occupants"], []string{occupants}) {
					t.Errorf("subject %q, occupants %q; want Darjeeling, %s", got["muc#roominfo_subject"], got["muc#roominfo_occupants"], occupants)
				}
			} else if _, ok := got["muc#roominfo_subject"]; ok || got["muc#roominfo_occupants"] != nil {
				t.Errorf("an outsider learns the subject %q and occupants %q", got["muc#roominfo_subject"], got["muc#roominfo_occupants"])
			}
		})
	}
}

// TestRoomInfoConfig: the configuration form offers the language and
// contact addresses with their values, and refuses bad ones
// (not-acceptable, §10.1.3) without changing anything.
func TestRoomInfoConfig(t *testing.T) {
	elevenJIDs := ""
	for i := range 11 {
		elevenJIDs += "<value>u" + string(rune('a'+i)) + "@example.org</value>"
	}
	tests := []struct {
		name, field, want string
	}{
		{"language", `<field var='muc#roomconfig_lang'><value>de-CH</value></field>`, ""},
		{"not a language tag", `<field var='muc#roomconfig_lang'><value>de CH</value></field>`, "not-acceptable"},
		{"language too long", `<field var='muc#roomconfig_lang'><value>` + strings.Repeat("a", 36) + `</value></field>`, "not-acceptable"},
		{"contacts", `<field var='muc#roominfo_contactjid'><value>bob@example.org</value><value>carol@example.org/x</value><value>bob@example.org</value></field>`, ""},
		{"bad contact", `<field var='muc#roominfo_contactjid'><value>@bad</value></field>`, "not-acceptable"},
		{"too many contacts", `<field var='muc#roominfo_contactjid'>` + elevenJIDs + `</field>`, "not-acceptable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			alice := e.user("alice", "a")
			e.create(alice, "muc#roomconfig_lang", "en")
			e.send(alice, `<iq type='set' id='c' to='%R'><query xmlns='`+nsMUC+`#owner'><x xmlns='jabber:x:data' type='submit'>`+tc.field+`</x></query></iq>`)
			if got := alice.last(t); condition(got) != tc.want {
				t.Fatalf("got %s, want error %q", got, tc.want)
			}
			e.send(alice, `<iq type='get' id='f' to='%R'><query xmlns='`+nsMUC+`#owner'/></iq>`)
			form := alice.last(t).String()
			switch {
			case tc.want != "":
				if !strings.Contains(form, `<value>en</value>`) || strings.Contains(form, "bob@") {
					t.Errorf("a refused form changed the configuration: %s", form)
				}
			case tc.name == "language":
				if !strings.Contains(form, `<value>de-CH</value>`) {
					t.Errorf("language not in the form: %s", form)
				}
			case tc.name == "contacts":
				if !strings.Contains(form, `<value>bob@example.org</value><value>carol@example.org</value></field>`) {
					t.Errorf("contacts not in the form, bare and once each: %s", form)
				}
			}
		})
	}
}
