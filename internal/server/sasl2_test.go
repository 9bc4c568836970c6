package server_test

import (
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
)

// A XEP-0388 login with XEP-0386 Bind 2 on the complete server: <bound/>
// carries the archive's metadata at binding (XEP-0386 §3.2), and carbons
// enabled inline are copied by the carbons module. Offline messages:
// XEP-0386 §3.2 has the server clear them without sending them "as they
// will be provided by MAM"; so the one alice's archive holds is not sent
// (she pages it from MAM, from the metadata), and the one it does not
// hold (alice archives nothing from carol) is, since clearing it would
// lose it.
func TestSASL2Bind2EndToEnd(t *testing.T) {
	s := startServer(t, nil, nil)
	first := login(t, s, "alice", "first")
	first.Send(`<iq type='set' id='prefs'><prefs xmlns='urn:xmpp:mam:2' default='always'><always/><never><jid>carol@localhost</jid></never></prefs></iq>`)
	first.Expect(func(e *xml.Element) bool { return e.Attr("id") == "prefs" && e.Attr("type") == "result" })
	first.Close()
	bob := login(t, s, "bob", "b")
	bob.Send(`<message to='alice@localhost' type='chat' id='o1'><body>while you were out</body></message>`)
	bob.Send(`<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`)
	bob.Expect(func(e *xml.Element) bool { return e.Attr("id") == "p1" })
	carol := login(t, s, "carol", "c")
	carol.Send(`<message to='alice@localhost' type='chat' id='o2'><body>not archived</body></message>`)
	carol.Send(`<iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>`)
	carol.Expect(func(e *xml.Element) bool { return e.Attr("id") == "p2" })

	alice := xmpptest.Dial(t, s.addr)
	alice.OpenStream("localhost")
	alice.StartTLS("localhost")
	success, err := alice.SASL2(xmpptest.SCRAM{}, "alice", "pw-alice",
		`<user-agent id='9f0c7e3a-2d7b-4c55-8e21-0a5d6b1c2e3f'><software>Test</software></user-agent>`+
			`<bind xmlns='urn:xmpp:bind:0'><tag>Test</tag><enable xmlns='urn:xmpp:carbons:2'/><enable xmlns='urn:xmpp:sm:3'/></bind>`)
	if err != nil {
		t.Fatalf("SASL2: %v", err)
	}
	if f := alice.Next(); f.Local != "features" {
		t.Fatalf("want features after <success/>, got %s", f)
	}
	bound := success.Child("urn:xmpp:bind:0", "bound")
	end := bound.Child("urn:xmpp:mam:2", "metadata").Child("urn:xmpp:mam:2", "end")
	if end == nil || end.Attr("id") == "" {
		t.Fatalf("no archive metadata in <bound/>: %s", success)
	}
	if bound.Child("urn:xmpp:sm:3", "enabled") == nil {
		t.Fatalf("no <enabled/>: %s", success)
	}

	alice.Send(`<presence/>`)
	m := alice.Expect(func(e *xml.Element) bool { return e.Local == "message" && e.ChildText("", "body") != "" })
	if m.ChildText("", "body") != "not archived" {
		t.Fatalf("offline message the archive holds sent after Bind 2: %s", m)
	}
	alice.Send(`<iq type='set' id='q1'><query xmlns='urn:xmpp:mam:2' queryid='q1'/></iq>`)
	r := alice.Expect(func(e *xml.Element) bool { return e.Child("urn:xmpp:mam:2", "result") != nil })
	if res := r.Child("urn:xmpp:mam:2", "result"); res.Attr("id") != end.Attr("id") ||
		!strings.Contains(res.String(), "while you were out") {
		t.Fatalf("archive's newest item %s; end at binding %s", r, end)
	}
	alice.Expect(func(e *xml.Element) bool { return e.Attr("id") == "q1" && e.Attr("type") == "result" })

	phone := login(t, s, "alice", "phone")
	phone.Send(`<message to='bob@localhost' type='chat' id='s1'><body>from the phone</body></message>`)
	carbon := alice.Expect(func(e *xml.Element) bool { return e.Child("urn:xmpp:carbons:2", "sent") != nil })
	inner := carbon.Child("urn:xmpp:carbons:2", "sent").Child("urn:xmpp:forward:0", "forwarded").Child("jabber:client", "message")
	if inner.ChildText("", "body") != "from the phone" {
		t.Fatalf("sent carbon %s", carbon)
	}
}

