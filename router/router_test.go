package router_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
	"github.com/skald-xmpp/skald/stanza"
	"github.com/skald-xmpp/skald/stream"
)

type directory map[string]bool

func (d directory) UserExists(_ context.Context, bare string) (bool, error) { return d[bare], nil }

// recorder is a module recording offline storage and session events, and
// answering iq get {urn:test}q.
type recorder struct {
	mu      sync.Mutex
	offline []string
	ended   map[string]int
	bound   int
}

func (m *recorder) Name() string { return "recorder" }

func (m *recorder) StoreOffline(_ context.Context, ev *router.MessageEvent) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.offline = append(m.offline, ev.Stanza.Attr("id"))
	return true, nil
}

func (m *recorder) SessionBound(context.Context, *router.Session) {
	m.mu.Lock()
	m.bound++
	m.mu.Unlock()
}

func (m *recorder) SessionEnded(_ context.Context, s *router.Session) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ended == nil {
		m.ended = map[string]int{}
	}
	m.ended[s.ID]++
}

func (m *recorder) RegisterIQ(r *router.Router) {
	r.HandleIQ("get", "urn:test", "q", router.ToServer|router.ToAccount,
		router.IQHandlerFunc(func(_ context.Context, iq *router.IQ) (*xml.Element, error) {
			return stanza.Result(iq.Stanza), nil
		}))
}

func (m *recorder) offlineIDs() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return strings.Join(m.offline, ",")
}

type env struct {
	t   *testing.T
	r   *router.Router
	mod *recorder
}

func newEnv(t *testing.T, withOffline bool) *env {
	dir := directory{"alice@localhost": true, "bob@localhost": true}
	r := router.New(router.Config{Domains: []string{"localhost"}, Users: dir})
	mod := &recorder{}
	if withOffline {
		r.Register(mod)
	} else {
		r.Register(noOffline{mod})
	}
	return &env{t: t, r: r, mod: mod}
}

// noOffline hides the recorder's OfflineStorer.
type noOffline struct{ m *recorder }

func (n noOffline) Name() string { return "recorder" }
func (n noOffline) RegisterIQ(r *router.Router) {
	n.m.RegisterIQ(r)
}
func (n noOffline) SessionBound(ctx context.Context, s *router.Session) { n.m.SessionBound(ctx, s) }
func (n noOffline) SessionEnded(ctx context.Context, s *router.Session) { n.m.SessionEnded(ctx, s) }

// bind binds full as session id; priority nil means no available presence.
func (e *env) bind(full, id string, priority *int) (*router.Session, *routertest.Recorder) {
	out := &routertest.Recorder{ParentNS: stanza.NSClient}
	s := router.NewSession(jid.MustParse(full), id, out)
	e.r.Bind(context.Background(), s)
	if priority != nil {
		s.SetPresence(xml.New(stanza.NSClient, "presence"), *priority)
	}
	return s, out
}

func prio(p int) *int { return &p }

func (e *env) send(s *router.Session, st string) error {
	e.t.Helper()
	return e.r.HandleFromClient(context.Background(), s, routertest.Parse(e.t, st))
}

func (e *env) mustSend(s *router.Session, st string) {
	e.t.Helper()
	if err := e.send(s, st); err != nil {
		e.t.Fatalf("HandleFromClient(%s): %v", st, err)
	}
}

// errorCondition returns "type/condition" of an error stanza, or "".
func errorCondition(t *testing.T, s string) string {
	t.Helper()
	el := routertest.Parse(t, s)
	if el.Attr("type") != "error" {
		return ""
	}
	e := el.Child(stanza.NSClient, "error")
	if e == nil {
		return "no <error/>"
	}
	for _, c := range e.Elements() {
		if c.Space == stanza.NSStanzas && c.Local != "text" {
			return e.Attr("type") + "/" + c.Local
		}
	}
	return "no condition"
}

