package c2s_test

import (
	"encoding/base64"
	"net"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/jid"
)

// A security review of XEP-0388 SASL2 and XEP-0386 Bind 2 as an attacker
// would try them, raw XML over a real socket (net.Pipe only where a
// transport is the point).

// XEP-0388 §2.1: SASL2 "MUST NOT be offered if not at least one mechanism
// can be provided". A configuration of -PLUS mechanisms only, on a stream
// that is confidential but has no TLS of its own to bind to (XMPP over
// WebSocket behind a TLS proxy), offers none.
func TestSASL2NotOfferedWithoutMechanisms(t *testing.T) {
	f := start(t, func(c *c2s.Config) { c.Mechanisms = []string{"SCRAM-SHA-256-PLUS"} })
	server, client := net.Pipe()
	if !f.srv.ServeTransport(server, c2s.Transport{Confidential: true}) {
		t.Fatal("ServeTransport refused")
	}
	c := xmpptest.NewConn(t, client)
	c.OpenStream("localhost")
	if a := c.Features.Child(nsSASL2, "authentication"); a != nil {
		t.Fatalf("SASL2 offered without a mechanism: %s", c.Features)
	}
	// Where there is one, it is offered.
	tls := tlsStream(t, f)
	a := tls.Features.Child(nsSASL2, "authentication")
	if a == nil || a.ChildText(nsSASL2, "mechanism") != "SCRAM-SHA-256-PLUS" {
		t.Fatalf("SASL2 with SCRAM-SHA-256-PLUS over TLS: %s", tls.Features)
	}
}

// Inline resumption (XEP-0198 with XEP-0388) takes over only a session of
// the account that authenticated: another account's previd fails as an
// unknown one would, binds a session of its own, and leaves the session
// it named untouched and resumable by its owner.
func TestSASL2InlineResumeOfAnotherAccount(t *testing.T) {
	f := start(t, nil)
	alice := tlsStream(t, f)
	success, _ := sasl2OK(t, alice, "alice", userAgent1+`<bind xmlns='urn:xmpp:bind:0'><tag>T</tag><enable xmlns='urn:xmpp:sm:3' resume='true'/></bind>`)
	aliceJID := authzid(success)
	id := success.Child(nsBind2, "bound").Child(nsSM, "enabled").Attr("id")

	// Without her password, her own account's name and previd take over
	// nothing: a failed exchange processes nothing inline (XEP-0388 §2.6.2).
	thief := tlsStream(t, f)
	if _, err := thief.SASL2(xmpptest.SCRAM{}, "alice", "guess", `<resume xmlns='urn:xmpp:sm:3' previd='`+id+`' h='0'/>`); err == nil {
		t.Fatal("a wrong password authenticated")
	}
	alice.Send(`<r xmlns='urn:xmpp:sm:3'/>`)
	if a := alice.Next(); !a.Is(nsSM, "a") {
		t.Fatalf("alice's stream after a failed attempt on it: %s", a)
	}

	// While alice's stream is live, and after it dropped.
	for _, detached := range []bool{false, true} {
		if detached {
			alice.Raw().Close()
			eventually(t, "alice's session to detach", func() bool {
				rs := f.router.Session(jid.MustParse(aliceJID))
				return rs != nil && rs.Dormant()
			})
		}
		bob := tlsStream(t, f)
		success, _ = sasl2OK(t, bob, "bob", userAgent1+`<resume xmlns='urn:xmpp:sm:3' previd='`+id+`' h='0'/>`+
			`<bind xmlns='urn:xmpp:bind:0'><tag>T</tag></bind>`)
		failed := success.Child(nsSM, "failed")
		if success.Child(nsSM, "resumed") != nil || failed == nil || failed.Child(nsStanzas, "item-not-found") == nil || failed.HasAttr("h") {
			t.Fatalf("bob resuming alice's session (detached %v): %s", detached, success)
		}
		if got := authzid(success); !strings.HasPrefix(got, "bob@localhost/T/") {
			t.Fatalf("bob authorized as %q", got)
		}
		if rs := f.router.Session(jid.MustParse(aliceJID)); rs == nil {
			t.Fatalf("alice's session ended when bob named it (detached %v)", detached)
		}
		if !detached {
			// Alice's stream still works.
			alice.Send(`<r xmlns='urn:xmpp:sm:3'/>`)
			if a := alice.Next(); !a.Is(nsSM, "a") {
				t.Fatalf("alice's stream after bob's attempt: %s", a)
			}
		}
	}
	nu := tlsStream(t, f)
	success, _ = sasl2OK(t, nu, "alice", `<resume xmlns='urn:xmpp:sm:3' previd='`+id+`' h='0'/>`)
	if success.Child(nsSM, "resumed") == nil || authzid(success) != aliceJID {
		t.Fatalf("alice's own resumption: %s", success)
	}
}

