package c2s_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/jid"
)

// A disabled account cannot authenticate with any mechanism: the right
// password gets <account-disabled/> (RFC 6120 §6.5.1) with a text that
// says so but not the operator's reason; a wrong one gets not-authorized
// as for any account, so the condition tells nothing to someone without
// the password. The stream goes on: another account may log in.
func TestLoginDisabledAccount(t *testing.T) {
	f := start(t, nil)
	if err := f.users.SetUserDisabled(context.Background(), "alice@localhost", true, "spam, ticket #12"); err != nil {
		t.Fatal(err)
	}
	plain := func(c *xmpptest.Conn, user, pass string) *xml.Element {
		c.Sendf(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>`,
			base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pass)))
		return c.Next()
	}
	cases := []struct {
		name, mech, pass, want string
	}{
		{"SCRAM-SHA-256", "SCRAM-SHA-256", "secret-alice", "account-disabled"},
		{"SCRAM-SHA-1", "SCRAM-SHA-1", "secret-alice", "account-disabled"},
		{"PLAIN", "PLAIN", "secret-alice", "account-disabled"},
		{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256-PLUS", "secret-alice", "account-disabled"},
		{"SCRAM-SHA-1-PLUS", "SCRAM-SHA-1-PLUS", "secret-alice", "account-disabled"},
		{"SCRAM wrong password", "SCRAM-SHA-256", "wrong", "not-authorized"},
		{"PLAIN wrong password", "PLAIN", "wrong", "not-authorized"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := xmpptest.Dial(t, f.addr)
			c.OpenStream("localhost")
			c.StartTLS("localhost")
			if tc.mech == "PLAIN" {
				el := plain(c, "alice", tc.pass)
				if !el.Is(nsSASL, "failure") || el.Child(nsSASL, tc.want) == nil {
					t.Fatalf("PLAIN: %s, want %s", el, tc.want)
				}
				checkDisabledText(t, el, tc.want)
			} else {
				opt := xmpptest.SCRAM{Mechanism: tc.mech}
				if strings.HasSuffix(tc.mech, "-PLUS") {
					opt.GS2, opt.Binding = "p=tls-exporter,,", exporterBinding(t, c)
				}
				err := c.TrySCRAMWith(opt, "alice", tc.pass)
				if err == nil || err.Error() != "sasl: "+tc.want {
					t.Fatalf("%s: %v, want %s", tc.mech, err, tc.want)
				}
			}
			// Refused, not cut off: bob logs in on the same stream.
			c.AuthSCRAM("localhost", "bob", "secret-bob")
			if j := c.Bind("r"); j != "bob@localhost/r" {
				t.Fatalf("bound %s", j)
			}
		})
	}
	// Re-enabled, alice logs in again.
	if err := f.users.SetUserDisabled(context.Background(), "alice@localhost", false, ""); err != nil {
		t.Fatal(err)
	}
	c := xmpptest.Dial(t, f.addr)
	c.Login("localhost", "alice", "secret-alice", "r")
}

// A client that keeps trying a disabled account is cut off after as many
// attempts as one with a wrong password (RFC 6120 §6.4.5).
func TestLoginDisabledAccountRetries(t *testing.T) {
	f := start(t, nil)
	if err := f.users.SetUserDisabled(context.Background(), "alice@localhost", true, ""); err != nil {
		t.Fatal(err)
	}
	c := xmpptest.Dial(t, f.addr)
	c.OpenStream("localhost")
	c.StartTLS("localhost")
	for range 5 {
		if err := c.TrySCRAM("alice", "secret-alice"); err == nil || err.Error() != "sasl: account-disabled" {
			t.Fatalf("got %v, want account-disabled", err)
		}
	}
	if got := c.ExpectStreamError(); got != "policy-violation" {
		t.Fatalf("after 5 attempts: %s", got)
	}
}

// checkDisabledText: account-disabled carries a text saying the account
// is disabled, and never the operator's reason.
func checkDisabledText(t *testing.T, failure *xml.Element, cond string) {
	t.Helper()
	text := failure.Child(nsSASL, "text")
	if cond != "account-disabled" {
		return
	}
	if text == nil || !strings.Contains(text.Text(), "disabled") {
		t.Fatalf("account-disabled without a text saying so: %s", failure)
	}
	if strings.Contains(failure.String(), "spam") || strings.Contains(failure.String(), "ticket") {
		t.Fatalf("the operator's reason reached the client: %s", failure)
	}
}

// A session detached for XEP-0198 resumption cannot be resumed once its
// account is disabled (here as skald user disable does it, in the store
// only): resuming needs a new authentication, which is refused.
func TestSMResumeDisabledAccount(t *testing.T) {
	f := start(t, nil)
	alice := xmpptest.Dial(t, f.addr)
	alice.Login("localhost", "alice", "secret-alice", "r")
	id := enableSM(t, alice, true).Attr("id")
	alice.Raw().Close()
	eventually(t, "alice's connection is gone", func() bool { return f.srv.ConnCount() == 0 })
	if err := f.users.SetUserDisabled(context.Background(), "alice@localhost", true, ""); err != nil {
		t.Fatal(err)
	}

	nu := xmpptest.Dial(t, f.addr)
	nu.OpenStream("localhost")
	nu.StartTLS("localhost")
	if err := nu.TrySCRAM("alice", "secret-alice"); err == nil || err.Error() != "sasl: account-disabled" {
		t.Fatalf("authentication for resumption: %v, want account-disabled", err)
	}
	// Unauthenticated, the resume request is refused outright.
	nu.Sendf(`<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>`, id)
	if got := nu.ExpectStreamError(); got != "not-authorized" {
		t.Fatalf("resume without authentication: %s", got)
	}
}

// Closing a session with a text (the adhoc disable-user command does, via
// router.Session.CloseWithText) ends its stream with that condition and
// text (RFC 6120 §4.9.3.14), after which the connection closes.
func TestSessionCloseWithText(t *testing.T) {
	f := start(t, nil)
	alice := xmpptest.Dial(t, f.addr)
	alice.Login("localhost", "alice", "secret-alice", "r")
	ss := f.router.Sessions("alice@localhost")
	if len(ss) != 1 {
		t.Fatalf("%d sessions", len(ss))
	}
	ss[0].CloseWithText("policy-violation", "the account is disabled")
	el := streamErrorElement(t, alice)
	if el.Child("urn:ietf:params:xml:ns:xmpp-streams", "policy-violation") == nil {
		t.Fatalf("stream error %s, want policy-violation", el)
	}
	if txt := el.Child("urn:ietf:params:xml:ns:xmpp-streams", "text"); txt == nil || txt.Text() != "the account is disabled" {
		t.Fatalf("stream error %s, want the text", el)
	}
	alice.ExpectClosed()
}

// SASL2 (XEP-0388) refuses a disabled account as RFC 6120 SASL does,
// and processes nothing inline: neither a Bind 2 request nor a XEP-0198
// resumption of the session the account left before it was disabled
// (here as skald user disable does it, in the store only) goes through.
func TestSASL2DisabledAccount(t *testing.T) {
	f := start(t, nil)
	alice := tlsStream(t, f)
	success, _ := sasl2OK(t, alice, "alice", userAgent1+`<bind xmlns='urn:xmpp:bind:0'><tag>T</tag><enable xmlns='urn:xmpp:sm:3' resume='true'/></bind>`)
	aliceJID := authzid(success)
	id := success.Child(nsBind2, "bound").Child(nsSM, "enabled").Attr("id")
	alice.Raw().Close()
	eventually(t, "alice's session to detach", func() bool {
		rs := f.router.Session(jid.MustParse(aliceJID))
		return rs != nil && rs.Dormant()
	})
	if err := f.users.SetUserDisabled(context.Background(), "alice@localhost", true, "spam"); err != nil {
		t.Fatal(err)
	}
	for _, extra := range []string{
		"",
		userAgent1 + `<bind xmlns='urn:xmpp:bind:0'><tag>T</tag></bind>`,
		`<resume xmlns='urn:xmpp:sm:3' previd='` + id + `' h='0'/>`,
	} {
		c := tlsStream(t, f)
		failure, err := c.SASL2(xmpptest.SCRAM{}, "alice", "secret-alice", extra)
		if err == nil || err.Error() != "sasl: account-disabled" {
			t.Fatalf("SASL2 with %q: %v (%s), want account-disabled", extra, err, failure)
		}
		if failure != nil && strings.Contains(failure.String(), "spam") {
			t.Errorf("the operator's reason reached the client: %s", failure)
		}
		// Refused, not cut off: bob logs in on the same stream.
		sasl2OK(t, c, "bob", `<bind xmlns='urn:xmpp:bind:0'/>`)
	}
	for _, s := range f.router.Sessions("alice@localhost") {
		if !s.Dormant() {
			t.Errorf("alice has a live session %s", s.JID())
		}
	}
}