func TestMessageToBareJIDPriorityRules(t *testing.T) {
	e := newEnv(t, true)
	alice, aout := e.bind("alice@localhost/a", "a", prio(0))
	_, hi := e.bind("bob@localhost/hi", "b1", prio(5))
	_, zero := e.bind("bob@localhost/zero", "b2", prio(0))
	_, neg := e.bind("bob@localhost/neg", "b3", prio(-1))
	_, unavail := e.bind("bob@localhost/unavail", "b4", nil)

	e.mustSend(alice, `<message to='bob@localhost' type='chat' id='m1'><body>hi</body></message>`)
	want := `<message to="bob@localhost" type="chat" id="m1" from="alice@localhost/a"><body>hi</body></message>`
	routertest.Equal(t, "priority 5", hi.Take(), want)
	routertest.Equal(t, "priority 0", zero.Take(), want)
	routertest.Equal(t, "negative priority", neg.Take())
	routertest.Equal(t, "unavailable", unavail.Take())
	routertest.Equal(t, "sender", aout.Take())
	if got := e.mod.offlineIDs(); got != "" {
		t.Errorf("stored offline: %s", got)
	}

	// Only a negative-priority and an unavailable resource: offline.
	e.r.Unbind(context.Background(), e.r.Session(jid.MustParse("bob@localhost/hi")))
	e.r.Unbind(context.Background(), e.r.Session(jid.MustParse("bob@localhost/zero")))
	e.mustSend(alice, `<message to='bob@localhost' type='normal' id='m2'><body>hi</body></message>`)
	routertest.Equal(t, "negative priority", neg.Take())
	routertest.Equal(t, "unavailable", unavail.Take())
	if got := e.mod.offlineIDs(); got != "m2" {
		t.Errorf("stored offline %q, want m2", got)
	}
}

func TestMessageToFullJID(t *testing.T) {
	tests := []struct {
		name, typ string
		wantBare  bool   // delivered to bob's available resources
		wantErr   string // error returned to alice
	}{
		// RFC 6121 §8.5.3.2.1: only chat goes to the bare JID; normal
		// (and an unknown type, §5.2.2) is ignored or bounced, never
		// delivered to another resource or stored.
		{name: "chat falls back to bare", typ: "chat", wantBare: true},
		{name: "normal is refused", typ: "normal", wantErr: "cancel/service-unavailable"},
		{name: "unknown type is normal", typ: "fancy", wantErr: "cancel/service-unavailable"},
		{name: "groupchat is refused", typ: "groupchat", wantErr: "cancel/service-unavailable"},
		{name: "headline is dropped", typ: "headline"},
		{name: "error is dropped", typ: "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, true)
			alice, aout := e.bind("alice@localhost/a", "a", prio(0))
			_, phone := e.bind("bob@localhost/phone", "b1", prio(1))
			_, laptop := e.bind("bob@localhost/laptop", "b2", prio(1))

			// The bound resource gets it, and only it.
			e.mustSend(alice, `<message to='bob@localhost/laptop' type='`+tc.typ+`' id='x'><body>1</body></message>`)
			routertest.Equal(t, "laptop", laptop.Take(), `<message to="bob@localhost/laptop" type="`+tc.typ+`" id="x" from="alice@localhost/a"><body>1</body></message>`)
			routertest.Equal(t, "phone", phone.Take())

			// An offline resource.
			e.mustSend(alice, `<message to='bob@localhost/gone' type='`+tc.typ+`' id='y'><body>2</body></message>`)
			if tc.wantBare {
				want := `<message to="bob@localhost/gone" type="` + tc.typ + `" id="y" from="alice@localhost/a"><body>2</body></message>`
				routertest.Equal(t, "phone", phone.Take(), want)
				routertest.Equal(t, "laptop", laptop.Take(), want)
			} else {
				routertest.Equal(t, "phone", phone.Take())
				routertest.Equal(t, "laptop", laptop.Take())
			}
			got := aout.Take()
			switch {
			case tc.wantErr == "" && len(got) > 0:
				t.Errorf("sender got %v", got)
			case tc.wantErr != "" && (len(got) != 1 || errorCondition(t, got[0]) != tc.wantErr):
				t.Errorf("sender got %v, want %s", got, tc.wantErr)
			}
			if got := e.mod.offlineIDs(); got != "" {
				t.Errorf("stored offline: %s", got)
			}
		})
	}
}

