package disco

import (
	"context"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/roster"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/storage"
)

// provider is a module advertising fixed features.
type provider struct {
	name            string
	server, account []string
}

func (p provider) Name() string                              { return p.name }
func (p provider) DiscoFeatures() (server, account []string) { return p.server, p.account }

const (
	romeo  = "romeo@example.org/orchard"
	result = `<iq xmlns="jabber:client" type="result" id="`
)

// setup serves romeo, juliet and tybalt; juliet lets romeo see her
// presence (subscription "from"), tybalt nobody.
func setup(t *testing.T) (*routertest.Env, *Module, *router.Session, *routertest.Recorder) {
	e := routertest.New(t, "romeo@example.org", "juliet@example.org", "tybalt@example.org")
	if _, err := e.Store.PutRosterItem(context.Background(), "juliet@example.org",
		storage.RosterItem{JID: "romeo@example.org", Subscription: storage.SubFrom}, true); err != nil {
		t.Fatal(err)
	}
	m := New(e.Router)
	m.SetRoster(roster.New(roster.DefaultConfig(), e.Store, e.Router))
	e.Router.Register(m,
		provider{"ping", []string{"urn:xmpp:ping"}, []string{"urn:xmpp:ping"}},
		provider{"carbons", []string{"urn:xmpp:carbons:2"}, []string{"urn:xmpp:carbons:2"}},
		provider{"offline", []string{"msgoffline"}, nil},
	)
	s, rec := e.Bind(romeo, true, 0)
	return e, m, s, rec
}

func TestDisco(t *testing.T) {
	e, m, s, rec := setup(t)
	ver := m.Ver()
	serverFeatures := `<identity category="server" type="im" name="Skald"/>` +
		`<feature var="http://jabber.org/protocol/disco#info"/>` +
		`<feature var="http://jabber.org/protocol/disco#items"/>` +
		`<feature var="msgoffline"/>` +
		`<feature var="urn:xmpp:carbons:2"/>` +
		`<feature var="urn:xmpp:ping"/>`
	accountFeatures := `<identity category="account" type="registered"/>` +
		`<feature var="http://jabber.org/protocol/disco#info"/>` +
		`<feature var="http://jabber.org/protocol/disco#items"/>` +
		`<feature var="urn:xmpp:carbons:2"/>` +
		`<feature var="urn:xmpp:ping"/>`
	itemNotFound := `<error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`

	tests := []struct {
		name, in, want string
	}{{
		name: "server info",
		in:   `<iq type="get" id="1" to="example.org"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
		want: result + `1" from="example.org" to="romeo@example.org/orchard"><query xmlns="http://jabber.org/protocol/disco#info">` + serverFeatures + `</query></iq>`,
	}, {
		name: "server info on the caps node answers the same, node echoed",
		in:   `<iq type="get" id="2" to="example.org"><query xmlns="http://jabber.org/protocol/disco#info" node="https://skald.im#` + ver + `"/></iq>`,
		want: result + `2" from="example.org" to="romeo@example.org/orchard"><query xmlns="http://jabber.org/protocol/disco#info" node="https://skald.im#` + ver + `">` + serverFeatures + `</query></iq>`,
	}, {
		name: "server info on a stale caps node",
		in:   `<iq type="get" id="3" to="example.org"><query xmlns="http://jabber.org/protocol/disco#info" node="https://skald.im#AAAA"/></iq>`,
		want: `<iq xmlns="jabber:client" id="3" from="example.org" to="romeo@example.org/orchard" type="error">` + itemNotFound,
	}, {
		name: "server info on an unknown node",
		in:   `<iq type="get" id="4" to="example.org"><query xmlns="http://jabber.org/protocol/disco#info" node="foo"/></iq>`,
		want: `<iq xmlns="jabber:client" id="4" from="example.org" to="romeo@example.org/orchard" type="error">` + itemNotFound,
	}, {
		name: "own account info, no 'to'",
		in:   `<iq type="get" id="5"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
		want: result + `5" to="romeo@example.org/orchard"><query xmlns="http://jabber.org/protocol/disco#info">` + accountFeatures + `</query></iq>`,
	}, {
		name: "own account info, bare 'to'",
		in:   `<iq type="get" id="6" to="romeo@example.org"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
		want: result + `6" to="romeo@example.org/orchard"><query xmlns="http://jabber.org/protocol/disco#info">` + accountFeatures + `</query></iq>`,
	}, {
		name: "another account that lets us see its presence: identity and features only",
		in:   `<iq type="get" id="7" to="juliet@example.org"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
		want: result + `7" from="juliet@example.org" to="romeo@example.org/orchard"><query xmlns="http://jabber.org/protocol/disco#info">` + accountFeatures + `</query></iq>`,
	}, {
		name: "account info on the caps node is unknown",
		in:   `<iq type="get" id="8" to="juliet@example.org"><query xmlns="http://jabber.org/protocol/disco#info" node="https://skald.im#` + ver + `"/></iq>`,
		want: `<iq xmlns="jabber:client" id="8" from="juliet@example.org" to="romeo@example.org/orchard" type="error">` + itemNotFound,
	}, {
		name: "another account that does not let us see its presence (XEP-0030 §8)",
		in:   `<iq type="get" id="17" to="tybalt@example.org"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
		want: `<iq xmlns="jabber:client" id="17" from="tybalt@example.org" to="romeo@example.org/orchard" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
	}, {
		name: "the same on a node",
		in:   `<iq type="get" id="18" to="tybalt@example.org"><query xmlns="http://jabber.org/protocol/disco#info" node="n"/></iq>`,
		want: `<iq xmlns="jabber:client" id="18" from="tybalt@example.org" to="romeo@example.org/orchard" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
	}, {
		name: "no such account",
		in:   `<iq type="get" id="9" to="nobody@example.org"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
		want: `<iq xmlns="jabber:client" id="9" from="nobody@example.org" to="romeo@example.org/orchard" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
	}, {
		name: "server items",
		in:   `<iq type="get" id="10" to="example.org"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`,
		want: result + `10" from="example.org" to="romeo@example.org/orchard"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`,
	}, {
		name: "server items on a node",
		in:   `<iq type="get" id="11" to="example.org"><query xmlns="http://jabber.org/protocol/disco#items" node="https://skald.im#` + ver + `"/></iq>`,
		want: `<iq xmlns="jabber:client" id="11" from="example.org" to="romeo@example.org/orchard" type="error">` + itemNotFound,
	}, {
		name: "another account's items: nothing revealed",
		in:   `<iq type="get" id="12" to="juliet@example.org"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`,
		want: result + `12" from="juliet@example.org" to="romeo@example.org/orchard"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`,
	}, {
		name: "no such account's items: an empty list (XEP-0030 §8)",
		in:   `<iq type="get" id="14" to="nobody@example.org"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`,
		want: result + `14" from="nobody@example.org" to="romeo@example.org/orchard"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`,
	}, {
		name: "no such account's items on a node: an empty list, node echoed",
		in:   `<iq type="get" id="15" to="nobody@example.org"><query xmlns="http://jabber.org/protocol/disco#items" node="n"/></iq>`,
		want: result + `15" from="nobody@example.org" to="romeo@example.org/orchard"><query xmlns="http://jabber.org/protocol/disco#items" node="n"/></iq>`,
	}, {
		name: "an account's items on a node: as for no such account",
		in:   `<iq type="get" id="16" to="juliet@example.org"><query xmlns="http://jabber.org/protocol/disco#items" node="n"/></iq>`,
		want: result + `16" from="juliet@example.org" to="romeo@example.org/orchard"><query xmlns="http://jabber.org/protocol/disco#items" node="n"/></iq>`,
	}, {
		name: "disco set is not a thing",
		in:   `<iq type="set" id="13" to="example.org"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
		want: `<iq xmlns="jabber:client" id="13" from="example.org" to="romeo@example.org/orchard" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.Send(s, tt.in)
			routertest.Expect(t, rec, tt.want)
		})
	}
}

