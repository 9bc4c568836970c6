package push

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/muc"
	"github.com/skald-xmpp/skald/router"
)

const (
	localRoom  = "room@conference.example.org"
	remoteRoom = "room@chat.remote.example"
	nsMUC      = "http://jabber.org/protocol/muc"
)

// roomEnv is an env with the muc service on conference.example.org, a
// room romeo created and opened, and juliet's phone in it as "Jules",
// with push enabled; the phone is live until a test makes it dormant.
type roomEnv struct {
	*env
	phone  *router.Session
	prec   *dormantRecorder
	romeo  *router.Session
	laptop *router.Session // juliet's other client, in the room as "Jules" too
	lrec   *routertest.Recorder
}

func newRoomEnv(t *testing.T, cfg Config) *roomEnv {
	t.Helper()
	e := newEnv(t, cfg)
	m := muc.New(muc.DefaultConfig(), e.Router, nil, e.Store, []byte("0123456789abcdef0123456789abcdef"), quiet)
	e.Router.Register(m)
	r := &roomEnv{env: e}
	var rrec *routertest.Recorder
	r.romeo, rrec = e.Bind(romeo+"/desk", true, 0)
	e.Send(r.romeo, `<presence to="`+localRoom+`/romeo"><x xmlns="`+nsMUC+`"/></presence>`)
	e.Send(r.romeo, `<iq type="set" id="cfg" to="`+localRoom+`"><query xmlns="`+nsMUC+`#owner"><x xmlns="jabber:x:data" type="submit"/></query></iq>`)
	if got := rrec.Take(); len(got) == 0 || !strings.Contains(got[len(got)-1], `type="result"`) {
		t.Fatalf("room not opened: %v", got)
	}
	r.phone, r.prec = e.bindDormant(juliet + "/phone")
	e.enable(r.phone, r.prec, "n", "")
	e.Send(r.phone, `<presence to="`+localRoom+`/Jules"><x xmlns="`+nsMUC+`"/></presence>`)
	r.laptop, r.lrec = e.Bind(juliet+"/laptop", true, 0)
	e.Send(r.laptop, `<presence to="`+localRoom+`/Jules"><x xmlns="`+nsMUC+`"/></presence>`)
	// The phone joined from a remote room too (its self-presence, status
	// 110, names its nick there).
	e.remoteStanza(`<presence from="` + remoteRoom + `/Jules" to="` + juliet + `/phone"><x xmlns="` + nsMUC + `#user"><item affiliation="none" role="participant"/><status code="110"/></x></presence>`)
	r.prec.Take()
	r.lrec.Take()
	e.pushes() // nothing so far
	return r
}

// remoteStanza hands raw to the router as if the remote server of its
// 'from' had sent it.
func (e *env) remoteStanza(raw string) {
	e.t.Helper()
	st := routertest.Parse(e.t, raw)
	from := st.Attr("from")
	domain := from[strings.IndexByte(from, '@')+1:]
	if i := strings.IndexByte(domain, '/'); i >= 0 {
		domain = domain[:i]
	}
	if err := e.Router.HandleFromRemote(context.Background(), domain, st); err != nil {
		e.t.Fatalf("%s: %v", raw, err)
	}
}

// pushes takes what went to the app server (not errors or other stanzas
// the router sent remote servers).
func (e *env) pushes() []*xml.Element {
	var out []*xml.Element
	for _, st := range e.remote.take() {
		if st.Attr("to") == service && st.Local == "iq" {
			out = append(out, st)
		}
	}
	return out
}

