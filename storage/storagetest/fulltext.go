package storagetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/storage"
)

// TextIndexer is implemented by stores whose text index is built in the
// background (SQLite): IndexText indexes every item appended so far. The
// suite calls it between appends so that queries cover both the indexed
// items and the not yet indexed tail.
type TextIndexer interface {
	IndexText(ctx context.Context) error
}

func indexText(t *testing.T, s storage.Store) {
	t.Helper()
	if ix, ok := s.(TextIndexer); ok {
		must(t, ix.IndexText(bg))
	}
}

func textMsg(owner, with string, stamp time.Time, body string) *storage.ArchivedMessage {
	return &storage.ArchivedMessage{Owner: owner, With: with, Stamp: stamp, Body: body,
		Stanza: []byte("<message xmlns='jabber:client'><body>" + body + "</body></message>")}
}

// textFixture appends alice's messages in two halves, indexing the first
// (where the backend has a background index), and messages of another
// owner with the same words. It returns alice's messages.
func textFixture(t *testing.T, s storage.Store) []*storage.ArchivedMessage {
	bodies := []struct{ with, body string }{
		{bob, "Hello World"},
		{carl, "the CAFÉ opens at nine"},
		{bob, "Ｆｕｌｌｗｉｄｔｈ text and Straße"},
		{carl, "我们的未来很美好"},
		{bob, `quote " star * minus - colon : NEAR OR AND`},
		{bob, "hello again, world"},
		{carl, "no match here"},
		{bob, "HELLO from the tail"},
		{carl, "cafe au lait, hello"},
		{bob, "Ünïcödé hello"},
	}
	var a []*storage.ArchivedMessage
	for i, b := range bodies {
		a = append(a, textMsg(alice, b.with, t0.Add(time.Duration(i)*time.Minute), b.body))
	}
	appendMsgs(t, s, textMsg(dave, bob, t0, "hello world cafe"))
	appendMsgs(t, s, a[:6]...)
	indexText(t, s)
	appendMsgs(t, s, a[6:]...) // the tail: appended after the index ran
	appendMsgs(t, s, textMsg(dave, bob, t0.Add(time.Hour), "hello tail"))
	return a
}

func testTextQuery(t *testing.T, s storage.Store) {
	a := textFixture(t, s)
	id := func(i ...int) []int64 {
		var out []int64
		for _, k := range i {
			out = append(out, a[k].ID)
		}
		return out
	}
	cases := []struct {
		name string
		q    storage.ArchiveQuery
		want []int64
	}{
		{"one word, any case", storage.ArchiveQuery{Text: "hello"}, id(0, 5, 7, 8, 9)},
		{"upper-case query", storage.ArchiveQuery{Text: "WORLD"}, id(0, 5)},
		{"all terms, any order", storage.ArchiveQuery{Text: "world hello"}, id(0, 5)},
		{"substring", storage.ArchiveQuery{Text: "ell"}, id(0, 5, 7, 8, 9)},
		{"accent-insensitive", storage.ArchiveQuery{Text: "cafe"}, id(1, 8)},
		{"accent in the query", storage.ArchiveQuery{Text: "Café"}, id(1, 8)},
		{"diacritics everywhere", storage.ArchiveQuery{Text: "unicode"}, id(9)},
		{"full-width and ß", storage.ArchiveQuery{Text: "fullwidth strasse"}, id(2)},
		{"CJK substring", storage.ArchiveQuery{Text: "未来"}, id(3)},
		{"CJK longer", storage.ArchiveQuery{Text: "的未来很"}, id(3)},
		{"short term", storage.ArchiveQuery{Text: "at"}, id(1, 6)},
		{"quote is text", storage.ArchiveQuery{Text: `"`}, id(4)},
		{"star is text", storage.ArchiveQuery{Text: `hel*`}, nil},
		{"star alone", storage.ArchiveQuery{Text: `*`}, id(4)},
		{"minus", storage.ArchiveQuery{Text: `- colon`}, id(4)},
		{"colon syntax", storage.ArchiveQuery{Text: `body:hello`}, nil},
		{"NEAR is a word", storage.ArchiveQuery{Text: `NEAR(hello world)`}, nil},
		{"OR is a word", storage.ArchiveQuery{Text: `hello OR cafe`}, nil},
		{"OR matches text", storage.ArchiveQuery{Text: `or and near`}, id(4)},
		{"quoted phrase is not syntax", storage.ArchiveQuery{Text: `"hello world"`}, nil},
		{"no match", storage.ArchiveQuery{Text: "zebra"}, nil},
		{"blank is no filter", storage.ArchiveQuery{Text: "   "}, id(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)},
		{"with", storage.ArchiveQuery{Text: "hello", With: carl}, id(8)},
		{"with other", storage.ArchiveQuery{Text: "hello", With: bob}, id(0, 5, 7, 9)},
		{"time range", storage.ArchiveQuery{Text: "hello", Start: t0.Add(time.Minute), End: t0.Add(8 * time.Minute)}, id(5, 7, 8)},
		{"with and time", storage.ArchiveQuery{Text: "hello", With: bob, Start: t0.Add(time.Minute), End: t0.Add(8 * time.Minute)}, id(5, 7)},
		{"after id", storage.ArchiveQuery{Text: "hello", AfterID: a[5].ID}, id(7, 8, 9)},
		{"before id", storage.ArchiveQuery{Text: "hello", BeforeID: a[7].ID}, id(0, 5)},
		{"ids", storage.ArchiveQuery{Text: "hello", IDs: id(0, 1, 7)}, id(0, 7)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := c.q
			q.Owner = alice
			p := query(t, s, q)
			if got := ids(p.Messages); !slices.Equal(got, c.want) || !p.Complete {
				t.Errorf("got %v complete=%v, want %v", got, p.Complete, c.want)
			}
			n, err := s.CountArchive(bg, q, 0)
			must(t, err)
			if n != len(c.want) {
				t.Errorf("count %d, want %d", n, len(c.want))
			}
			q.Last = true
			p = query(t, s, q)
			if got := ids(p.Messages); !slices.Equal(got, c.want) || !p.Complete {
				t.Errorf("last: got %v complete=%v, want %v", got, p.Complete, c.want)
			}
		})
	}
}

