package mam

// Tests that pin down requirements of XEP-0313 and its neighbours which
// the other test files leave implicit: wire namespaces, queryid echo,
// RSM <index/>, item-not-found for every id-bearing element, stanza-ids
// in carbons and offline copies, and disco.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/carbons"
	"github.com/skald-xmpp/skald/disco"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/offline"
)

// On the wire a result message is written in the stream's jabber:client
// default namespace; the forwarded message must then declare
// jabber:client itself, or it would inherit urn:xmpp:forward:0
// (XEP-0297 "Business rules": the namespace MUST be preserved).
func TestResultWireNamespaces(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, rec := e.login("alice@example.com/a")
	e.login("bob@example.com/b")
	e.send(alice, `<message to='bob@example.com' type='chat' id='m1'><body>one</body></message>`)
	rec.take()
	res, _ := e.query(alice, rec, "", "")
	if len(res) != 1 {
		t.Fatalf("%d results", len(res))
	}
	want := fmt.Sprintf(`<message to="alice@example.com/a" from="alice@example.com" id="r1">`+
		`<result xmlns="urn:xmpp:mam:2" queryid="f" id="%s"><forwarded xmlns="urn:xmpp:forward:0">`+
		`<delay xmlns="urn:xmpp:delay" stamp="2024-01-02T03:04:06.123456Z"/>`+
		`<message xmlns="jabber:client" to="bob@example.com" type="chat" id="m1" from="alice@example.com/a"><body>one</body></message>`+
		`</forwarded></result></message>`, e.id(1))
	if got := string(res[0].Bytes(nsClient)); got != want {
		t.Errorf("wire form:\n got %s\nwant %s", got, want)
	}
}

// XEP-0313 "Query results": a queryid the client gave is echoed in every
// result, even an empty one; without one, none is invented.
func TestQueryIDEcho(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, rec := e.login("alice@example.com/a")
	e.login("bob@example.com/b")
	e.send(alice, `<message to='bob@example.com' type='chat'><body>one</body></message>`)
	rec.take()
	tests := []struct{ name, attr, want string }{
		{"absent", ``, `<result xmlns='urn:xmpp:mam:2' id='%s'>`},
		{"empty", ` queryid=''`, `<result xmlns='urn:xmpp:mam:2' queryid='' id='%s'>`},
		{"given", ` queryid='q&amp;1'`, `<result xmlns='urn:xmpp:mam:2' queryid='q&amp;1' id='%s'>`},
	}
	for n, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.send(alice, `<iq type='set' id='q'><query xmlns='urn:xmpp:mam:2'`+tc.attr+`/></iq>`)
			got := rec.take()
			if len(got) != 2 {
				t.Fatalf("got %d stanzas", len(got))
			}
			wantXML(t, got[:1], fmt.Sprintf(`<message to='alice@example.com/a' from='alice@example.com' id='r%d'>`+tc.want+
				`<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2024-01-02T03:04:06.123456Z'/>
				<message xmlns='jabber:client' to='bob@example.com' type='chat' from='alice@example.com/a'><body>one</body></message>
				</forwarded></result></message>`, n+1, e.id(1)))
		})
	}
}

// XEP-0059 "Retrieving a Page Out of Order": index 0 is the first page
// (SHOULD be derived, and first@index MUST echo it); other indexes are
// feature-not-implemented (cancel), which the same section allows.
func TestRSMIndex(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, rec := e.login("alice@example.com/a")
	e.login("bob@example.com/b")
	set := func(s string) string { return `<set xmlns='http://jabber.org/protocol/rsm'>` + s + `</set>` }

	_, reply := e.query(alice, rec, "", set(`<max>2</max><index>0</index>`))
	wantXML(t, []*xml.Element{reply}, `<iq type='result' id='q1' to='alice@example.com/a'>
		<fin xmlns='urn:xmpp:mam:2' complete='true'><set xmlns='http://jabber.org/protocol/rsm'><count>0</count></set></fin></iq>`)

	e.fill(alice, 3) // items 1, 3, 5
	rec.take()
	tests := []struct {
		name, inner, want string
		n                 int
	}{
		{"index 0", set(`<max>2</max><index>0</index>`), fmt.Sprintf(`<iq type='result' id='q1' to='alice@example.com/a'>
			<fin xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'>
			<first index='0'>%s</first><last>%s</last><count>3</count></set></fin></iq>`, e.id(1), e.id(3)), 2},
		{"index 1", set(`<max>2</max><index>1</index>`), "cancel/feature-not-implemented", 0},
		{"index 0 with after", set(`<index>0</index><after>` + e.id(1) + `</after>`), "cancel/feature-not-implemented", 0},
		{"index 0 with before", set(`<index>0</index><before/>`), "cancel/feature-not-implemented", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, reply := e.query(alice, rec, "", tc.inner)
			if len(res) != tc.n {
				t.Errorf("%d results, want %d", len(res), tc.n)
			}
			if !strings.HasPrefix(tc.want, "<") {
				if got := errorOf(reply); got != tc.want {
					t.Errorf("got %q, want %q", got, tc.want)
				}
				return
			}
			wantXML(t, []*xml.Element{reply}, tc.want)
		})
	}
}

