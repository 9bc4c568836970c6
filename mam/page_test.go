package mam

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/storage"
	"github.com/skald-xmpp/skald/storage/memory"
)

// TestPageStoredForms: whatever form a stored message has, a page sends
// exactly what parsing it and writing it again sends (today's path, and
// the only one before xml.Raw); only our own canonical serialisation is
// passed through unparsed, and what cannot be read gives an empty
// <forwarded/> and a log line.
func TestPageStoredForms(t *testing.T) {
	const deep = 32 // DefaultLimits.MaxDepth, the message included
	for _, tt := range []struct {
		name   string
		stored string
		path   string // "raw", "parsed" or "none"
		want   string // the <forwarded/> content as sent
	}{
		{"canonical", `<message xmlns="jabber:client" to="bob@example.com" type="chat"><body>hi</body></message>`,
			"raw", `<message xmlns="jabber:client" to="bob@example.com" type="chat"><body>hi</body></message>`},
		{"canonical with nested namespaces, prefixed attributes and escapes",
			`<message xmlns="jabber:client" xml:lang="en" xmlns:ns1="urn:p" ns1:a="&quot;1&quot;"><body>&lt;b&gt; &amp; "q" 😀&#xD;</body><x xmlns="urn:x"><y xmlns="jabber:client"/><z xmlns=""/></x></message>`,
			"raw", `<message xmlns="jabber:client" xml:lang="en" xmlns:ns1="urn:p" ns1:a="&quot;1&quot;"><body>&lt;b&gt; &amp; "q" 😀&#xD;</body><x xmlns="urn:x"><y xmlns="jabber:client"/><z xmlns=""/></x></message>`},
		{"inherited namespace", `<message to="bob@example.com"><body>hi</body></message>`,
			"parsed", `<message xmlns="jabber:client" to="bob@example.com"><body>hi</body></message>`},
		{"single quotes", `<message xmlns='jabber:client' to='bob@example.com'><body>hi</body></message>`,
			"parsed", `<message xmlns="jabber:client" to="bob@example.com"><body>hi</body></message>`},
		{"prefixed", `<c:message xmlns:c="jabber:client" xmlns:p="urn:p" p:a="1"><c:body>hi</c:body><p:x/></c:message>`,
			"parsed", `<message xmlns="jabber:client" xmlns:ns1="urn:p" ns1:a="1"><body>hi</body><x xmlns="urn:p"/></message>`},
		{"nested namespaces declared on an ancestor", `<message xmlns="jabber:client" xmlns:p="urn:p"><x xmlns="urn:x" p:a="1"><y/></x></message>`,
			"parsed", `<message xmlns="jabber:client"><x xmlns="urn:x" xmlns:ns1="urn:p" ns1:a="1"><y/></x></message>`},
		{"redundant declaration", `<message xmlns="jabber:client"><body xmlns="jabber:client">hi</body></message>`,
			"parsed", `<message xmlns="jabber:client"><body>hi</body></message>`},
		{"surrounding whitespace", " <message xmlns=\"jabber:client\"><body>hi</body></message>\n",
			"parsed", `<message xmlns="jabber:client"><body>hi</body></message>`},
		{"CDATA", `<message xmlns="jabber:client"><body><![CDATA[<hi>]]></body></message>`,
			"parsed", `<message xmlns="jabber:client"><body>&lt;hi&gt;</body></message>`},
		{"cut", `<message xmlns="jabber:client"><body>hi`, "none", ""},
		{"second stanza smuggled in", `<message xmlns="jabber:client"><body>a</body></message><message xmlns="jabber:client" from="bank@example.com"><body>b</body></message>`, "none", ""},
		{"bare ampersand", `<message xmlns="jabber:client"><body>a & b</body></message>`, "none", ""},
		{"not a message", `<iq xmlns="jabber:client" type="get" id="1"/>`, "none", ""},
		{"other namespace", `<message xmlns="jabber:server"><body>hi</body></message>`, "none", ""},
		{"too deep", `<message xmlns="jabber:client">` + strings.Repeat(`<a>`, deep) + strings.Repeat(`</a>`, deep) + `</message>`, "none", ""},
		{"empty", ``, "none", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logged bytes.Buffer
			m := newPageModule(t, &logged)
			// The row between two canonical ones: indexes must stay
			// aligned when the page mixes both paths.
			items := pageItems(
				`<message xmlns="jabber:client"><body>before</body></message>`,
				tt.stored,
				`<message xmlns="jabber:client"><body>after</body></message>`)
			nodes := m.pageStanzas(items)

			if got := pathOf(nodes[1]); got != tt.path {
				t.Errorf("taken as %s, want %s", got, tt.path)
			}
			if pathOf(nodes[0]) != "raw" || pathOf(nodes[2]) != "raw" {
				t.Errorf("neighbours taken as %s and %s", pathOf(nodes[0]), pathOf(nodes[2]))
			}
			parsed := m.decodePage(items)
			for i := range items {
				got := sentResult(m, &items[i], nodes[i])
				var old xml.Node
				if parsed[i] != nil {
					old = parsed[i]
				}
				if want := sentResult(m, &items[i], old); got != want {
					t.Errorf("item %d differs from the parsed path:\n got %s\nwant %s", i, got, want)
				}
			}
			want := fmt.Sprintf(`<message to="alice@example.com/a" from="alice@example.com" id="r"><result xmlns="urn:xmpp:mam:2" queryid="f" id="%s"><forwarded xmlns="urn:xmpp:forward:0"><delay xmlns="urn:xmpp:delay" stamp="2024-01-02T03:04:05.123456Z"/>%s</forwarded></result></message>`,
				m.ArchiveID(items[1].ID), tt.want)
			if got := sentResult(m, &items[1], nodes[1]); got != want {
				t.Errorf("sent:\n got %s\nwant %s", got, want)
			}
			if unreadable := strings.Contains(logged.String(), "stored stanza unreadable"); unreadable != (tt.path == "none") {
				t.Errorf("logged %q", logged.String())
			}
			if tt.path == "none" && !strings.Contains(logged.String(), fmt.Sprintf("item=%d", items[1].ID)) {
				t.Errorf("the log does not name the item: %q", logged.String())
			}
		})
	}
}

