package c2s_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/metrics"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/jid"
)

// XEP-0388 Extensible SASL Profile and XEP-0386 Bind 2, raw XML over a
// real socket.

const (
	nsSASL2    = "urn:xmpp:sasl:2"
	nsBind2    = "urn:xmpp:bind:0"
	nsCarbons  = "urn:xmpp:carbons:2"
	nsCSI      = "urn:xmpp:csi:0"
	nsBindRFC  = "urn:ietf:params:xml:ns:xmpp-bind"
	userAgent1 = `<user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'><software>AwesomeXMPP</software><device>Kiva's Phone</device></user-agent>`
	userAgent2 = `<user-agent id='0b7a2c1e-6c8f-4b9e-9d3a-55e1c2f0a001'><software>AwesomeXMPP</software></user-agent>`
)

// tlsStream connects and negotiates STARTTLS, up to the features of the
// encrypted stream.
func tlsStream(t *testing.T, f *fixture) *xmpptest.Conn {
	t.Helper()
	c := xmpptest.Dial(t, f.addr)
	c.OpenStream("localhost")
	c.StartTLS("localhost")
	return c
}

// sasl2OK authenticates user with SASL2 and extra, and returns the
// <success/> and the features that follow it.
func sasl2OK(t *testing.T, c *xmpptest.Conn, user, extra string) (success, features *xml.Element) {
	t.Helper()
	success, err := c.SASL2(xmpptest.SCRAM{}, user, "secret-"+user, extra)
	if err != nil {
		t.Fatalf("SASL2: %v (%s)", err, success)
	}
	features = c.Next()
	if !features.Is(nsStreams, "features") {
		t.Fatalf("SASL2 success not followed by stream features: %s", features)
	}
	return success, features
}

func authzid(success *xml.Element) string {
	return success.ChildText(nsSASL2, "authorization-identifier")
}

func TestSASL2Features(t *testing.T) {
	f := start(t, nil)
	c := xmpptest.Dial(t, f.addr)
	c.OpenStream("localhost")
	if c.Features.Child(nsSASL2, "authentication") != nil {
		t.Fatalf("SASL2 offered before TLS (XEP-0388 §4): %s", c.Features)
	}
	c.StartTLS("localhost")
	auth := c.Features.Child(nsSASL2, "authentication")
	if auth == nil {
		t.Fatalf("no SASL2 feature: %s", c.Features)
	}
	var legacy, v2 []string
	for _, m := range c.Features.Child(nsSASL, "mechanisms").Elements() {
		legacy = append(legacy, m.Text())
	}
	for _, m := range auth.Elements() {
		if m.Is(nsSASL2, "mechanism") {
			v2 = append(v2, m.Text())
		}
	}
	if strings.Join(legacy, " ") != strings.Join(v2, " ") {
		t.Fatalf("SASL2 mechanisms %v, legacy %v", v2, legacy)
	}
	inline := auth.Child(nsSASL2, "inline")
	if inline.Child(nsSM, "sm") == nil || inline.Child(nsSM, "resume") == nil {
		t.Fatalf("no inline XEP-0198 resumption: %s", auth)
	}
	var vars []string
	for _, fe := range inline.Child(nsBind2, "bind").Child(nsBind2, "inline").Elements() {
		vars = append(vars, fe.Attr("var"))
	}
	if got, want := strings.Join(vars, " "), nsSM+" "+nsCarbons+" "+nsCSI; got != want {
		t.Fatalf("Bind 2 inline features %q, want %q", got, want)
	}
	// XEP-0440: the channel binding types -PLUS binds to.
	if c.Features.Child("urn:xmpp:sasl-cb:0", "sasl-channel-binding") == nil {
		t.Fatalf("no XEP-0440 sasl-channel-binding: %s", c.Features)
	}
}

// SASL2 without Bind 2: a bare JID authorized, no restart, the features
// of an authenticated stream at once, and legacy binding still works.
func TestSASL2ThenLegacyBind(t *testing.T) {
	f := start(t, nil)
	reg := metrics.NewRegistry()
	reg.Register(f.srv)
	c := tlsStream(t, f)
	success, features := sasl2OK(t, c, "alice", userAgent1)
	waitValue(t, reg, "skald_c2s_sasl2_logins_total", 1)
	if got := authzid(success); got != "alice@localhost" {
		t.Fatalf("authorization-identifier %q, want the bare JID", got)
	}
	if features.Child(nsBindRFC, "bind") == nil || features.Child(nsSM, "sm") == nil {
		t.Fatalf("features after SASL2 %s", features)
	}
	if j := c.Bind("laptop"); j != "alice@localhost/laptop" {
		t.Fatalf("bound %s", j)
	}
}

