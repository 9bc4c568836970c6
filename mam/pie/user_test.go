package pie

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/storage"
)

// decodeParts reads doc with the user callbacks and returns what they saw,
// one line per user and part.
func decodeParts(doc string) (string, error) {
	var b strings.Builder
	err := Decode(strings.NewReader(doc), Options{
		MaxItemBytes: 4 << 10,
		MaxPartBytes: 64 << 10,
		User: func(r UserRecord) error {
			fmt.Fprintf(&b, "user %s pw=%v:%q line %d\n", r.Owner, r.HasPassword, r.Password, r.Line)
			return nil
		},
		UserPart: func(p UserPart) error {
			fmt.Fprintf(&b, "part %s {%s}%s line %d\n", p.Owner, p.Element.Space, p.Element.Local, p.Line)
			return nil
		},
	}, func(r Record) error {
		fmt.Fprintf(&b, "item %s %s\n", r.Owner, r.ID)
		return nil
	})
	return b.String(), err
}

func TestDecodeUserParts(t *testing.T) {
	cases := []struct{ name, doc, want, err string }{
		{"empty user", "<server-data xmlns='urn:xmpp:pie:0'><host jid='h'><user name='u'/></host></server-data>",
			"user u@h pw=false:\"\" line 1\n", ""},
		{"parts in order",
			"<server-data xmlns='urn:xmpp:pie:0'><host jid='h'>\n<user name='u' password='p w'>\n<query xmlns='jabber:iq:roster'/>\n<offline-messages/>\n" +
				"<archive xmlns='urn:xmpp:pie:0#mam'/><vCard xmlns='vcard-temp'><FN>x</FN></vCard></user></host></server-data>",
			"user u@h pw=true:\"p w\" line 2\npart u@h {jabber:iq:roster}query line 3\npart u@h {urn:xmpp:pie:0}offline-messages line 4\npart u@h {vcard-temp}vCard line 5\n", ""},
		{"too large", "<server-data xmlns='urn:xmpp:pie:0'><host jid='h'><user name='u'><vCard xmlns='vcard-temp'>" + strings.Repeat("<a>x</a>", 10000) + "</vCard></user></host></server-data>",
			"user u@h pw=false:\"\" line 1\n", "exceeds the size limit (65536 bytes)"},
		{"roster over an item's bound", "<server-data xmlns='urn:xmpp:pie:0'><host jid='h'><user name='u'><query xmlns='jabber:iq:roster'>" + strings.Repeat("<item jid='a@b'/>", 3000) + "</query></user></host></server-data>",
			"user u@h pw=false:\"\" line 1\npart u@h {jabber:iq:roster}query line 1\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := decodeParts(c.doc)
			if got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
			if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
				t.Errorf("error %v, want %q", err, c.err)
			}
		})
	}
}

func parse(t *testing.T, s string) *xml.Element {
	t.Helper()
	var el *xml.Element
	err := Decode(strings.NewReader("<server-data xmlns='urn:xmpp:pie:0'><host jid='h'><user name='u'>"+s+"</user></host></server-data>"),
		Options{UserPart: func(p UserPart) error { el = p.Element; return nil }}, func(Record) error { return nil })
	if err != nil || el == nil {
		t.Fatalf("%s: %v", s, err)
	}
	return el
}

