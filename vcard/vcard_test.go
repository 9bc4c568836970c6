package vcard

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
)

const (
	romeo  = "romeo@example.org"
	juliet = "juliet@example.org"
)

// The vCards of the steps below. photo has a child in another namespace
// and a namespaced attribute, which must come back as they went in.
const (
	photo = `<vCard xmlns="vcard-temp"><FN>Romeo</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>iVBORw0KGgo=</BINVAL></PHOTO><x xmlns="urn:example:extra" xml:lang="en">y</x></vCard>`
	nick  = `<vCard xmlns="vcard-temp"><NICKNAME>R</NICKNAME></vCard>`
	empty = `<vCard xmlns="vcard-temp"/>`
)

// TestVCard walks §3.1-3.3 as a script: each step depends on the vCards
// the earlier ones stored.
func TestVCard(t *testing.T) {
	e := routertest.New(t, romeo, juliet)
	// photo is exactly as long as allowed: one byte more is refused.
	e.Router.Register(New(Config{MaxBytes: len(photo)}, e.Store))
	r, rRec := e.Bind(romeo+"/home", true, 0)
	j, jRec := e.Bind(juliet+"/balcony", true, 0)
	toRomeo := func(id, rest string) string {
		return `<iq xmlns="jabber:client" type="result" id="` + id + `" to="romeo@example.org/home"` + rest
	}
	errorTo := func(who, id, from, cond string) string {
		typ := map[string]string{"forbidden": "auth", "policy-violation": "modify"}[cond]
		if typ == "" {
			typ = "cancel"
		}
		if from != "" {
			from = ` from="` + from + `"`
		}
		return `<iq xmlns="jabber:client" id="` + id + `"` + from + ` to="` + who + `" type="error"><error type="` + typ + `"><` + cond + ` xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>`
	}
	tests := []struct {
		name     string
		julietIt bool // juliet sends it, else romeo
		in, want string
	}{
		{"own, none yet: empty vCard", false, `<iq type="get" id="1"><vCard xmlns="vcard-temp"/></iq>`,
			toRomeo("1", `><vCard xmlns="vcard-temp"/></iq>`)},
		{"another's, none: service-unavailable", true, `<iq type="get" id="2" to="romeo@example.org"><vCard xmlns="vcard-temp"/></iq>`,
			errorTo(juliet+"/balcony", "2", romeo, "service-unavailable") + `</error></iq>`},
		{"no such account: service-unavailable too", true, `<iq type="get" id="3" to="nobody@example.org"><vCard xmlns="vcard-temp"/></iq>`,
			errorTo(juliet+"/balcony", "3", "nobody@example.org", "service-unavailable") + `</error></iq>`},
		{"the server's: item-not-found", true, `<iq type="get" id="4" to="example.org"><vCard xmlns="vcard-temp"/></iq>`,
			errorTo(juliet+"/balcony", "4", "example.org", "item-not-found") + `</error></iq>`},
		{"set own", false, `<iq type="set" id="5">` + photo + `</iq>`,
			toRomeo("5", `/>`)},
		{"get own", false, `<iq type="get" id="6"><vCard xmlns="vcard-temp"/></iq>`,
			toRomeo("6", `>`+photo+`</iq>`)},
		{"get own by bare JID", false, `<iq type="get" id="7" to="romeo@example.org"><vCard xmlns="vcard-temp"/></iq>`,
			toRomeo("7", `>`+photo+`</iq>`)},
		{"another's, answered by the server", true, `<iq type="get" id="8" to="Romeo@example.org"><vCard xmlns="vcard-temp"/></iq>`,
			`<iq xmlns="jabber:client" type="result" id="8" from="romeo@example.org" to="juliet@example.org/balcony">` + photo + `</iq>`},
		{"set another's: forbidden", true, `<iq type="set" id="9" to="romeo@example.org">` + nick + `</iq>`,
			errorTo(juliet+"/balcony", "9", romeo, "forbidden") + `</error></iq>`},
		{"set for no account: forbidden", true, `<iq type="set" id="10" to="nobody@example.org">` + nick + `</iq>`,
			errorTo(juliet+"/balcony", "10", "nobody@example.org", "forbidden") + `</error></iq>`},
		{"set the server's: forbidden", true, `<iq type="set" id="11" to="example.org">` + nick + `</iq>`,
			errorTo(juliet+"/balcony", "11", "example.org", "forbidden") + `</error></iq>`},
		{"over max_bytes: policy-violation", false, `<iq type="set" id="12"><vCard xmlns="vcard-temp"><FN>Romeo</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>iVBORw0KGgo=+</BINVAL></PHOTO><x xmlns="urn:example:extra" xml:lang="en">y</x></vCard></iq>`,
			errorTo(romeo+"/home", "12", "", "policy-violation") + `<text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">vCard larger than ` + strconv.Itoa(len(photo)) + ` bytes</text></error></iq>`},
		{"the refused set changed nothing", true, `<iq type="get" id="13" to="romeo@example.org"><vCard xmlns="vcard-temp"/></iq>`,
			`<iq xmlns="jabber:client" type="result" id="13" from="romeo@example.org" to="juliet@example.org/balcony">` + photo + `</iq>`},
		{"set replaces the whole vCard", false, `<iq type="set" id="14" to="romeo@example.org">` + nick + `</iq>`,
			toRomeo("14", `/>`)},
		{"get the new one", false, `<iq type="get" id="15"><vCard xmlns="vcard-temp"/></iq>`,
			toRomeo("15", `>`+nick+`</iq>`)},
		{"an empty vCard is stored too", false, `<iq type="set" id="16"><vCard xmlns="vcard-temp"/></iq>`,
			toRomeo("16", `/>`)},
		{"and served", true, `<iq type="get" id="17" to="romeo@example.org"><vCard xmlns="vcard-temp"/></iq>`,
			`<iq xmlns="jabber:client" type="result" id="17" from="romeo@example.org" to="juliet@example.org/balcony">` + empty + `</iq>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.julietIt {
				e.Send(j, tc.in)
				routertest.Expect(t, jRec, tc.want)
				routertest.Expect(t, rRec) // never forwarded to romeo
			} else {
				e.Send(r, tc.in)
				routertest.Expect(t, rRec, tc.want)
			}
		})
	}
	if _, err := e.Store.Document(context.Background(), juliet, Kind, ""); err == nil {
		t.Error("juliet has a vCard: a forbidden set was stored")
	}
}

func TestDiscoFeatures(t *testing.T) {
	server, account := New(DefaultConfig(), nil).DiscoFeatures()
	if !slices.Equal(server, []string{NS}) || !slices.Equal(account, []string{NS}) {
		t.Errorf("features %q, %q; want vcard-temp on both", server, account)
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		max int
		ok  bool
	}{{64 << 10, true}, {27, true}, {26, false}, {0, false}} {
		if err := (Config{MaxBytes: tc.max}).Validate(); (err == nil) != tc.ok {
			t.Errorf("max_bytes = %d: Validate() = %v", tc.max, err)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Error(err)
	}
}