func TestSASL2Bind2(t *testing.T) {
	f := start(t, nil)
	bob := xmpptest.Dial(t, f.addr)
	bob.Login("localhost", "bob", "secret-bob", "desk")

	c := tlsStream(t, f)
	success, features := sasl2OK(t, c, "alice", userAgent1+`<bind xmlns='urn:xmpp:bind:0'><tag>Conversations.abcd</tag>`+
		`<enable xmlns='urn:xmpp:sm:3' resume='true'/><enable xmlns='urn:xmpp:carbons:2'/><inactive xmlns='urn:xmpp:csi:0'/></bind>`)
	full := authzid(success)
	if !strings.HasPrefix(full, "alice@localhost/Conversations.abcd/") || len(full) <= len("alice@localhost/Conversations.abcd/") {
		t.Fatalf("authorization-identifier %q, want the full JID with the tag as prefix (XEP-0386 §3.2.1)", full)
	}
	if strings.Contains(full, "d4565fa7") {
		t.Fatalf("the user-agent id is exposed in the resource: %s", full)
	}
	bound := success.Child(nsBind2, "bound")
	if bound == nil {
		t.Fatalf("no <bound/>: %s", success)
	}
	enabled := bound.Child(nsSM, "enabled")
	if enabled == nil || enabled.Attr("resume") != "true" || enabled.Attr("id") == "" {
		t.Fatalf("no inline <enabled/> in <bound/>: %s", success)
	}
	for _, offered := range []*xml.Element{features.Child(nsBindRFC, "bind"), features.Child(nsSM, "sm")} {
		if offered != nil {
			t.Fatalf("features after Bind 2 offer %s again: %s", offered, features)
		}
	}
	rs := f.router.Session(jid.MustParse(full))
	if rs == nil {
		t.Fatalf("%s is not bound", full)
	}
	if !rs.Carbons() {
		t.Fatal("carbons not enabled inline")
	}
	if !rs.Dormant() {
		t.Fatal("session does not begin inactive (XEP-0352 inline)")
	}
	c.Send(`<active xmlns='urn:xmpp:csi:0'/>`)

	// The session routes, and stream management counts from <enabled/>.
	bob.Sendf(`<message to='%s' id='m1' type='chat'><body>hi</body></message>`, full)
	if m := c.Next(); m.Local != "message" || m.Attr("id") != "m1" {
		t.Fatalf("want m1, got %s", m)
	}
	if r := c.Next(); !r.Is(nsSM, "r") {
		t.Fatalf("want <r/>, got %s", r)
	}
	c.Send(`<a xmlns='urn:xmpp:sm:3' h='1'/><r xmlns='urn:xmpp:sm:3'/>`)
	if a := c.Next(); !a.Is(nsSM, "a") || a.Attr("h") != "0" {
		t.Fatalf("want <a h='0'/>, got %s", a)
	}
	// Legacy binding on top is refused like a second bind.
	c.Send(`<iq type='set' id='b2'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`)
	if el := c.Next(); el.Attr("type") != "error" {
		t.Fatalf("second bind answered %s", el)
	}

	// The same installation (user-agent id) and tag gets the same
	// resource, and its earlier session ends (XEP-0386 §3.2).
	again := tlsStream(t, f)
	success2, _ := sasl2OK(t, again, "alice", userAgent1+`<bind xmlns='urn:xmpp:bind:0'><tag>Conversations.abcd</tag></bind>`)
	if got := authzid(success2); got != full {
		t.Fatalf("same user agent bound %s, then %s: not stable", full, got)
	}
	if cond := c.ExpectStreamError(); cond != "conflict" {
		t.Fatalf("earlier session of the same client ended with %q, want conflict", cond)
	}
	// Another installation gets another resource.
	other := tlsStream(t, f)
	success3, _ := sasl2OK(t, other, "alice", userAgent2+`<bind xmlns='urn:xmpp:bind:0'><tag>Conversations.abcd</tag></bind>`)
	if got := authzid(success3); got == full || !strings.HasPrefix(got, "alice@localhost/Conversations.abcd/") {
		t.Fatalf("another user agent bound %s (first %s)", got, full)
	}
	// No user agent, no tag: a random resource.
	bare := tlsStream(t, f)
	success4, _ := sasl2OK(t, bare, "alice", `<bind xmlns='urn:xmpp:bind:0'/>`)
	if j, err := jid.Parse(authzid(success4)); err != nil || j.Resource() == "" || j.Bare().String() != "alice@localhost" {
		t.Fatalf("bind without tag bound %q", authzid(success4))
	}
}