// TestMessageWithoutTypeToGoneResource: a message with no type is normal
// (RFC 6121 §5.2.2), so to a full JID with no such resource it is bounced
// (§8.5.3.2.1), whether or not the account has other resources, and never
// kept offline.
func TestMessageWithoutTypeToGoneResource(t *testing.T) {
	e := newEnv(t, true)
	alice, aout := e.bind("alice@localhost/a", "a", prio(0))
	e.mustSend(alice, `<message to='bob@localhost/gone' id='n1'><body>hi</body></message>`)
	routertest.Equal(t, "alice", aout.Take(),
		`<message id="n1" from="bob@localhost/gone" to="alice@localhost/a" type="error"><body>hi</body><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`)
	if got := e.mod.offlineIDs(); got != "" {
		t.Errorf("stored offline: %s", got)
	}
}

// TestErrorMessageToBareJIDIgnored: RFC 6121 §8.5.2.1.1 and §8.5.2.2.1,
// "For a message stanza of type "error", the server MUST silently ignore
// the message", whether or not the account has available resources.
func TestErrorMessageToBareJIDIgnored(t *testing.T) {
	e := newEnv(t, true)
	alice, aout := e.bind("alice@localhost/a", "a", prio(0))
	_, bout := e.bind("bob@localhost/b", "b", prio(1))
	e.mustSend(alice, `<message to='bob@localhost' type='error' id='e1'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`)
	routertest.Equal(t, "bob", bout.Take())
	routertest.Equal(t, "alice", aout.Take())
	if got := e.mod.offlineIDs(); got != "" {
		t.Errorf("stored offline: %s", got)
	}
	// To the full JID it answers, it is delivered (§8.5.3.1).
	e.mustSend(alice, `<message to='bob@localhost/b' type='error' id='e2'/>`)
	routertest.Equal(t, "bob", bout.Take(), `<message to="bob@localhost/b" type="error" id="e2" from="alice@localhost/a"/>`)
}

func TestGroupchatToOfflineFullJID(t *testing.T) {
	e := newEnv(t, true)
	alice, aout := e.bind("alice@localhost/a", "a", prio(0))
	e.mustSend(alice, `<message to='bob@localhost/x' type='groupchat' id='g1'><body>hi</body></message>`)
	routertest.Equal(t, "alice", aout.Take(),
		`<message id="g1" from="bob@localhost/x" to="alice@localhost/a" type="error"><body>hi</body><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`)
	if got := e.mod.offlineIDs(); got != "" {
		t.Errorf("groupchat stored offline: %s", got)
	}
}

func TestHeadlineToOfflineUserDropped(t *testing.T) {
	e := newEnv(t, true)
	alice, aout := e.bind("alice@localhost/a", "a", prio(0))
	e.mustSend(alice, `<message to='bob@localhost' type='headline' id='h1'><body>news</body></message>`)
	e.mustSend(alice, `<message to='bob@localhost/r' type='headline' id='h2'><body>news</body></message>`)
	routertest.Equal(t, "alice", aout.Take())
	if got := e.mod.offlineIDs(); got != "" {
		t.Errorf("headline stored offline: %s", got)
	}
}

func TestOfflineWithoutStorage(t *testing.T) {
	e := newEnv(t, false)
	alice, aout := e.bind("alice@localhost/a", "a", prio(0))
	e.mustSend(alice, `<message to='bob@localhost' type='chat' id='c1'><body>x</body></message>`)
	got := aout.Take()
	if len(got) != 1 || errorCondition(t, got[0]) != "cancel/service-unavailable" {
		t.Fatalf("alice got %v", got)
	}
}

