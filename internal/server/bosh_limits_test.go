package server_test

import (
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// TestBOSHOversizedBodyEndsSession: a body beyond the request limit gets
// policy-violation, a terminal binding condition (XEP-0124 §17.2): the
// session ends with it rather than lingering until 'inactivity', so the
// next request of the session finds no session.
func TestBOSHOversizedBodyEndsSession(t *testing.T) {
	_, url := startBOSHServer(t, "[c2s]\nmax_stanza_bytes = 16384")
	r, _, _ := createBOSH(t, url, boshCreate)
	huge := "<message xmlns='jabber:client'><body>" + strings.Repeat("a", 128<<10) + "</body></message>"
	if _, el, raw := r.post("", huge); !isTerminate(el, "policy-violation") {
		t.Fatalf("oversized body: %q", raw)
	}
	if _, el, raw := r.post("", ""); !isTerminate(el, "item-not-found") {
		t.Fatalf("request after the oversized body: %q, want item-not-found (the session ended)", raw)
	}
}

// TestBOSHBodyWithSeveralLargeStanzas: a body may carry several stanzas,
// each up to the largest stanza c2s accepts (the request limit is
// bodyStanzas of them, not one).
func TestBOSHBodyWithSeveralLargeStanzas(t *testing.T) {
	s, url := startBOSHServer(t, "[c2s]\nmax_stanza_bytes = 65536")
	bob := login(t, s, "bob", "desk")
	alice := xmpptest.DialBOSH(t, url, "localhost")
	alice.Login("alice", "pw-alice", "web")
	text := strings.Repeat("b", 50<<10)
	alice.Send("<message xmlns='jabber:client' to='bob@localhost/desk' type='chat' id='l1'><body>one" + text + "</body></message>" +
		"<message xmlns='jabber:client' to='bob@localhost/desk' type='chat' id='l2'><body>two" + text + "</body></message>")
	bob.Expect(isMessageWithBody("one" + text))
	bob.Expect(isMessageWithBody("two" + text))
}
