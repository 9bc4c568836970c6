package c2s_test

import (
	"context"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/c2s"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/stanza"
)

// fakeRegistrar records what c2s hands it and answers every set with an
// empty result, every get with <query/>.
type fakeRegistrar struct {
	open bool
	mu   sync.Mutex
	got  []string // "domain ip type"
}

func (r *fakeRegistrar) RegisterUnauthenticated(_ context.Context, iq *xml.Element, domain, ip string) (*xml.Element, error) {
	r.mu.Lock()
	r.got = append(r.got, domain+" "+ip+" "+iq.Attr("type")+" from="+iq.Attr("from"))
	r.mu.Unlock()
	if !r.open {
		return nil, stanza.E(stanza.ServiceUnavailable, "")
	}
	if iq.Attr("type") == "get" {
		return xml.New(c2s.NSRegister, "query"), nil
	}
	return nil, nil
}

func (r *fakeRegistrar) RegistrationOpen() bool { return r.open }

func (r *fakeRegistrar) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func hasRegister(f *xml.Element) bool { return f.Child(c2s.NSRegisterFeature, "register") != nil }

// TestRegistrationBeforeAuth: the feature is offered after TLS only and
// while the registrar is open; registration iqs reach the registrar
// without the client's claimed 'from', and get one reply each; replies to
// nothing are dropped; after authentication c2s no longer offers it.
func TestRegistrationBeforeAuth(t *testing.T) {
	reg := &fakeRegistrar{open: true}
	f := start(t, func(c *c2s.Config) { c.Registrar = reg })
	c := xmpptest.Dial(t, f.addr)
	c.OpenStream("localhost")
	if hasRegister(c.Features) {
		t.Fatalf("offered before TLS: %s", c.Features)
	}
	c.StartTLS("localhost")
	if !hasRegister(c.Features) {
		t.Fatalf("not offered after TLS: %s", c.Features)
	}
	c.Send(`<iq type='get' id='g1' from='mallory@localhost/x'><query xmlns='jabber:iq:register'/></iq>`)
	if el := c.Next(); el.String() != `<iq xmlns="jabber:client" type="result" id="g1"><query xmlns="jabber:iq:register"/></iq>` {
		t.Fatalf("get reply %s", el)
	}
	c.Send(`<iq type='result' id='stray'><query xmlns='jabber:iq:register'/></iq>`)
	c.Send(`<iq type='set' id='s1'><query xmlns='jabber:iq:register'><username>x</username></query><extra xmlns='y'/></iq>`)
	if el := c.Next(); el.Attr("id") != "s1" || el.Child("", "error") == nil || el.Child("", "error").Child(stanza.NSStanzas, "bad-request") == nil {
		t.Fatalf("two children: %s", el)
	}
	c.Send(`<iq type='set' id='s2'><query xmlns='jabber:iq:register'><username>x</username></query></iq>`)
	if el := c.Next(); el.String() != `<iq xmlns="jabber:client" type="result" id="s2"/>` {
		t.Fatalf("set reply %s", el)
	}
	// A second account from the same connection: refused by c2s (§3.1.1).
	c.Send(`<iq type='set' id='s3'><query xmlns='jabber:iq:register'><username>z</username></query></iq>`)
	if el := c.Next(); el.Attr("id") != "s3" || el.Child("", "error").Child(stanza.NSStanzas, "not-acceptable") == nil {
		t.Fatalf("second registration: %s", el)
	}
	want := []string{"localhost 127.0.0.1 get from=", "localhost 127.0.0.1 set from="}
	if got := reg.calls(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("registrar calls %q, want %q", got, want)
	}
	c.AuthSCRAM("localhost", "alice", "secret-alice")
	if hasRegister(c.Features) {
		t.Errorf("offered after authentication: %s", c.Features)
	}
}

// TestRegistrationClosedOrInsecure: a closed registrar is not offered but
// still answers (service-unavailable, XEP-0077 §3.1); on a loopback
// stream without TLS nothing reaches the registrar: not-authorized.
func TestRegistrationClosedOrInsecure(t *testing.T) {
	reg := &fakeRegistrar{open: false}
	f := start(t, func(c *c2s.Config) { c.Registrar = reg })
	c := xmpptest.DialTLS(t, f.tlsAddr)
	c.OpenStream("localhost")
	if hasRegister(c.Features) {
		t.Fatalf("closed registrar offered: %s", c.Features)
	}
	c.Send(`<iq type='get' id='g1'><query xmlns='jabber:iq:register'/></iq>`)
	if el := c.Next(); el.Child("", "error").Child(stanza.NSStanzas, "service-unavailable") == nil {
		t.Fatalf("closed: %s", el)
	}

	open := &fakeRegistrar{open: true}
	p := start(t, func(c *c2s.Config) { c.Registrar = open; c.TLS = nil; c.RequireTLS = false })
	d := xmpptest.Dial(t, p.addr)
	d.OpenStream("localhost")
	if hasRegister(d.Features) {
		t.Fatalf("offered without TLS: %s", d.Features)
	}
	d.Send(`<iq type='set' id='s1'><query xmlns='jabber:iq:register'><username>x</username><password>y</password></query></iq>`)
	if el := d.Next(); el.Child("", "error").Child(stanza.NSStanzas, "not-authorized") == nil {
		t.Fatalf("without TLS: %s", el)
	}
	if got := open.calls(); len(got) != 0 {
		t.Errorf("registrar called without TLS: %q", got)
	}
}