func TestUnknownUser(t *testing.T) {
	tests := []struct{ name, st, want string }{
		{"chat", `<message to='nobody@localhost' type='chat' id='1'><body>x</body></message>`, "cancel/service-unavailable"},
		{"normal full JID", `<message to='nobody@localhost/r' id='2'><body>x</body></message>`, "cancel/service-unavailable"},
		{"iq to bare", `<iq to='nobody@localhost' type='get' id='3'><q xmlns='urn:test'/></iq>`, "cancel/service-unavailable"},
		{"iq to full", `<iq to='nobody@localhost/r' type='get' id='4'><q xmlns='urn:test'/></iq>`, "cancel/service-unavailable"},
		{"headline", `<message to='nobody@localhost' type='headline' id='5'><body>x</body></message>`, ""},
		{"error", `<message to='nobody@localhost' type='error' id='6'><body>x</body></message>`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, true)
			alice, aout := e.bind("alice@localhost/a", "a", prio(0))
			e.mustSend(alice, tc.st)
			got := aout.Take()
			if tc.want == "" {
				routertest.Equal(t, "alice", got)
			} else if len(got) != 1 || errorCondition(t, got[0]) != tc.want {
				t.Fatalf("alice got %v, want %s", got, tc.want)
			}
			if got := e.mod.offlineIDs(); got != "" {
				t.Errorf("stored offline for an unknown user: %s", got)
			}
		})
	}
}