// XEP-0313 "Limiting results by id" and "Requesting pages": an id in
// after-id, before-id, ids, RSM <after/> or RSM <before/> that is not in
// the archive is item-not-found of type cancel, whatever the reason:
// never issued, issued by another server, another user's item, or an
// item deleted since (which is what tells a syncing client that it has a
// gap, XEP-0313 v1.1.0 rationale). The reply is exactly the example's.
func TestUnknownIDsEverywhere(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, arec := e.login("alice@example.com/a")
	e.login("bob@example.com/b")
	e.fill(alice, 3) // alice: 1, 3, 5; bob: 2, 4, 6
	arec.take()
	if n, err := e.mem.TrimArchive(e.ctx, "alice@example.com", 2); err != nil || n != 1 {
		t.Fatalf("trim: %d, %v", n, err)
	}
	other, _ := newIDCodec([]byte("another server's secret......"))
	unknown := map[string]string{
		"garbage":        "28482-98726-73623",
		"never issued":   e.id(999),
		"other server":   other.encode(3),
		"other archive":  e.id(2),
		"deleted (trim)": e.id(1),
	}
	set := func(s string) string { return `<set xmlns='http://jabber.org/protocol/rsm'>` + s + `</set>` }
	where := []struct {
		name string
		wrap func(id string) string
	}{
		{"rsm after", func(id string) string { return set(`<after>` + id + `</after>`) }},
		{"rsm before", func(id string) string { return set(`<before>` + id + `</before>`) }},
		{"after-id", func(id string) string { return form(field("after-id", id)) }},
		{"before-id", func(id string) string { return form(field("before-id", id)) }},
		{"ids", func(id string) string { return form(field("ids", e.id(3), id)) }},
		{"after-id with valid rsm after", func(id string) string {
			return form(field("after-id", id)) + set(`<after>`+e.id(3)+`</after>`)
		}},
	}
	for _, w := range where {
		for what, id := range unknown {
			t.Run(w.name+"/"+what, func(t *testing.T) {
				res, reply := e.query(alice, arec, "", w.wrap(id))
				if len(res) != 0 {
					t.Errorf("%d results before the error", len(res))
				}
				wantXML(t, []*xml.Element{reply}, `<iq id='q1' to='alice@example.com/a' type='error'><error type='cancel'>
					<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
					<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>no such item in the archive</text></error></iq>`)
			})
		}
	}
	// The surviving ids still work.
	res, reply := e.query(alice, arec, "", set(`<after>`+e.id(3)+`</after>`))
	if len(res) != 1 || errorOf(reply) != "" {
		t.Errorf("valid cursor: %d results, %s", len(res), reply)
	}
}

