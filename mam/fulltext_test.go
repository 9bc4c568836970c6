package mam

import (
	"regexp"
	"slices"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/storage"
)

var bodyRE = regexp.MustCompile(`<body>(.*?)</body>`)

// resultBodies returns the bodies of the forwarded messages of a page.
func resultBodies(res []*xml.Element) []string {
	var out []string
	for _, r := range res {
		// The forwarded message is the stored bytes (xml.Raw), not a tree.
		m := bodyRE.FindStringSubmatch(r.String())
		if m == nil {
			out = append(out, "?")
			continue
		}
		out = append(out, m[1])
	}
	return out
}

func rsmOf(reply *xml.Element) (first, last, count string, complete bool) {
	fin := reply.Child(NS, "fin")
	set := fin.Child(NSRSM, "set")
	if c := set.Child(NSRSM, "count"); c != nil {
		count = c.Text()
	}
	if f := set.Child(NSRSM, "first"); f != nil {
		first = f.Text()
	}
	if l := set.Child(NSRSM, "last"); l != nil {
		last = l.Text()
	}
	return first, last, count, fin.Attr("complete") == "true"
}

// XEP-0431 on both backends of the module tests: the fulltext field
// selects the matching messages, combined with with/start/end, paged
// with RSM in both directions and flipped.
func TestFulltextQuery(t *testing.T) {
	for name, mk := range map[string]func(*testing.T, Config) *env{"memory": newEnv, "sqlite": newSQLiteEnv} {
		t.Run(name, func(t *testing.T) {
			e := mk(t, DefaultConfig())
			alice, rec := e.login("alice@example.com/a")
			bodies := []string{"Hello Bob", "nothing", "Café tonight?", "hello again", "HELLO", "bye", "cafe olé, hello"}
			for _, b := range bodies {
				e.send(alice, `<message to='bob@example.com' type='chat'><body>`+b+`</body></message>`)
			}
			e.send(alice, `<message to='carol@example.com' type='chat'><body>hello carol</body></message>`)
			rec.take()
			ft := func(text string, more ...string) string {
				return form(append([]string{field("{urn:xmpp:fulltext:0}fulltext", text)}, more...)...)
			}

			res, reply := e.query(alice, rec, "", ft("hello"))
			if got, want := resultBodies(res), []string{"Hello Bob", "hello again", "HELLO", "cafe olé, hello", "hello carol"}; !slices.Equal(got, want) {
				t.Errorf("hello: %q, want %q", got, want)
			}
			if first, last, count, complete := rsmOf(reply); !complete || count != "" || first != e.id(1) || last != e.id(15) {
				t.Errorf("hello: first %s last %s count %q complete %v: %s", first, last, count, complete, reply)
			}

			res, _ = e.query(alice, rec, "", ft("CAFE", field("with", "bob@example.com")))
			if got, want := resultBodies(res), []string{"Café tonight?", "cafe olé, hello"}; !slices.Equal(got, want) {
				t.Errorf("cafe with bob: %q, want %q", got, want)
			}
			page, err := e.store.QueryArchive(e.ctx, storage.ArchiveQuery{Owner: "alice@example.com"})
			if err != nil || len(page.Messages) != 8 {
				t.Fatalf("archive: %d items, %v", len(page.Messages), err)
			}
			start, end := page.Messages[2].Stamp, page.Messages[6].Stamp
			res, _ = e.query(alice, rec, "", ft("hello", field("start", FormatDateTime(start)), field("end", FormatDateTime(end))))
			if got, want := resultBodies(res), []string{"hello again", "HELLO", "cafe olé, hello"}; !slices.Equal(got, want) {
				t.Errorf("hello in time: %q, want %q", got, want)
			}
			res, reply = e.query(alice, rec, "", ft(`"hello" OR bye*`))
			if len(res) != 0 || errorOf(reply) != "" {
				t.Errorf("syntax is text: %d results, %s", len(res), reply)
			}

			// Forward pages of two.
			var got []string
			after := ""
			for range 5 {
				set := `<set xmlns='http://jabber.org/protocol/rsm'><max>2</max>` + after + `</set>`
				res, reply := e.query(alice, rec, "", ft("hello")+set)
				got = append(got, resultBodies(res)...)
				_, last, _, complete := rsmOf(reply)
				if complete {
					break
				}
				after = `<after>` + last + `</after>`
			}
			if want := []string{"Hello Bob", "hello again", "HELLO", "cafe olé, hello", "hello carol"}; !slices.Equal(got, want) {
				t.Errorf("forward pages: %q", got)
			}
			// Backward pages of two, flipped: newest first throughout.
			got = nil
			before := "<before/>"
			for range 5 {
				set := `<set xmlns='http://jabber.org/protocol/rsm'><max>2</max>` + before + `</set><flip-page/>`
				res, reply := e.query(alice, rec, "", ft("hello")+set)
				got = append(got, resultBodies(res)...)
				first, _, _, complete := rsmOf(reply)
				if complete {
					break
				}
				// Flipped: the page's oldest item is the last one sent,
				// and RSM <first/> still names it.
				before = `<before>` + first + `</before>`
			}
			if want := []string{"hello carol", "cafe olé, hello", "HELLO", "hello again", "Hello Bob"}; !slices.Equal(got, want) {
				t.Errorf("backward flipped pages: %q", got)
			}

			// A count-only request counts the matches.
			_, reply = e.query(alice, rec, "", ft("hello")+`<set xmlns='http://jabber.org/protocol/rsm'><max>0</max></set>`)
			if _, _, count, _ := rsmOf(reply); count != "5" {
				t.Errorf("count only: %s", reply)
			}
			// A blank search is no filter.
			res, _ = e.query(alice, rec, "", ft(" "))
			if len(res) != len(bodies)+1 {
				t.Errorf("blank: %d results", len(res))
			}
		})
	}
}
