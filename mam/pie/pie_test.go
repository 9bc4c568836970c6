package pie

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/storage"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)

func message(from, to, body string) *xml.Element {
	return xml.New(nsClient, "message", "from", from, "to", to, "type", "chat").
		Append(xml.New(nsClient, "body").AppendText(body))
}

func decodeAll(t *testing.T, doc string) ([]Record, error) {
	t.Helper()
	var recs []Record
	err := Decode(strings.NewReader(doc), Options{}, func(r Record) error {
		recs = append(recs, r)
		return nil
	})
	return recs, err
}

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	steps := []func() error{
		func() error { return w.StartArchive(jid.MustParse("alice@example.org")) },
		func() error {
			return w.WriteItem(Item{ID: "id-1", Stamp: t0, Message: message("bob@example.org/x", "alice@example.org", "<hi> & \"bye\"")})
		},
		func() error { return w.StartArchive(jid.MustParse("bob@example.org")) },
		func() error { return w.StartArchive(jid.MustParse("carol@example.net")) },
		func() error {
			return w.WriteItem(Item{Stamp: t0.Add(-time.Hour), Message: message("carol@example.net", "x@y", "")})
		},
		w.Close,
	}
	for i, f := range steps {
		if err := f(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<server-data xmlns="urn:xmpp:pie:0">
  <host jid="example.org">
    <user name="alice">
      <archive xmlns="urn:xmpp:pie:0#mam">
        <result xmlns="urn:xmpp:mam:2" id="id-1"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="2026-01-02T03:04:05.123456Z"/><message xmlns="jabber:client" from="bob@example.org/x" to="alice@example.org" type="chat"><body>&lt;hi&gt; &amp; "bye"</body></message></forwarded></result>
      </archive>
    </user>
    <user name="bob">
      <archive xmlns="urn:xmpp:pie:0#mam">
      </archive>
    </user>
  </host>
  <host jid="example.net">
    <user name="carol">
      <archive xmlns="urn:xmpp:pie:0#mam">
        <result xmlns="urn:xmpp:mam:2"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="2026-01-02T02:04:05.123456Z"/><message xmlns="jabber:client" from="carol@example.net" to="x@y" type="chat"><body/></message></forwarded></result>
      </archive>
    </user>
  </host>
</server-data>
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}

	recs, err := decodeAll(t, b.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Owner.String() != "alice@example.org" || recs[0].ID != "id-1" ||
		!recs[0].Stamp.Equal(t0.Truncate(time.Microsecond)) || recs[0].Line != 6 ||
		recs[1].Owner.String() != "carol@example.net" || recs[1].ID != "" {
		t.Errorf("read back: %+v", recs)
	}
}

func TestWriterErrors(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	if err := w.WriteItem(Item{Message: message("a@b", "c@d", "")}); err == nil {
		t.Error("WriteItem before StartArchive succeeded")
	}
	w = NewWriter(&b)
	if err := w.StartArchive(jid.MustParse("example.org")); err == nil {
		t.Error("StartArchive of a domain succeeded")
	}
	w = NewWriter(&b)
	w.StartArchive(jid.MustParse("a@example.org"))
	if err := w.WriteItem(Item{Stamp: t0, Message: message("a@b", "c@d", "")}); err != nil {
		t.Fatal(err)
	}
	err := w.WriteItem(Item{ID: "x", Stamp: t0.Add(-time.Microsecond), Message: message("a@b", "c@d", "")})
	if err == nil || !strings.Contains(err.Error(), "chronological order") {
		t.Errorf("out of order: %v", err)
	}
	if w.Close() != err {
		t.Error("Close after an error does not return it")
	}
	if err := NewWriter(failWriter{}).Close(); err == nil {
		t.Error("write error not reported")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestDecodeXEPExample reads the example of XEP-0227 "Message Archive",
// with the other kinds of user data and extensions around it.
func TestDecodeXEPExample(t *testing.T) {
	doc := `<?xml version='1.0' encoding='UTF-8'?>
<server-data xmlns='urn:xmpp:pie:0'>
  <host jid='capulet.lit'>
    <user name='juliet'>
      <scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'><iter-count>4096</iter-count></scram-credentials>
      <query xmlns='jabber:iq:roster'><item jid='romeo@montague.lit'/></query>
      <offline-messages><message xmlns='jabber:client' from='romeo@montague.lit' to='juliet@capulet.lit'/></offline-messages>
      <presence xmlns='jabber:client' type='subscribe' from='mercutio@montague.lit'/>
      <archive xmlns='urn:xmpp:pie:0#mam'>
        <result xmlns='urn:xmpp:mam:2' id='28482-98726-73623'>
            <forwarded xmlns='urn:xmpp:forward:0'>
              <delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>
              <message xmlns='jabber:client'
                to='juliet@capulet.lit/balcony'
                from='romeo@montague.lit/orchard'
                type='chat'>
                <body>Call me but love, and I'll be new baptized; Henceforth I never will be Romeo.</body>
              </message>
            </forwarded>
          </result>
          <!-- a comment -->
          <result xmlns='urn:xmpp:mam:2' id='5d398-28273-f7382'>
            <forwarded xmlns='urn:xmpp:forward:0'>
              <delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:09:32Z'/>
              <message xmlns='jabber:client'
                 to='romeo@montague.lit/orchard'
                 from='juliet@capulet.lit/balcony'
                 type='chat' id='8a54s'>
                <body>What man art thou that thus bescreen'd in night so stumblest on my counsel?</body>
              </message>
            </forwarded>
          </result>
          <note xmlns='urn:example:x'><result xmlns='urn:xmpp:mam:2'/></note>
      </archive>
    </user>
    <user name='nurse'/>
  </host>
</server-data>`
	recs, err := decodeAll(t, doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	wantStanza := `<message xmlns="jabber:client" to="juliet@capulet.lit/balcony" from="romeo@montague.lit/orchard" type="chat">
                <body>Call me but love, and I&apos;ll be new baptized; Henceforth I never will be Romeo.</body>
              </message>`
	wantStanza = strings.ReplaceAll(wantStanza, "&apos;", "'")
	if r := recs[0]; r.Owner.String() != "juliet@capulet.lit" || r.ID != "28482-98726-73623" || r.Line != 10 ||
		!r.Stamp.Equal(time.Date(2010, 7, 10, 23, 8, 25, 0, time.UTC)) || r.Message.String() != wantStanza {
		t.Errorf("first record: %+v\n%s", r, r.Message)
	}

	tests := []struct {
		rec                Record
		with, res, oid     string
		outgoing           bool
		body, stanzaPrefix string
	}{
		{recs[0], "romeo@montague.lit", "orchard", "", false, "Call me but love, and I'll be new baptized; Henceforth I never will be Romeo.", `<message xmlns="jabber:client" to="juliet@capulet.lit/balcony"`},
		{recs[1], "romeo@montague.lit", "orchard", "", true, "What man art thou that thus bescreen'd in night so stumblest on my counsel?", `<message xmlns="jabber:client" to="romeo@montague.lit/orchard"`},
	}
	for i, tt := range tests {
		m, err := ToArchived(tt.rec.Owner, tt.rec.Item)
		if err != nil {
			t.Fatal(err)
		}
		if m.Owner != "juliet@capulet.lit" || m.With != tt.with || m.WithResource != tt.res || m.OriginID != tt.oid ||
			m.Outgoing != tt.outgoing || m.Body != tt.body || !strings.HasPrefix(string(m.Stanza), tt.stanzaPrefix) || !m.Stamp.Equal(tt.rec.Stamp) {
			t.Errorf("%d: %+v", i, m)
		}
	}
}

func TestToArchived(t *testing.T) {
	owner := jid.MustParse("Juliet@Capulet.lit")
	msg := func(attrs ...string) *xml.Element {
		return xml.New(nsClient, "message", attrs...).Append(
			xml.New(nsClient, "body").AppendText("b"),
			xml.New("urn:xmpp:sid:0", "origin-id", "id", "o"),
			xml.New("urn:xmpp:sid:0", "stanza-id", "by", "juliet@capulet.lit", "id", "ours"),
			xml.New("urn:xmpp:sid:0", "stanza-id", "by", "JULIET@capulet.lit", "id", "ours too"),
			xml.New("urn:xmpp:sid:0", "stanza-id", "by", "romeo@montague.lit", "id", "theirs"),
		)
	}
	tests := []struct {
		name     string
		st       *xml.Element
		with     string
		res      string
		outgoing bool
		err      string
	}{
		{"incoming", msg("from", "romeo@montague.lit/orchard", "to", "juliet@capulet.lit/balcony"), "romeo@montague.lit", "orchard", false, ""},
		{"incoming to bare", msg("from", "romeo@montague.lit", "to", "juliet@capulet.lit"), "romeo@montague.lit", "", false, ""},
		{"outgoing", msg("from", "juliet@capulet.lit/balcony", "to", "Romeo@Montague.lit/Orchard"), "romeo@montague.lit", "Orchard", true, ""},
		{"outgoing without from", msg("to", "romeo@montague.lit"), "romeo@montague.lit", "", true, ""},
		{"to oneself", msg("from", "juliet@capulet.lit/a", "to", "juliet@capulet.lit/b"), "juliet@capulet.lit", "b", true, ""},
		{"from a server", msg("from", "capulet.lit", "to", "juliet@capulet.lit"), "capulet.lit", "", false, ""},
		{"somebody else's", msg("from", "romeo@montague.lit", "to", "nurse@capulet.lit"), "", "", false, "neither from nor to juliet@capulet.lit"},
		{"no parties", msg(), "", "", false, "neither from nor to"},
		{"incoming without from", msg("to", "juliet@capulet.lit"), "", "", false, "message to juliet@capulet.lit has no 'from'"},
		{"outgoing without to", msg("from", "juliet@capulet.lit"), "", "", false, "has no 'to'"},
		{"bad from", msg("from", "a@b@c", "to", "juliet@capulet.lit"), "", "", false, `message 'from' "a@b@c"`},
		{"bad to", msg("from", "juliet@capulet.lit", "to", "x@"), "", "", false, `message 'to' "x@"`},
		{"not a message", xml.New(nsClient, "presence"), "", "", false, "no jabber:client message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ToArchived(owner, Item{Stamp: t0, Message: tt.st})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := storage.ArchivedMessage{
				Owner: "juliet@capulet.lit", With: tt.with, WithResource: tt.res, Outgoing: tt.outgoing,
				Stamp: t0.Truncate(time.Microsecond), OriginID: "o", Body: "b",
			}
			stanza := string(m.Stanza)
			m.Stanza = nil
			if !m.Stamp.Equal(want.Stamp) || m.Stamp.Location() != time.UTC {
				t.Errorf("stamp %v", m.Stamp)
			}
			m.Stamp = want.Stamp
			if m.Owner != want.Owner || m.With != want.With || m.WithResource != want.WithResource ||
				m.Outgoing != want.Outgoing || m.OriginID != want.OriginID || m.Body != want.Body {
				t.Errorf("got  %+v\nwant %+v", *m, want)
			}
			if strings.Contains(stanza, "ours") || !strings.Contains(stanza, "theirs") {
				t.Errorf("stanza-ids: %s", stanza)
			}
			if len(tt.st.Elements()) != 5 {
				t.Error("the item's message was modified")
			}
		})
	}
}

func TestFromArchived(t *testing.T) {
	// Stored stanzas may rely on an inherited jabber:client namespace.
	for _, stored := range []string{
		`<message xmlns="jabber:client" to="a@b"><body>x</body></message>`,
		`<message to="a@b"><body>x</body></message>`,
	} {
		it, err := FromArchived(&storage.ArchivedMessage{Stamp: t0, Stanza: []byte(stored)}, "id")
		if err != nil {
			t.Fatal(err)
		}
		if it.ID != "id" || !it.Stamp.Equal(t0.Truncate(time.Microsecond)) ||
			it.Message.String() != `<message xmlns="jabber:client" to="a@b"><body>x</body></message>` {
			t.Errorf("%s: %+v %s", stored, it, it.Message)
		}
	}
	for _, bad := range []string{"", "<message", "<presence/>", "<message/><message/>", `<message xmlns="urn:x"/>`} {
		if _, err := FromArchived(&storage.ArchivedMessage{Stanza: []byte(bad)}, "id"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	wrap := func(archive string) string {
		return "<server-data xmlns='urn:xmpp:pie:0'>\n<host jid='h.example'>\n<user name='u'>\n<archive xmlns='urn:xmpp:pie:0#mam'>\n" +
			archive + "\n</archive>\n</user>\n</host>\n</server-data>"
	}
	item := func(inner string) string {
		return "<result xmlns='urn:xmpp:mam:2'><forwarded xmlns='urn:xmpp:forward:0'>" + inner + "</forwarded></result>"
	}
	delay := "<delay xmlns='urn:xmpp:delay' stamp='2026-01-02T03:04:05Z'/>"
	tests := []struct{ name, doc, err string }{
		{"empty", "", "1: no root element"},
		{"whitespace", "  \n ", "2: no root element"},
		{"text first", "x<server-data xmlns='urn:xmpp:pie:0'/>", "1: text before the root element"},
		{"two roots", "<server-data xmlns='urn:xmpp:pie:0'/><server-data xmlns='urn:xmpp:pie:0'/>", "1: a second root element"},
		{"text after", "<server-data xmlns='urn:xmpp:pie:0'/>\nx", "2: text after the root element"},
		{"wrong root", "<host xmlns='urn:xmpp:pie:0' jid='a'/>", "1: the root element is {urn:xmpp:pie:0}host"},
		{"encoding", "<?xml version='1.0' encoding='ISO-8859-1'?><server-data xmlns='urn:xmpp:pie:0'/>", "ISO-8859-1"},
		{"bad utf-8", "<server-data xmlns='urn:xmpp:pie:0'>\xff</server-data>", "1: not well-formed XML: invalid UTF-8"},
		{"entity", "<server-data xmlns='urn:xmpp:pie:0'>&foo;</server-data>", "not well-formed XML: invalid character entity &foo;"},
		{"user outside host", "<server-data xmlns='urn:xmpp:pie:0'>\n<user name='u'/></server-data>", "2: <user> may not appear in <server-data>"},
		{"host without jid", "<server-data xmlns='urn:xmpp:pie:0'><host/></server-data>", `1: <host jid="">: not a domain`},
		{"host with user", "<server-data xmlns='urn:xmpp:pie:0'><host jid='u@h'/></server-data>", `<host jid="u@h">: not a domain`},
		{"user without name", "<server-data xmlns='urn:xmpp:pie:0'><host jid='h'><user/></host></server-data>", "1: <user> without a name"},
		{"bad user name", "<server-data xmlns='urn:xmpp:pie:0'><host jid='h'><user name='a b'/></host></server-data>", `<user name="a b"> at h`},
		{"text in host", "<server-data xmlns='urn:xmpp:pie:0'><host jid='h'>x</host></server-data>", "1: text in <host>"},
		{"text in archive", wrap("x"), "5: text in <archive>"},
		{"unclosed", "<server-data xmlns='urn:xmpp:pie:0'><host jid='h'>", "1: the document ends inside <host>"},
		{"unclosed item", strings.Split(wrap("<result xmlns='urn:xmpp:mam:2'><forwarded>"), "\n</archive>")[0], "5: the document ends inside <forwarded>"},
		{"mismatch", "<server-data xmlns='urn:xmpp:pie:0'></host>", "1: not well-formed XML: unexpected end tag </host>"},
		{"prefix mismatch", "<a:server-data xmlns:a='urn:xmpp:pie:0' xmlns:b='urn:xmpp:pie:0'></b:server-data>", "unexpected end tag </b:server-data>"},
		{"undeclared", "<p:server-data/>", `1: undeclared namespace prefix "p"`},
		{"undeclared attribute prefix", "<server-data xmlns='urn:xmpp:pie:0' p:a='1'/>", `undeclared namespace prefix "p"`},
		{"empty prefix binding", "<server-data xmlns='urn:xmpp:pie:0' xmlns:p=''/>", `prefix "p" bound to the empty namespace`},
		{"bad name", "<server-data xmlns='urn:xmpp:pie:0' xmlns:p='x'><p:-a/></server-data>", `bad element name "p:-a"`},
		{"bad attribute name", "<server-data xmlns='urn:xmpp:pie:0' xmlns:p='x' p:-a='1'/>", `bad attribute name "p:-a"`},
		{"no forwarded", wrap("<result xmlns='urn:xmpp:mam:2' id='1'/>"), "5: <result> without <forwarded"},
		{"no delay", wrap(item("<message xmlns='jabber:client'/>")), "5: <forwarded> without <delay"},
		{"bad stamp", wrap(item("<delay xmlns='urn:xmpp:delay' stamp='2026-01-02T03:04:05'/>")), `5: <delay stamp="2026-01-02T03:04:05">`},
		{"no message", wrap(item(delay)), "5: <forwarded> holds no <message"},
		{"message in wrong namespace", wrap(item(delay + "<message xmlns='jabber:server'/>")), "5: <forwarded> holds no <message"},
		{"too deep for a stanza", wrap(item(delay + "<message xmlns='jabber:client'>" + strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40) + "</message>")), "5: <message>: xml: element nesting exceeds limit"},
		{"too deep", "<server-data xmlns='urn:xmpp:pie:0'>" + strings.Repeat("<x:a xmlns:x='y'>", 300), "elements nest more than 256 deep"},
		{"mam element in archive", wrap("<fin xmlns='urn:xmpp:mam:2'/>"), "5: <fin> may not appear in <archive>"},
		{"include without file", "<server-data xmlns='urn:xmpp:pie:0'><include xmlns='http://www.w3.org/2001/XInclude' href='a.xml'/></server-data>", "only a document read from a file may include others"},
		{"DTD", "<!DOCTYPE server-data><server-data xmlns='urn:xmpp:pie:0'/>", "1: DTDs are not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := decodeAll(t, tt.doc)
			var pe *Error
			if err == nil || !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err = %v (%T), want *Error containing %q", err, err, tt.err)
			}
			if len(recs) > 0 {
				t.Errorf("records: %v", recs)
			}
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	doc := func(body string) string {
		return "<server-data xmlns='urn:xmpp:pie:0'><host jid='h'><user name='u'><vCard xmlns='vcard-temp'>" + body + "</vCard><archive xmlns='urn:xmpp:pie:0#mam'>" +
			"<result xmlns='urn:xmpp:mam:2'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-01-02T03:04:05Z'/>" +
			"<message xmlns='jabber:client' to='a@b'><body>" + body + "</body></message></forwarded></result></archive></user></host></server-data>"
	}
	opt := Options{MaxItemBytes: 1000}
	count := func(doc string) (int, error) {
		n := 0
		err := Decode(strings.NewReader(doc), opt, func(Record) error { n++; return nil })
		return n, err
	}
	if n, err := count(doc(strings.Repeat("x", 700))); err != nil || n != 1 {
		t.Errorf("within the limits: %d, %v", n, err)
	}
	if _, err := count(doc(strings.Repeat("x", 900))); err == nil || !strings.Contains(err.Error(), "exceeds the size limit (1000 bytes)") {
		t.Errorf("item over the limit: %v", err)
	}
	// Skipped data is bounded per token, not as a whole.
	big := strings.Repeat("<x>"+strings.Repeat("y", 600)+"</x>", 20)
	if n, err := count(strings.Replace(doc("z"), "<vCard xmlns='vcard-temp'>z", "<vCard xmlns='vcard-temp'>"+big, 1)); err != nil || n != 1 {
		t.Errorf("large skipped data: %d, %v", n, err)
	}
	if _, err := count(doc(strings.Repeat("x", 1200))); err == nil {
		t.Error("a text token over the limit was read")
	}

	// fn's error stops decoding and comes back as it is.
	stop := errors.New("stop")
	if err := Decode(strings.NewReader(doc("x")), Options{}, func(Record) error { return stop }); err != stop {
		t.Errorf("fn's error: %v", err)
	}
}

func TestDecodeFileXInclude(t *testing.T) {
	result := func(body string) string {
		return "<result xmlns='urn:xmpp:mam:2'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-01-02T03:04:05Z'/>" +
			"<message xmlns='jabber:client' to='a@b'><body>" + body + "</body></message></forwarded></result>"
	}
	fsys := fstest.MapFS{
		"main.xml": {Data: []byte("<server-data xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'>\n" +
			"  <xi:include href='capulet.lit.xml'><xi:fallback/></xi:include>\n" +
			"  <host jid='montague.lit'><xi:include href='montague.lit/romeo%20m.xml' parse='xml'/></host>\n" +
			"</server-data>")},
		"capulet.lit.xml": {Data: []byte("<?xml version='1.0'?>\n<host xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude' jid='capulet.lit'>\n" +
			"<xi:include href='capulet.lit/juliet.xml'/></host>")},
		"capulet.lit/juliet.xml": {Data: []byte("<user xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude' name='juliet'>\n" +
			"<xi:include href='archive.xml'/>\n" +
			"<archive xmlns='urn:xmpp:pie:0#mam'>" + result("2") +
			"<xi:include href='never-read.xml'/></archive></user>")},
		"capulet.lit/archive.xml":  {Data: []byte("<archive xmlns='urn:xmpp:pie:0#mam'>\n" + result("1") + "</archive>")},
		"montague.lit/romeo m.xml": {Data: []byte("<user xmlns='urn:xmpp:pie:0' name='romeo'><archive xmlns='urn:xmpp:pie:0#mam'>" + result("3") + "</archive></user>")},
	}
	var got []string
	err := DecodeFile(fsys, "main.xml", Options{}, func(r Record) error {
		got = append(got, r.Owner.String()+" "+r.Message.ChildText(nsClient, "body")+" "+r.File+":"+string(rune('0'+r.Line)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"juliet@capulet.lit 1 capulet.lit/archive.xml:2", "juliet@capulet.lit 2 capulet.lit/juliet.xml:3", "romeo@montague.lit 3 montague.lit/romeo m.xml:1"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	bad := []struct{ name, doc, err string }{
		{"cycle", "<server-data xmlns='urn:xmpp:pie:0'><include xmlns='http://www.w3.org/2001/XInclude' href='x.xml'/></server-data>", `x.xml:1: XInclude href "x.xml" includes itself`},
		{"escape", "<server-data xmlns='urn:xmpp:pie:0'><include xmlns='http://www.w3.org/2001/XInclude' href='../y.xml'/></server-data>", "leaves the directory"},
		{"absolute", "<server-data xmlns='urn:xmpp:pie:0'><include xmlns='http://www.w3.org/2001/XInclude' href='/etc/passwd'/></server-data>", "want a relative reference"},
		{"url", "<server-data xmlns='urn:xmpp:pie:0'><include xmlns='http://www.w3.org/2001/XInclude' href='http://example.com/x.xml'/></server-data>", "want a relative reference"},
		{"fragment", "<server-data xmlns='urn:xmpp:pie:0'><include xmlns='http://www.w3.org/2001/XInclude' href='y.xml#a'/></server-data>", "want a relative reference"},
		{"text", "<server-data xmlns='urn:xmpp:pie:0'><include xmlns='http://www.w3.org/2001/XInclude' href='y.xml' parse='text'/></server-data>", `parse="text"`},
		{"xpointer", "<server-data xmlns='urn:xmpp:pie:0'><include xmlns='http://www.w3.org/2001/XInclude' xpointer='a'/></server-data>", "xpointer"},
		{"no href", "<server-data xmlns='urn:xmpp:pie:0'><include xmlns='http://www.w3.org/2001/XInclude'/></server-data>", "without href"},
		{"missing", "<server-data xmlns='urn:xmpp:pie:0'><include xmlns='http://www.w3.org/2001/XInclude' href='none.xml'/></server-data>", "XInclude: open none.xml"},
		{"wrong root", "<server-data xmlns='urn:xmpp:pie:0'><include xmlns='http://www.w3.org/2001/XInclude' href='u.xml'/></server-data>", "u.xml:1: <user> may not appear in <server-data>"},
		{"root is include", "<include xmlns='http://www.w3.org/2001/XInclude' href='u.xml'/>", "x.xml:1: the root element is"},
		{"broken included file", "<server-data xmlns='urn:xmpp:pie:0'><include xmlns='http://www.w3.org/2001/XInclude' href='broken.xml'/></server-data>", "broken.xml:2: the document ends inside <host>"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"x.xml":      {Data: []byte(tt.doc)},
				"u.xml":      {Data: []byte("<user xmlns='urn:xmpp:pie:0' name='u'/>")},
				"y.xml":      {Data: []byte("<host xmlns='urn:xmpp:pie:0' jid='h'/>")},
				"broken.xml": {Data: []byte("<host xmlns='urn:xmpp:pie:0' jid='h'>\n")},
			}
			err := DecodeFile(fsys, "x.xml", Options{}, func(Record) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err = %v, want %q", err, tt.err)
			}
		})
	}
	// Includes nest at most maxIncludeDepth deep.
	chain := fstest.MapFS{"x.xml": {Data: []byte("<server-data xmlns='urn:xmpp:pie:0'><host jid='h'><user name='u'>" +
		"<include xmlns='http://www.w3.org/2001/XInclude' href='c1.xml'/></user></host></server-data>")}}
	for i := 1; i < 12; i++ {
		chain[fmt.Sprintf("c%d.xml", i)] = &fstest.MapFile{Data: fmt.Appendf(nil, "<include xmlns='http://www.w3.org/2001/XInclude' href='c%d.xml'/>", i+1)}
	}
	chain["c12.xml"] = &fstest.MapFile{Data: []byte("<archive xmlns='urn:xmpp:pie:0#mam'/>")}
	if err := DecodeFile(chain, "x.xml", Options{}, nil); err == nil || !strings.Contains(err.Error(), "c8.xml:1: XInclude includes nest more than 8 deep") {
		t.Errorf("deep includes: %v", err)
	}
	if err := DecodeFile(fstest.MapFS{}, "none.xml", Options{}, nil); err == nil {
		t.Error("missing main file: no error")
	}
}
