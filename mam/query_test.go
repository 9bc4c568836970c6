package mam

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/storage"
)

// query sends an archive query and splits what came back into result
// messages and the final iq, checking that the iq came last.
func (e *env) query(s *router.Session, rec *recorder, attrs, inner string) ([]*xml.Element, *xml.Element) {
	e.t.Helper()
	e.send(s, `<iq type='set' id='q1'`+attrs+`><query xmlns='urn:xmpp:mam:2' queryid='f'>`+inner+`</query></iq>`)
	got := rec.take()
	if len(got) == 0 || got[len(got)-1].Local != "iq" {
		e.t.Fatalf("no iq reply last: %v", got)
	}
	for _, g := range got[:len(got)-1] {
		if g.Local != "message" {
			e.t.Fatalf("unexpected %s before the reply", g)
		}
	}
	return got[:len(got)-1], got[len(got)-1]
}

// fill makes n messages alice → bob; alice's items get ids 1, 3, 5, ...
func (e *env) fill(alice *router.Session, n int) {
	e.t.Helper()
	for i := range n {
		e.send(alice, fmt.Sprintf(`<message to='bob@example.com' type='chat'><body>%d</body></message>`, i))
	}
}

func form(fields ...string) string {
	return `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>` +
		strings.Join(fields, "") + `</x>`
}

func field(name string, values ...string) string {
	s := `<field var='` + name + `'>`
	for _, v := range values {
		s += `<value>` + v + `</value>`
	}
	return s + `</field>`
}

// errorOf returns "type/condition" of an error reply, "" for a result.
func errorOf(reply *xml.Element) string {
	if reply.Attr("type") != "error" {
		return ""
	}
	el := reply.Child(stanza.NSClient, "error")
	for _, c := range el.Elements() {
		if c.Space == stanza.NSStanzas && c.Local != "text" {
			return el.Attr("type") + "/" + c.Local
		}
	}
	return "?"
}

func asStanzaErr(t *testing.T, err error) *stanza.Error {
	t.Helper()
	se, ok := err.(*stanza.Error)
	if !ok {
		t.Fatalf("error %v is not a stanza error", err)
	}
	return se
}

func TestQueryForm(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, rec := e.login("alice@example.com/a")
	e.send(alice, `<iq type='get' id='form1'><query xmlns='urn:xmpp:mam:2'/></iq>`)
	wantXML(t, rec.take(), `<iq type='result' id='form1' to='alice@example.com/a'>
		<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='form'>
			<field type='hidden' var='FORM_TYPE'><value>urn:xmpp:mam:2</value></field>
			<field type='jid-single' var='with'/>
			<field type='text-single' var='start'/>
			<field type='text-single' var='end'/>
			<field type='text-single' var='before-id'/>
			<field type='text-single' var='after-id'/>
			<field type='list-multi' var='ids'>
				<validate xmlns='http://jabber.org/protocol/xdata-validate' datatype='xs:string'><open/></validate>
			</field>
			<field type='text-single' var='{urn:xmpp:fulltext:0}fulltext'/>
			<field type='boolean' var='include-groupchat'/>
		</x></query></iq>`)
}

func TestQueryResults(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, arec := e.login("alice@example.com/a")
	bob, _ := e.login("bob@example.com/b")
	e.send(alice, `<message to='bob@example.com' type='chat' id='m1'><body>one</body></message>`)
	e.send(bob, `<message to='alice@example.com' type='chat' id='m2'><body>two</body><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`)
	arec.take()

	res, reply := e.query(alice, arec, "", "")
	wantXML(t, res,
		fmt.Sprintf(`<message to='alice@example.com/a' from='alice@example.com' id='r1'>
			<result xmlns='urn:xmpp:mam:2' queryid='f' id='%s'><forwarded xmlns='urn:xmpp:forward:0'>
				<delay xmlns='urn:xmpp:delay' stamp='2024-01-02T03:04:06.123456Z'/>
				<message xmlns='jabber:client' to='bob@example.com' type='chat' id='m1' from='alice@example.com/a'><body>one</body></message>
			</forwarded></result></message>`, e.id(1)),
		fmt.Sprintf(`<message to='alice@example.com/a' from='alice@example.com' id='r2'>
			<result xmlns='urn:xmpp:mam:2' queryid='f' id='%s'><forwarded xmlns='urn:xmpp:forward:0'>
				<delay xmlns='urn:xmpp:delay' stamp='2024-01-02T03:04:09.123456Z'/>
				<message xmlns='jabber:client' to='alice@example.com' type='chat' id='m2' from='bob@example.com/b'><body>two</body></message>
			</forwarded></result></message>`, e.id(4)),
	)
	wantXML(t, []*xml.Element{reply}, fmt.Sprintf(`<iq type='result' id='q1' to='alice@example.com/a'>
		<fin xmlns='urn:xmpp:mam:2' complete='true'><set xmlns='http://jabber.org/protocol/rsm'>
			<first index='0'>%s</first><last>%s</last><count>2</count>
		</set></fin></iq>`, e.id(1), e.id(4)))
	if !alice.MAMQueried() {
		t.Error("session not marked as having queried MAM")
	}

	// Without queryid, none is echoed; results addressed to the domain
	// come from the domain.
	e.send(alice, `<iq type='set' id='q2' to='example.com'><query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'><max>1</max></set></query></iq>`)
	wantXML(t, arec.take(),
		fmt.Sprintf(`<message to='alice@example.com/a' from='example.com' id='r3'>
			<result xmlns='urn:xmpp:mam:2' id='%s'><forwarded xmlns='urn:xmpp:forward:0'>
				<delay xmlns='urn:xmpp:delay' stamp='2024-01-02T03:04:06.123456Z'/>
				<message xmlns='jabber:client' to='bob@example.com' type='chat' id='m1' from='alice@example.com/a'><body>one</body></message>
			</forwarded></result></message>`, e.id(1)),
		fmt.Sprintf(`<iq type='result' id='q2' from='example.com' to='alice@example.com/a'>
			<fin xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'>
				<first index='0'>%s</first><last>%s</last><count>2</count>
			</set></fin></iq>`, e.id(1), e.id(1)))
}

