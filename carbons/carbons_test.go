package carbons

import (
	"context"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
)

// fakeArchive does what the archive module does to a message in its hooks,
// with fixed ids.
type fakeArchive struct{}

func (fakeArchive) Name() string { return "archive" }

func (fakeArchive) OutboundMessage(_ context.Context, ev *router.MessageEvent) error {
	ev.SenderArchiveID = "S1"
	return nil
}

func (fakeArchive) InboundMessage(_ context.Context, ev *router.MessageEvent) error {
	ev.Stanza.Append(xml.New(NSSID, "stanza-id", "by", ev.To.Bare().String(), "id", "R1"))
	ev.Archived = true
	return nil
}

type session struct {
	jid             string
	available       bool
	priority        int
	carbons         bool
	*router.Session // set by world
	rec             *routertest.Recorder
}

// world binds both accounts' sessions:
//
//	romeo/home, romeo/garden: carbons; romeo/work: no carbons;
//	romeo/away: carbons, not available
//	juliet/balcony, juliet/chamber: carbons; juliet/tomb: no carbons;
//	juliet/lurk: carbons, priority -1
func world(t *testing.T, archive bool) (*routertest.Env, map[string]*session) {
	e := routertest.New(t, "romeo@example.org", "juliet@example.org")
	if archive {
		e.Router.Register(fakeArchive{})
	}
	e.Router.Register(New(e.Router))
	ss := map[string]*session{}
	for _, s := range []*session{
		{jid: "romeo@example.org/home", available: true, carbons: true},
		{jid: "romeo@example.org/garden", available: true, carbons: true},
		{jid: "romeo@example.org/work", available: true},
		{jid: "romeo@example.org/away", carbons: true},
		{jid: "juliet@example.org/balcony", available: true, carbons: true},
		{jid: "juliet@example.org/chamber", available: true, carbons: true},
		{jid: "juliet@example.org/tomb", available: true},
		{jid: "juliet@example.org/lurk", available: true, priority: -1, carbons: true},
	} {
		s.Session, s.rec = e.Bind(s.jid, s.available, s.priority)
		s.SetCarbons(s.carbons)
		ss[jid.MustParse(s.jid).Resource()] = s
	}
	return e, ss
}

func TestEnableDisable(t *testing.T) {
	e, ss := world(t, false)
	home := ss["home"]
	home.SetCarbons(false)
	tests := []struct {
		name, in, want string
		on             bool
	}{
		{"enable", `<iq type="set" id="1"><enable xmlns="urn:xmpp:carbons:2"/></iq>`,
			`<iq xmlns="jabber:client" type="result" id="1" to="romeo@example.org/home"/>`, true},
		{"enable again", `<iq type="set" id="2" to="romeo@example.org"><enable xmlns="urn:xmpp:carbons:2"/></iq>`,
			`<iq xmlns="jabber:client" type="result" id="2" to="romeo@example.org/home"/>`, true},
		{"for someone else", `<iq type="set" id="3" to="juliet@example.org"><disable xmlns="urn:xmpp:carbons:2"/></iq>`,
			`<iq xmlns="jabber:client" id="3" from="juliet@example.org" to="romeo@example.org/home" type="error"><error type="cancel"><not-allowed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`, true},
		{"to the server", `<iq type="set" id="4" to="example.org"><disable xmlns="urn:xmpp:carbons:2"/></iq>`,
			`<iq xmlns="jabber:client" id="4" from="example.org" to="romeo@example.org/home" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`, true},
		{"disable", `<iq type="set" id="5"><disable xmlns="urn:xmpp:carbons:2"/></iq>`,
			`<iq xmlns="jabber:client" type="result" id="5" to="romeo@example.org/home"/>`, false},
		{"disable again", `<iq type="set" id="6"><disable xmlns="urn:xmpp:carbons:2"/></iq>`,
			`<iq xmlns="jabber:client" type="result" id="6" to="romeo@example.org/home"/>`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.Send(home.Session, tt.in)
			routertest.Expect(t, home.rec, tt.want)
			if home.Carbons() != tt.on {
				t.Errorf("Carbons() = %v, want %v", home.Carbons(), tt.on)
			}
		})
	}
	if !ss["balcony"].Carbons() {
		t.Error("juliet's carbons changed")
	}
}

