package mam

import (
	"strings"
	"testing"
)

// TestRetractChat: XEP-0424 in users' archives. A user's retraction of
// their own 1:1 message (named by its id, which the client also used as
// origin-id) tombstones it in their archive and in the local recipient's;
// the retraction is archived in both. A retraction by the recipient, by a
// third party, or of an id never sent changes nothing.
func TestRetractChat(t *testing.T) {
	msg := func(id, body string) string {
		return `<message to='bob@example.com' type='chat' id='` + id + `'><body>` + body + `</body><origin-id xmlns='urn:xmpp:sid:0' id='` + id + `'/></message>`
	}
	retract := func(to, id, rid string) string {
		return `<message to='` + to + `' type='chat' id='` + rid + `'><retract xmlns='urn:xmpp:message-retract:1' id='` + id + `'/>` +
			`<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/><body>/me retracted a previous message</body></message>`
	}
	tests := []struct {
		name    string
		from    string // alice, bob or carol
		retract string
		gone    bool // alice's m1 is a tombstone in both archives
	}{
		{"own message", "alice", retract("bob@example.com", "m1", "r1"), true},
		{"recipient retracting it", "bob", retract("alice@example.com", "m1", "r1"), false},
		{"third party", "carol", retract("bob@example.com", "m1", "r1"), false},
		{"unknown id", "alice", retract("bob@example.com", "nope", "r1"), false},
		{"own message, to someone else", "alice", retract("carol@example.com", "m1", "r1"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, DefaultConfig())
			for _, u := range []string{"alice", "bob", "carol"} {
				e.login(u + "@example.com/x")
			}
			alice, _ := e.login("alice@example.com/y")
			e.send(alice, msg("m1", "secret"))
			from, _ := e.login(tc.from + "@example.com/z")
			e.send(from, tc.retract)
			for _, owner := range []string{"alice@example.com", "bob@example.com"} {
				items := e.items(owner)
				if len(items) < 1 {
					t.Fatalf("%s: no items", owner)
				}
				first := string(items[0].Stanza)
				isTomb := strings.Contains(first, "<retracted") && !strings.Contains(first, "secret") && items[0].Body == ""
				if isTomb != tc.gone {
					t.Errorf("%s: first item %s (body %q), want tombstone %v", owner, first, items[0].Body, tc.gone)
				}
				if tc.gone && (!strings.Contains(first, `id="r1"`) || !strings.Contains(first, `stamp="`) || !strings.Contains(first, `id="m1"`)) {
					t.Errorf("%s: tombstone %s lacks the retraction's id, a stamp or the message's id", owner, first)
				}
				if tc.gone && (len(items) != 2 || !strings.Contains(string(items[1].Stanza), "<retract ")) {
					t.Errorf("%s: the retraction is not archived after: %d items", owner, len(items))
				}
			}
		})
	}
	e := newEnv(t, DefaultConfig())
	_, account := e.m.DiscoFeatures()
	if !strings.Contains(strings.Join(account, " "), NSRetractTombstone) {
		t.Errorf("account features %v lack %s", account, NSRetractTombstone)
	}
}

// TestRetractChatRemote: a remote sender's retraction tombstones the
// local recipient's copy of that sender's message, not another sender's
// message with the same id.
func TestRetractChatRemote(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	e.login("bob@example.com/x")
	from := func(who, raw string) {
		t.Helper()
		st := parseXML(t, strings.ReplaceAll(raw, "FROM", who))
		if err := e.r.HandleFromRemote(e.ctx, "remote.example", st); err != nil {
			t.Fatal(err)
		}
	}
	from("romeo@remote.example/r", `<message from='FROM' to='bob@example.com' type='chat' id='m1'><body>secret</body><origin-id xmlns='urn:xmpp:sid:0' id='m1'/></message>`)
	from("mallory@remote.example/m", `<message from='FROM' to='bob@example.com' type='chat' id='r0'><retract xmlns='urn:xmpp:message-retract:1' id='m1'/><body>x</body></message>`)
	if items := e.items("bob@example.com"); strings.Contains(string(items[0].Stanza), "retracted") {
		t.Fatalf("another sender's retraction applied: %s", items[0].Stanza)
	}
	from("romeo@remote.example/r", `<message from='FROM' to='bob@example.com' type='chat' id='r1'><retract xmlns='urn:xmpp:message-retract:1' id='m1'/><body>x</body></message>`)
	items := e.items("bob@example.com")
	if s := string(items[0].Stanza); !strings.Contains(s, `<retracted xmlns="urn:xmpp:message-retract:1" stamp=`) || strings.Contains(s, "secret") || !strings.Contains(s, `id="r1"`) {
		t.Fatalf("remote retraction: %s", s)
	}
}

// TestRetractChatMUCPrivate: in a MUC private message every occupant's
// messages come from the room's bare JID, so only the same nick (the
// author) may retract one; another occupant cannot tombstone it by its id.
func TestRetractChatMUCPrivate(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	e.login("bob@example.com/x")
	from := func(who, raw string) {
		t.Helper()
		st := parseXML(t, strings.ReplaceAll(raw, "FROM", who))
		if err := e.r.HandleFromRemote(e.ctx, "conf.remote.example", st); err != nil {
			t.Fatal(err)
		}
	}
	const x = `<x xmlns='http://jabber.org/protocol/muc#user'/>`
	from("room@conf.remote.example/Romeo", `<message from='FROM' to='bob@example.com' type='chat' id='m1'><body>secret</body><origin-id xmlns='urn:xmpp:sid:0' id='m1'/>`+x+`</message>`)
	from("room@conf.remote.example/Mallory", `<message from='FROM' to='bob@example.com' type='chat' id='r0'><retract xmlns='urn:xmpp:message-retract:1' id='m1'/><body>x</body>`+x+`</message>`)
	if items := e.items("bob@example.com"); strings.Contains(string(items[0].Stanza), "retracted") {
		t.Fatalf("another occupant's retraction applied: %s", items[0].Stanza)
	}
	from("room@conf.remote.example/Romeo", `<message from='FROM' to='bob@example.com' type='chat' id='r1'><retract xmlns='urn:xmpp:message-retract:1' id='m1'/><body>x</body>`+x+`</message>`)
	if s := string(e.items("bob@example.com")[0].Stanza); !strings.Contains(s, "<retracted ") || strings.Contains(s, "secret") {
		t.Fatalf("the author's retraction: %s", s)
	}
}
