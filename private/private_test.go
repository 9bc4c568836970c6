package private

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/storage"
)

const (
	romeo  = "romeo@example.org"
	juliet = "juliet@example.org"
)

const (
	prefs     = `<exodus xmlns="exodus:prefs"><defaultnick>Hamlet</defaultnick></exodus>`
	bookmarks = `<storage xmlns="storage:bookmarks"><conference jid="council@chat.example.org" autojoin="true" name="Council"><nick>romeo</nick></conference></storage>`
)

func result(id, query string) string {
	out := `<iq xmlns="jabber:client" type="result" id="` + id + `" to="romeo@example.org/home"`
	if query == "" {
		return out + `/>`
	}
	return out + `>` + query + `</iq>`
}

func errReply(id, from, typ, cond, text string) string {
	if from != "" {
		from = ` from="` + from + `"`
	}
	out := `<iq xmlns="jabber:client" id="` + id + `"` + from + ` to="romeo@example.org/home" type="error"><error type="` + typ + `"><` + cond + ` xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>`
	if text != "" {
		out += `<text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">` + text + `</text>`
	}
	return out + `</error></iq>`
}

func query(inner string) string { return `<query xmlns="jabber:iq:private">` + inner + `</query>` }

// TestPrivate walks XEP-0049 §2.3 as a script: each step depends on what
// the earlier ones stored.
func TestPrivate(t *testing.T) {
	e := routertest.New(t, romeo, juliet)
	// The caps: bookmarks is the largest document allowed, and the total
	// is full once it is stored next to prefs and step 9's <c/>.
	const c = `<c xmlns="x:ns"/>`
	perNS, total := len(bookmarks), len(prefs)+len(bookmarks)+len(c)
	e.Router.Register(New(Config{MaxBytesPerNamespace: perNS, MaxTotalBytes: total}, e.Store))
	r, rec := e.Bind(romeo+"/home", true, 0)
	_, jRec := e.Bind(juliet+"/balcony", true, 0)
	tests := []struct{ name, in, want string }{
		{"get, nothing stored: the request's child back", `<iq type="get" id="1"><query xmlns="jabber:iq:private"><exodus xmlns="exodus:prefs"/></query></iq>`,
			result("1", query(`<exodus xmlns="exodus:prefs"/>`))},
		{"set", `<iq type="set" id="2">` + query(prefs) + `</iq>`, result("2", "")},
		{"get", `<iq type="get" id="3"><query xmlns="jabber:iq:private"><exodus xmlns="exodus:prefs"/></query></iq>`,
			result("3", query(prefs))},
		{"get by own bare JID", `<iq type="get" id="4" to="romeo@example.org"><query xmlns="jabber:iq:private"><exodus xmlns="exodus:prefs"/></query></iq>`,
			result("4", query(prefs))},
		{"namespaces are separate", `<iq type="get" id="5"><query xmlns="jabber:iq:private"><storage xmlns="storage:bookmarks"/></query></iq>`,
			result("5", query(`<storage xmlns="storage:bookmarks"/>`))},
		{"set two namespaces, one with two elements", `<iq type="set" id="6">` + query(`<a xmlns="x:ns">1</a><storage xmlns="storage:bookmarks"/><b xmlns="x:ns">2</b>`) + `</iq>`,
			result("6", "")},
		{"both elements of one namespace come back", `<iq type="get" id="7"><query xmlns="jabber:iq:private"><a xmlns="x:ns"/></query></iq>`,
			result("7", query(`<a xmlns="x:ns">1</a><b xmlns="x:ns">2</b>`))},
		{"the other namespace was stored in the same set", `<iq type="get" id="8"><query xmlns="jabber:iq:private"><storage xmlns="storage:bookmarks"/></query></iq>`,
			result("8", query(`<storage xmlns="storage:bookmarks"/>`))},
		{"a set replaces the namespace's document whole", `<iq type="set" id="9">` + query(c) + `</iq>`,
			result("9", "")},
		{"replaced", `<iq type="get" id="10"><query xmlns="jabber:iq:private"><a xmlns="x:ns"/></query></iq>`,
			result("10", query(c))},

		{"set without a child: not-acceptable", `<iq type="set" id="11"><query xmlns="jabber:iq:private"/></iq>`,
			errReply("11", "", "modify", "not-acceptable", "no element to store or retrieve")},
		{"get without a child: not-acceptable", `<iq type="get" id="12"><query xmlns="jabber:iq:private"/></iq>`,
			errReply("12", "", "modify", "not-acceptable", "no element to store or retrieve")},
		{"child without a namespace: not-acceptable", `<iq type="set" id="13"><query xmlns="jabber:iq:private"><foo/></query></iq>`,
			errReply("13", "", "modify", "not-acceptable", "reserved namespace")},
		{"jabber:client: not-acceptable", `<iq type="set" id="14"><query xmlns="jabber:iq:private"><message xmlns="jabber:client"/></query></iq>`,
			errReply("14", "", "modify", "not-acceptable", "reserved namespace")},
		{"jabber:server: not-acceptable", `<iq type="get" id="15"><query xmlns="jabber:iq:private"><message xmlns="jabber:server"/></query></iq>`,
			errReply("15", "", "modify", "not-acceptable", "reserved namespace")},
		{"a reserved child fails the whole set", `<iq type="set" id="16"><query xmlns="jabber:iq:private"><d xmlns="y:ns"/><query/></query></iq>`,
			errReply("16", "", "modify", "not-acceptable", "reserved namespace")},
		{"get of two namespaces: bad-request", `<iq type="get" id="17"><query xmlns="jabber:iq:private"><a xmlns="x:ns"/><storage xmlns="storage:bookmarks"/></query></iq>`,
			errReply("17", "", "modify", "bad-request", "one namespace per get")},
		{"another account's: forbidden", `<iq type="get" id="18" to="juliet@example.org"><query xmlns="jabber:iq:private"><a xmlns="x:ns"/></query></iq>`,
			errReply("18", juliet, "auth", "forbidden", "")},
		{"set another account's: forbidden", `<iq type="set" id="19" to="juliet@example.org"><query xmlns="jabber:iq:private"><a xmlns="x:ns"/></query></iq>`,
			errReply("19", juliet, "auth", "forbidden", "")},
		{"no such account: forbidden just the same", `<iq type="set" id="20" to="nobody@example.org"><query xmlns="jabber:iq:private"><a xmlns="x:ns"/></query></iq>`,
			errReply("20", "nobody@example.org", "auth", "forbidden", "")},

		{"exactly the per-namespace cap", `<iq type="set" id="21">` + query(bookmarks) + `</iq>`, result("21", "")},
		{"over the per-namespace cap: policy-violation", `<iq type="set" id="22">` + query(`<e xmlns="z:ns"/>`+bookmarks[:len(bookmarks)-10]+`<x/>`+bookmarks[len(bookmarks)-10:]) + `</iq>`,
			errReply("22", "", "modify", "policy-violation", "more than "+strconv.Itoa(perNS)+" bytes for one namespace")},
		{"the refused set stored nothing", `<iq type="get" id="23"><query xmlns="jabber:iq:private"><e xmlns="z:ns"/></query></iq>`,
			result("23", query(`<e xmlns="z:ns"/>`))},
		{"over the total: policy-violation", `<iq type="set" id="24">` + query(`<f xmlns="f:ns"/>`) + `</iq>`,
			errReply("24", "", "modify", "policy-violation", "more than "+strconv.Itoa(total)+" bytes of private data")},
		{"shrinking one namespace makes room", `<iq type="set" id="25">` + query(`<exodus xmlns="exodus:prefs"/><f xmlns="f:ns"/>`) + `</iq>`,
			result("25", "")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.Send(r, tc.in)
			routertest.Expect(t, rec, tc.want)
			routertest.Expect(t, jRec) // nothing reaches juliet
		})
	}
	if _, err := e.Store.Document(context.Background(), juliet, Kind, "x:ns"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("juliet's x:ns: %v; a forbidden set was stored", err)
	}
}

func TestDiscoFeatures(t *testing.T) {
	server, account := New(DefaultConfig(), nil).DiscoFeatures()
	if !slices.Equal(server, []string{NS}) || account != nil {
		t.Errorf("features %q, %q; want jabber:iq:private on the server only", server, account)
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		ok  bool
	}{
		{DefaultConfig(), true},
		{Config{MaxBytesPerNamespace: 10, MaxTotalBytes: 10}, true},
		{Config{MaxBytesPerNamespace: 0, MaxTotalBytes: 10}, false},
		{Config{MaxBytesPerNamespace: 11, MaxTotalBytes: 10}, false},
	} {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: Validate() = %v", tc.cfg, err)
		}
	}
}