func TestSASL2InlineResume(t *testing.T) {
	f := start(t, nil)
	bob := xmpptest.Dial(t, f.addr)
	bob.Login("localhost", "bob", "secret-bob", "desk")

	c := tlsStream(t, f)
	success, _ := sasl2OK(t, c, "alice", userAgent1+`<bind xmlns='urn:xmpp:bind:0'><tag>T</tag><enable xmlns='urn:xmpp:sm:3' resume='true'/></bind>`)
	full := authzid(success)
	id := success.Child(nsBind2, "bound").Child(nsSM, "enabled").Attr("id")
	c.Raw().Close()
	eventually(t, "the session to detach", func() bool {
		rs := f.router.Session(jid.MustParse(full))
		return rs != nil && rs.Dormant()
	})
	bob.Sendf(`<message to='%s' id='kept' type='chat'><body>while away</body></message>`, full)

	// Resumption inline: <resumed/> in <success/>, the full JID, no
	// binding (XEP-0386 §3.2: the <bind/> is ignored), then the unacked
	// message.
	c2 := tlsStream(t, f)
	success, features := sasl2OK(t, c2, "alice", userAgent1+`<resume xmlns='urn:xmpp:sm:3' previd='`+id+`' h='0'/>`+
		`<bind xmlns='urn:xmpp:bind:0'><tag>T</tag></bind>`)
	resumed := success.Child(nsSM, "resumed")
	if resumed == nil || resumed.Attr("previd") != id || resumed.Attr("h") != "0" {
		t.Fatalf("no <resumed/> in <success/>: %s", success)
	}
	if success.Child(nsBind2, "bound") != nil {
		t.Fatalf("bound although resumed: %s", success)
	}
	if got := authzid(success); got != full {
		t.Fatalf("authorization-identifier %q, want %q", got, full)
	}
	if features.Child(nsBindRFC, "bind") != nil {
		t.Fatalf("binding offered on a resumed stream: %s", features)
	}
	if m := c2.Next(); m.Local != "message" || m.Attr("id") != "kept" {
		t.Fatalf("want the unacknowledged message, got %s", m)
	}

	// A resumption that fails: <failed/> in <success/>, then Bind 2 binds.
	c3 := tlsStream(t, f)
	success, _ = sasl2OK(t, c3, "alice", `<resume xmlns='urn:xmpp:sm:3' previd='nonexistent' h='0'/>`+
		`<bind xmlns='urn:xmpp:bind:0'><tag>T2</tag></bind>`)
	failed := success.Child(nsSM, "failed")
	if failed == nil || failed.Child(nsStanzas, "item-not-found") == nil {
		t.Fatalf("no <failed/> with item-not-found in <success/>: %s", success)
	}
	if success.Child(nsBind2, "bound") == nil || !strings.HasPrefix(authzid(success), "alice@localhost/T2/") {
		t.Fatalf("no binding after the failed resumption: %s", success)
	}
}

func TestSASL2Failures(t *testing.T) {
	f := start(t, nil)
	plain := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, send, want string
	}{
		{"unknown mechanism", `<authenticate xmlns='urn:xmpp:sasl:2' mechanism='BLURDYBLOOP'><initial-response>AA==</initial-response></authenticate>`, "invalid-mechanism"},
		{"wrong password", `<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>` + plain("\x00alice\x00wrong") + `</initial-response><bind xmlns='urn:xmpp:bind:0'/></authenticate>`, "not-authorized"},
		{"upgrade not offered", `<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN' upgrade='UPGR-SCRAM-SHA-512'><initial-response>` + plain("\x00alice\x00secret-alice") + `</initial-response></authenticate>`, "invalid-mechanism"},
		{"bad base64", `<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>!!!</initial-response></authenticate>`, "incorrect-encoding"},
		{"abort without exchange", `<abort xmlns='urn:xmpp:sasl:2'/>`, "aborted"},
		{"abort during exchange", `<authenticate xmlns='urn:xmpp:sasl:2' mechanism='SCRAM-SHA-256'/><abort xmlns='urn:xmpp:sasl:2'/>`, "aborted"},
		{"authzid of another account", `<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>` + plain("bob@localhost\x00alice\x00secret-alice") + `</initial-response></authenticate>`, "invalid-authzid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tlsStream(t, f)
			c.Send(tc.send)
			el := c.Next()
			if el.Is(nsSASL2, "challenge") {
				el = c.Next()
			}
			if !el.Is(nsSASL2, "failure") || el.Child(nsSASL, tc.want) == nil {
				t.Fatalf("got %s, want <failure xmlns='%s'><%s xmlns='%s'/>", el, nsSASL2, tc.want, nsSASL)
			}
			// Nothing inline was processed, and the stream goes on: the
			// client may try again.
			if rs := f.router.Sessions("alice@localhost"); len(rs) != 0 {
				t.Fatalf("failed authentication bound %v", rs)
			}
			success, _ := sasl2OK(t, c, "alice", "")
			if authzid(success) != "alice@localhost" {
				t.Fatalf("retry: %s", success)
			}
		})
	}
}

