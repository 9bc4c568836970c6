package server_test

import "testing"

// TestClientEmptyFromIsOverwritten pins the decision documented in
// c2s/doc.go: RFC 6120 §8.1.2.1 has the server add a 'from' to a client's
// stanza or override the one the client gave, so an empty 'from' is
// overwritten with the session's full JID like an absent one, while a
// 'from' naming another entity ends the stream with invalid-from.
func TestClientEmptyFromIsOverwritten(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	bob := login(t, s, "bob", "laptop")
	alice.Send(`<message from='' to='bob@localhost/laptop' type='chat'><body>empty from</body></message>`)
	m := bob.Expect(isMessageWithBody("empty from"))
	if m.Attr("from") != "alice@localhost/phone" {
		t.Fatalf("bob got %s", m)
	}
	alice.Send(`<iq from='' type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if el := alice.Expect(isID("p1")); el.Attr("type") != "result" {
		t.Fatalf("ping with empty from: %s", el)
	}
	alice.Send(`<message from='carol@localhost/x' to='bob@localhost/laptop'><body>forged</body></message>`)
	if cond := alice.ExpectStreamError(); cond != "invalid-from" {
		t.Fatalf("forged from: stream error %q", cond)
	}
}