// testTextPaging pages through the matches in both directions, a page of
// two at a time, across the indexed part and the tail.
func testTextPaging(t *testing.T, s storage.Store) {
	a := textFixture(t, s)
	want := []int64{a[0].ID, a[5].ID, a[7].ID, a[8].ID, a[9].ID}
	var got []int64
	q := storage.ArchiveQuery{Owner: alice, Text: "hello", Limit: 2}
	for range 10 {
		p := query(t, s, q)
		got = append(got, ids(p.Messages)...)
		if p.Complete {
			break
		}
		q.AfterID = p.Messages[len(p.Messages)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Errorf("forward pages: %v, want %v", got, want)
	}
	got = nil
	q = storage.ArchiveQuery{Owner: alice, Text: "hello", Limit: 2, Last: true}
	for range 10 {
		p := query(t, s, q)
		got = append(ids(p.Messages), got...)
		if p.Complete {
			break
		}
		q.BeforeID = p.Messages[0].ID
	}
	if !slices.Equal(got, want) {
		t.Errorf("backward pages: %v, want %v", got, want)
	}
	// A page that ends exactly at the last match is not complete only if
	// a match lies beyond it.
	p := query(t, s, storage.ArchiveQuery{Owner: alice, Text: "hello", Limit: 5})
	if !p.Complete || len(p.Messages) != 5 {
		t.Errorf("exact page: %v complete=%v", ids(p.Messages), p.Complete)
	}
	p = query(t, s, storage.ArchiveQuery{Owner: alice, Text: "hello", Limit: 4})
	if p.Complete || len(p.Messages) != 4 {
		t.Errorf("short page: %v complete=%v", ids(p.Messages), p.Complete)
	}
}

// testTextDeleted: deleted items are not found, whether they were indexed
// or not, by each way of deleting.
func testTextDeleted(t *testing.T, s storage.Store) {
	a := textFixture(t, s)
	// Purge bob's items (indexed and tail ones), then find carl's only.
	_, err := s.PurgeArchive(bg, alice, bob, time.Time{})
	must(t, err)
	p := query(t, s, storage.ArchiveQuery{Owner: alice, Text: "hello"})
	if got := ids(p.Messages); !slices.Equal(got, []int64{a[8].ID}) {
		t.Errorf("after purge: %v, want [%d]", got, a[8].ID)
	}
	indexText(t, s)
	p = query(t, s, storage.ArchiveQuery{Owner: alice, Text: "hello"})
	if got := ids(p.Messages); !slices.Equal(got, []int64{a[8].ID}) {
		t.Errorf("after purge and indexing: %v, want [%d]", got, a[8].ID)
	}
	// Deleting and re-creating an owner leaves nothing findable.
	must(t, s.CreateUser(bg, dave, cred(1)))
	must(t, s.DeleteUser(bg, dave))
	p = query(t, s, storage.ArchiveQuery{Owner: dave, Text: "hello"})
	if len(p.Messages) != 0 {
		t.Errorf("after DeleteUser: %v", ids(p.Messages))
	}
	appendMsgs(t, s, textMsg(dave, bob, t0.Add(2*time.Hour), "fresh start"))
	p = query(t, s, storage.ArchiveQuery{Owner: dave, Text: "hello"})
	if len(p.Messages) != 0 {
		t.Errorf("after DeleteUser and a new item: %v", ids(p.Messages))
	}
	// Expiry and trimming.
	_, err = s.ExpireArchive(bg, t0.Add(3*time.Minute), 0)
	must(t, err)
	p = query(t, s, storage.ArchiveQuery{Owner: alice, Text: "cafe"})
	if got := ids(p.Messages); !slices.Equal(got, []int64{a[8].ID}) {
		t.Errorf("after expiry: %v, want [%d]", got, a[8].ID)
	}
	_, err = s.TrimArchive(bg, alice, 0)
	must(t, err)
	indexText(t, s)
	p = query(t, s, storage.ArchiveQuery{Owner: alice, Text: "a"})
	if len(p.Messages) != 0 {
		t.Errorf("after trim: %v", ids(p.Messages))
	}
}

// testTextLimits: overlong queries fail with ErrTextQueryTooLong.
func testTextLimits(t *testing.T, s storage.Store) {
	textFixture(t, s)
	for _, text := range []string{
		strings.Repeat("x", storage.MaxTextQueryBytes+1),
		"a b c d e f g h i j",
	} {
		_, err := s.QueryArchive(bg, storage.ArchiveQuery{Owner: alice, Text: text})
		if !errors.Is(err, storage.ErrTextQueryTooLong) {
			t.Errorf("query %.20q...: err %v", text, err)
		}
		_, err = s.CountArchive(bg, storage.ArchiveQuery{Owner: alice, Text: text}, 0)
		if !errors.Is(err, storage.ErrTextQueryTooLong) {
			t.Errorf("count %.20q...: err %v", text, err)
		}
	}
	// Duplicated terms count once.
	p := query(t, s, storage.ArchiveQuery{Owner: alice, Text: strings.Repeat("hello ", storage.MaxTextTerms+2)})
	if len(p.Messages) != 5 {
		t.Errorf("repeated term: %d items", len(p.Messages))
	}
}

// testTextWildcards: the pattern characters of the backends' own matchers
// (LIKE's % _ \, GLOB's * ? [) are text like any other.
func testTextWildcards(t *testing.T, s storage.Store) {
	bodies := []string{"100% sure", "snake_case name", `back\slash`, "glob? [x]", "plain text"}
	var a []*storage.ArchivedMessage
	for i, b := range bodies {
		a = append(a, textMsg(carl, bob, t0.Add(time.Duration(i)*time.Second), b))
	}
	appendMsgs(t, s, a[:2]...)
	indexText(t, s)
	appendMsgs(t, s, a[2:]...)
	for _, c := range []struct {
		text string
		want []int
	}{
		{"%", []int{0}}, {"0% s", []int{0}}, {"0%", []int{0}}, {"_", []int{1}}, {"e_c", []int{1}}, {"ke_ca", []int{1}},
		{`\`, []int{2}}, {`k\s`, []int{2}}, {"?", []int{3}}, {"[x]", []int{3}}, {"b?", []int{3}}, {"p_ain", nil}, {"pl%", nil},
	} {
		var want []int64
		for _, i := range c.want {
			want = append(want, a[i].ID)
		}
		p := query(t, s, storage.ArchiveQuery{Owner: carl, Text: c.text})
		if got := ids(p.Messages); !slices.Equal(got, want) {
			t.Errorf("%q: got %v, want %v", c.text, got, want)
		}
	}
}