// The stream header's 'from' is the identity SASL2 may authorize
// (XEP-0388 §2.3): an authzid naming anyone else fails.
func TestSASL2AuthzidMustMatchHeader(t *testing.T) {
	f := start(t, nil)
	c := xmpptest.Dial(t, f.addr)
	c.HeaderFormat = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='%s' from='bob@localhost' version='1.0'>`
	c.OpenStream("localhost")
	c.StartTLS("localhost")
	msg := base64.StdEncoding.EncodeToString([]byte("alice@localhost\x00alice\x00secret-alice"))
	c.Sendf(`<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>%s</initial-response></authenticate>`, msg)
	if el := c.Next(); !el.Is(nsSASL2, "failure") || el.Child(nsSASL, "invalid-authzid") == nil {
		t.Fatalf("authzid alice with header from bob: %s", el)
	}
}

func TestSASL2StreamErrors(t *testing.T) {
	f := start(t, nil)
	t.Run("authenticate after success", func(t *testing.T) {
		c := tlsStream(t, f)
		sasl2OK(t, c, "alice", "")
		c.Send(`<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>AA==</initial-response></authenticate>`)
		if cond := c.ExpectStreamError(); cond != "policy-violation" {
			t.Fatalf("second authenticate: %q, want a stream error (XEP-0388 §6.8)", cond)
		}
	})
	t.Run("stanza during the exchange", func(t *testing.T) {
		c := tlsStream(t, f)
		c.Send(`<authenticate xmlns='urn:xmpp:sasl:2' mechanism='SCRAM-SHA-256'/>`)
		if el := c.Next(); !el.Is(nsSASL2, "challenge") {
			t.Fatalf("want a challenge, got %s", el)
		}
		c.Send(`<message to='bob@localhost'><body>x</body></message>`)
		if cond := c.ExpectStreamError(); cond == "" {
			t.Fatal("no stream error")
		}
	})
	t.Run("too many failures", func(t *testing.T) {
		c := tlsStream(t, f)
		for i := 0; ; i++ {
			_, err := c.SASL2(xmpptest.SCRAM{}, "alice", "wrong", "")
			if err == nil || err.Error() != "sasl: not-authorized" {
				t.Fatalf("attempt %d: %v", i, err)
			}
			if i == 4 {
				break
			}
		}
		if cond := c.ExpectStreamError(); cond != "policy-violation" {
			t.Fatalf("after five failures: %q", cond)
		}
	})
	t.Run("before TLS", func(t *testing.T) {
		c := xmpptest.Dial(t, f.addr)
		c.OpenStream("localhost")
		c.Send(`<authenticate xmlns='urn:xmpp:sasl:2' mechanism='SCRAM-SHA-256'/>`)
		if el := c.Next(); !el.Is(nsSASL2, "failure") || el.Child(nsSASL, "encryption-required") == nil {
			t.Fatalf("SASL2 before TLS: %s", el)
		}
	})
}

// SCRAM-SHA-256-PLUS with tls-exporter (RFC 9266) works inside SASL2 as in
// the legacy profile, and a wrong binding fails.
func TestSASL2SCRAMPlus(t *testing.T) {
	f := start(t, nil)
	c := tlsStream(t, f)
	opt := xmpptest.SCRAM{Mechanism: "SCRAM-SHA-256-PLUS", GS2: "p=tls-exporter,,", Binding: make([]byte, 32)}
	if _, err := c.SASL2(opt, "alice", "secret-alice", ""); err == nil {
		t.Fatal("a wrong channel binding authenticated")
	}
	opt.Binding = exporterBinding(t, c)
	success, err := c.SASL2(opt, "alice", "secret-alice", `<bind xmlns='urn:xmpp:bind:0'/>`)
	if err != nil {
		t.Fatalf("SCRAM-SHA-256-PLUS in SASL2: %v", err)
	}
	if success.Child(nsBind2, "bound") == nil {
		t.Fatalf("no <bound/>: %s", success)
	}
}

// Without CSI and carbons configured, Bind 2 does not offer them.
func TestSASL2InlineFeaturesFollowConfig(t *testing.T) {
	f := start(t, func(c *c2s.Config) { c.CSI, c.Carbons = false, false })
	c := tlsStream(t, f)
	in := c.Features.Child(nsSASL2, "authentication").Child(nsSASL2, "inline").Child(nsBind2, "bind").Child(nsBind2, "inline")
	if len(in.Elements()) != 1 || in.Elements()[0].Attr("var") != nsSM {
		t.Fatalf("Bind 2 inline features %s", in)
	}
}
