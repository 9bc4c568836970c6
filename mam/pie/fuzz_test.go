package pie

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/jid"
)

// FuzzDecode feeds arbitrary documents to the importer's reader. Whatever
// the input: no panic; every record it hands over has a bare owner, a
// microsecond UTC stamp and a message that ParseStanza reads back to the
// same serialisation; ToArchived either refuses an item or derives a
// stored form that reads back; and the records, written with Writer,
// decode to the same records (owners, ids, stamps and messages).
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		"",
		"<server-data xmlns='urn:xmpp:pie:0'/>",
		`<?xml version='1.0' encoding='UTF-8'?>
<server-data xmlns='urn:xmpp:pie:0'><host jid='capulet.lit'><user name='juliet'>
<query xmlns='jabber:iq:roster'><item jid='romeo@montague.lit'/></query>
<archive xmlns='urn:xmpp:pie:0#mam'>
<result xmlns='urn:xmpp:mam:2' id='a'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>
<message xmlns='jabber:client' to='juliet@capulet.lit/balcony' from='romeo@montague.lit/orchard' type='chat'><body>Call me but love</body><origin-id xmlns='urn:xmpp:sid:0' id='o'/></message></forwarded></result>
<result xmlns='urn:xmpp:mam:2'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:09:32.123456789-01:30'/>
<c:message xmlns:c='jabber:client' xmlns:p='urn:p' p:a='1' xml:lang='en' to='romeo@montague.lit'><c:body>&lt;&amp;&#xD;</c:body><x xmlns='urn:x'><![CDATA[<y>]]></x></c:message></forwarded></result>
</archive></user></host>
<host jid='montague.lit'><user name='romeo'><archive xmlns='urn:xmpp:pie:0#mam'/></user></host></server-data>`,
		"<server-data xmlns='urn:xmpp:pie:0'><host jid='h'><user name='u'><archive xmlns='urn:xmpp:pie:0#mam'><result xmlns='urn:xmpp:mam:2'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-01-02T03:04:05Z'/><message xmlns='jabber:client'/></forwarded></result></archive></user></host></server-data>",
		"<server-data xmlns='urn:xmpp:pie:0'><include xmlns='http://www.w3.org/2001/XInclude' href='a.xml'/></server-data>",
		"<server-data xmlns='urn:xmpp:pie:0'><host jid='h'><user name='u'><archive xmlns='urn:xmpp:pie:0#mam'><result xmlns='urn:xmpp:mam:2'><x:y/>",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var recs []Record
		err := Decode(strings.NewReader(doc), Options{MaxItemBytes: 64 << 10}, func(r Record) error {
			recs = append(recs, r)
			return nil
		})
		var pe *Error
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not an *Error", err, err)
		}
		for _, r := range recs {
			if r.Owner.Local() == "" || r.Owner.IsFull() {
				t.Fatalf("owner %q", r.Owner)
			}
			if r.Stamp.Location() != time.UTC || r.Stamp.Nanosecond()%1000 != 0 {
				t.Fatalf("stamp %v", r.Stamp)
			}
			s := r.Message.String()
			back, err := ParseStanza([]byte(s))
			if err != nil || back.String() != s {
				t.Fatalf("message %s does not read back: %v", s, err)
			}
			if m, err := ToArchived(r.Owner, r.Item); err == nil {
				if _, err := ParseStanza(m.Stanza); err != nil || m.Owner != r.Owner.String() || m.With == "" {
					t.Fatalf("stored form %+v: %v", m, err)
				}
			}
		}
		if err != nil {
			return
		}

		// Write what was read and read it again; XEP-0227 wants items in
		// order, so documents whose items are not are left there.
		var b bytes.Buffer
		w := NewWriter(&b)
		var owner jid.JID
		for _, r := range recs {
			if r.Owner != owner {
				owner = r.Owner
				if err := w.StartArchive(owner); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.WriteItem(r.Item); err != nil {
				return
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var again []Record
		if err := Decode(&b, Options{MaxItemBytes: 1 << 20}, func(r Record) error {
			again = append(again, r)
			return nil
		}); err != nil {
			t.Fatalf("written document does not decode: %v\n%s", err, b.String())
		}
		if len(again) != len(recs) {
			t.Fatalf("%d records, then %d", len(recs), len(again))
		}
		for i := range recs {
			a, b := recs[i], again[i]
			if a.Owner != b.Owner || a.ID != b.ID || !a.Stamp.Equal(b.Stamp) || a.Message.String() != b.Message.String() {
				t.Fatalf("record %d: %+v %s\nthen %+v %s", i, a, a.Message, b, b.Message)
			}
		}
	})
}