// TestGroupchat: which room messages push (doc.go, "Group chats"), in
// local rooms and in rooms on other servers.
func TestGroupchat(t *testing.T) {
	type sender int
	const (
		fromRomeo  sender = iota // another occupant
		fromLaptop               // juliet's other client: her own message
		fromRemote               // the remote room, raw
	)
	tests := []struct {
		name    string
		mode    string
		from    sender
		msg     string // the groupchat's content, or for fromRemote the whole message
		live    bool   // the phone is live, not dormant
		push    bool
		history bool // juliet's phone joins after the message (local history)
	}{
		{name: "mention", mode: "mentions", msg: `<body>Jules, look</body>`, push: true},
		{name: "mention in another case", mode: "mentions", msg: `<body>hey jules!</body>`, push: true},
		{name: "nick inside a word", mode: "mentions", msg: `<body>Julesville is nice</body>`},
		{name: "bare JID mentioned", mode: "mentions", msg: `<body>ask juliet@example.org</body>`, push: true},
		{name: "XEP-0372 mention", mode: "mentions", msg: `<body>hi you</body><reference xmlns="urn:xmpp:reference:0" type="mention" begin="3" end="6" uri="xmpp:` + localRoom + `/Jules"/>`, push: true},
		{name: "no mention", mode: "mentions", msg: `<body>hello all</body>`},
		{name: "all", mode: "all", msg: `<body>hello all</body>`, push: true},
		{name: "none", mode: "none", msg: `<body>Jules!</body>`},
		{name: "live session", mode: "all", msg: `<body>Jules!</body>`, live: true},
		{name: "own message", mode: "all", from: fromLaptop, msg: `<body>Jules here</body>`},
		{name: "subject", mode: "all", msg: `<subject>Jules day</subject>`},
		// §8.1: only a subject without a body is a subject change.
		{name: "mention with a subject", mode: "mentions", msg: `<subject>news</subject><body>Jules, look</body>`, push: true},
		{name: "chat state", mode: "all", msg: `<active xmlns="http://jabber.org/protocol/chatstates"/>`},
		{name: "history on join", mode: "all", msg: `<body>Jules, earlier</body>`, history: true},

		{name: "remote mention", mode: "mentions", from: fromRemote, msg: `<message type="groupchat" from="` + remoteRoom + `/romeo" to="` + juliet + `/phone"><body>Jules: hi</body></message>`, push: true},
		{name: "remote no mention", mode: "mentions", from: fromRemote, msg: `<message type="groupchat" from="` + remoteRoom + `/romeo" to="` + juliet + `/phone"><body>hi</body></message>`},
		{name: "remote all", mode: "all", from: fromRemote, msg: `<message type="groupchat" from="` + remoteRoom + `/romeo" to="` + juliet + `/phone"><body>hi</body></message>`, push: true},
		{name: "remote none", mode: "none", from: fromRemote, msg: `<message type="groupchat" from="` + remoteRoom + `/romeo" to="` + juliet + `/phone"><body>Jules</body></message>`},
		{name: "remote live", mode: "all", from: fromRemote, live: true, msg: `<message type="groupchat" from="` + remoteRoom + `/romeo" to="` + juliet + `/phone"><body>hi</body></message>`},
		{name: "remote own reflected", mode: "all", from: fromRemote, msg: `<message type="groupchat" from="` + remoteRoom + `/Jules" to="` + juliet + `/phone"><body>Jules here</body></message>`},
		{name: "remote subject", mode: "all", from: fromRemote, msg: `<message type="groupchat" from="` + remoteRoom + `/romeo" to="` + juliet + `/phone"><subject>Jules day</subject></message>`},
		{name: "remote mention with a subject", mode: "mentions", from: fromRemote, msg: `<message type="groupchat" from="` + remoteRoom + `/romeo" to="` + juliet + `/phone"><subject>news</subject><body>Jules: hi</body></message>`, push: true},
		{name: "remote history, the room's JID in another case", mode: "all", from: fromRemote, msg: `<message type="groupchat" from="` + remoteRoom + `/romeo" to="` + juliet + `/phone"><body>Jules, earlier</body><delay xmlns="urn:xmpp:delay" from="Room@Chat.Remote.Example" stamp="2026-01-01T00:00:00Z"/></message>`},
		{name: "remote history, the sender's delay", mode: "all", from: fromRemote, msg: `<message type="groupchat" from="` + remoteRoom + `/romeo" to="` + juliet + `/phone"><body>sent late</body><delay xmlns="urn:xmpp:delay" from="romeo@remote.example/x" stamp="2026-01-01T00:00:00Z"/></message>`, push: true},
		{name: "remote history", mode: "all", from: fromRemote, msg: `<message type="groupchat" from="` + remoteRoom + `/romeo" to="` + juliet + `/phone"><body>Jules, earlier</body><delay xmlns="urn:xmpp:delay" from="` + remoteRoom + `" stamp="2026-01-01T00:00:00Z"/></message>`},
		{name: "remote private message error", mode: "all", from: fromRemote, msg: `<message type="error" from="` + remoteRoom + `/romeo" to="` + juliet + `/phone"><body>Jules?</body><error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`},
		{name: "remote private message", mode: "mentions", from: fromRemote, msg: `<message type="chat" from="` + remoteRoom + `/romeo" to="` + juliet + `/phone"><body>psst</body><x xmlns="` + nsMUC + `#user"/></message>`, push: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Groupchat = tc.mode
			r := newRoomEnv(t, cfg)
			r.prec.dormant.Store(!tc.live)
			if tc.history {
				r.Send(r.phone, `<presence to="`+localRoom+`/Jules" type="unavailable"/>`)
			}
			switch tc.from {
			case fromRomeo:
				r.Send(r.romeo, `<message type="groupchat" to="`+localRoom+`">`+tc.msg+`</message>`)
			case fromLaptop:
				r.Send(r.laptop, `<message type="groupchat" to="`+localRoom+`">`+tc.msg+`</message>`)
			case fromRemote:
				r.remoteStanza(tc.msg)
			}
			if tc.history {
				r.prec.Take()
				r.Send(r.phone, `<presence to="`+localRoom+`/Jules"><x xmlns="`+nsMUC+`"/></presence>`)
				if got := strings.Join(r.prec.Take(), "\n"); !strings.Contains(got, "earlier") || !strings.Contains(got, "urn:xmpp:delay") {
					t.Fatalf("no history sent on joining: %s", got)
				}
			} else if got := strings.Join(r.prec.Take(), "\n"); !strings.Contains(got, "<message") {
				t.Fatalf("the phone was not sent the message: %s", got)
			}
			got := r.pushes()
			if !tc.push {
				if len(got) != 0 {
					t.Fatalf("pushed: %v", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d pushes, want 1: %v", len(got), got)
			}
			wantSender := localRoom + "/romeo"
			if tc.from == fromRemote {
				wantSender = remoteRoom + "/romeo"
			}
			if !strings.Contains(got[0].String(), field("last-message-sender", wantSender)) {
				t.Fatalf("publish: %s", got[0])
			}
		})
	}
}

// TestGroupchatOtherResource: a registration the live laptop enabled
// gets no push for a room message the dormant phone was queued: the
// phone's registration is the one to wake it.
func TestGroupchatOtherResource(t *testing.T) {
	cfg := testConfig()
	cfg.Groupchat = "all"
	r := newRoomEnv(t, cfg)
	r.enable(r.laptop, r.lrec, "l", "")
	r.prec.dormant.Store(true)
	r.Send(r.romeo, `<message type="groupchat" to="`+localRoom+`"><body>hi</body></message>`)
	got := r.pushes()
	if len(got) != 1 || !strings.Contains(got[0].String(), `<publish node="n">`) {
		t.Fatalf("pushes: %v, want one to the phone's node", got)
	}
}

// TestGroupchatBusyRoom: a busy room pushes no more than coalescing
// allows one registration: one push at once, then one with the count
// when the window ends.
func TestGroupchatBusyRoom(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Groupchat = "all"
	cfg.CoalesceInterval = time.Second
	r := newRoomEnv(t, cfg)
	r.prec.dormant.Store(true)
	for i := range 30 {
		if i%2 == 0 {
			r.Send(r.romeo, `<message type="groupchat" to="`+localRoom+`"><body>busy</body></message>`)
		} else {
			r.remoteStanza(`<message type="groupchat" from="` + remoteRoom + `/romeo" to="` + juliet + `/phone"><body>busy</body></message>`)
		}
	}
	first := r.pushes()
	if len(first) != 1 || !strings.Contains(first[0].String(), field("message-count", "1")) {
		t.Fatalf("first push: %v", first)
	}
	r.answer(first[0], "result", "")
	deadline := time.Now().Add(5 * time.Second)
	var later []*xml.Element
	for len(later) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		later = r.pushes()
	}
	if len(later) != 1 || !strings.Contains(later[0].String(), field("message-count", "29")) {
		t.Fatalf("folded push: %v", later)
	}
	r.answer(later[0], "result", "")
	time.Sleep(1500 * time.Millisecond)
	if got := r.pushes(); len(got) != 0 {
		t.Fatalf("pushed after a quiet window: %v", got)
	}
}