func TestQueryEmptyArchive(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, rec := e.login("alice@example.com/a")
	res, reply := e.query(alice, rec, "", "")
	if len(res) != 0 {
		t.Fatalf("%d results", len(res))
	}
	wantXML(t, []*xml.Element{reply}, `<iq type='result' id='q1' to='alice@example.com/a'>
		<fin xmlns='urn:xmpp:mam:2' complete='true'><set xmlns='http://jabber.org/protocol/rsm'><count>0</count></set></fin></iq>`)
}

func TestQueryErrors(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, arec := e.login("alice@example.com/a")
	bob, brec := e.login("bob@example.com/b")
	e.fill(alice, 3)
	e.send(bob, `<message to='carol@example.com' type='chat'><body>b</body></message>`)
	bobsItem := e.id(7) // in bob's archive only
	arec.take()
	brec.take()

	tests := []struct {
		name, attrs, inner, want string
	}{
		{"FORM_TYPE wrong", "", `<x xmlns='jabber:x:data' type='submit'>` + field("FORM_TYPE", "urn:xmpp:mam:1") + `</x>`, "modify/bad-request"},
		{"FORM_TYPE missing", "", `<x xmlns='jabber:x:data' type='submit'>` + field("with", "bob@example.com") + `</x>`, "modify/bad-request"},
		{"FORM_TYPE twice", "", `<x xmlns='jabber:x:data' type='submit'>` + field("FORM_TYPE", NS, NS) + `</x>`, "modify/bad-request"},
		{"wrong FORM_TYPE beats unknown field", "", `<x xmlns='jabber:x:data' type='submit'>` + field("FORM_TYPE", "x") + field("foo", "1") + `</x>`, "modify/bad-request"},
		{"form of type form", "", `<x xmlns='jabber:x:data' type='form'>` + field("FORM_TYPE", NS) + `</x>`, "modify/bad-request"},
		{"two forms", "", form() + form(), "modify/bad-request"},
		{"field without var", "", form(`<field><value>x</value></field>`), "modify/bad-request"},
		{"field twice", "", form(field("with", "bob@example.com"), field("with", "bob@example.com")), "modify/bad-request"},
		{"with two values", "", form(field("with", "bob@example.com", "carol@example.com")), "modify/bad-request"},
		{"with malformed", "", form(field("with", "@@bad")), "modify/bad-request"},
		{"start malformed", "", form(field("start", "2010-13-01T00:00:00Z")), "modify/bad-request"},
		{"start without zone", "", form(field("start", "2010-06-07T00:00:00")), "modify/bad-request"},
		{"end malformed", "", form(field("end", "yesterday")), "modify/bad-request"},
		{"unknown field", "", form(field("{urn:example}search", "hi")), "cancel/feature-not-implemented"},
		{"include-groupchat not boolean", "", form(field("include-groupchat", "yes")), "modify/bad-request"},
		{"fulltext two values", "", form(field("{urn:xmpp:fulltext:0}fulltext", "hi", "there")), "modify/bad-request"},
		{"fulltext too long", "", form(field("{urn:xmpp:fulltext:0}fulltext", strings.Repeat("x", 257))), "modify/policy-violation"},
		{"fulltext too many words", "", form(field("{urn:xmpp:fulltext:0}fulltext", "a b c d e f g h i")), "modify/policy-violation"},
		{"rsm index", "", `<set xmlns='http://jabber.org/protocol/rsm'><max>5</max><index>10</index></set>`, "cancel/feature-not-implemented"},
		{"rsm max negative", "", `<set xmlns='http://jabber.org/protocol/rsm'><max>-1</max></set>`, "modify/bad-request"},
		{"rsm max not a number", "", `<set xmlns='http://jabber.org/protocol/rsm'><max>ten</max></set>`, "modify/bad-request"},
		{"rsm max twice", "", `<set xmlns='http://jabber.org/protocol/rsm'><max>1</max><max>2</max></set>`, "modify/bad-request"},
		{"two rsm sets", "", `<set xmlns='http://jabber.org/protocol/rsm'/><set xmlns='http://jabber.org/protocol/rsm'/>`, "modify/bad-request"},
		{"rsm after garbage", "", `<set xmlns='http://jabber.org/protocol/rsm'><after>nope</after></set>`, "cancel/item-not-found"},
		{"rsm after unknown", "", `<set xmlns='http://jabber.org/protocol/rsm'><after>` + e.id(999) + `</after></set>`, "cancel/item-not-found"},
		{"rsm before unknown", "", `<set xmlns='http://jabber.org/protocol/rsm'><before>` + e.id(999) + `</before></set>`, "cancel/item-not-found"},
		{"rsm after other archive", "", `<set xmlns='http://jabber.org/protocol/rsm'><after>` + bobsItem + `</after></set>`, "cancel/item-not-found"},
		{"after-id unknown", "", form(field("after-id", e.id(2))), "cancel/item-not-found"},
		{"before-id garbage", "", form(field("before-id", strings.Repeat("A", 22))), "cancel/item-not-found"},
		{"ids one unknown", "", form(field("ids", e.id(1), e.id(4))), "cancel/item-not-found"},
		{"too many ids", "", form(field("ids", slices.Repeat([]string{e.id(1)}, MaxQueryIDs+1)...)), "modify/policy-violation"},
		{"other user's archive", " to='bob@example.com'", "", "auth/forbidden"},
		{"other domain", " to='example.org'", "", "cancel/remote-server-not-found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, reply := e.query(alice, arec, tc.attrs, tc.inner)
			if len(res) != 0 {
				t.Errorf("%d results sent before the error", len(res))
			}
			if got := errorOf(reply); got != tc.want {
				t.Errorf("got %q, want %q: %s", got, tc.want, reply)
			}
		})
	}

	e.send(alice, `<iq type='set' id='q1'><query xmlns='urn:xmpp:mam:2' node='x'/></iq>`)
	if got := arec.take(); len(got) != 1 || errorOf(got[0]) != "cancel/feature-not-implemented" {
		t.Errorf("pubsub node: %v", got)
	}

	// The exact form of an item-not-found reply (XEP-0313 "Requesting pages" example).
	_, reply := e.query(alice, arec, "", `<set xmlns='http://jabber.org/protocol/rsm'><after>nope</after></set>`)
	wantXML(t, []*xml.Element{reply}, `<iq id='q1' to='alice@example.com/a' type='error'><error type='cancel'>
		<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
		<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>no such item in the archive</text></error></iq>`)
	if bob.MAMQueried() {
		t.Error("bob marked as queried")
	}
}

