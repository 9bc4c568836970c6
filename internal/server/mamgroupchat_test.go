package server_test

import (
	"strings"
	"testing"
)

// XEP-0313 "Including groupchat results" and "Determining support": the
// server understands 'include-groupchat' (RECOMMENDED), so it offers the
// boolean field in the query form and advertises
// urn:xmpp:mam:2#groupchat-field; it keeps no groupchat messages in user
// archives, so not #groupchat-available, and either value gives the same
// results. A value that is no xs:boolean is bad-request.
func TestMAMIncludeGroupchatField(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "a")
	alice.Send(`<message to='bob@localhost' type='chat'><body>m</body></message>`)

	for _, to := range []string{"alice@localhost", "localhost"} {
		_, info := ask(t, alice, "d", `<iq type='get' id='d' to='`+to+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
		if !strings.Contains(info.String(), `var="urn:xmpp:mam:2#groupchat-field"`) || strings.Contains(info.String(), `var="urn:xmpp:mam:2#groupchat-available"`) {
			t.Fatalf("%s: want #groupchat-field and not #groupchat-available: %s", to, info)
		}
	}
	_, form := ask(t, alice, "f", `<iq type='get' id='f'><query xmlns='urn:xmpp:mam:2'/></iq>`)
	if !strings.Contains(form.String(), `<field type="boolean" var="include-groupchat"/>`) {
		t.Fatalf("form lacks include-groupchat: %s", form)
	}
	all, _ := mamQuery(t, alice, "q0", "", "")
	for i, v := range []string{"true", "false", "1", "0"} {
		ids, fin := mamQuery(t, alice, "q"+v, `<field var='include-groupchat'><value>`+v+`</value></field>`, "")
		if len(ids) != len(all) || ids[0] != all[0] || fin.Attr("complete") != "true" {
			t.Fatalf("include-groupchat=%s (%d): %v, want %v", v, i, ids, all)
		}
	}
	cond, el := ask(t, alice, "bad", `<iq type='set' id='bad'><query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'>`+
		`<field var='FORM_TYPE'><value>urn:xmpp:mam:2</value></field><field var='include-groupchat'><value>maybe</value></field></x></query></iq>`)
	if cond != "bad-request" {
		t.Fatalf("include-groupchat=maybe: %s", el)
	}
}