// TestRoomNicks: the nick in a remote room comes from its self-presence
// and goes with the unavailable one (or an unavailable presence from
// that nick), a presence error from the room other than a denied nick
// change, or the session's end; presence without status 110 is another
// occupant's.
func TestRoomNicks(t *testing.T) {
	r := newRoomEnv(t, testConfig())
	room := jid.MustParse(remoteRoom)
	nick := func() string {
		n, ok := r.m.rooms.nick(r.phone, room)
		if !ok {
			return "(none)"
		}
		return n
	}
	if got := nick(); got != "Jules" {
		t.Fatalf("nick %q after the self-presence", got)
	}
	steps := []struct {
		presence, want string
	}{
		{`<presence from="` + remoteRoom + `/romeo" to="` + juliet + `/phone"><x xmlns="` + nsMUC + `#user"><item affiliation="none" role="participant"/></x></presence>`, "Jules"},
		{`<presence from="` + remoteRoom + `/Jules" to="` + juliet + `/phone" type="unavailable"><x xmlns="` + nsMUC + `#user"><item affiliation="none" role="participant" nick="J"/><status code="303"/><status code="110"/></x></presence>`, "J"}, // §7.6: the new nick at once
		{`<presence from="` + remoteRoom + `/J" to="` + juliet + `/phone"><x xmlns="` + nsMUC + `#user"><item affiliation="none" role="participant"/><status code="110"/></x></presence>`, "J"},
		// A 303 without the new nick is a leaving.
		{`<presence from="` + remoteRoom + `/J" to="` + juliet + `/phone" type="unavailable"><x xmlns="` + nsMUC + `#user"><item affiliation="none" role="participant"/><status code="303"/><status code="110"/></x></presence>`, "(none)"},
		{`<presence from="` + remoteRoom + `/J" to="` + juliet + `/phone"><x xmlns="` + nsMUC + `#user"><item affiliation="none" role="participant"/><status code="110"/></x></presence>`, "J"},
		// A nick change denied (XEP-0045 §7.6: conflict, or not-acceptable
		// where nicks are locked down; the error comes from the current nick
		// in the XEP's example, from the requested one on some servers)
		// leaves the occupant in the room with its nick.
		{`<presence from="` + remoteRoom + `/J" to="` + juliet + `/phone" type="error"><x xmlns="` + nsMUC + `"/><error type="cancel"><conflict xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></presence>`, "J"},
		{`<presence from="` + remoteRoom + `/Juliet" to="` + juliet + `/phone" type="error"><x xmlns="` + nsMUC + `"/><error type="cancel"><not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></presence>`, "J"},
		// Another error from the room (here its server gone) ends it.
		{`<presence from="` + remoteRoom + `/J" to="` + juliet + `/phone" type="error"><error type="cancel"><remote-server-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></presence>`, "(none)"},
		{`<presence from="` + remoteRoom + `/Jules" to="` + juliet + `/phone"><x xmlns="` + nsMUC + `#user"><item affiliation="none" role="participant"/><status code="110"/></x></presence>`, "Jules"},
		// Another occupant leaving changes nothing.
		{`<presence from="` + remoteRoom + `/romeo" to="` + juliet + `/phone" type="unavailable"><x xmlns="` + nsMUC + `#user"><item affiliation="none" role="none"/></x></presence>`, "Jules"},
		// Kicked (§9.1, 307) or banned (§9.2, 301): the self-presence.
		{`<presence from="` + remoteRoom + `/Jules" to="` + juliet + `/phone" type="unavailable"><x xmlns="` + nsMUC + `#user"><item affiliation="none" role="none"/><status code="307"/><status code="110"/></x></presence>`, "(none)"},
		{`<presence from="` + remoteRoom + `/Jules" to="` + juliet + `/phone"><x xmlns="` + nsMUC + `#user"><item affiliation="none" role="participant"/><status code="110"/></x></presence>`, "Jules"},
		// The room destroyed (§10.9): the occupant's unavailable presence
		// with <destroy/>, which the XEP's example gives no status 110.
		{`<presence from="` + remoteRoom + `/Jules" to="` + juliet + `/phone" type="unavailable"><x xmlns="` + nsMUC + `#user"><item affiliation="none" role="none"/><destroy jid="` + remoteRoom + `"><reason>done</reason></destroy></x></presence>`, "(none)"},
	}
	for i, st := range steps {
		r.remoteStanza(st.presence)
		if got := nick(); got != st.want {
			t.Fatalf("step %d: nick %q, want %q", i, got, st.want)
		}
	}
	r.Router.Unbind(context.Background(), r.phone)
	r.m.rooms.mu.Lock()
	n := len(r.m.rooms.m)
	r.m.rooms.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d sessions' rooms kept after their end", n)
	}
}

