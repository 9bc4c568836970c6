package server_test

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

const nsBlocking = "urn:xmpp:blocking"

func isID(id string) func(*xml.Element) bool {
	return func(e *xml.Element) bool { return e.Local == "iq" && e.Attr("id") == id }
}

// blockItems returns the jids of the <item/>s of child local of el.
func blockItems(t *testing.T, el *xml.Element, local string) []string {
	t.Helper()
	p := el.Child(nsBlocking, local)
	if p == nil {
		t.Fatalf("no <%s/> in %s", local, el)
	}
	var out []string
	for _, it := range p.ChildrenNamed(nsBlocking, "item") {
		out = append(out, it.Attr("jid"))
	}
	return out
}

// quiet checks that c has nothing waiting before the answer to a ping.
func quiet(t *testing.T, c *xmpptest.Conn, id string) {
	t.Helper()
	c.Sendf(`<iq type='get' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>`, id)
	if el := c.Next(); el.Attr("id") != id {
		t.Fatalf("unexpected stanza: %s", el)
	}
}

// TestBlockingCommand runs XEP-0191 §3.1-3.5 over a socket: the feature
// is advertised, the list is read, block and unblock are answered and
// pushed to the resources that requested the list, and only to those.
func TestBlockingCommand(t *testing.T) {
	s := startServer(t, nil, nil)
	phone := login(t, s, "alice", "phone")
	tablet := login(t, s, "alice", "tablet") // never requests the list

	if cond, el := discoAsk(t, phone, "info", "alice@localhost", nsDiscoInfo, ""); cond != "result" {
		t.Fatalf("disco#info: %s", el)
	} else {
		found := false
		for _, f := range el.Child(nsDiscoInfo, "query").ChildrenNamed(nsDiscoInfo, "feature") {
			found = found || f.Attr("var") == nsBlocking
		}
		if !found {
			t.Fatalf("disco#info lacks %s: %s", nsBlocking, el)
		}
	}

	phone.Send(`<iq type='get' id='g1'><blocklist xmlns='urn:xmpp:blocking'/></iq>`)
	if got := blockItems(t, phone.Expect(isID("g1")), "blocklist"); len(got) != 0 {
		t.Fatalf("initial blocklist %q", got)
	}

	phone.Send(`<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'><item jid='bob@localhost'/><item jid='spam.example'/></block></iq>`)
	push := phone.Next()
	if push.Attr("type") != "set" || push.Attr("to") != "alice@localhost/phone" {
		t.Fatalf("block push: %s", push)
	}
	if got := blockItems(t, push, "block"); len(got) != 2 || got[0] != "bob@localhost" || got[1] != "spam.example" {
		t.Fatalf("block push items %q", got)
	}
	if res := phone.Next(); res.Attr("id") != "b1" || res.Attr("type") != "result" {
		t.Fatalf("block answer: %s", res)
	}
	quiet(t, tablet, "t1")

	phone.Send(`<iq type='set' id='b2'><block xmlns='urn:xmpp:blocking'/></iq>`)
	if el := phone.Expect(isID("b2")); el.Attr("type") != "error" || el.Child("", "error").Child(nsStanzas, "bad-request") == nil {
		t.Fatalf("block without items: %s", el)
	}

	phone.Send(`<iq type='get' id='g2'><blocklist xmlns='urn:xmpp:blocking'/></iq>`)
	if got := blockItems(t, phone.Expect(isID("g2")), "blocklist"); len(got) != 2 || got[0] != "bob@localhost" || got[1] != "spam.example" {
		t.Fatalf("blocklist %q", got)
	}

	// The tablet asks for the list too: from now on it gets pushes.
	tablet.Send(`<iq type='get' id='g3'><blocklist xmlns='urn:xmpp:blocking'/></iq>`)
	tablet.Expect(isID("g3"))
	tablet.Send(`<iq type='set' id='u1'><unblock xmlns='urn:xmpp:blocking'><item jid='spam.example'/></unblock></iq>`)
	for _, c := range []*xmpptest.Conn{phone, tablet} {
		push := c.Expect(func(e *xml.Element) bool { return e.Child(nsBlocking, "unblock") != nil })
		if got := blockItems(t, push, "unblock"); len(got) != 1 || got[0] != "spam.example" {
			t.Fatalf("unblock push %q", got)
		}
	}
	tablet.Expect(isID("u1"))

	phone.Send(`<iq type='set' id='u2'><unblock xmlns='urn:xmpp:blocking'/></iq>`)
	for _, c := range []*xmpptest.Conn{phone, tablet} {
		push := c.Expect(func(e *xml.Element) bool { return e.Child(nsBlocking, "unblock") != nil })
		if got := blockItems(t, push, "unblock"); len(got) != 0 {
			t.Fatalf("unblock-all push %q", got)
		}
	}
	phone.Expect(isID("u2"))
	phone.Send(`<iq type='get' id='g4'><blocklist xmlns='urn:xmpp:blocking'/></iq>`)
	if got := blockItems(t, phone.Expect(isID("g4")), "blocklist"); len(got) != 0 {
		t.Fatalf("blocklist after unblock all %q", got)
	}

	// Another account's list is not alice's to read.
	phone.Send(`<iq type='get' id='g5' to='bob@localhost'><blocklist xmlns='urn:xmpp:blocking'/></iq>`)
	if el := phone.Expect(isID("g5")); el.Attr("type") != "error" || el.Child("", "error").Child(nsStanzas, "forbidden") == nil {
		t.Fatalf("blocklist of another account: %s", el)
	}
}