func TestIQRouting(t *testing.T) {
	e := newEnv(t, true)
	alice, aout := e.bind("alice@localhost/a", "a", prio(0))
	bob, bout := e.bind("bob@localhost/b", "b", prio(0))

	// To another user's full JID: routed as is, with 'from' stamped.
	e.mustSend(alice, `<iq to='bob@localhost/b' type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`)
	routertest.Equal(t, "bob", bout.Take(), `<iq to="bob@localhost/b" type="get" id="p1" from="alice@localhost/a"><ping xmlns="urn:xmpp:ping"/></iq>`)
	routertest.Equal(t, "alice", aout.Take())

	// The answer goes back to the requester's full JID.
	e.mustSend(bob, `<iq to='alice@localhost/a' type='result' id='p1'/>`)
	routertest.Equal(t, "alice", aout.Take(), `<iq to="alice@localhost/a" type="result" id="p1" from="bob@localhost/b"/>`)

	// Results and errors to the server or a bare JID are never answered.
	for _, st := range []string{
		`<iq type='result' id='r1'/>`,
		`<iq to='localhost' type='result' id='r2'/>`,
		`<iq to='bob@localhost' type='error' id='r3'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
		`<iq to='bob@localhost/gone' type='result' id='r4'/>`,
	} {
		e.mustSend(alice, st)
	}
	routertest.Equal(t, "alice after results", aout.Take())
	routertest.Equal(t, "bob after results", bout.Take())

	// A registered handler answers; the reply comes from the addressee.
	e.mustSend(alice, `<iq to='localhost' type='get' id='h1'><q xmlns='urn:test'/></iq>`)
	e.mustSend(alice, `<iq type='get' id='h2'><q xmlns='urn:test'/></iq>`)
	e.mustSend(alice, `<iq to='bob@localhost' type='get' id='h3'><q xmlns='urn:test'/></iq>`)
	routertest.Equal(t, "alice handler replies", aout.Take(),
		`<iq type="result" id="h1" from="localhost" to="alice@localhost/a"/>`,
		`<iq type="result" id="h2" to="alice@localhost/a"/>`,
		`<iq type="result" id="h3" from="bob@localhost" to="alice@localhost/a"/>`)
	routertest.Equal(t, "bob", bout.Take())

	tests := []struct{ name, st, want string }{
		{"unknown payload", `<iq to='localhost' type='get' id='e1'><x xmlns='urn:unknown'/></iq>`, "cancel/service-unavailable"},
		{"set with get-only handler", `<iq to='localhost' type='set' id='e2'><q xmlns='urn:test'/></iq>`, "cancel/service-unavailable"},
		{"two children", `<iq to='localhost' type='get' id='e3'><q xmlns='urn:test'/><q xmlns='urn:test'/></iq>`, "modify/bad-request"},
		{"no child", `<iq to='localhost' type='get' id='e4'/>`, "modify/bad-request"},
		{"no id", `<iq to='localhost' type='get'><q xmlns='urn:test'/></iq>`, "modify/bad-request"},
		{"bad type", `<iq to='localhost' type='foo' id='e5'><q xmlns='urn:test'/></iq>`, "modify/bad-request"},
		{"offline full JID", `<iq to='bob@localhost/gone' type='get' id='e6'><ping xmlns='urn:xmpp:ping'/></iq>`, "cancel/service-unavailable"},
		{"remote domain", `<iq to='example.org' type='get' id='e7'><q xmlns='urn:test'/></iq>`, "cancel/remote-server-not-found"},
		{"malformed to", `<iq to='a@b@localhost' type='get' id='e8'><q xmlns='urn:test'/></iq>`, "modify/jid-malformed"},
		// An empty 'to' is no address (RFC 7622 §3.2: the domainpart is
		// never empty), and a stanza for the server has none at all
		// (RFC 6120 §8.1.1.1).
		{"empty to", `<iq to='' type='get' id='e9'><q xmlns='urn:test'/></iq>`, "modify/jid-malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.mustSend(alice, tc.st)
			got := aout.Take()
			if len(got) != 1 || errorCondition(t, got[0]) != tc.want {
				t.Fatalf("got %v, want one %s error", got, tc.want)
			}
			if el := routertest.Parse(t, got[0]); el.Attr("id") != routertest.Parse(t, tc.st).Attr("id") || el.Attr("to") != "alice@localhost/a" {
				t.Errorf("error reply not addressed to the request: %s", got[0])
			}
			routertest.Equal(t, "bob", bout.Take())
		})
	}
}

func TestMalformedTo(t *testing.T) {
	e := newEnv(t, true)
	alice, aout := e.bind("alice@localhost/a", "a", prio(0))
	e.mustSend(alice, `<message to='@localhost' id='j1'><body>x</body></message>`)
	routertest.Equal(t, "alice", aout.Take(),
		`<message id="j1" from="@localhost" to="alice@localhost/a" type="error"><body>x</body><error type="modify"><jid-malformed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`)
	e.mustSend(alice, `<message to='' id='j3'><body>x</body></message>`)
	e.mustSend(alice, `<presence to=''/>`)
	routertest.Equal(t, "alice", aout.Take(),
		`<message id="j3" to="alice@localhost/a" type="error"><body>x</body><error type="modify"><jid-malformed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></message>`,
		`<presence to="alice@localhost/a" type="error"><error type="modify"><jid-malformed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></presence>`)
	// An error stanza is never answered with an error.
	e.mustSend(alice, `<message to='@localhost' type='error' id='j2'/>`)
	routertest.Equal(t, "alice", aout.Take())
}

func TestSpoofedFromIsStreamError(t *testing.T) {
	e := newEnv(t, true)
	alice, _ := e.bind("alice@localhost/a", "a", prio(0))
	for _, from := range []string{"alice@localhost/a", "alice@localhost"} {
		if err := e.send(alice, `<message from='`+from+`' to='alice@localhost/a' type='headline'/>`); err != nil {
			t.Errorf("from=%s: %v", from, err)
		}
	}
	for _, from := range []string{"bob@localhost/b", "alice@localhost/other", "localhost", "@@"} {
		err := e.send(alice, `<message from='`+from+`' to='bob@localhost'/>`)
		if !errors.Is(err, stream.New(stream.InvalidFrom, "")) {
			t.Errorf("from=%s: got %v, want invalid-from", from, err)
		}
	}
}

func TestBindConflict(t *testing.T) {
	e := newEnv(t, true)
	old, oldOut := e.bind("alice@localhost/r", "old", prio(0))
	nu, nuOut := e.bind("alice@localhost/r", "new", prio(0))

	if got := strings.Join(oldOut.Closed(), ","); got != "conflict" {
		t.Errorf("old session closed with %q, want conflict", got)
	}
	if len(nuOut.Closed()) != 0 {
		t.Errorf("new session closed: %v", nuOut.Closed())
	}
	if e.r.Session(jid.MustParse("alice@localhost/r")) != nu {
		t.Fatal("the new session is not bound")
	}
	// The old transport notices and unbinds: the new session stays, and
	// the old one ended exactly once.
	e.r.Unbind(context.Background(), old)
	if e.r.Session(jid.MustParse("alice@localhost/r")) != nu {
		t.Fatal("unbinding the replaced session unbound the new one")
	}
	if got := e.mod.ended["old"]; got != 1 {
		t.Errorf("SessionEnded(old) called %d times, want 1", got)
	}
	if got := e.mod.ended["new"]; got != 0 {
		t.Errorf("SessionEnded(new) called %d times", got)
	}
	// Messages reach the new session only.
	bob, _ := e.bind("bob@localhost/b", "b", prio(0))
	e.mustSend(bob, `<message to='alice@localhost/r' type='chat' id='m'><body>x</body></message>`)
	routertest.Equal(t, "old", oldOut.Take())
	if got := nuOut.Take(); len(got) != 1 {
		t.Errorf("new session got %v", got)
	}
	e.r.Unbind(context.Background(), nu)
	e.r.Unbind(context.Background(), nu)
	if got := e.mod.ended["new"]; got != 1 {
		t.Errorf("SessionEnded(new) called %d times, want 1", got)
	}
	if len(e.r.Sessions("alice@localhost")) != 0 {
		t.Error("alice still has sessions")
	}
}

// A message whose only target refuses it (queue full or closed) is not
// lost: it goes to offline storage as if no session could take it.
func TestFailedDeliveryFallsBackToOffline(t *testing.T) {
	e := newEnv(t, true)
	alice, aout := e.bind("alice@localhost/a", "a", prio(0))
	_, bout := e.bind("bob@localhost/b", "b", prio(0))
	bout.RefuseAfter(0)
	e.mustSend(alice, `<message to='bob@localhost' type='chat' id='f1'><body>x</body></message>`)
	e.mustSend(alice, `<message to='bob@localhost/b' type='chat' id='f2'><body>x</body></message>`)
	if got := e.mod.offlineIDs(); got != "f1,f2" {
		t.Errorf("stored offline %q, want f1,f2", got)
	}
	routertest.Equal(t, "alice", aout.Take())
}

func TestUndelivered(t *testing.T) {
	e := newEnv(t, true)
	alice, _ := e.bind("alice@localhost/a", "a", prio(0))
	msgs := []*xml.Element{
		routertest.Parse(t, `<message from='bob@localhost/b' to='alice@localhost/a' type='chat' id='u1'><body>1</body></message>`),
		routertest.Parse(t, `<message from='bob@localhost/b' to='alice@localhost/a' type='groupchat' id='u2'><body>2</body></message>`),
		routertest.Parse(t, `<message from='bob@localhost/b' to='alice@localhost/a' type='headline' id='u3'><body>3</body></message>`),
		routertest.Parse(t, `<message from='alice@localhost' to='alice@localhost/a' id='u4'><result xmlns='urn:xmpp:mam:2'/></message>`),
		routertest.Parse(t, `<iq from='bob@localhost/b' to='alice@localhost/a' type='get' id='u5'><ping xmlns='urn:xmpp:ping'/></iq>`),
		routertest.Parse(t, `<message from='bob@localhost/b' to='alice@localhost/a' id='u6'><body>6</body></message>`),
	}
	e.r.Undelivered(context.Background(), alice, msgs)
	if got := e.mod.offlineIDs(); got != "u1,u6" {
		t.Errorf("kept offline %q, want u1,u6", got)
	}
}
