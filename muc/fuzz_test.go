package muc

import (
	"errors"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/stanza"
)

// parseChild parses raw as one element in the jabber:client default
// namespace, false if it is not well-formed.
func parseChild(raw string) (*xml.Element, bool) {
	rd := xml.NewReader(strings.NewReader(`<s xmlns="jabber:client">`+raw+`</s>`), xml.DefaultLimits, 0)
	if _, _, err := rd.ReadStreamStart(); err != nil {
		return nil, false
	}
	el, err := rd.Next()
	return el, err == nil
}

func wantStanzaError(t *testing.T, err error) {
	t.Helper()
	var se *stanza.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *stanza.Error", err, err)
	}
}

// FuzzRegistrationNick: what a registration submits (a muc#register form
// or XEP-0077's <username/>) yields a nick that is not blank, fits
// max_nick_length and is a valid occupant JID resource, or a stanza error.
func FuzzRegistrationNick(f *testing.F) {
	for _, s := range []string{
		`<query xmlns='jabber:iq:register'><username>Carol</username></query>`,
		`<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'><field var='muc#register_roomnick'><value>thirdwitch</value></field></x></query>`,
		`<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:x</value></field></x></query>`,
		`<query xmlns='jabber:iq:register'><username>  </username></query>`,
		`<query xmlns='jabber:iq:register'><username>ﬀ\u0085</username></query>`,
	} {
		f.Add(s)
	}
	m := &Module{cfg: DefaultConfig()}
	f.Fuzz(func(t *testing.T, raw string) {
		q, ok := parseChild(raw)
		if !ok {
			return
		}
		nick, err := m.submittedNick(q)
		if err != nil {
			wantStanzaError(t, err)
			return
		}
		if strings.TrimSpace(nick) == "" || len(nick) > m.cfg.MaxNickLength {
			t.Fatalf("nick %q accepted", nick)
		}
		if j, err := jid.New("room", "example.org", nick); err != nil || j.Resource() != nick {
			t.Fatalf("nick %q is not a normalised resource: %v", nick, err)
		}
	})
}

// FuzzRoomInfoFields: the language and contact addresses an owner submits
// are accepted bounded and well-formed, or refused with a stanza error.
func FuzzRoomInfoFields(f *testing.F) {
	for _, s := range []string{
		`<field xmlns='jabber:x:data' var='muc#roominfo_contactjid'><value>a@example.org</value><value>b@example.org/r</value></field>`,
		`<field xmlns='jabber:x:data' var='muc#roominfo_contactjid'><value>@</value></field>`,
		`<field xmlns='jabber:x:data'><value>de-CH</value></field>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		fld, ok := parseChild(raw)
		if !ok {
			return
		}
		jids, err := parseContactJIDs(fld)
		if err != nil {
			wantStanzaError(t, err)
		} else {
			if len(jids) > maxContactJIDs {
				t.Fatalf("%d contacts accepted", len(jids))
			}
			for _, s := range jids {
				if j, err := jid.Parse(s); err != nil || j.IsFull() {
					t.Fatalf("contact %q accepted", s)
				}
			}
		}
		lang, err := parseLanguage(fld.ChildText(nsData, "value"))
		if err != nil {
			wantStanzaError(t, err)
		} else if len(lang) > maxLanguageLen || strings.ContainsAny(lang, " <>&\"'") {
			t.Fatalf("language %q accepted", lang)
		}
	})
}
