package mam

import "testing"

// Only a query that reaches the archive's newest end over every
// conversation catches the client up (router.Session.MAMQueried): the
// offline module deletes unsent what such a client was given. A query of
// one conversation's history, of older items, of given ids or a search
// does not: the offline messages of everyone else would be lost.
func TestCatchUpMarksSession(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, arec := e.login("alice@example.com/a")
	bob, _ := e.login("bob@example.com/b")
	e.send(alice, `<message to='bob@example.com' type='chat' id='m1'><body>one</body></message>`)
	e.send(bob, `<message to='alice@example.com' type='chat' id='m2'><body>two</body></message>`)
	arec.take()
	first := e.id(1)

	tests := []struct {
		name, inner string
		catchUp     bool
	}{
		{"everything", ``, true},
		{"last page", `<set xmlns='http://jabber.org/protocol/rsm'><max>1</max><before/></set>`, true},
		{"after an id", form(field("after-id", first)), true},
		{"RSM after an id", `<set xmlns='http://jabber.org/protocol/rsm'><after>` + first + `</after></set>`, true},
		{"since a time", form(field("start", "2020-01-01T00:00:00Z")), true},
		{"one conversation", form(field("with", "bob@example.com")), false},
		{"until a time", form(field("end", "2030-01-01T00:00:00Z")), false},
		{"before an id", form(field("before-id", first)), false},
		{"RSM before an id", `<set xmlns='http://jabber.org/protocol/rsm'><before>` + first + `</before></set>`, false},
		{"given ids", form(field("ids", first)), false},
		{"a search", form(field("{urn:xmpp:fulltext:0}fulltext", "one")), false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, rec := e.login("alice@example.com/q" + string(rune('a'+i)))
			_, reply := e.query(s, rec, "", tc.inner)
			if reply.Attr("type") != "result" {
				t.Fatalf("query: %s", reply)
			}
			if s.MAMQueried() != tc.catchUp {
				t.Errorf("MAMQueried = %v after %s, want %v", s.MAMQueried(), tc.inner, tc.catchUp)
			}
		})
	}
}
