package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
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

// TestBOSHOversizedBodyResumable: the session an oversized body ends
// ends its stream as a dropped connection would, so a XEP-0198 session
// hibernates and is resumed in a new BOSH session.
func TestBOSHOversizedBodyResumable(t *testing.T) {
	s, url := startBOSHServer(t, "[c2s]\nmax_stanza_bytes = 16384")
	const nsSM = "urn:xmpp:sm:3"
	first := xmpptest.DialBOSHWait(t, url, "localhost", 1)
	first.Login("alice", "pw-alice", "web")
	first.Send(`<enable xmlns='urn:xmpp:sm:3' resume='true'/>`)
	enabled := first.Expect(func(e *xml.Element) bool { return e.Space == nsSM })
	if !enabled.Is(nsSM, "enabled") || enabled.Attr("id") == "" {
		t.Fatalf("got %s, want <enabled/>", enabled)
	}
	first.StopPolling()
	huge := "<message xmlns='jabber:client'><body>" + strings.Repeat("a", 128<<10) + "</body></message>"
	_, el, raw, err := xmpptest.PostBOSH(xmpptest.NewBOSHClient(), url, fmt.Sprintf(`<body rid='%d' sid='%s' xmlns='%s'>%s</body>`, first.NextRID(), first.SID, xmpptest.NSHTTPBind, huge))
	if err != nil || !isTerminate(el, "policy-violation") {
		t.Fatalf("oversized body: %q %v", raw, err)
	}
	if n := s.BOSH.Sessions(); n != 0 {
		t.Fatalf("%d sessions after the oversized body, want 0", n)
	}
	second := xmpptest.DialBOSH(t, url, "localhost")
	if err := second.TrySCRAMWith(xmpptest.SCRAM{}, "alice", "pw-alice"); err != nil {
		t.Fatal(err)
	}
	second.Restart()
	second.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>`, enabled.Attr("id"))
	if el := second.Next(); !el.Is(nsSM, "resumed") {
		t.Fatalf("got %s, want <resumed/>", el)
	}
}
