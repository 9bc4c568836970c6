package server_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/storage/sqlite"
)

const nsFulltext = "urn:xmpp:fulltext:0"

// ftQuery sends a MAM query to the archive at to ("" for one's own) with
// XEP-0431's fulltext field and an RSM set, and returns the results' ids
// and bodies and the <fin/>.
func ftQuery(t *testing.T, c *xmpptest.Conn, id, to, text, extraFields, set string) (ids, bodies []string, fin *xml.Element) {
	t.Helper()
	toAttr := ""
	if to != "" {
		toAttr = ` to='` + to + `'`
	}
	q := `<iq type='set' id='` + id + `'` + toAttr + `><query xmlns='urn:xmpp:mam:2' queryid='` + id + `'>` +
		`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>` +
		`<field var='{urn:xmpp:fulltext:0}fulltext'><value>` + text + `</value></field>` + extraFields + `</x>`
	if set != "" {
		q += `<set xmlns='http://jabber.org/protocol/rsm'>` + set + `</set>`
	}
	c.Send(q + `</query></iq>`)
	for {
		el := c.Next()
		if r := el.Child(nsMAM, "result"); el.Local == "message" && r != nil && r.Attr("queryid") == id {
			ids = append(ids, r.Attr("id"))
			m := r.Child("urn:xmpp:forward:0", "forwarded").Child("jabber:client", "message")
			bodies = append(bodies, m.ChildText("", "body"))
			continue
		}
		if el.Local == "iq" && el.Attr("id") == id {
			if el.Attr("type") != "result" {
				t.Fatalf("query %s: %s", id, el)
			}
			return ids, bodies, el.Child(nsMAM, "fin")
		}
	}
}

// finSet returns the RSM first, last and count of a <fin/> and whether it
// says complete.
func finSet(fin *xml.Element) (first, last, count string, complete bool) {
	set := fin.Child("http://jabber.org/protocol/rsm", "set")
	return set.ChildText("", "first"), set.ChildText("", "last"), set.ChildText("", "count"), fin.Attr("complete") == "true"
}

// XEP-0431 over a real connection to a server on SQLite: the account
// advertises urn:xmpp:fulltext:0 and the field in its form; a query with
// the field returns exactly the matching messages, indexed or appended
// after the index ran, with RSM paging in both directions.
func TestFulltextSearch(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "skald.db"), sqlite.Options{IndexBatch: -1})
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, st, nil) // closes st at shutdown
	alice := login(t, s, "alice", "a")

	_, info := ask(t, alice, "d", `<iq type='get' id='d' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if !strings.Contains(info.String(), `var="`+nsFulltext+`"`) {
		t.Fatalf("account does not advertise %s: %s", nsFulltext, info)
	}
	_, form := ask(t, alice, "f", `<iq type='get' id='f'><query xmlns='urn:xmpp:mam:2'/></iq>`)
	if !strings.Contains(form.String(), `var="{urn:xmpp:fulltext:0}fulltext"`) {
		t.Fatalf("form lacks the fulltext field: %s", form)
	}

	bodies := []string{"apple pie", "banana", "Apple juice", "cherry", "pineapple", "APPLE tart"}
	for i, b := range bodies {
		alice.Sendf(`<message to='bob@localhost' type='chat'><body>%s</body></message>`, b)
		if i == 2 {
			// Barrier: the messages so far are archived; index them.
			ask(t, alice, "p", `<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>`)
			if err := st.IndexText(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	all, _ := mamQuery(t, alice, "all", "", "")
	if len(all) != 6 {
		t.Fatalf("%d items archived, want 6", len(all))
	}

	ids, got, fin := ftQuery(t, alice, "q1", "", "apple", "", "<max>2</max>")
	if first, last, _, complete := finSet(fin); !slices.Equal(ids, []string{all[0], all[2]}) || complete || first != all[0] || last != all[2] {
		t.Fatalf("page 1: %v %q, fin %s", ids, got, fin)
	}
	ids, got, fin = ftQuery(t, alice, "q2", "", "apple", "", "<max>2</max><after>"+all[2]+"</after>")
	if first, last, _, complete := finSet(fin); !slices.Equal(got, []string{"pineapple", "APPLE tart"}) || !complete || first != all[4] || last != all[5] {
		t.Fatalf("page 2: %v %q, fin %s", ids, got, fin)
	}
	ids, _, fin = ftQuery(t, alice, "q3", "", "APPLE", "", "<max>2</max><before/>")
	if _, _, _, complete := finSet(fin); !slices.Equal(ids, []string{all[4], all[5]}) || complete {
		t.Fatalf("last page: %v, fin %s", ids, fin)
	}
	ids, _, fin = ftQuery(t, alice, "q4", "", "APPLE", "", "<max>2</max><before>"+all[4]+"</before>")
	if _, _, _, complete := finSet(fin); !slices.Equal(ids, []string{all[0], all[2]}) || !complete {
		t.Fatalf("page before: %v, fin %s", ids, fin)
	}
	ids, _, _ = ftQuery(t, alice, "q5", "", "apple", `<field var='with'><value>carol@localhost</value></field>`, "")
	if len(ids) != 0 {
		t.Fatalf("with carol: %v", ids)
	}
	_, got, _ = ftQuery(t, alice, "q6", "", "pie juice", "", "")
	if len(got) != 0 {
		t.Fatalf("two words no message has both: %q", got)
	}
	_, got, _ = ftQuery(t, alice, "q7", "", `&quot;apple&quot; OR banana`, "", "")
	if len(got) != 0 {
		t.Fatalf("FTS syntax is text: %q", got)
	}
}

// XEP-0431 on a room's archive: the room advertises the feature, its
// form has the field, and a query finds the room's matching messages.
func TestFulltextRoomArchive(t *testing.T) {
	s := startServer(t, nil, nil)
	alice := login(t, s, "alice", "phone")
	bob := login(t, s, "bob", "laptop")
	enterInstantRoom(t, alice, bob)
	for _, body := range []string{"tea time", "coffee", "green TEA"} {
		bob.Send(`<message to='` + room + `' type='groupchat'><body>` + body + `</body></message>`)
		alice.Expect(isMessageWithBody(body))
		bob.Expect(isMessageWithBody(body))
	}
	_, info := ask(t, alice, "d", `<iq type='get' id='d' to='`+room+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if !strings.Contains(info.String(), `var="`+nsFulltext+`"`) {
		t.Fatalf("room does not advertise %s: %s", nsFulltext, info)
	}
	_, form := ask(t, alice, "f", `<iq type='get' id='f' to='`+room+`'><query xmlns='urn:xmpp:mam:2'/></iq>`)
	if !strings.Contains(form.String(), `var="{urn:xmpp:fulltext:0}fulltext"`) {
		t.Fatalf("room form lacks the fulltext field: %s", form)
	}
	_, got, fin := ftQuery(t, alice, "r", room, "Tea", "", "")
	if _, _, _, complete := finSet(fin); !slices.Equal(got, []string{"tea time", "green TEA"}) || !complete {
		t.Fatalf("room search: %q, fin %s", got, fin)
	}
}
