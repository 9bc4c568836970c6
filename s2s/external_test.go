package s2s_test

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/certs"
	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/jid"
)

// TestExternalRefusedFallsBackToDialback: a peer with a certificate b
// trusts offers SASL EXTERNAL and dialback, then refuses EXTERNAL (it
// does not trust b's certificate); b authenticates by dialback on the
// same stream instead of failing it, and the stanza goes.
func TestExternalRefusedFallsBackToDialback(t *testing.T) {
	dir := t.TempDir()
	cf, kf, err := certs.EnsureSelfSigned(dir, []string{"o.test"})
	if err != nil {
		t.Fatal(err)
	}
	oTLS, err := certs.Load(cf, kf)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	b := startNodeRoots(t, "b.test", "b-secret", true, map[string]string{"o.test": l.Addr().String()}, roots)
	pem, err := os.ReadFile(cf)
	if err != nil || !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("trusting o's certificate: %v", err)
	}

	const header = `<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='o.test' to='b.test' id='%s' version='1.0'>`
	got := make(chan string, 1)
	go func() {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		c := xmpptest.NewConn(t, nc)
		c.ReadHeader()
		c.Sendf(header+`<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>`, "s1")
		c.Next() // starttls
		c.Send(`<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)
		tc := tls.Server(nc, oTLS)
		c = xmpptest.NewConn(t, tc)
		c.ReadHeader()
		c.Sendf(header+`<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>EXTERNAL</mechanism></mechanisms><dialback xmlns='urn:xmpp:features:dialback'/></stream:features>`, "s2")
		if el := c.Next(); !el.Is("urn:ietf:params:xml:ns:xmpp-sasl", "auth") {
			got <- "expected auth, got " + el.String()
			return
		}
		c.Send(`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>`)
		el := c.Next()
		if !el.Is(nsDB, "result") || el.Attr("from") != "b.test" || el.Attr("to") != "o.test" || el.Text() == "" {
			got <- "expected db:result, got " + el.String()
			return
		}
		c.Send(`<db:result from='o.test' to='b.test' type='valid'/>`)
		got <- c.Next().String()
	}()

	msg := routertest.Parse(t, `<message from='user@b.test/res' to='user@o.test' type='chat'><body>after EXTERNAL</body></message>`)
	if err := b.r.SendRemote(msg, jid.MustParse("user@b.test/res"), jid.MustParse("user@o.test")); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if !strings.Contains(s, "after EXTERNAL") {
			t.Fatalf("peer got %s", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("peer got nothing")
	}
}