func TestCaps(t *testing.T) {
	e, m, _, _ := setup(t)
	want := CapsVer([]Identity{{Category: "server", Type: "im", Name: "Skald"}}, []string{
		"urn:xmpp:ping", "msgoffline", "http://jabber.org/protocol/disco#items",
		"urn:xmpp:carbons:2", "http://jabber.org/protocol/disco#info",
	}, nil)
	if got := m.Caps().String(); got != `<c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="https://skald.im" ver="`+want+`"/>` {
		t.Errorf("Caps() = %s (want ver %s)", got, want)
	}
	// A module registered later changes the hash.
	e.Router.Register(provider{"version", []string{"jabber:iq:version"}, nil})
	if m.Ver() == want {
		t.Error("Ver() did not change after another module registered")
	}
}

func TestCapsVer(t *testing.T) {
	// XEP-0115 §5.2 and §5.3.
	features := []string{
		"http://jabber.org/protocol/caps",
		"http://jabber.org/protocol/disco#info",
		"http://jabber.org/protocol/disco#items",
		"http://jabber.org/protocol/muc",
	}
	softwareInfo := `<x xmlns="jabber:x:data" type="result">
		<field var="FORM_TYPE" type="hidden"><value>urn:xmpp:dataforms:softwareinfo</value></field>
		<field var="ip_version" type="text-multi"><value>ipv4</value><value>ipv6</value></field>
		<field var="os"><value>Mac</value></field>
		<field var="os_version"><value>10.5.1</value></field>
		<field var="software"><value>Psi</value></field>
		<field var="software_version"><value>0.11</value></field>
	</x>`
	// The same fields, shuffled, and values out of order.
	shuffled := `<x xmlns="jabber:x:data" type="result">
		<field var="software_version"><value>0.11</value></field>
		<field var="os"><value>Mac</value></field>
		<field var="ip_version" type="text-multi"><value>ipv6</value><value>ipv4</value></field>
		<field var="FORM_TYPE" type="hidden"><value>urn:xmpp:dataforms:softwareinfo</value></field>
		<field var="software"><value>Psi</value></field>
		<field var="os_version"><value>10.5.1</value></field>
	</x>`
	noFormType := `<x xmlns="jabber:x:data" type="result"><field var="a"><value>b</value></field></x>`
	visibleFormType := `<x xmlns="jabber:x:data" type="result"><field var="FORM_TYPE"><value>urn:example</value></field></x>`
	psi := []Identity{
		{Category: "client", Type: "pc", Lang: "en", Name: "Psi 0.11"},
		{Category: "client", Type: "pc", Lang: "el", Name: "Ψ 0.11"},
	}
	tests := []struct {
		name  string
		ids   []Identity
		feats []string
		forms []string
		want  string
	}{
		{"simple", []Identity{{Category: "client", Type: "pc", Name: "Exodus 0.9.1"}}, features, nil, "QgayPKawpkPSDYmwT/WM94uAlu0="},
		{"simple, unsorted features", []Identity{{Category: "client", Type: "pc", Name: "Exodus 0.9.1"}},
			[]string{features[3], features[1], features[0], features[2]}, nil, "QgayPKawpkPSDYmwT/WM94uAlu0="},
		{"complex", psi, features, []string{softwareInfo}, "q07IKJEyjvHSyhy//CH0CxmKi8w="},
		{"complex, shuffled form", psi, features, []string{shuffled}, "q07IKJEyjvHSyhy//CH0CxmKi8w="},
		{"forms without hidden FORM_TYPE are ignored", psi, features, []string{noFormType, softwareInfo, visibleFormType}, "q07IKJEyjvHSyhy//CH0CxmKi8w="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var forms []*xml.Element
			for _, f := range tt.forms {
				forms = append(forms, routertest.Parse(t, f))
			}
			if got := CapsVer(tt.ids, tt.feats, forms); got != tt.want {
				t.Errorf("CapsVer = %s, want %s", got, tt.want)
			}
		})
	}
}

