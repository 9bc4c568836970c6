package server_test

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/internal/xmpptest"
	"github.com/skald-xmpp/skald/storage/sqlite"
)

const (
	nsMAM = "urn:xmpp:mam:2"
	nsRSM = "http://jabber.org/protocol/rsm"
)

// mamQuery sends a MAM query with the given form fields and RSM <set/>
// children over c and returns the archive ids of the results, in the
// order sent, and the <fin/>.
func mamQuery(t *testing.T, c *xmpptest.Conn, id, fields, set string) ([]string, *xml.Element) {
	t.Helper()
	q := `<iq type='set' id='` + id + `'><query xmlns='urn:xmpp:mam:2' queryid='` + id + `'>` +
		`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>` + fields + `</x>`
	if set != "" {
		q += `<set xmlns='http://jabber.org/protocol/rsm'>` + set + `</set>`
	}
	c.Send(q + `</query></iq>`)
	var ids []string
	for {
		el := c.Next()
		if r := el.Child(nsMAM, "result"); el.Local == "message" && r != nil && r.Attr("queryid") == id {
			ids = append(ids, r.Attr("id"))
			continue
		}
		if el.Local == "iq" && el.Attr("id") == id {
			if el.Attr("type") != "result" {
				t.Fatalf("query %s: %s", id, el)
			}
			return ids, el.Child(nsMAM, "fin")
		}
	}
}

// TestMAMCountFormIDs: over a real connection to a server on SQLite, a
// MAM query with after-id/before-id in its form gets the RSM <count/> of
// the set the form selects, whatever the RSM cursors, and a first@index
// that is the page's position in that set.
func TestMAMCountFormIDs(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "skald.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, st, nil) // closes st at shutdown
	alice := login(t, s, "alice", "a")
	for i := range 6 {
		alice.Sendf(`<message to='bob@localhost' type='chat'><body>m%d</body></message>`, i)
	}
	all, _ := mamQuery(t, alice, "all", "", "")
	if len(all) != 6 {
		t.Fatalf("%d items archived, want 6", len(all))
	}
	k := func(i int) string { return all[i] }
	field := func(name string, values ...string) string {
		f := `<field var='` + name + `'>`
		for _, v := range values {
			f += `<value>` + v + `</value>`
		}
		return f + `</field>`
	}
	after := func(i int) string { return field("after-id", k(i)) }
	before := func(i int) string { return field("before-id", k(i)) }
	tests := []struct {
		name, fields, set string
		page              []int // positions in the archive
		index, count      int   // -1: absent
	}{
		{"after-id", after(1), "", []int{2, 3, 4, 5}, 0, 4},
		{"before-id", before(4), "", []int{0, 1, 2, 3}, 0, 4},
		{"after-id and before-id", after(0) + before(5), "", []int{1, 2, 3, 4}, 0, 4},
		{"after-id, RSM <before/>", after(1), `<max>2</max><before/>`, []int{4, 5}, 2, 4},
		{"after-id, RSM after", after(1), `<max>10</max><after>` + k(2) + `</after>`, []int{3, 4, 5}, 1, 4},
		{"ids and after-id", field("ids", k(0), k(2), k(4)) + after(0), "", []int{2, 4}, 0, 2},
		{"after-id, count only", after(1), `<max>0</max>`, nil, -1, 4},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, fin := mamQuery(t, alice, "q"+strconv.Itoa(i), tc.fields, tc.set)
			var want []string
			for _, p := range tc.page {
				want = append(want, k(p))
			}
			if !slices.Equal(got, want) {
				t.Errorf("page %v, want %v", got, want)
			}
			set := fin.Child(nsRSM, "set")
			count, index := "", ""
			if c := set.Child(nsRSM, "count"); c != nil {
				count = c.Text()
			}
			if f := set.Child(nsRSM, "first"); f.HasAttr("index") {
				index = f.Attr("index")
			}
			str := func(n int) string {
				if n < 0 {
					return ""
				}
				return strconv.Itoa(n)
			}
			if count != str(tc.count) || index != str(tc.index) {
				t.Errorf("count %q, first@index %q; want %q, %q\n%s", count, index, str(tc.count), str(tc.index), fin)
			}
		})
	}
}