const (
	sidR = `<stanza-id xmlns="urn:xmpp:sid:0" by="juliet@example.org" id="R1"/>`
	sidS = `<stanza-id xmlns="urn:xmpp:sid:0" by="romeo@example.org" id="S1"/>`
)

func sent(to, typ, inner string) string {
	return `<message xmlns="jabber:client" from="romeo@example.org" to="romeo@example.org/` + to + `"` + typ +
		`><sent xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0">` + inner + `</forwarded></sent></message>`
}

func received(owner, to, typ, inner string) string {
	return `<message xmlns="jabber:client" from="` + owner + `" to="` + owner + `/` + to + `"` + typ +
		`><received xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0">` + inner + `</forwarded></received></message>`
}

func TestCopies(t *testing.T) {
	const (
		chatToBare  = `<message xmlns="jabber:client" type="chat" to="juliet@example.org" id="m1" from="romeo@example.org/home"><body>hi</body>`
		chatToBalc  = `<message xmlns="jabber:client" type="chat" to="juliet@example.org/balcony" id="m1" from="romeo@example.org/home"><body>hi</body>`
		typChat     = ` type="chat"`
		mucPMFrom   = "room@muc.example.net/nurse"
		mucRoomFrom = "room@muc.example.net"
	)
	tests := []struct {
		name    string
		archive bool
		from    string // a local resource, or a remote full JID (routed with no sender session)
		in      string
		want    map[string][]string // by resource; every other session gets nothing
	}{{
		name: "chat to bare JID: sent carbons with the sender's archive id; received copy for the negative-priority session",
		from: "home", archive: true,
		in: `<message type="chat" to="juliet@example.org" id="m1"><body>hi</body></message>`,
		want: map[string][]string{
			"garden":  {sent("garden", typChat, chatToBare+sidS+`</message>`)},
			"balcony": {chatToBare + sidR + `</message>`},
			"chamber": {chatToBare + sidR + `</message>`},
			"tomb":    {chatToBare + sidR + `</message>`},
			"lurk":    {received("juliet@example.org", "lurk", typChat, chatToBare+sidR+`</message>`)},
		},
	}, {
		name: "chat to full JID: received copies for the recipient's other carbons sessions",
		from: "home", archive: true,
		in: `<message type="chat" to="juliet@example.org/balcony" id="m1"><body>hi</body></message>`,
		want: map[string][]string{
			"garden":  {sent("garden", typChat, chatToBalc+sidS+`</message>`)},
			"balcony": {chatToBalc + sidR + `</message>`},
			"chamber": {received("juliet@example.org", "chamber", typChat, chatToBalc+sidR+`</message>`)},
			"lurk":    {received("juliet@example.org", "lurk", typChat, chatToBalc+sidR+`</message>`)},
		},
	}, {
		name: "no archive: no stanza-id, and a client-supplied one claiming the sender's archive is dropped from the copy",
		from: "home",
		in:   `<message type="chat" to="juliet@example.org/balcony" id="m1"><body>hi</body><stanza-id xmlns="urn:xmpp:sid:0" by="romeo@example.org" id="fake"/></message>`,
		want: map[string][]string{
			"garden":  {sent("garden", typChat, chatToBalc+`</message>`)},
			"balcony": {chatToBalc + `<stanza-id xmlns="urn:xmpp:sid:0" by="romeo@example.org" id="fake"/></message>`},
			"chamber": {received("juliet@example.org", "chamber", typChat, chatToBalc+`<stanza-id xmlns="urn:xmpp:sid:0" by="romeo@example.org" id="fake"/></message>`)},
			"lurk":    {received("juliet@example.org", "lurk", typChat, chatToBalc+`<stanza-id xmlns="urn:xmpp:sid:0" by="romeo@example.org" id="fake"/></message>`)},
		},
	}, {
		name: "private: no copies on either side, <private/> stripped on delivery",
		from: "home",
		in:   `<message type="chat" to="juliet@example.org/balcony" id="m1"><body>hi</body><private xmlns="urn:xmpp:carbons:2"/><no-copy xmlns="urn:xmpp:hints"/></message>`,
		want: map[string][]string{
			"balcony": {chatToBalc + `<no-copy xmlns="urn:xmpp:hints"/></message>`},
		},
	}, {
		name: "no-copy hint alone: no copies",
		from: "home",
		in:   `<message type="chat" to="juliet@example.org/balcony" id="m1"><body>hi</body><no-copy xmlns="urn:xmpp:hints"/></message>`,
		want: map[string][]string{
			"balcony": {chatToBalc + `<no-copy xmlns="urn:xmpp:hints"/></message>`},
		},
	}, {
		name: "normal with body is copied, type kept absent",
		from: "home",
		in:   `<message to="juliet@example.org/balcony"><body>hi</body></message>`,
		want: map[string][]string{
			"garden":  {sent("garden", "", `<message xmlns="jabber:client" to="juliet@example.org/balcony" from="romeo@example.org/home"><body>hi</body></message>`)},
			"balcony": {`<message xmlns="jabber:client" to="juliet@example.org/balcony" from="romeo@example.org/home"><body>hi</body></message>`},
			"chamber": {received("juliet@example.org", "chamber", "", `<message xmlns="jabber:client" to="juliet@example.org/balcony" from="romeo@example.org/home"><body>hi</body></message>`)},
			"lurk":    {received("juliet@example.org", "lurk", "", `<message xmlns="jabber:client" to="juliet@example.org/balcony" from="romeo@example.org/home"><body>hi</body></message>`)},
		},
	}, {
		name: "normal with a receipt is copied",
		from: "home",
		in:   `<message type="normal" to="juliet@example.org/balcony"><received xmlns="urn:xmpp:receipts" id="x"/></message>`,
		want: map[string][]string{
			"garden":  {sent("garden", ` type="normal"`, `<message xmlns="jabber:client" type="normal" to="juliet@example.org/balcony" from="romeo@example.org/home"><received xmlns="urn:xmpp:receipts" id="x"/></message>`)},
			"balcony": {`<message xmlns="jabber:client" type="normal" to="juliet@example.org/balcony" from="romeo@example.org/home"><received xmlns="urn:xmpp:receipts" id="x"/></message>`},
			"chamber": {received("juliet@example.org", "chamber", ` type="normal"`, `<message xmlns="jabber:client" type="normal" to="juliet@example.org/balcony" from="romeo@example.org/home"><received xmlns="urn:xmpp:receipts" id="x"/></message>`)},
			"lurk":    {received("juliet@example.org", "lurk", ` type="normal"`, `<message xmlns="jabber:client" type="normal" to="juliet@example.org/balcony" from="romeo@example.org/home"><received xmlns="urn:xmpp:receipts" id="x"/></message>`)},
		},
	}, {
		name: "normal without IM content is not copied",
		from: "home",
		in:   `<message to="juliet@example.org/balcony"><x xmlns="jabber:x:oob"><url>https://example.org/a</url></x></message>`,
		want: map[string][]string{
			"balcony": {`<message xmlns="jabber:client" to="juliet@example.org/balcony" from="romeo@example.org/home"><x xmlns="jabber:x:oob"><url>https://example.org/a</url></x></message>`},
		},
	}, {
		name: "chat state only (type chat) is copied",
		from: "home",
		in:   `<message type="chat" to="juliet@example.org/balcony"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`,
		want: map[string][]string{
			"garden":  {sent("garden", typChat, `<message xmlns="jabber:client" type="chat" to="juliet@example.org/balcony" from="romeo@example.org/home"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)},
			"balcony": {`<message xmlns="jabber:client" type="chat" to="juliet@example.org/balcony" from="romeo@example.org/home"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`},
			"chamber": {received("juliet@example.org", "chamber", typChat, `<message xmlns="jabber:client" type="chat" to="juliet@example.org/balcony" from="romeo@example.org/home"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)},
			"lurk":    {received("juliet@example.org", "lurk", typChat, `<message xmlns="jabber:client" type="chat" to="juliet@example.org/balcony" from="romeo@example.org/home"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`)},
		},
	}, {
		name: "groupchat is never copied",
		from: "home",
		in:   `<message type="groupchat" to="juliet@example.org/balcony"><body>hi</body></message>`,
		want: map[string][]string{
			"balcony": {`<message xmlns="jabber:client" type="groupchat" to="juliet@example.org/balcony" from="romeo@example.org/home"><body>hi</body></message>`},
		},
	}, {
		name: "headline is never copied",
		from: "home",
		in:   `<message type="headline" to="juliet@example.org/balcony"><body>hi</body></message>`,
		want: map[string][]string{
			"balcony": {`<message xmlns="jabber:client" type="headline" to="juliet@example.org/balcony" from="romeo@example.org/home"><body>hi</body></message>`},
		},
	}, {
		name: "errors are not copied",
		from: "home",
		in:   `<message type="error" to="juliet@example.org/balcony"><body>hi</body><error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`,
		want: map[string][]string{
			"balcony": {`<message xmlns="jabber:client" type="error" to="juliet@example.org/balcony" from="romeo@example.org/home"><body>hi</body><error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`},
		},
	}, {
		name: "something that already is a carbon is not copied",
		from: "home",
		in:   `<message type="chat" to="juliet@example.org/balcony"><sent xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" type="chat"><body>x</body></message></forwarded></sent></message>`,
		want: map[string][]string{
			"balcony": {`<message xmlns="jabber:client" type="chat" to="juliet@example.org/balcony" from="romeo@example.org/home"><sent xmlns="urn:xmpp:carbons:2"><forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" type="chat"><body>x</body></message></forwarded></sent></message>`},
		},
	}, {
		name: "MAM results are not copied",
		from: "home",
		in:   `<message to="juliet@example.org/balcony"><result xmlns="urn:xmpp:mam:2" id="a"><forwarded xmlns="urn:xmpp:forward:0"/></result><body>x</body></message>`,
		want: map[string][]string{
			"balcony": {`<message xmlns="jabber:client" to="juliet@example.org/balcony" from="romeo@example.org/home"><result xmlns="urn:xmpp:mam:2" id="a"><forwarded xmlns="urn:xmpp:forward:0"/></result><body>x</body></message>`},
		},
	}, {
		// Without s2s the message to a remote MUC bounces before any hook
		// runs, so nothing is archived or carbon-copied for it; the
		// bounce answers an eligible message, so it is copied (rules:0).
		name: "own MUC private message to a remote participant: bounced, no sent carbons, the bounce copied",
		from: "home",
		in:   `<message type="chat" to="room@muc.example.net/nurse"><body>psst</body><x xmlns="http://jabber.org/protocol/muc#user"/></message>`,
		want: map[string][]string{
			"home":   {`<message xmlns="jabber:client" from="room@muc.example.net/nurse" to="romeo@example.org/home" type="error"><body>psst</body><x xmlns="http://jabber.org/protocol/muc#user"/><error type="cancel"><remote-server-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`},
			"garden": {received("romeo@example.org", "garden", ` type="error"`, `<message xmlns="jabber:client" from="room@muc.example.net/nurse" to="romeo@example.org/home" type="error"><body>psst</body><x xmlns="http://jabber.org/protocol/muc#user"/><error type="cancel"><remote-server-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`)},
		},
	}, {
		name: "MUC private message from a participant: no received carbons",
		from: mucPMFrom,
		in:   `<message type="chat" to="juliet@example.org/balcony" from="room@muc.example.net/nurse"><body>psst</body><x xmlns="http://jabber.org/protocol/muc#user"/></message>`,
		want: map[string][]string{
			"balcony": {`<message xmlns="jabber:client" type="chat" to="juliet@example.org/balcony" from="room@muc.example.net/nurse"><body>psst</body><x xmlns="http://jabber.org/protocol/muc#user"/></message>`},
		},
	}, {
		name: "mediated MUC invitation is copied",
		from: mucRoomFrom,
		in:   `<message to="juliet@example.org/balcony" from="room@muc.example.net"><x xmlns="http://jabber.org/protocol/muc#user"><invite from="nurse@example.net"/></x></message>`,
		want: map[string][]string{
			"balcony": {`<message xmlns="jabber:client" to="juliet@example.org/balcony" from="room@muc.example.net"><x xmlns="http://jabber.org/protocol/muc#user"><invite from="nurse@example.net"/></x></message>`},
			"chamber": {received("juliet@example.org", "chamber", "", `<message xmlns="jabber:client" to="juliet@example.org/balcony" from="room@muc.example.net"><x xmlns="http://jabber.org/protocol/muc#user"><invite from="nurse@example.net"/></x></message>`)},
			"lurk":    {received("juliet@example.org", "lurk", "", `<message xmlns="jabber:client" to="juliet@example.org/balcony" from="room@muc.example.net"><x xmlns="http://jabber.org/protocol/muc#user"><invite from="nurse@example.net"/></x></message>`)},
		},
	}, {
		name: "direct MUC invitation is copied",
		from: "tybalt@example.net/x",
		in:   `<message to="juliet@example.org/balcony" from="tybalt@example.net/x"><x xmlns="jabber:x:conference" jid="room@muc.example.net"/></message>`,
		want: map[string][]string{
			"balcony": {`<message xmlns="jabber:client" to="juliet@example.org/balcony" from="tybalt@example.net/x"><x xmlns="jabber:x:conference" jid="room@muc.example.net"/></message>`},
			"chamber": {received("juliet@example.org", "chamber", "", `<message xmlns="jabber:client" to="juliet@example.org/balcony" from="tybalt@example.net/x"><x xmlns="jabber:x:conference" jid="room@muc.example.net"/></message>`)},
			"lurk":    {received("juliet@example.org", "lurk", "", `<message xmlns="jabber:client" to="juliet@example.org/balcony" from="tybalt@example.net/x"><x xmlns="jabber:x:conference" jid="room@muc.example.net"/></message>`)},
		},
	}, {
		name: "remote chat to a full JID whose session is gone goes to the bare JID's resources",
		from: "tybalt@example.net/x",
		in:   `<message type="chat" to="juliet@example.org/gone" from="tybalt@example.net/x"><body>hi</body></message>`,
		want: map[string][]string{
			"balcony": {`<message xmlns="jabber:client" type="chat" to="juliet@example.org/gone" from="tybalt@example.net/x"><body>hi</body></message>`},
			"chamber": {`<message xmlns="jabber:client" type="chat" to="juliet@example.org/gone" from="tybalt@example.net/x"><body>hi</body></message>`},
			"tomb":    {`<message xmlns="jabber:client" type="chat" to="juliet@example.org/gone" from="tybalt@example.net/x"><body>hi</body></message>`},
			"lurk":    {received("juliet@example.org", "lurk", typChat, `<message xmlns="jabber:client" type="chat" to="juliet@example.org/gone" from="tybalt@example.net/x"><body>hi</body></message>`)},
		},
	}, {
		name: "to one's own other resource: one copy each, no sent carbons",
		from: "home", archive: true,
		in: `<message type="chat" to="romeo@example.org/garden"><body>note</body></message>`,
		want: map[string][]string{
			"garden": {`<message xmlns="jabber:client" type="chat" to="romeo@example.org/garden" from="romeo@example.org/home"><body>note</body><stanza-id xmlns="urn:xmpp:sid:0" by="romeo@example.org" id="R1"/></message>`},
		},
	}, {
		name: "to one's own bare JID: delivered to every resource, no copies",
		from: "home",
		in:   `<message type="chat"><body>note</body></message>`,
		want: map[string][]string{
			"home":   {`<message xmlns="jabber:client" type="chat" from="romeo@example.org/home"><body>note</body></message>`},
			"garden": {`<message xmlns="jabber:client" type="chat" from="romeo@example.org/home"><body>note</body></message>`},
			"work":   {`<message xmlns="jabber:client" type="chat" from="romeo@example.org/home"><body>note</body></message>`},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ss := world(t, tt.archive)
			if s := ss[tt.from]; s != nil {
				e.Send(s.Session, tt.in)
			} else {
				st := routertest.Parse(t, tt.in)
				ev := &router.MessageEvent{Stanza: st, From: jid.MustParse(st.Attr("from")), To: jid.MustParse(st.Attr("to"))}
				if err := e.Router.RouteMessage(context.Background(), ev); err != nil {
					t.Fatal(err)
				}
			}
			for res, s := range ss {
				t.Run(res, func(t *testing.T) { routertest.Expect(t, s.rec, tt.want[res]...) })
			}
		})
	}
}