// Every other iq of the module refuses another user's archive.
func TestForbidden(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, rec := e.login("alice@example.com/a")
	for _, payload := range []string{
		`type='get'><query xmlns='urn:xmpp:mam:2'/>`,
		`type='get'><metadata xmlns='urn:xmpp:mam:2'/>`,
		`type='get'><prefs xmlns='urn:xmpp:mam:2'/>`,
		`type='set'><prefs xmlns='urn:xmpp:mam:2' default='never'/>`,
		`type='set'><query xmlns='urn:xmpp:mam:2'/>`,
	} {
		// Another user's bare JID, and another local domain than the
		// requester's own.
		for _, to := range []string{"bob@example.com", "example.net"} {
			e.send(alice, `<iq id='x' to='`+to+`' `+payload+`</iq>`)
			got := rec.take()
			if len(got) != 1 || errorOf(got[0]) != "auth/forbidden" {
				t.Errorf("%s to %s: %v", payload, to, got)
			}
		}
	}
	// Without a session (not from a local client) nothing is served.
	iq := &router.IQ{Stanza: parseXML(t, `<iq type='get' id='x'><metadata xmlns='urn:xmpp:mam:2'/></iq>`),
		From: jid.MustParse("alice@example.com/a"), To: jid.MustParse("alice@example.com")}
	iq.Payload = iq.Stanza.FirstElement()
	if _, err := e.m.handleMetadata(e.ctx, iq); errorOf(stanza.ErrorReply(iq.Stanza, asStanzaErr(t, err))) != "auth/forbidden" {
		t.Errorf("no session: %v", err)
	}
	if p, ok, _ := e.mem.ArchivePrefs(e.ctx, "bob@example.com"); ok {
		t.Errorf("bob's prefs changed: %v", p)
	}
}