func TestParseSCRAM(t *testing.T) {
	k20 := base64.StdEncoding.EncodeToString(make([]byte, 20))
	k32 := base64.StdEncoding.EncodeToString(make([]byte, 32))
	doc := func(mech, iter, salt, server, stored string) string {
		return "<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='" + mech + "'><iter-count>" + iter + "</iter-count><salt>" + salt +
			"</salt><server-key>" + server + "</server-key><stored-key>" + stored + "</stored-key></scram-credentials>"
	}
	cases := []struct{ name, doc, err string }{
		{"sha1", doc("SCRAM-SHA-1", "4096", "c2FsdA==", k20, k20), ""},
		{"sha256", doc("SCRAM-SHA-256", " 10000 ", "c2FsdA==", k32, k32), ""},
		{"sha256 short key", doc("SCRAM-SHA-256", "4096", "c2FsdA==", k20, k32), "<server-key>"},
		{"bad iterations", doc("SCRAM-SHA-1", "0", "c2FsdA==", k20, k20), "iter-count"},
		{"empty salt", doc("SCRAM-SHA-1", "4096", "", k20, k20), "<salt>"},
		{"not base64", doc("SCRAM-SHA-1", "4096", "c2FsdA==", k20, "!!"), "<stored-key>"},
		{"mechanism", doc("PLAIN", "4096", "c2FsdA==", k20, k20), "mechanism"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mech, cred, err := ParseSCRAM(parse(t, c.doc))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// What SCRAMElement writes reads back the same.
			m2, c2, err := ParseSCRAM(parse(t, SCRAMElement(mech, cred).String()))
			if err != nil || m2 != mech || fmt.Sprint(c2) != fmt.Sprint(cred) {
				t.Errorf("round trip: %v %v %v", m2, c2, err)
			}
		})
	}
}

func TestParseRoster(t *testing.T) {
	cases := []struct{ name, doc, want, err string }{
		{"xep example", "<query xmlns='jabber:iq:roster'><item jid='romeo@montague.net' name='Romeo' subscription='both'><group>Friends</group></item></query>",
			"[{romeo@montague.net Romeo both false false false false [Friends]}]", ""},
		{"defaults and ask", "<query xmlns='jabber:iq:roster'><item jid='A@B' ask='subscribe'/></query>",
			"[{a@b  none true false false false []}]", ""},
		{"full jid", "<query xmlns='jabber:iq:roster'><item jid='a@b/c'/></query>", "", "bare JIDs"},
		{"twice", "<query xmlns='jabber:iq:roster'><item jid='a@b'/><item jid='A@b'/></query>", "", "twice"},
		{"remove", "<query xmlns='jabber:iq:roster'><item jid='a@b' subscription='remove'/></query>", "", "want none"},
		{"ask unsubscribe", "<query xmlns='jabber:iq:roster'><item jid='a@b' ask='unsubscribe'/></query>", "", "ask="},
		{"bad jid", "<query xmlns='jabber:iq:roster'><item jid='@b'/></query>", "", "roster <item"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			items, err := ParseRoster(parse(t, c.doc))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || fmt.Sprint(items) != c.want {
				t.Fatalf("got %v %v, want %s", items, err, c.want)
			}
			back, err := ParseRoster(parse(t, RosterElement(items).String()))
			if err != nil || fmt.Sprint(back) != c.want {
				t.Errorf("round trip: %v %v", back, err)
			}
		})
	}
}

func TestOfflineMessages(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	el := parse(t, "<offline-messages><message xmlns='jabber:client' from='a@b/c' to='u@h'><body>1</body>"+
		"<delay xmlns='urn:xmpp:delay' from='h' stamp='1469-07-21T00:32:29Z'>Offline Storage</delay></message>"+
		"<message xmlns='jabber:client' from='a@b'><body>2</body></message></offline-messages>")
	msgs, err := OfflineMessages(el, "h", now)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("%v %v", msgs, err)
	}
	if msgs[0].Stored.Year() != 1469 || !msgs[1].Stored.Equal(now) || !strings.Contains(string(msgs[1].Stanza), `<body>2</body><delay xmlns="urn:xmpp:delay" from="h" stamp="2026-01-02T03:04:05Z">Offline Storage</delay>`) {
		t.Errorf("got %+v", msgs)
	}
	if _, err := OfflineMessages(parse(t, "<offline-messages><presence xmlns='jabber:client'/></offline-messages>"), "h", now); err == nil {
		t.Error("a presence in <offline-messages> was taken")
	}
}