// The stream's attempt cap counts failures of both profiles: legacy
// failures then SASL2 failures end the stream at the fifth, and SASL2
// cannot start afresh after legacy ones.
func TestAuthAttemptsSharedAcrossProfiles(t *testing.T) {
	f := start(t, nil)
	c := tlsStream(t, f)
	for i := range 3 {
		if err := c.TrySCRAM("alice", "wrong"); err == nil || err.Error() != "sasl: not-authorized" {
			t.Fatalf("legacy attempt %d: %v", i, err)
		}
	}
	for i := range 2 {
		if _, err := c.SASL2(xmpptest.SCRAM{}, "alice", "wrong", `<bind xmlns='urn:xmpp:bind:0'/>`); err == nil || err.Error() != "sasl: not-authorized" {
			t.Fatalf("SASL2 attempt %d: %v", i, err)
		}
	}
	if cond := c.ExpectStreamError(); cond != "policy-violation" {
		t.Fatalf("after five failures in two profiles: %q", cond)
	}
	if rs := f.router.Sessions("alice@localhost"); len(rs) != 0 {
		t.Fatalf("failed attempts bound %v", rs)
	}
}

// The failed-login limiter is one for both profiles: an address locked
// out by legacy failures is refused in SASL2 too, with
// temporary-auth-failure, before any credential is looked at.
func TestAuthLimiterSharedAcrossProfiles(t *testing.T) {
	f := start(t, func(c *c2s.Config) { c.AuthFailuresPerMinute = 2 })
	c := tlsStream(t, f)
	for range 2 {
		c.TrySCRAM("alice", "wrong")
	}
	plain := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00secret-alice"))
	c.Sendf(`<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>%s</initial-response><bind xmlns='urn:xmpp:bind:0'/></authenticate>`, plain)
	if el := c.Next(); !el.Is(nsSASL2, "failure") || el.Child(nsSASL, "temporary-auth-failure") == nil {
		t.Fatalf("SASL2 from a locked-out address: %s", el)
	}
	if rs := f.router.Sessions("alice@localhost"); len(rs) != 0 {
		t.Fatalf("locked-out address bound %v", rs)
	}
}

// -PLUS is advertised and enforced alike in both profiles: a client
// that says it could bind but thinks the server cannot ('y', RFC 5802
// §6) is refused where a -PLUS is offered (for one hash only too: the
// server can bind), in SASL2 as in RFC 6120 SASL, and accepted where the
// configuration offers none.
func TestSASL2ChannelBindingDowngrade(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mechs  []string
		mech   string // the SCRAM mechanism tried with 'y'
		refuse bool
	}{
		{"-PLUS offered", nil, "SCRAM-SHA-256", true},
		{"no -PLUS configured", []string{"SCRAM-SHA-256", "PLAIN"}, "SCRAM-SHA-256", false},
		{"a restricted list with -PLUS", []string{"SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "PLAIN"}, "SCRAM-SHA-1", true},
		{"a restricted list without -PLUS", []string{"SCRAM-SHA-1", "PLAIN"}, "SCRAM-SHA-1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t, func(c *c2s.Config) { c.Mechanisms = tc.mechs })
			c := tlsStream(t, f)
			var legacy, v2 []string
			for _, m := range c.Features.Child(nsSASL, "mechanisms").Elements() {
				legacy = append(legacy, m.Text())
			}
			for _, m := range c.Features.Child(nsSASL2, "authentication").Elements() {
				if m.Is(nsSASL2, "mechanism") {
					v2 = append(v2, m.Text())
				}
			}
			if strings.Join(legacy, " ") != strings.Join(v2, " ") {
				t.Fatalf("SASL2 offers %v, legacy %v", v2, legacy)
			}
			_, err := c.SASL2(xmpptest.SCRAM{Mechanism: tc.mech, GS2: "y,,"}, "alice", "secret-alice", `<bind xmlns='urn:xmpp:bind:0'/>`)
			if refused := err != nil; refused != tc.refuse {
				t.Fatalf("'y' flag in SASL2: error %v, want refused=%v", err, tc.refuse)
			}
			if tc.refuse && !strings.Contains(err.Error(), "not-authorized") {
				t.Fatalf("'y' refused with %v, want not-authorized (not for want of the mechanism)", err)
			}
			if tc.refuse && len(f.router.Sessions("alice@localhost")) != 0 {
				t.Fatal("a downgraded exchange bound a session")
			}
		})
	}
}

