package server_test

import (
	"fmt"
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

// TestBOSHMaxSessionsPerIP: a BOSH session outlives its HTTP
// connections, so one host could otherwise fill max_sessions with a burst
// of creation requests and lock every other BOSH user out for
// 'inactivity'. Sessions beyond max_sessions_per_ip from one address are
// refused with policy-violation; one ending makes room.
func TestBOSHMaxSessionsPerIP(t *testing.T) {
	_, url := startBOSHServer(t, "max_sessions_per_ip = 2")
	r, _, _ := createBOSH(t, url, boshCreate)
	createBOSH(t, url, boshCreate)
	status, body, raw, err := xmpptest.PostBOSH(xmpptest.NewBOSHClient(), url, fmt.Sprintf(`<body rid='5' %s xmlns='%s' xmlns:xmpp='%s'/>`, boshCreate, xmpptest.NSHTTPBind, xmpptest.NSXBOSH))
	if err != nil || status != 200 || !isTerminate(body, "policy-violation") {
		t.Fatalf("third session from one address: %d %q %v", status, raw, err)
	}
	if _, el, s := r.post("type='terminate'", ""); el.Attr("type") != "terminate" {
		t.Fatalf("terminate: %q", s)
	}
	createBOSH(t, url, boshCreate)
}