// TestRoomNicksSessionEnded: a self-presence handled while its session
// ends keeps nothing for the ended session (SessionEnded may have run
// between the session's lookup and the nick's recording).
func TestRoomNicksSessionEnded(t *testing.T) {
	r := newRoomEnv(t, testConfig())
	r.Router.Unbind(context.Background(), r.phone)
	r.m.trackNick(r.phone, jid.MustParse(remoteRoom), "Jules")
	r.m.rooms.mu.Lock()
	n := len(r.m.rooms.m)
	r.m.rooms.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d sessions' rooms kept for an ended session", n)
	}
}

// TestMentions: a nick is found in a body as RFC 8266 compares nicks
// (XEP-0045 prepares them with its Nickname profile): whatever the
// case, Unicode width or normalisation form, or the kind and number of
// spaces inside a nick with spaces.
func TestMentions(t *testing.T) {
	tests := []struct {
		nick, body string
		want       bool
	}{
		{"Jules", "JULES, look", true},
		{"Jules", "\uff2a\uff35\uff2c\uff25\uff33, look", true}, // fullwidth
		{"Jules Verne", "jules verne, look", true},
		{"Jules Verne", "jules\u00a0verne, look", true}, // no-break space
		{"Jules Verne", "jules  verne, look", true},
		{"Jules Verne", "jules vernes, look", false},
		{"\u00c9lise", "E\u0301lise, look", true},                                   // the body decomposed
		{"E\u0301lise", "\u00c9lise, look", true},                                   // the nick decomposed
		{"Jose", "Jose\u0301, look", false},                                         // José is not Jose
		{"\u03a3\u03c9\u03c3\u03b1\u03c2", "\u03c3\u03c9\u03c3\u03b1\u03c3?", true}, // Greek final sigma folds
		{"Jules", "julesville", false},
	}
	for _, tc := range tests {
		nick, body := unquote(t, tc.nick), unquote(t, tc.body)
		msg := xml.New("jabber:client", "message", "type", "groupchat", "from", remoteRoom+"/romeo").
			Append(xml.New("jabber:client", "body").AppendText(body))
		if got := mentions(newRoomMessage(msg), juliet, nick); got != tc.want {
			t.Errorf("mentions(%q in %q) = %v, want %v", nick, body, got, tc.want)
		}
	}
}