func TestSubscriptionRequestAndPrivate(t *testing.T) {
	from, b, err := SubscriptionRequest(parse(t, "<presence xmlns='jabber:client' from='t@c/r' type='subscribe'><status>hi</status></presence>"))
	if err != nil || from.String() != "t@c" || !strings.Contains(string(b), "<status>hi</status>") {
		t.Errorf("request: %v %q %v", from, b, err)
	}
	for _, bad := range []string{"<presence xmlns='jabber:client' from='t@c'/>", "<presence xmlns='jabber:client' type='subscribe'/>"} {
		if _, _, err := SubscriptionRequest(parse(t, bad)); err == nil {
			t.Errorf("%s taken as a request", bad)
		}
	}
	docs, err := PrivateDocuments(parse(t, "<query xmlns='jabber:iq:private'><a xmlns='urn:a'/><b xmlns='urn:b'/><a2 xmlns='urn:a'/></query>"))
	want := []storage.Document{{Key: "urn:a", XML: []byte(`<a xmlns="urn:a"/><a2 xmlns="urn:a"/>`)}, {Key: "urn:b", XML: []byte(`<b xmlns="urn:b"/>`)}}
	if err != nil || fmt.Sprint(docs) != fmt.Sprint(want) {
		t.Errorf("private: %s %v", docs, err)
	}
}

// FuzzDecodeUserParts: whatever the document, no panic, and every part
// the parsers accept is well-formed for the store.
func FuzzDecodeUserParts(f *testing.F) {
	f.Add("<server-data xmlns='urn:xmpp:pie:0'><host jid='h'><user name='u' password='p'><query xmlns='jabber:iq:roster'><item jid='a@b' ask='subscribe'><group>g</group></item></query>" +
		"<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'><iter-count>1</iter-count><salt>AA==</salt><server-key>AAAAAAAAAAAAAAAAAAAAAAAAAAA=</server-key><stored-key>AAAAAAAAAAAAAAAAAAAAAAAAAAA=</stored-key></scram-credentials>" +
		"<offline-messages><message xmlns='jabber:client' from='a@b'/></offline-messages><presence xmlns='jabber:client' type='subscribe' from='x@y'/>" +
		"<query xmlns='jabber:iq:private'><a xmlns='urn:a'/></query></user></host></server-data>")
	f.Fuzz(func(t *testing.T, doc string) {
		_ = Decode(strings.NewReader(doc), Options{MaxItemBytes: 1 << 16, UserPart: func(p UserPart) error {
			el := p.Element
			if items, err := ParseRoster(el); err == nil {
				for _, it := range items {
					if it.JID == "" || strings.Contains(it.JID, "/") {
						t.Fatalf("roster item %+v", it)
					}
				}
			}
			if _, c, err := ParseSCRAM(el); err == nil && (len(c.Salt) == 0 || c.Iterations < 1) {
				t.Fatalf("credential %+v", c)
			}
			if msgs, err := OfflineMessages(el, "h", time.Time{}); err == nil {
				for _, m := range msgs {
					if _, err := ParseStanza(m.Stanza); err != nil {
						t.Fatalf("offline message %q does not read back: %v", m.Stanza, err)
					}
				}
			}
			SubscriptionRequest(el)
			PrivateDocuments(el)
			return nil
		}}, func(Record) error { return nil })
	})
}

func TestWriterUsers(t *testing.T) {
	var b strings.Builder
	w := NewWriter(&b)
	u, _ := jid.Parse("u@h")
	v, _ := jid.Parse("v@h")
	if err := w.StartUser(u, xml.New(NSVCard, "vCard"), xml.New(NS, "offline-messages")); err != nil {
		t.Fatal(err)
	}
	if err := w.StartArchive(u); err != nil {
		t.Fatal(err)
	}
	if err := w.StartUser(v); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<server-data xmlns="urn:xmpp:pie:0">
  <host jid="h">
    <user name="u">
      <vCard xmlns="vcard-temp"/>
      <offline-messages/>
      <archive xmlns="urn:xmpp:pie:0#mam">
      </archive>
    </user>
    <user name="v">
    </user>
  </host>
</server-data>
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	got, err := decodeParts(b.String())
	if err != nil || got != "user u@h pw=false:\"\" line 4\npart u@h {vcard-temp}vCard line 5\npart u@h {urn:xmpp:pie:0}offline-messages line 6\nuser v@h pw=false:\"\" line 10\n" {
		t.Errorf("reads back as\n%s %v", got, err)
	}
}
