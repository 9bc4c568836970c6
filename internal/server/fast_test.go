package server_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"path/filepath"
	"testing"

	"github.com/skald-xmpp/skald/config"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/storage/sqlite"
)

const fastUA = `<user-agent id='c0ffee00-0000-4000-8000-00000000fa57'><software>Test</software></user-agent>`

// fastLogin logs alice in with a XEP-0484 token (HT-SHA-256-NONE) and
// returns the server's answer.
func fastLogin(t *testing.T, addr, token string) *xml.Element {
	t.Helper()
	c := xmpptest.Dial(t, addr)
	c.OpenStream("localhost")
	c.StartTLS("localhost")
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("Initiator"))
	c.Sendf(`<authenticate xmlns='urn:xmpp:sasl:2' mechanism='HT-SHA-256-NONE'><initial-response>%s</initial-response>%s<fast xmlns='urn:xmpp:fast:0'/></authenticate>`,
		base64.StdEncoding.EncodeToString(append([]byte("alice\x00"), m.Sum(nil)...)), fastUA)
	return c.Next()
}

// XEP-0484 on the complete server over SQLite: a token asked for at a
// password login logs in, until the user changes the password in-band
// (XEP-0077), which revokes it.
func TestFASTEndToEnd(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "skald.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := startServer(t, st, nil)

	c := xmpptest.Dial(t, s.addr)
	c.OpenStream("localhost")
	c.StartTLS("localhost")
	fast := c.Features.Child("urn:xmpp:sasl:2", "authentication").Child("urn:xmpp:sasl:2", "inline").Child("urn:xmpp:fast:0", "fast")
	if fast == nil {
		t.Fatalf("FAST not offered by default: %s", c.Features)
	}
	success, err := c.SASL2(xmpptest.SCRAM{}, "alice", "pw-alice", fastUA+`<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>`)
	if err != nil {
		t.Fatal(err)
	}
	token := success.Child("urn:xmpp:fast:0", "token").Attr("token")
	if token == "" {
		t.Fatalf("no token: %s", success)
	}
	c.Next() // features
	c.Bind("desk")

	if el := fastLogin(t, s.addr, token); !el.Is("urn:xmpp:sasl:2", "success") {
		t.Fatalf("FAST login: %s", el)
	}
	if cond, el := ask(t, c, "pw", `<iq type='set' id='pw' to='localhost'><query xmlns='jabber:iq:register'><username>alice</username><password>n3w secret</password></query></iq>`); cond != "result" {
		t.Fatalf("password change: %s %s", cond, el)
	}
	if el := fastLogin(t, s.addr, token); !el.Is("urn:xmpp:sasl:2", "failure") || el.FirstElement().Local != "not-authorized" {
		t.Fatalf("FAST login after a password change: %s", el)
	}
}

// [c2s] fast_token_lifetime = 0 stops offering FAST.
func TestFASTOff(t *testing.T) {
	s := startServer(t, nil, func(c *config.Config) { c.C2S.FastTokenLifetime = 0 })
	c := xmpptest.Dial(t, s.addr)
	c.OpenStream("localhost")
	c.StartTLS("localhost")
	if c.Features.Child("urn:xmpp:sasl:2", "authentication").Child("urn:xmpp:sasl:2", "inline").Child("urn:xmpp:fast:0", "fast") != nil {
		t.Fatalf("FAST offered with fast_token_lifetime = 0: %s", c.Features)
	}
}