func unquote(t *testing.T, s string) string {
	t.Helper()
	u, err := strconv.Unquote(`"` + s + `"`)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestContainsWord(t *testing.T) {
	tests := []struct {
		s, w string
		want bool
	}{
		{"jules, look", "jules", true},
		{"hey @jules!", "jules", true},
		{"julesville", "jules", false},
		{"bigjules", "jules", false},
		{"julesville and jules", "jules", true},
		{"ask juliet@example.org.", "juliet@example.org", true},
		{"élise", "lise", false},
		{"", "jules", false},
		{"jules", "", false},
	}
	for _, tc := range tests {
		if got := containsWord(tc.s, tc.w); got != tc.want {
			t.Errorf("containsWord(%q, %q) = %v, want %v", tc.s, tc.w, got, tc.want)
		}
	}
}

// TestGroupchatAccountSetting: an account's own choice overrides the
// server's groupchat, persists, and "" returns to the server's.
func TestGroupchatAccountSetting(t *testing.T) {
	ctx := context.Background()
	r := newRoomEnv(t, testConfig()) // the server's choice: mentions
	r.prec.dormant.Store(true)
	account := jid.MustParse(juliet)
	steps := []struct {
		set, body      string
		own, effective string
		push           bool
	}{
		{"", "hello all", "", "mentions", false},
		{"all", "hello all", "all", "all", true},
		{"none", "Jules!", "none", "none", false},
		{"", "Jules!", "", "mentions", true},
	}
	for i, st := range steps {
		if err := r.m.SetGroupchatSetting(ctx, account, st.set); err != nil {
			t.Fatal(err)
		}
		// A module started afresh reads it from the store.
		fresh := New(testConfig(), r.Store, r.Router, quiet)
		for _, m := range []*Module{r.m, fresh} {
			if own, eff, err := m.GroupchatSetting(ctx, account); err != nil || own != st.own || eff != st.effective {
				t.Fatalf("step %d: setting %q %q %v, want %q %q", i, own, eff, err, st.own, st.effective)
			}
		}
		r.Send(r.romeo, `<message type="groupchat" to="`+localRoom+`"><body>`+st.body+`</body></message>`)
		got := r.pushes()
		if (len(got) == 1) != st.push || len(got) > 1 {
			t.Fatalf("step %d (%s): pushes %v, want push %v", i, st.set, got, st.push)
		}
		for _, p := range got {
			r.answer(p, "result", "")
		}
	}
	if err := r.m.SetGroupchatSetting(ctx, account, "some"); err == nil {
		t.Fatal("an unknown setting was accepted")
	}
	// A deleted account's choice is not kept for a new one of that name.
	r.m.SetGroupchatSetting(ctx, account, "all")
	r.m.ForgetAccount(ctx, account)
	r.m.mu.Lock()
	_, kept := r.m.groupchatModes[juliet]
	r.m.mu.Unlock()
	if kept {
		t.Fatal("the setting stayed cached after ForgetAccount")
	}
}

// TestGroupchatConcurrent: room messages, local and remote, self-presences
// and the phone's session ending and binding again, all at once (run with
// -race); once the session is gone for good no room is kept for it.
func TestGroupchatConcurrent(t *testing.T) {
	cfg := testConfig()
	cfg.Groupchat = "all"
	r := newRoomEnv(t, cfg)
	r.prec.dormant.Store(true)
	ctx := context.Background()
	var wg sync.WaitGroup
	run := func(f func(i int)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				f(i)
			}
		}()
	}
	run(func(int) {
		r.Send(r.romeo, `<message type="groupchat" to="`+localRoom+`"><body>Jules?</body></message>`)
	})
	run(func(int) {
		r.remoteStanza(`<message type="groupchat" from="` + remoteRoom + `/romeo" to="` + juliet + `/phone"><body>Jules?</body></message>`)
	})
	run(func(i int) {
		typ := ""
		if i%3 == 2 {
			typ = ` type="unavailable"`
		}
		r.remoteStanza(`<presence from="` + remoteRoom + `/Jules" to="` + juliet + `/phone"` + typ + `><x xmlns="` + nsMUC + `#user"><item affiliation="none" role="participant"/><status code="110"/></x></presence>`)
	})
	run(func(int) {
		r.Router.Unbind(ctx, r.phone)
		r.Router.Bind(ctx, r.phone)
	})
	run(func(int) { r.pushes() })
	wg.Wait()
	r.Router.Unbind(ctx, r.phone)
	r.m.rooms.mu.Lock()
	n := len(r.m.rooms.m)
	r.m.rooms.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d sessions' rooms kept after their end", n)
	}
}

