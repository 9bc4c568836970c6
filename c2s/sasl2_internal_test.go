package c2s

import (
	"context"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
	"github.com/skald-xmpp/skald/stream"
)

// Bind 2 enables stream management before the session is attached (its
// <enabled/> is in the <success/>): what was routed to the session in
// between goes out after that, so it counts for XEP-0198 as sent, is kept
// for resumption, and is followed by an <r/>.
func TestAttachCountsEarlyStanzasOnceSMIsOn(t *testing.T) {
	st := memory.New()
	if err := st.CreateUser(context.Background(), "alice@localhost", storage.Credentials{}); err != nil {
		t.Fatal(err)
	}
	srv := NewServer(DefaultConfig(), router.New(router.Config{Domains: []string{"localhost"}, Users: st, Log: quiet}), st, quiet)
	c, rd := pipeConn(t, srv)
	c.user, c.domain = "alice", "localhost"
	full := jid.MustParse("alice@localhost/r")
	go c.bind(full, func() []byte {
		c.sess.Send(xml.New(stream.NSClient, "message", "id", "early"))
		c.sess.mu.Lock()
		enabled := c.smEnableLocked(xml.New(stream.NSSM, "enable"))
		c.sess.mu.Unlock()
		return enabled.Bytes(stream.NSClient)
	})
	for _, want := range []string{"enabled", "message", "r"} {
		el, err := rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		if el.Local != want {
			t.Fatalf("got %s, want <%s/>", el, want)
		}
	}
	s := srv.router.Session(full)
	if s == nil {
		t.Fatal("not bound")
	}
	c.sess.mu.Lock()
	sent, unacked := c.sess.sent, len(c.sess.unacked)
	c.sess.mu.Unlock()
	if sent != 1 || unacked != 1 {
		t.Fatalf("sent %d, unacked %d; want the early message counted", sent, unacked)
	}
	srv.router.Unbind(context.Background(), s)
}

// FuzzAuthenticate: whatever an <authenticate/> holds, reading it and
// deriving the Bind 2 resource from it neither panics nor binds anything
// but a valid full JID of the authenticated account.
func FuzzAuthenticate(f *testing.F) {
	f.Add(`<authenticate xmlns='urn:xmpp:sasl:2' mechanism='PLAIN'><initial-response>AGFsaWNlAHNlY3JldA==</initial-response>` +
		`<user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'><software>AwesomeXMPP</software><device>Kiva's Phone</device></user-agent>` +
		`<bind xmlns='urn:xmpp:bind:0'><tag>Conversations.abcd</tag><enable xmlns='urn:xmpp:sm:3'/></bind></authenticate>`)
	f.Add(`<authenticate xmlns='urn:xmpp:sasl:2' mechanism=''><bind xmlns='urn:xmpp:bind:0'><tag> /\u00e9\u0301 </tag></bind></authenticate>`)
	f.Add(`<authenticate xmlns='urn:xmpp:sasl:2'><initial-response>
  SSBzaG91bGQ=
</initial-response><resume xmlns='urn:xmpp:sm:3' previd='x' h='-1'/></authenticate>`)
	c := &conn{user: "alice", domain: "localhost"}
	f.Fuzz(func(t *testing.T, doc string) {
		rd := xml.NewReader(strings.NewReader(`<s xmlns='jabber:client'>`+doc), xml.DefaultLimits, 0)
		if _, _, err := rd.ReadStreamStart(); err != nil {
			return
		}
		el, err := rd.Next()
		if err != nil {
			return
		}
		req := parseAuthenticate(el)
		profileSASL2.decode(req.initial, req.hasInitial)
		if req.bind == nil {
			return
		}
		full := c.bind2JID(req.bind.ChildText(NSBind2, "tag"), req.userAgentID)
		if full.Bare().String() != "alice@localhost" || full.Resource() == "" {
			t.Fatalf("bound %q", full)
		}
		if _, err := jid.Parse(full.String()); err != nil {
			t.Fatalf("bound %q, which does not parse: %v", full, err)
		}
	})
}