// Over WebSocket (RFC 7395) SASL2 works as over TCP: no <open/> follows
// its <success/>, and the stream goes on with the features.
func TestSASL2OverWebSocket(t *testing.T) {
	_, url := startWebSocketServer(t, "tls = true")
	c := xmpptest.DialWebSocket(t, url)
	c.OpenStream("localhost")
	if c.Features.Child("urn:xmpp:sasl:2", "authentication") == nil {
		t.Fatalf("no SASL2 over wss: %s", c.Features)
	}
	success, err := c.SASL2(xmpptest.SCRAM{}, "alice", "pw-alice", `<bind xmlns='urn:xmpp:bind:0'><tag>Web</tag></bind>`)
	if err != nil {
		t.Fatalf("SASL2: %v", err)
	}
	if !strings.HasPrefix(success.ChildText("urn:xmpp:sasl:2", "authorization-identifier"), "alice@localhost/Web/") {
		t.Fatalf("success %s", success)
	}
	if f := c.Next(); f.Local != "features" {
		t.Fatalf("want features, got %s", f)
	}
	c.Send(`<iq xmlns='jabber:client' type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if el := c.Next(); el.Attr("id") != "p1" || el.Attr("type") != "result" {
		t.Fatalf("ping after SASL2 over WebSocket: %s", el)
	}
}

// Over BOSH (XEP-0206, https) likewise: no xmpp:restart after the
// SASL2 <success/>.
func TestSASL2OverBOSH(t *testing.T) {
	cfg := loadConfigFile(t, "[bosh]\naddress = \"127.0.0.1:0\"\ntls = true\n")
	s := startServerConfig(t, cfg, nil, nil)
	c := xmpptest.DialBOSH(t, "https://"+s.BOSHAddr()+"/http-bind", "localhost")
	if c.Features.Child("urn:xmpp:sasl:2", "authentication") == nil {
		t.Fatalf("no SASL2 over https BOSH: %s", c.Features)
	}
	success, err := c.SASL2(xmpptest.SCRAM{}, "alice", "pw-alice", `<bind xmlns='urn:xmpp:bind:0'><tag>BOSH</tag></bind>`)
	if err != nil {
		t.Fatalf("SASL2: %v", err)
	}
	if !strings.HasPrefix(success.ChildText("urn:xmpp:sasl:2", "authorization-identifier"), "alice@localhost/BOSH/") {
		t.Fatalf("success %s", success)
	}
	if f := c.Next(); f.Local != "features" {
		t.Fatalf("want features, got %s", f)
	}
	c.Send(`<iq xmlns='jabber:client' type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`)
	if el := c.Next(); el.Attr("id") != "p1" || el.Attr("type") != "result" {
		t.Fatalf("ping after SASL2 over BOSH: %s", el)
	}
}

// Offline messages left to MAM at Bind 2 must still be in the archive: one
// the archive has dropped since (archive_max_items here; expiry after
// archive_expires_after likewise) is delivered, not lost.
func TestBind2OfflineMessageGoneFromArchiveIsDelivered(t *testing.T) {
	cfg := loadConfigFile(t, "domains = [\"localhost\"]\n[mam]\narchive_max_items = 1\n")
	s := startServerConfig(t, cfg, nil, nil)
	bob := login(t, s, "bob", "b")
	bob.Send(`<message to='alice@localhost' type='chat' id='o1'><body>trimmed from the archive</body></message>`)
	bob.Send(`<message to='alice@localhost' type='chat' id='o2'><body>still archived</body></message>`)
	bob.Send(`<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`)
	bob.Expect(func(e *xml.Element) bool { return e.Attr("id") == "p1" })

	alice := xmpptest.Dial(t, s.addr)
	alice.OpenStream("localhost")
	alice.StartTLS("localhost")
	if _, err := alice.SASL2(xmpptest.SCRAM{}, "alice", "pw-alice", `<bind xmlns='urn:xmpp:bind:0'><tag>Test</tag></bind>`); err != nil {
		t.Fatalf("SASL2: %v", err)
	}
	alice.Next() // features
	alice.Send(`<presence/>`)
	// Delivery runs after the presence is handled: wait for the first
	// message, then a ping's answer marks the end of what followed it.
	first := alice.Expect(func(e *xml.Element) bool { return e.Local == "message" && e.ChildText("", "body") != "" })
	alice.Send(`<iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>`)
	bodies := []string{first.ChildText("", "body")}
	alice.Expect(func(e *xml.Element) bool {
		if b := e.ChildText("", "body"); e.Local == "message" && b != "" {
			bodies = append(bodies, b)
		}
		return e.Attr("id") == "p2"
	})
	if strings.Join(bodies, "|") != "trimmed from the archive" {
		t.Fatalf("offline messages delivered after Bind 2: %q, want only the one the archive no longer holds", bodies)
	}
}

// A client that catches up from MAM before its initial presence (a legacy
// login that queries its archive first, or Bind 2 then a query) saw what
// the archive held when it first asked. A message stored offline after
// that, while the session waited for its presence, is in no answer of a
// client paging back from the newest item, even one that asked again: it
// must be sent at the presence, not deleted unseen.
func TestOfflineMessageAfterMAMQueryIsDelivered(t *testing.T) {
	for _, bind2 := range []bool{false, true} {
		name := "legacy"
		if bind2 {
			name = "bind2"
		}
		t.Run(name, func(t *testing.T) {
			s := startServer(t, nil, nil)
			bob := login(t, s, "bob", "b")
			bob.Send(`<message to='alice@localhost' type='chat' id='o1'><body>before the query</body></message>`)
			bob.Send(`<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`)
			bob.Expect(func(e *xml.Element) bool { return e.Attr("id") == "p1" })

			var alice *xmpptest.Conn
			if bind2 {
				alice = xmpptest.Dial(t, s.addr)
				alice.OpenStream("localhost")
				alice.StartTLS("localhost")
				if _, err := alice.SASL2(xmpptest.SCRAM{}, "alice", "pw-alice", `<bind xmlns='urn:xmpp:bind:0'><tag>Test</tag></bind>`); err != nil {
					t.Fatalf("SASL2: %v", err)
				}
				alice.Next() // features
			} else {
				alice = login(t, s, "alice", "laptop")
			}
			// The client pages back from the newest item, as many do: its
			// second page (older items) cannot hold what arrived after the
			// first one.
			alice.Send(`<iq type='set' id='q1'><query xmlns='urn:xmpp:mam:2' queryid='q1'><set xmlns='http://jabber.org/protocol/rsm'><max>1</max><before/></set></query></iq>`)
			var newest string
			alice.Expect(func(e *xml.Element) bool {
				if r := e.Child("urn:xmpp:mam:2", "result"); r != nil {
					newest = r.Attr("id")
				}
				return e.Attr("id") == "q1" && e.Attr("type") == "result"
			})
			if newest == "" {
				t.Fatal("the archive's first page is empty")
			}

			bob.Send(`<message to='alice@localhost' type='chat' id='o2'><body>after the query</body></message>`)
			bob.Send(`<iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>`)
			bob.Expect(func(e *xml.Element) bool { return e.Attr("id") == "p2" })
			alice.Send(`<iq type='set' id='q2'><query xmlns='urn:xmpp:mam:2' queryid='q2'><set xmlns='http://jabber.org/protocol/rsm'><max>1</max><before>` + newest + `</before></set></query></iq>`)
			alice.Expect(func(e *xml.Element) bool { return e.Attr("id") == "q2" && e.Attr("type") == "result" })

			alice.Send(`<presence/>`)
			alice.Send(`<iq type='get' id='p3'><ping xmlns='urn:xmpp:ping'/></iq>`)
			var bodies []string
			alice.Expect(func(e *xml.Element) bool {
				if b := e.ChildText("", "body"); e.Local == "message" && b != "" && e.Child("urn:xmpp:mam:2", "result") == nil {
					bodies = append(bodies, b)
				}
				return e.Attr("id") == "p3"
			})
			if strings.Join(bodies, "|") != "after the query" {
				t.Fatalf("offline messages delivered at the presence: %q, want only the one stored after the MAM query", bodies)
			}
		})
	}
}

// A query of one conversation's history before the initial presence does
// not catch the client up: the offline messages of the others are still
// sent, not deleted as if it had seen them.
func TestOfflineMessagesAfterOneConversationQuery(t *testing.T) {
	s := startServer(t, nil, nil)
	bob := login(t, s, "bob", "b")
	bob.Send(`<message to='alice@localhost' type='chat' id='o1'><body>from bob</body></message>`)
	bob.Send(`<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`)
	bob.Expect(func(e *xml.Element) bool { return e.Attr("id") == "p1" })

	alice := login(t, s, "alice", "laptop")
	alice.Send(`<iq type='set' id='q1'><query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'>` +
		`<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>` +
		`<field var='with'><value>carol@localhost</value></field></x></query></iq>`)
	alice.Expect(func(e *xml.Element) bool { return e.Attr("id") == "q1" && e.Attr("type") == "result" })
	alice.Send(`<presence/>`)
	alice.Send(`<iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>`)
	var bodies []string
	alice.Expect(func(e *xml.Element) bool {
		if b := e.ChildText("", "body"); e.Local == "message" && b != "" {
			bodies = append(bodies, b)
		}
		return e.Attr("id") == "p2"
	})
	if strings.Join(bodies, "|") != "from bob" {
		t.Fatalf("offline messages delivered at the presence: %q, want bob's", bodies)
	}
}