// TestGroupchatPrivacy: a room message's push says only how many
// messages there are unless the configuration asks for more (XEP-0357
// §9): no body, no room or nick, in local and remote rooms alike; with
// include_body and include_sender, the body and the occupant JID.
func TestGroupchatPrivacy(t *testing.T) {
	for _, tc := range []struct {
		name          string
		body, sender  bool
		want, notWant []string
	}{
		{"defaults", false, false, []string{field("message-count", "1")}, []string{"Jules, secret", "romeo", "last-message"}},
		{"body and sender", true, true, []string{field("last-message-body", "Jules, secret"), "romeo</value>"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.CoalesceInterval = 0
			cfg.IncludeBody, cfg.IncludeSender = tc.body, tc.sender
			r := newRoomEnv(t, cfg)
			r.prec.dormant.Store(true)
			for _, send := range []func(){
				func() {
					r.Send(r.romeo, `<message type="groupchat" to="`+localRoom+`"><body>Jules, secret</body></message>`)
				},
				func() {
					r.remoteStanza(`<message type="groupchat" from="` + remoteRoom + `/romeo" to="` + juliet + `/phone"><body>Jules, secret</body></message>`)
				},
			} {
				send()
				got := r.pushes()
				if len(got) != 1 {
					t.Fatalf("pushes: %v", got)
				}
				s := got[0].String()
				for _, w := range tc.want {
					if !strings.Contains(s, w) {
						t.Errorf("publish without %s: %s", w, s)
					}
				}
				for _, w := range tc.notWant {
					if strings.Contains(s, w) {
						t.Errorf("publish with %s: %s", w, s)
					}
				}
				r.answer(got[0], "result", "")
			}
		})
	}
}