func TestQueryFilters(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, arec := e.login("alice@example.com/a")
	bob, _ := e.login("bob@example.com/b")
	bob2, _ := e.login("bob@example.com/phone")
	carol, _ := e.login("carol@example.com/c")
	// alice's items: 1 (to bob), 4 (from bob/b), 6 (from bob/phone),
	// 8 (from carol/c), 9 (to herself), 10 (to carol/c); item n is
	// stamped t0+n seconds.
	e.send(alice, `<message to='bob@example.com' type='chat'><body>1</body></message>`)
	e.send(bob, `<message to='alice@example.com' type='chat'><body>4</body></message>`)
	e.send(bob2, `<message to='alice@example.com' type='chat'><body>6</body></message>`)
	e.send(carol, `<message to='alice@example.com' type='chat'><body>8</body></message>`)
	e.send(alice, `<message to='alice@example.com' type='chat'><body>9</body></message>`)
	e.send(alice, `<message to='carol@example.com/c' type='chat'><body>10</body></message>`)
	arec.take()
	stamp := func(n int) string { return FormatDateTime(t0.Add(time.Duration(n) * time.Second)) }
	rsm := func(s string) string { return `<set xmlns='http://jabber.org/protocol/rsm'>` + s + `</set>` }

	tests := []struct {
		name, inner string
		want        []int64
	}{
		{"all", "", []int64{1, 4, 6, 8, 9, 10}},
		{"with bare", form(field("with", "bob@example.com")), []int64{1, 4, 6}},
		{"with full", form(field("with", "bob@example.com/phone")), []int64{6}},
		{"with full matches to and from", form(field("with", "carol@example.com/c")), []int64{8, 10}},
		{"with self", form(field("with", "alice@example.com")), []int64{9}},
		{"with is compared canonically", form(field("with", "Bob@EXAMPLE.com")), []int64{1, 4, 6}},
		{"with resource is case-sensitive", form(field("with", "bob@example.com/Phone")), nil},
		{"with a domain is not a wildcard", form(field("with", "example.com")), nil},
		{"with nobody", form(field("with", "dave@example.com")), nil},
		{"empty with is no filter", form(field("with")), []int64{1, 4, 6, 8, 9, 10}},
		{"start inclusive", form(field("start", stamp(6))), []int64{6, 8, 9, 10}},
		{"end inclusive", form(field("end", stamp(6))), []int64{1, 4, 6}},
		{"start and end", form(field("start", stamp(4)), field("end", stamp(8))), []int64{4, 6, 8}},
		{"start with offset and fraction", form(field("start", "2024-01-02T05:04:11.1234559+02:00")), []int64{6, 8, 9, 10}},
		{"start after end", form(field("start", stamp(8)), field("end", stamp(4))), nil},
		{"after-id", form(field("after-id", e.id(6))), []int64{8, 9, 10}},
		{"before-id", form(field("before-id", e.id(6))), []int64{1, 4}},
		{"after-id and before-id", form(field("after-id", e.id(1)), field("before-id", e.id(9))), []int64{4, 6, 8}},
		{"after-id is the newest", form(field("after-id", e.id(10))), nil},
		{"ids", form(field("ids", e.id(8), e.id(4))), []int64{4, 8}},
		{"ids and with", form(field("ids", e.id(8), e.id(4)), field("with", "bob@example.com")), []int64{4}},
		{"rsm after", rsm(`<after>` + e.id(8) + `</after>`), []int64{9, 10}},
		{"rsm empty after", rsm(`<after/>`), []int64{1, 4, 6, 8, 9, 10}},
		{"rsm before", rsm(`<before>` + e.id(8) + `</before>`), []int64{1, 4, 6}},
		{"rsm after and before", rsm(`<max>2</max><after>` + e.id(1) + `</after><before>` + e.id(10) + `</before>`), []int64{8, 9}},
		{"rsm after and after-id", form(field("after-id", e.id(4))) + rsm(`<after>`+e.id(1)+`</after>`), []int64{6, 8, 9, 10}},
		{"rsm before and before-id", form(field("before-id", e.id(6))) + rsm(`<before>`+e.id(9)+`</before>`), []int64{1, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, reply := e.query(alice, arec, "", tc.inner)
			if errorOf(reply) != "" {
				t.Fatalf("error: %s", reply)
			}
			var got []int64
			for _, r := range res {
				n, ok := e.m.ItemID(r.Child(NS, "result").Attr("id"))
				if !ok {
					t.Fatalf("bad id in %s", r)
				}
				got = append(got, n)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got items %v, want %v", got, tc.want)
			}
		})
	}
}

// The count, complete and first@index for each way of asking for a page.
func TestQueryFin(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxArchiveQueryResults = 10
	cfg.DefaultPageSize = 4
	e := newEnv(t, cfg)
	alice, arec := e.login("alice@example.com/a")
	e.fill(alice, 12) // alice's items 1, 3, ..., 23
	arec.take()
	rsm := func(s string) string { return `<set xmlns='http://jabber.org/protocol/rsm'>` + s + `</set>` }
	set := func(first, last int64, index, count int) string {
		s := `<set xmlns='http://jabber.org/protocol/rsm'>`
		if first > 0 {
			s += `<first`
			if index >= 0 {
				s += ` index='` + strconv.Itoa(index) + `'`
			}
			s += `>` + e.id(first) + `</first><last>` + e.id(last) + `</last>`
		}
		if count >= 0 {
			s += `<count>` + strconv.Itoa(count) + `</count>`
		}
		return s + `</set>`
	}
	tests := []struct {
		name, inner string
		n           int
		complete    bool
		set         string
	}{
		{"default page size", "", 4, false, set(1, 7, 0, 12)},
		{"max", rsm(`<max>5</max>`), 5, false, set(1, 9, 0, 12)},
		{"max above cap is capped", rsm(`<max>100</max>`), 10, false, set(1, 19, 0, 12)},
		{"max covers all", rsm(`<max>12</max>`), 10, false, set(1, 19, 0, 12)},
		{"max=0 counts", rsm(`<max>0</max>`), 0, false, set(0, 0, -1, 12)},
		{"max=0 on empty result", form(field("with", "dave@example.com")) + rsm(`<max>0</max>`), 0, true, set(0, 0, -1, 0)},
		{"max=0 with after-id", form(field("after-id", e.id(21))) + rsm(`<max>0</max>`), 0, false, set(0, 0, -1, 1)},
		{"max=0 at the end", form(field("after-id", e.id(23))) + rsm(`<max>0</max>`), 0, true, set(0, 0, -1, 0)},
		{"last page", rsm(`<max>5</max><before/>`), 5, false, set(15, 23, 7, 12)},
		{"last page is everything", rsm(`<max>10</max><before/>`) + form(field("with", "bob@example.com"), field("start", FormatDateTime(t0.Add(10*time.Second)))), 7, true, set(11, 23, 0, 7)},
		{"after: middle page", rsm(`<max>3</max><after>` + e.id(5) + `</after>`), 3, false, set(7, 11, -1, 12)},
		{"after: final page", rsm(`<max>5</max><after>` + e.id(15) + `</after>`), 4, true, set(17, 23, 8, 12)},
		{"after: nothing more", rsm(`<max>5</max><after>` + e.id(23) + `</after>`), 0, true, set(0, 0, -1, 12)},
		{"before: middle page", rsm(`<max>3</max><before>` + e.id(15) + `</before>`), 3, false, set(9, 13, -1, 12)},
		{"before: first page", rsm(`<max>5</max><before>` + e.id(7) + `</before>`), 3, true, set(1, 5, 0, 12)},
		{"after-id", form(field("after-id", e.id(19))), 2, true, set(21, 23, 0, 2)},
		{"before-id", form(field("before-id", e.id(9))), 4, true, set(1, 7, 0, 4)},
		{"ids", form(field("ids", e.id(5), e.id(9))), 2, true, set(5, 9, 0, 2)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, reply := e.query(alice, arec, "", tc.inner)
			if len(res) != tc.n {
				t.Errorf("%d results, want %d", len(res), tc.n)
			}
			complete := ""
			if tc.complete {
				complete = ` complete='true'`
			}
			wantXML(t, []*xml.Element{reply}, `<iq type='result' id='q1' to='alice@example.com/a'><fin xmlns='urn:xmpp:mam:2'`+complete+`>`+tc.set+`</fin></iq>`)
		})
	}
}

