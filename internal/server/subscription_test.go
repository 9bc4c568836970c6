package server_test

import (
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
)

// A subscription request that waits for an offline contact is kept as the
// stanza it was, not just as a pending flag: the contact's server "MUST
// keep a record of the stanza and deliver the request" when the contact
// next has an available resource (RFC 6121 §3.1.3), so the <status/> and
// extensions such as the XEP-0172 nick reach every new session until the
// request is answered.
func TestStoredSubscriptionRequestKeepsItsContent(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	alice.Send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	alice.Expect(isID("r1"))
	alice.Send(`<presence to='bob@localhost' type='subscribe' id='sub1'><status>It is Alice</status><nick xmlns='http://jabber.org/protocol/nick'>Ally</nick></presence>`)
	alice.Send(`<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>`)
	alice.Expect(isID("sync"))

	isRequest := func(e *xml.Element) bool {
		return e.Local == "presence" && e.Attr("type") == "subscribe" && e.Attr("from") == "alice@localhost"
	}
	for _, resource := range []string{"laptop", "tablet"} {
		bob := login(t, s, "bob", resource)
		bob.Send(`<presence/>`)
		req := bob.Expect(isRequest)
		if req.ChildText("", "status") != "It is Alice" || req.ChildText("http://jabber.org/protocol/nick", "nick") != "Ally" || req.Attr("to") != "bob@localhost" {
			t.Fatalf("%s got the stored request as %s", resource, req)
		}
		bob.Close()
		bob.ExpectClosed()
	}

	// Answered, it is no longer delivered; a new request is kept anew.
	bob := login(t, s, "bob", "laptop")
	bob.Send(`<presence/>`)
	bob.Expect(isRequest)
	bob.Send(`<presence to='alice@localhost' type='unsubscribed'/>`)
	alice.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("type") == "unsubscribed" })
	bob.Close()
	bob.ExpectClosed()
	alice.Send(`<presence to='bob@localhost' type='subscribe'><status>Again</status></presence>`)
	alice.Send(`<iq type='get' id='sync2'><ping xmlns='urn:xmpp:ping'/></iq>`)
	alice.Expect(isID("sync2"))
	bob = login(t, s, "bob", "phone")
	bob.Send(`<presence/>`)
	req := bob.Expect(isRequest)
	if req.ChildText("", "status") != "Again" || req.Child("http://jabber.org/protocol/nick", "nick") != nil {
		t.Fatalf("the new request came as %s", req)
	}
}

// A probe a client sends itself is processed for a contact on this server
// (RFC 6121 §4.3: the server SHOULD route or process it): a subscriber
// gets the contact's current presence, one resource at a time; anyone else
// gets nothing, so a probe never reveals presence the subscription does
// not grant.
func TestClientProbe(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	alice.Send(`<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>`)
	alice.Expect(isID("r1"))
	alice.Send(`<presence/>`)
	alice.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("from") == "alice@localhost/phone" })
	bob := login(t, s, "bob", "laptop")
	bob.Send(`<presence><show>away</show></presence>`)
	carol := login(t, s, "carol", "desk")
	carol.Send(`<presence><show>dnd</show></presence>`)
	alice.Send(`<presence to='bob@localhost' type='subscribe'/>`)
	bob.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("type") == "subscribe" })
	bob.Send(`<presence to='alice@localhost' type='subscribed'/>`)
	alice.Expect(func(e *xml.Element) bool { return e.Local == "presence" && e.Attr("from") == "bob@localhost/laptop" })

	alice.Send(`<presence to='carol@localhost' type='probe'/>`)
	alice.Send(`<presence to='bob@localhost' type='probe'/>`)
	alice.Send(`<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>`)
	var got []*xml.Element
	for {
		el := alice.Next()
		if isID("sync")(el) {
			break
		}
		got = append(got, el)
	}
	if len(got) != 1 || got[0].Attr("from") != "bob@localhost/laptop" || got[0].Attr("to") != "alice@localhost/phone" ||
		got[0].ChildText("", "show") != "away" || got[0].Attr("type") != "" {
		t.Fatalf("probes answered with %v, want bob's presence only", got)
	}
}
