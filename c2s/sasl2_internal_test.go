package c2s

import (
	"context"
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