// TestQueryFormIDCount: with after-id and/or before-id in the form, the
// RSM <count/> is the size of the result set the form selects (its
// filters and id bounds, whatever the RSM cursors), and first@index, where
// given, is the position of the page's first item in that set; on both
// backends. Each case states the exact answer, and is also checked against
// the set as a query of the form alone returns it.
func TestQueryFormIDCount(t *testing.T) {
	for _, backend := range []string{"memory", "sqlite"} {
		t.Run(backend, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.MaxArchiveQueryResults = 50
			cfg.DefaultPageSize = 4
			var e *env
			if backend == "sqlite" {
				e = newSQLiteEnv(t, cfg)
			} else {
				e = newEnv(t, cfg)
			}
			alice, arec := e.login("alice@example.com/a")
			e.fill(alice, 12)
			arec.take()
			rsm := func(s string) string { return `<set xmlns='http://jabber.org/protocol/rsm'>` + s + `</set>` }
			resultIDs := func(res []*xml.Element) []string {
				var out []string
				for _, r := range res {
					out = append(out, r.Child(NS, "result").Attr("id"))
				}
				return out
			}
			all, _ := e.query(alice, arec, "", rsm(`<max>50</max>`))
			ids := resultIDs(all) // alice's items, oldest first
			if len(ids) != 12 {
				t.Fatalf("%d items in alice's archive", len(ids))
			}
			// k is an item by its position in alice's archive.
			k := func(i int) string { return ids[i] }
			after := func(i int) string { return field("after-id", k(i)) }
			before := func(i int) string { return field("before-id", k(i)) }
			idList := field("ids", k(1), k(4), k(7), k(10))
			tests := []struct {
				name      string
				form, rsm string // the form's fields, the RSM <set/>'s children
				page      []int  // the items sent, by position
				complete  bool
				index     int // first@index; -1: none
				count     int // -1: none
			}{
				{"after-id", after(3), "", []int{4, 5, 6, 7}, false, 0, 8},
				{"after-id, RSM after: middle page", after(3), `<max>3</max><after>` + k(6) + `</after>`, []int{7, 8, 9}, false, -1, 8},
				{"after-id, RSM after: final page", after(3), `<max>5</max><after>` + k(8) + `</after>`, []int{9, 10, 11}, true, 5, 8},
				{"after-id, RSM after before the set", after(7), `<max>10</max><after>` + k(2) + `</after>`, []int{8, 9, 10, 11}, true, 0, 4},
				{"after-id, nothing after", after(11), "", nil, true, -1, 0},
				{"before-id", before(4), "", []int{0, 1, 2, 3}, true, 0, 4},
				{"before-id, RSM <before/>", before(8), `<max>3</max><before/>`, []int{5, 6, 7}, false, 5, 8},
				{"before-id, RSM before beyond the set", before(4), `<max>10</max><before>` + k(10) + `</before>`, []int{0, 1, 2, 3}, true, 0, 4},
				{"before-id, RSM before beyond the set: middle page", before(8), `<max>3</max><before>` + k(10) + `</before>`, []int{5, 6, 7}, false, -1, 8},
				{"after-id and before-id", after(1) + before(8), "", []int{2, 3, 4, 5}, false, 0, 6},
				{"after-id and before-id, RSM <before/>", after(1) + before(8), `<max>4</max><before/>`, []int{4, 5, 6, 7}, false, 2, 6},
				{"after-id and before-id, RSM before: first page", after(1) + before(8), `<max>4</max><before>` + k(4) + `</before>`, []int{2, 3}, true, 0, 6},
				{"after-id and before-id, RSM after: final page", after(1) + before(8), `<max>4</max><after>` + k(4) + `</after>`, []int{5, 6, 7}, true, 3, 6},
				{"after-id, RSM <before/>", after(7), `<max>2</max><before/>`, []int{10, 11}, false, 2, 4},
				{"after-id, RSM <before/> covering the set", after(7), `<max>10</max><before/>`, []int{8, 9, 10, 11}, true, 0, 4},
				{"after-id, RSM before: middle page", after(3), `<max>2</max><before>` + k(7) + `</before>`, []int{5, 6}, false, -1, 8},
				{"after-id, RSM before: first page", after(3), `<max>5</max><before>` + k(6) + `</before>`, []int{4, 5}, true, 0, 8},
				{"after-id, RSM after and before", after(3), `<max>2</max><after>` + k(4) + `</after><before>` + k(9) + `</before>`, []int{7, 8}, false, -1, 8},
				{"after-id and with", after(3) + field("with", "bob@example.com"), "", []int{4, 5, 6, 7}, false, 0, 8},
				{"after-id and with, nothing matches", after(3) + field("with", "carol@example.com"), "", nil, true, -1, 0},
				{"ids and after-id", idList + after(4), "", []int{7, 10}, true, 0, 2},
				{"ids, after-id and before-id", idList + after(1) + before(10), "", []int{4, 7}, true, 0, 2},
				{"ids and after-id, RSM <before/>", idList + after(1), `<max>1</max><before/>`, []int{10}, false, 2, 3},
				{"ids and after-id, RSM after: middle page", idList + after(1), `<max>1</max><after>` + k(4) + `</after>`, []int{7}, false, -1, 3},
				{"ids and after-id, RSM after: final page", idList + after(1), `<max>5</max><after>` + k(4) + `</after>`, []int{7, 10}, true, 1, 3},
				{"after-id, count only", after(10), `<max>0</max>`, nil, false, -1, 1},
				{"after-id at the end, count only", after(11), `<max>0</max>`, nil, true, -1, 0},
				{"before-id, count only", before(4), `<max>0</max>`, nil, false, -1, 4},
				{"after-id and before-id, count only", after(1) + before(8), `<max>0</max>`, nil, false, -1, 6},
				{"ids and after-id, count only", idList + after(4), `<max>0</max>`, nil, false, -1, 2},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					inner := form(tc.form)
					if tc.rsm != "" {
						inner += rsm(tc.rsm)
					}
					res, reply := e.query(alice, arec, "", inner)
					if errorOf(reply) != "" {
						t.Fatalf("error: %s", reply)
					}
					var want []string
					for _, i := range tc.page {
						want = append(want, k(i))
					}
					got := resultIDs(res)
					if !slices.Equal(got, want) {
						t.Errorf("page %v, want %v", got, want)
					}
					fin := reply.Child(NS, "fin")
					if c := fin.Attr("complete") == "true"; c != tc.complete {
						t.Errorf("complete=%v, want %v", c, tc.complete)
					}
					set := fin.Child(NSRSM, "set")
					count, index := -1, -1
					if c := set.Child(NSRSM, "count"); c != nil {
						n, err := strconv.Atoi(c.Text())
						if err != nil {
							t.Fatalf("count %q", c.Text())
						}
						count = n
					}
					if f := set.Child(NSRSM, "first"); f != nil {
						if f.Text() != got[0] {
							t.Errorf("first %s, sent first %s", f.Text(), got[0])
						}
						if f.HasAttr("index") {
							n, err := strconv.Atoi(f.Attr("index"))
							if err != nil {
								t.Fatalf("index %q", f.Attr("index"))
							}
							index = n
						}
					}
					if count != tc.count || index != tc.index {
						t.Errorf("count %d, index %d; want %d, %d", count, index, tc.count, tc.index)
					}
					// Against the set itself: the form alone, in one page.
					whole, _ := e.query(alice, arec, "", form(tc.form)+rsm(`<max>50</max>`))
					set1 := resultIDs(whole)
					if count >= 0 && count != len(set1) {
						t.Errorf("count %d, but the form selects %d items", count, len(set1))
					}
					if index >= 0 && (index >= len(set1) || set1[index] != got[0]) {
						t.Errorf("first@index %d, but the page's first item is at %d of the form's set", index, slices.Index(set1, got[0]))
					}
				})
			}
		})
	}
}