// XEP-0313 "Communicating the archive ID" with XEP-0280: every copy the
// owner's clients get carries the owner's archive id (the delivered
// message, received and sent carbons, the offline copy), by the owner's
// bare JID, and no copy carries another archive's id.
func TestStanzaIDInCopies(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	e.r.Register(carbons.New(e.r), offline.New(offline.DefaultConfig(), e.mem, quietLog()))
	a1, _ := e.login("alice@example.com/a")
	_, a2rec := e.login("alice@example.com/b")
	b1, b1rec := e.login("bob@example.com/b")
	_, b2rec := e.login("bob@example.com/c")
	e.send(a1, `<iq type='set' id='c'><enable xmlns='urn:xmpp:carbons:2'/></iq>`)
	for _, s := range []string{"alice@example.com/b", "bob@example.com/b", "bob@example.com/c"} {
		e.send(e.r.Session(jid.MustParse(s)), `<iq type='set' id='c'><enable xmlns='urn:xmpp:carbons:2'/></iq>`)
	}
	a2rec.take()
	b1rec.take()
	b2rec.take()

	e.send(a1, `<message to='bob@example.com/b' type='chat' id='m1'><body>hi</body></message>`)
	msg := func(sid string) string {
		return `<message to='bob@example.com/b' type='chat' id='m1' from='alice@example.com/a'><body>hi</body>` + sid + `</message>`
	}
	aliceSID := fmt.Sprintf(`<stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.com' id='%s'/>`, e.id(1))
	bobSID := fmt.Sprintf(`<stanza-id xmlns='urn:xmpp:sid:0' by='bob@example.com' id='%s'/>`, e.id(2))
	wantXML(t, b1rec.take(), msg(bobSID))
	wantXML(t, b2rec.take(), `<message from='bob@example.com' to='bob@example.com/c' type='chat'><received xmlns='urn:xmpp:carbons:2'>
		<forwarded xmlns='urn:xmpp:forward:0'>`+strings.Replace(msg(bobSID), "<message ", "<message xmlns='jabber:client' ", 1)+`</forwarded></received></message>`)
	wantXML(t, a2rec.take(), `<message from='alice@example.com' to='alice@example.com/b' type='chat'><sent xmlns='urn:xmpp:carbons:2'>
		<forwarded xmlns='urn:xmpp:forward:0'>`+strings.Replace(msg(aliceSID), "<message ", "<message xmlns='jabber:client' ", 1)+`</forwarded></sent></message>`)

	// Bob offline: the stored copy carries bob's id, so a client that
	// gets it at login can place it in its synced history.
	e.r.Unbind(e.ctx, b1)
	e.r.Unbind(e.ctx, e.r.Session(jid.MustParse("bob@example.com/c")))
	e.send(a1, `<message to='bob@example.com' type='chat' id='m2'><body>later</body></message>`)
	waiting, err := e.mem.OfflineMessages(e.ctx, "bob@example.com")
	if err != nil || len(waiting) != 1 {
		t.Fatalf("offline: %d, %v", len(waiting), err)
	}
	if s, want := string(waiting[0].Stanza), fmt.Sprintf(`<stanza-id xmlns="urn:xmpp:sid:0" by="bob@example.com" id="%s"/>`, e.id(4)); !strings.Contains(s, want) || strings.Count(s, "stanza-id") != 1 || !waiting[0].Archived {
		t.Errorf("offline copy %s (archived %v), want one %s", s, waiting[0].Archived, want)
	}
}

// XEP-0313 "Determining support": the account's bare JID advertises
// urn:xmpp:mam:2 and urn:xmpp:mam:2#extended (and urn:xmpp:sid:0, which
// clients check before trusting stanza-ids, XEP-0359); the domain does
// too, for clients that look there. include-groupchat is understood, so
// #groupchat-field is advertised, but user archives hold no groupchat
// messages, so #groupchat-available is not.
func TestDiscoAdvertisesMAM(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	e.r.Register(disco.New(e.r))
	alice, rec := e.login("alice@example.com/a")
	for _, to := range []string{"alice@example.com", "example.com"} {
		e.send(alice, `<iq type='get' id='d' to='`+to+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
		got := rec.take()
		if len(got) != 1 {
			t.Fatalf("%s: %d replies", to, len(got))
		}
		features := map[string]bool{}
		for _, f := range got[0].Child("http://jabber.org/protocol/disco#info", "query").Elements() {
			features[f.Attr("var")] = true
		}
		// XEP-0431 "Discovering Support": urn:xmpp:fulltext:0.
		for _, f := range []string{NS, NSExtended, NSGroupchatField, NSSID, "urn:xmpp:fulltext:0"} {
			if !features[f] {
				t.Errorf("%s lacks %s: %s", to, f, got[0])
			}
		}
		for _, f := range []string{NS + "#groupchat-available"} {
			if features[f] {
				t.Errorf("%s advertises %s, which Skald does not implement", to, f)
			}
		}
	}
}

// XEP-0441: <jid/> values are trimmed and canonicalised, and the reply
// to a set is the preferences as applied, both lists present.
func TestPrefsJIDForms(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	alice, rec := e.login("alice@example.com/a")
	e.send(alice, `<iq type='set' id='p'><prefs xmlns='urn:xmpp:mam:2' default='roster'>
		<always><jid>
			Romeo@Montague.LIT
		</jid></always></prefs></iq>`)
	wantXML(t, rec.take(), `<iq type='result' id='p' to='alice@example.com/a'><prefs xmlns='urn:xmpp:mam:2' default='roster'>
		<always><jid>romeo@montague.lit</jid></always><never/></prefs></iq>`)
}
