package c2s_test

import (
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/jid"
)

// XEP-0386 §3.2: "Upon successful binding of a resource, the server
// SHOULD terminate any earlier sessions from the same client (identified
// by the <user-agent> 'id' attribute)". The same client with another tag
// gets another resource, and its earlier session still ends; other
// clients' sessions (another id, none, legacy binding) do not.
func TestBind2EndsEarlierSessionOfSameClient(t *testing.T) {
	f := start(t, nil)
	first := tlsStream(t, f)
	success, _ := sasl2OK(t, first, "alice", userAgent1+`<bind xmlns='urn:xmpp:bind:0'><tag>Old</tag></bind>`)
	firstJID := authzid(success)
	other := tlsStream(t, f)
	success, _ = sasl2OK(t, other, "alice", userAgent2+`<bind xmlns='urn:xmpp:bind:0'><tag>Old</tag></bind>`)
	otherJID := authzid(success)
	anonymous := tlsStream(t, f)
	success, _ = sasl2OK(t, anonymous, "alice", `<bind xmlns='urn:xmpp:bind:0'><tag>Old</tag></bind>`)
	anonymousJID := authzid(success)
	legacy := xmpptest.Dial(t, f.addr)
	legacy.Login("localhost", "alice", "secret-alice", "desk")
	// Bob's session of the same client id is another account's.
	bob := tlsStream(t, f)
	success, _ = sasl2OK(t, bob, "bob", userAgent1+`<bind xmlns='urn:xmpp:bind:0'><tag>Old</tag></bind>`)
	bobJID := authzid(success)

	again := tlsStream(t, f)
	success, _ = sasl2OK(t, again, "alice", userAgent1+`<bind xmlns='urn:xmpp:bind:0'><tag>New</tag></bind>`)
	newJID := authzid(success)
	if newJID == firstJID || !strings.HasPrefix(newJID, "alice@localhost/New/") {
		t.Fatalf("bound %s after %s", newJID, firstJID)
	}
	if cond := first.ExpectStreamError(); cond != "conflict" {
		t.Fatalf("earlier session of the same client ended with %q, want conflict", cond)
	}
	eventually(t, "the earlier session to be unbound", func() bool { return f.router.Session(jid.MustParse(firstJID)) == nil })
	for _, j := range []string{otherJID, anonymousJID, "alice@localhost/desk", bobJID, newJID} {
		if f.router.Session(jid.MustParse(j)) == nil {
			t.Fatalf("%s ended too", j)
		}
	}
}