func TestFlipPage(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, arec := e.login("alice@example.com/a")
	e.fill(alice, 5)
	arec.take()
	plain, r1 := e.query(alice, arec, "", `<set xmlns='http://jabber.org/protocol/rsm'><max>3</max><before/></set>`)
	flipped, r2 := e.query(alice, arec, "", `<set xmlns='http://jabber.org/protocol/rsm'><max>3</max><before/></set><flip-page/>`)
	ids := func(res []*xml.Element) (out []string) {
		for _, r := range res {
			out = append(out, r.Child(NS, "result").Attr("id"))
		}
		return out
	}
	want := ids(plain)
	slices.Reverse(want)
	if fmt.Sprint(ids(flipped)) != fmt.Sprint(want) || len(want) != 3 || want[0] != e.id(9) {
		t.Errorf("flipped %v, plain %v", ids(flipped), ids(plain))
	}
	// The page and its <fin/> are the same; only the order of sending.
	if r1.String() != r2.String() {
		t.Errorf("fin differs:\n%s\n%s", r1, r2)
	}
	_, r3 := e.query(alice, arec, "", `<flip-page/><flip-page/>`)
	if errorOf(r3) != "modify/bad-request" {
		t.Errorf("two flip-page: %s", r3)
	}
}

// Paging through 300 messages with RSM after (forward) and before
// (backward) yields every item exactly once, in order, whatever the page
// size and order of sending.
func TestPagingThrough300(t *testing.T) {
	cfg := DefaultConfig()
	e := newEnv(t, cfg)
	alice, arec := e.login("alice@example.com/a")
	e.fill(alice, 300)
	arec.take()
	var all []string
	for _, it := range e.items("alice@example.com") {
		all = append(all, e.id(it.ID))
	}
	if len(all) != 300 {
		t.Fatalf("%d items", len(all))
	}
	for _, pageSize := range []int{1, 7, 50} {
		for _, flip := range []bool{false, true} {
			t.Run(fmt.Sprintf("max=%d flip=%v", pageSize, flip), func(t *testing.T) {
				extra := ""
				if flip {
					extra = `<flip-page/>`
				}
				page := func(cursor string) ([]string, *xml.Element) {
					res, reply := e.query(alice, arec, "", `<set xmlns='http://jabber.org/protocol/rsm'><max>`+strconv.Itoa(pageSize)+`</max>`+cursor+`</set>`+extra)
					if errorOf(reply) != "" {
						t.Fatalf("error: %s", reply)
					}
					var ids []string
					for _, r := range res {
						ids = append(ids, r.Child(NS, "result").Attr("id"))
					}
					if flip {
						slices.Reverse(ids)
					}
					set := reply.Child(NS, "fin").Child(NSRSM, "set")
					if len(ids) > 0 && (set.ChildText(NSRSM, "first") != ids[0] || set.ChildText(NSRSM, "last") != ids[len(ids)-1]) {
						t.Fatalf("first/last %s do not match page %v", set, ids)
					}
					if c := set.ChildText(NSRSM, "count"); c != "300" {
						t.Fatalf("count %q", c)
					}
					return ids, reply
				}
				complete := func(reply *xml.Element) bool { return reply.Child(NS, "fin").Attr("complete") == "true" }
				index := func(reply *xml.Element) string {
					return reply.Child(NS, "fin").Child(NSRSM, "set").Child(NSRSM, "first").Attr("index")
				}

				// Forward.
				var fwd []string
				cursor := ""
				for n := 0; ; n++ {
					ids, reply := page(cursor)
					if idx := index(reply); idx != "" && idx != strconv.Itoa(len(fwd)) {
						t.Fatalf("forward page %d: index %s, want %d", n, idx, len(fwd))
					}
					fwd = append(fwd, ids...)
					if complete(reply) {
						break
					}
					if len(ids) != pageSize || n > 400 {
						t.Fatalf("forward page %d: %d items, incomplete", n, len(ids))
					}
					cursor = `<after>` + ids[len(ids)-1] + `</after>`
				}
				if !slices.Equal(fwd, all) {
					t.Errorf("forward paging returned %d items, not the archive in order", len(fwd))
				}

				// Backward.
				var back []string
				cursor = `<before/>`
				for n := 0; ; n++ {
					ids, reply := page(cursor)
					if idx := index(reply); idx != "" && idx != strconv.Itoa(300-len(back)-len(ids)) {
						t.Fatalf("backward page %d: index %s, want %d", n, idx, 300-len(back)-len(ids))
					}
					back = append(slices.Clone(ids), back...)
					if complete(reply) {
						break
					}
					if len(ids) != pageSize || n > 400 {
						t.Fatalf("backward page %d: %d items, incomplete", n, len(ids))
					}
					cursor = `<before>` + ids[0] + `</before>`
				}
				if !slices.Equal(back, all) {
					t.Errorf("backward paging returned %d items, not the archive in order", len(back))
				}
			})
		}
	}
}