// TestPageCanonicalDoesNotParse: a page of 50 stored as the archive hook
// stores them is built without parsing: two allocations (the nodes and
// the Raws they point to), where reading even one message allocates
// dozens.
func TestPageCanonicalDoesNotParse(t *testing.T) {
	m := newPageModule(t, nil)
	var stored []string
	for i := range 50 {
		stored = append(stored, fmt.Sprintf(`<message xmlns="jabber:client" to="bob@example.com" type="chat" id="m%d"><body>message %d</body><origin-id xmlns="urn:xmpp:sid:0" id="o%d"/></message>`, i, i, i))
	}
	items := pageItems(stored...)
	var nodes []xml.Node
	allocs := testing.AllocsPerRun(20, func() { nodes = m.pageStanzas(items) })
	for i, n := range nodes {
		if pathOf(n) != "raw" {
			t.Fatalf("item %d taken as %s", i, pathOf(n))
		}
	}
	if allocs > 2 {
		t.Errorf("a canonical page of 50 allocates %v times", allocs)
	}
}

// TestArchivedMessagesAreCanonical: what the archive hook stores is what
// the fast path accepts, so live archives are served without parsing.
func TestArchivedMessagesAreCanonical(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, _ := e.login("alice@example.com/a")
	e.login("bob@example.com/b")
	for _, msg := range []string{
		`<message to='bob@example.com' type='chat' id='1'><body>hi</body></message>`,
		`<message to='bob@example.com' type='chat' id='2' xml:lang='en'><body>&lt;&amp;&gt; "' ` + "\t\n" + ` 😀</body><origin-id xmlns='urn:xmpp:sid:0' id='o2'/><request xmlns='urn:xmpp:receipts'/></message>`,
		`<message to='bob@example.com' id='3' xmlns:p='urn:p' p:a='x&#xA;y'><p:x><p:y p:b='1'/></p:x><body>x</body></message>`,
	} {
		e.send(alice, msg)
	}
	for _, owner := range []string{"alice@example.com", "bob@example.com"} {
		items := e.items(owner)
		if len(items) != 3 {
			t.Fatalf("%s has %d items", owner, len(items))
		}
		for _, it := range items {
			if _, ok := xml.NewRaw(it.Stanza, nsClient, "message", xml.DefaultLimits); !ok {
				t.Errorf("stored %s is not taken as it is", it.Stanza)
			}
		}
	}
}

func newPageModule(t *testing.T, log *bytes.Buffer) *Module {
	t.Helper()
	l := quietLog()
	if log != nil {
		l = slog.New(slog.NewTextHandler(log, nil))
	}
	m, err := New(DefaultConfig(), memory.New(), memory.New(), testSecret, l)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// pageItems returns stored rows as a page holds them, ids 1, 2, ...
func pageItems(stanzas ...string) []storage.ArchivedMessage {
	items := make([]storage.ArchivedMessage, len(stanzas))
	for i, s := range stanzas {
		items[i] = storage.ArchivedMessage{ID: int64(i + 1), Owner: "alice@example.com", With: "bob@example.com", Stamp: t0, Stanza: []byte(s)}
	}
	return items
}

func pathOf(n xml.Node) string {
	switch n.(type) {
	case nil:
		return "none"
	case *xml.Raw:
		return "raw"
	case *xml.Element:
		return "parsed"
	}
	return fmt.Sprintf("%T", n)
}

// sentResult returns the bytes a c2s session sends for the result
// message of it, with a fixed message id.
func sentResult(m *Module, it *storage.ArchivedMessage, st xml.Node) string {
	q := Query{HasQueryID: true, QueryID: "f"}
	msg := m.resultMessage("alice@example.com/a", "alice@example.com", &q, it, st)
	msg.SetAttr("id", "r")
	return string(msg.Bytes(nsClient))
}