// Before authentication an element may be no larger than the pre-auth
// cap, <authenticate/> included; after a SASL2 success (no restart) the
// cap of an authenticated stream applies at once.
func TestSASL2StanzaLimits(t *testing.T) {
	f := start(t, func(c *c2s.Config) { c.PreAuthMaxStanzaBytes = 2048 })
	pad := strings.Repeat("x", 3000)

	c := tlsStream(t, f)
	c.Sendf(`<authenticate xmlns='urn:xmpp:sasl:2' mechanism='SCRAM-SHA-256'><user-agent id='x'><software>%s</software></user-agent></authenticate>`, pad)
	if cond := c.ExpectStreamError(); cond != "policy-violation" {
		t.Fatalf("an oversized <authenticate/>: %q, want policy-violation", cond)
	}

	c = tlsStream(t, f)
	success, _ := sasl2OK(t, c, "alice", `<bind xmlns='urn:xmpp:bind:0'/>`)
	c.Sendf(`<message to='%s' id='big' type='chat'><body>%s</body></message>`, authzid(success), pad)
	if m := c.Next(); m.Attr("id") != "big" {
		t.Fatalf("a 3 KB message after SASL2: %s", m)
	}
}

// User-agent and tag content: whatever a client sends, the resource is a
// valid RFC 7622 resource (characters PRECIS refuses, such as bidi
// overrides and line separators, are never in it), its length bounded,
// the user-agent id never in it, and a tag too long is cut.
func TestBind2ResourceFromHostileInput(t *testing.T) {
	f := start(t, nil)
	long := strings.Repeat("é", 500)
	tests := []struct {
		name, agent, tag, wantPrefix string
	}{
		{"bidi override in the tag", `<user-agent id='a'/>`, "Evil\u202eTag", ""},
		{"line separator in the tag", `<user-agent id='a'/>`, "a\u2028b", ""},
		{"long tag", `<user-agent id='a'/>`, long, strings.Repeat("é", 32) + "/"},
		{"long user-agent id", `<user-agent id='` + strings.Repeat("i", 5000) + `'/>`, "T", "T/"},
		{"user-agent id as the tag", `<user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'/>`, "T", "T/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tlsStream(t, f)
			success, _ := sasl2OK(t, c, "alice", tc.agent+`<bind xmlns='urn:xmpp:bind:0'><tag>`+tc.tag+`</tag></bind>`)
			got := authzid(success)
			j, err := jid.Parse(got)
			if err != nil || j.Bare().String() != "alice@localhost" {
				t.Fatalf("bound %q: %v", got, err)
			}
			// Parsing again gives the same: the resource is valid as it is.
			if again, err := jid.New("alice", "localhost", j.Resource()); err != nil || again.String() != got {
				t.Fatalf("resource %q is not a valid resource: %v", j.Resource(), err)
			}
			if len(j.Resource()) > 100 || strings.ContainsAny(j.Resource(), "\u202e\u2028") || strings.Contains(j.Resource(), "d4565fa7") {
				t.Fatalf("resource %q", j.Resource())
			}
			if tc.wantPrefix != "" && !strings.HasPrefix(j.Resource(), tc.wantPrefix) {
				t.Fatalf("resource %q, want the prefix %q", j.Resource(), tc.wantPrefix)
			}
			c.Close()
		})
	}
}