// A client whose queue is full gets no partial success.
func TestQuerySendFailure(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, arec := e.login("alice@example.com/a")
	e.fill(alice, 2)
	arec.take()
	arec.full = true
	e.send(alice, `<iq type='set' id='q1'><query xmlns='urn:xmpp:mam:2'/></iq>`)
	arec.full = false
	if got := arec.take(); len(got) != 0 {
		t.Errorf("got %v", got)
	}
}

func TestMetadata(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, rec := e.login("alice@example.com/a")
	e.send(alice, `<iq type='get' id='md'><metadata xmlns='urn:xmpp:mam:2'/></iq>`)
	wantXML(t, rec.take(), `<iq type='result' id='md' to='alice@example.com/a'><metadata xmlns='urn:xmpp:mam:2'/></iq>`)
	e.fill(alice, 3)
	rec.take()
	e.send(alice, `<iq type='get' id='md'><metadata xmlns='urn:xmpp:mam:2'/></iq>`)
	wantXML(t, rec.take(), fmt.Sprintf(`<iq type='result' id='md' to='alice@example.com/a'><metadata xmlns='urn:xmpp:mam:2'>
		<start id='%s' timestamp='2024-01-02T03:04:06.123456Z'/>
		<end id='%s' timestamp='2024-01-02T03:04:10.123456Z'/>
		</metadata></iq>`, e.id(1), e.id(5)))
}

