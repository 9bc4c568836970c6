package server_test

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// TestBOSHTerminateWithPayload: XEP-0124 §13: the payloads of a
// type='terminate' request are processed before the session ends.
func TestBOSHTerminateWithPayload(t *testing.T) {
	s, url := startBOSHServer(t, "")
	bob := login(t, s, "bob", "desk")
	alice := xmpptest.DialBOSH(t, url, "localhost")
	alice.Login("alice", "pw-alice", "web")
	alice.Terminate(`<message to='bob@localhost/desk' type='chat' id='bye' xmlns='jabber:client'><body>bye from bosh</body></message>`)
	if end := alice.ExpectTerminate(); end.Attr("condition") != "" {
		t.Fatalf("terminate answered with %s", end)
	}
	bob.Expect(isMessageWithBody("bye from bosh"))
}