// infoProvider is a module adding an identity and an XEP-0128 form to the
// server's info.
type infoProvider struct{ provider }

func (infoProvider) DiscoServerInfo() ([]router.Identity, []*xml.Element) {
	x := xml.New(NSData, "x", "type", "result")
	x.Append(xml.New(NSData, "field", "var", "FORM_TYPE", "type", "hidden").Append(xml.New(NSData, "value").AppendText("urn:example:0")))
	x.Append(xml.New(NSData, "field", "var", "max").Append(xml.New(NSData, "value").AppendText("42")))
	return []router.Identity{{Category: "store", Type: "file", Name: "Files"}}, []*xml.Element{x}
}

// TestServerInfo: a module's identity and XEP-0128 form are in the
// server's disco#info (after the server's identity, and after the
// features) and in its caps hash, and not in an account's.
func TestServerInfo(t *testing.T) {
	e := routertest.New(t, "romeo@example.org")
	m := New(e.Router)
	fp := infoProvider{provider{"upload", []string{"urn:example:0"}, nil}}
	e.Router.Register(m, fp)
	s, rec := e.Bind(romeo, true, 0)
	form := `<x xmlns="jabber:x:data" type="result"><field var="FORM_TYPE" type="hidden"><value>urn:example:0</value></field><field var="max"><value>42</value></field></x>`
	e.Send(s, `<iq type='get' id='i1' to='example.org'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	routertest.Expect(t, rec, result+`i1" from="example.org" to="romeo@example.org/orchard"><query xmlns="http://jabber.org/protocol/disco#info">`+
		`<identity category="server" type="im" name="Skald"/><identity category="store" type="file" name="Files"/>`+
		`<feature var="http://jabber.org/protocol/disco#info"/><feature var="http://jabber.org/protocol/disco#items"/><feature var="urn:example:0"/>`+
		form+`</query></iq>`)
	e.Send(s, `<iq type='get' id='i2'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	if got := rec.Take(); len(got) != 1 || strings.Contains(got[0], "jabber:x:data") {
		t.Errorf("account disco#info: %v", got)
	}
	_, forms := fp.DiscoServerInfo()
	ids := []Identity{serverIdentity, {Category: "store", Type: "file", Name: "Files"}}
	features := []string{NSInfo, NSItems, "urn:example:0"}
	want := CapsVer(ids, features, forms)
	if m.Ver() != want || want == CapsVer(ids, features, nil) || want == CapsVer(ids[:1], features, forms) {
		t.Errorf("Ver() = %s, want %s, which the identity and the form change", m.Ver(), want)
	}
}