func TestPrefs(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DefaultArchivePolicy = "roster"
	e := newEnv(t, cfg)
	alice, rec := e.login("alice@example.com/a")
	get := `<iq type='get' id='p'><prefs xmlns='urn:xmpp:mam:2'/></iq>`

	e.send(alice, get)
	wantXML(t, rec.take(), `<iq type='result' id='p' to='alice@example.com/a'><prefs xmlns='urn:xmpp:mam:2' default='roster'><always/><never/></prefs></iq>`)

	// Set: JIDs normalised and deduplicated, a JID in both lists kept in
	// <never/> only; the reply is the applied preferences.
	e.send(alice, `<iq type='set' id='p'><prefs xmlns='urn:xmpp:mam:2' default='always'>
		<always><jid>Bob@Example.com</jid><jid>bob@example.com</jid><jid>carol@example.com/Phone</jid><jid>dave@example.com</jid></always>
		<never><jid>dave@example.com</jid><jid>example.org</jid></never></prefs></iq>`)
	applied := `<prefs xmlns='urn:xmpp:mam:2' default='always'>
		<always><jid>bob@example.com</jid><jid>carol@example.com/Phone</jid></always>
		<never><jid>dave@example.com</jid><jid>example.org</jid></never></prefs>`
	wantXML(t, rec.take(), `<iq type='result' id='p' to='alice@example.com/a'>`+applied+`</iq>`)
	e.send(alice, get)
	wantXML(t, rec.take(), `<iq type='result' id='p' to='alice@example.com/a'>`+applied+`</iq>`)

	// A set without 'default' keeps it; missing lists are empty.
	e.send(alice, `<iq type='set' id='p'><prefs xmlns='urn:xmpp:mam:2'><never><jid>bob@example.com</jid></never></prefs></iq>`)
	wantXML(t, rec.take(), `<iq type='result' id='p' to='alice@example.com/a'><prefs xmlns='urn:xmpp:mam:2' default='always'>
		<always/><never><jid>bob@example.com</jid></never></prefs></iq>`)

	for _, tc := range []struct{ name, payload, want string }{
		{"bad default", `<prefs xmlns='urn:xmpp:mam:2' default='sometimes'/>`, "modify/bad-request"},
		{"bad jid", `<prefs xmlns='urn:xmpp:mam:2' default='always'><always><jid>@bad</jid></always></prefs>`, "modify/jid-malformed"},
		{"empty jid", `<prefs xmlns='urn:xmpp:mam:2' default='always'><never><jid/></never></prefs>`, "modify/jid-malformed"},
		{"two always", `<prefs xmlns='urn:xmpp:mam:2'><always/><always/></prefs>`, "modify/bad-request"},
	} {
		e.send(alice, `<iq type='set' id='p'>`+tc.payload+`</iq>`)
		got := rec.take()
		if len(got) != 1 || errorOf(got[0]) != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
	// Failed sets changed nothing.
	e.send(alice, get)
	wantXML(t, rec.take(), `<iq type='result' id='p' to='alice@example.com/a'><prefs xmlns='urn:xmpp:mam:2' default='always'>
		<always/><never><jid>bob@example.com</jid></never></prefs></iq>`)
}

// TestCountBound: the whole archive's count is maintained by the stores and
// given at any size; a filtered count (after-id and before-id included)
// walks an index and is given with a page only up to countBound, to a
// count-only request up to countOnlyBound.
func TestCountBound(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, arec := e.login("alice@example.com/a")
	const many = countBound + 5
	msgs := make([]*storage.ArchivedMessage, 0, many+3)
	for i := range many {
		msgs = append(msgs, &storage.ArchivedMessage{Owner: "alice@example.com", With: "bob@example.com",
			Outgoing: true, Stamp: t0.Add(time.Duration(i) * time.Second), Body: strconv.Itoa(i),
			Stanza: []byte(`<message xmlns='jabber:client' to='bob@example.com' type='chat'><body>` + strconv.Itoa(i) + `</body></message>`)})
	}
	for i := range 3 {
		msgs = append(msgs, &storage.ArchivedMessage{Owner: "alice@example.com", With: "carol@example.com",
			Outgoing: true, Stamp: t0.Add(time.Duration(many+i) * time.Second), Body: "c",
			Stanza: []byte(`<message xmlns='jabber:client' to='carol@example.com' type='chat'><body>c</body></message>`)})
	}
	if err := e.mem.AppendArchive(e.ctx, msgs); err != nil {
		t.Fatal(err)
	}
	count := func(reply *xml.Element) string {
		c := reply.Child(NS, "fin").Child("http://jabber.org/protocol/rsm", "set").Child("http://jabber.org/protocol/rsm", "count")
		if c == nil {
			return "none"
		}
		return c.Text()
	}
	page := `<set xmlns='http://jabber.org/protocol/rsm'><max>5</max></set>`
	countOnly := `<set xmlns='http://jabber.org/protocol/rsm'><max>0</max></set>`
	tests := []struct{ name, inner, want string }{
		{"whole archive above the bound", page, strconv.Itoa(many + 3)},
		{"whole archive, count only", countOnly, strconv.Itoa(many + 3)},
		{"with, above the bound", form(field("with", "bob@example.com")) + page, "none"},
		{"with, above the page bound, count only", form(field("with", "bob@example.com")) + countOnly, strconv.Itoa(many)},
		{"with, below the bound", form(field("with", "carol@example.com")) + page, "3"},
		{"start, above the bound", form(field("start", FormatDateTime(t0))) + page, "none"},
		{"start, above the page bound, count only", form(field("start", FormatDateTime(t0))) + countOnly, strconv.Itoa(many + 3)},
		{"start, below the bound", form(field("start", FormatDateTime(t0.Add(many*time.Second)))) + page, "3"},
		// An id bound is a filter: not the maintained whole-archive count.
		{"after-id, above the bound", form(field("after-id", e.id(msgs[0].ID))) + page, "none"},
		{"after-id, above the page bound, count only", form(field("after-id", e.id(msgs[0].ID))) + countOnly, strconv.Itoa(many + 2)},
		{"after-id, below the bound", form(field("after-id", e.id(msgs[many-1].ID))) + page, "3"},
		{"before-id, above the bound", form(field("before-id", e.id(msgs[many+2].ID))) + page, "none"},
		{"before-id, below the bound", form(field("before-id", e.id(msgs[10].ID))) + page, "10"},
		{"after-id and before-id, at the bound", form(field("after-id", e.id(msgs[0].ID)), field("before-id", e.id(msgs[countBound+1].ID))) + page, strconv.Itoa(countBound)},
		{"after-id and before-id, one above the bound", form(field("after-id", e.id(msgs[0].ID)), field("before-id", e.id(msgs[countBound+2].ID))) + page, "none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, reply := e.query(alice, arec, "", tc.inner)
			if got := count(reply); got != tc.want {
				t.Errorf("count %s, want %s", got, tc.want)
			}
		})
	}
}
