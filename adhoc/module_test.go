package adhoc

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/skald-xmpp/skald/disco"
	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/router"
)

const (
	admin1 = "boss@example.org"
	user1  = "romeo@example.org"
)

// testEnv is a router with disco and a module holding three commands:
// "two" (two forms, for everybody), "now" (no form) and "secret"
// (admin only, one form). Session ids are s1, s2, ...; the clock is
// moved by hand.
type testEnv struct {
	*routertest.Env
	m     *Module
	clock time.Time
}

func textForm(v string) func(context.Context, *Call) *xml.Element {
	return func(context.Context, *Call) *xml.Element {
		return newForm("form", "", "", "").Append(field("text-single", v, "", true))
	}
}

func newTestEnv(t *testing.T, cfg Config) *testEnv {
	e := &testEnv{Env: routertest.New(t, admin1, user1), clock: time.Unix(1e9, 0)}
	e.m = New(cfg, []string{admin1}, slog.New(slog.DiscardHandler))
	n := 0
	e.m.sessions.newID = func() string { n++; return fmt.Sprintf("s%d", n) }
	e.m.sessions.now = func() time.Time { return e.clock }
	e.m.Add(
		&Command{Node: "two", Name: "Two forms", Stages: []func(context.Context, *Call) *xml.Element{textForm("a"), textForm("b")},
			Complete: func(_ context.Context, c *Call, f []Form) (*Outcome, error) {
				return &Outcome{Notes: []Note{{"info", "a=" + f[0].Value("a") + " b=" + f[1].Value("b")}}}, nil
			}},
		&Command{Node: "now", Name: "At once",
			Complete: func(context.Context, *Call, []Form) (*Outcome, error) {
				return &Outcome{Form: newForm("result", "", "", "").Append(field("", "n", "", false, "1"))}, nil
			}},
		&Command{Node: "secret", Name: "Admins only", Admin: true, Stages: []func(context.Context, *Call) *xml.Element{textForm("a")},
			Complete: func(context.Context, *Call, []Form) (*Outcome, error) { return nil, nil }},
	)
	e.Router.Register(disco.New(e.Router), e.m)
	return e
}

func cmd(attrs, inner string) string {
	return `<iq type="set" id="c" to="example.org"><command xmlns="http://jabber.org/protocol/commands" ` + attrs + `>` + inner + `</command></iq>`
}

func submit(v, value string) string {
	return `<x xmlns="jabber:x:data" type="submit"><field var="` + v + `"><value>` + value + `</value></field></x>`
}

const (
	toRomeo   = `<iq xmlns="jabber:client" type="result" id="c" from="example.org" to="romeo@example.org/orchard">`
	formA     = `<x xmlns="jabber:x:data" type="form"><field var="a" type="text-single"><required/></field></x>`
	formB     = `<x xmlns="jabber:x:data" type="form"><field var="b" type="text-single"><required/></field></x>`
	cmdOpen   = `<command xmlns="http://jabber.org/protocol/commands" node="two" sessionid="s1" `
	langEn    = ` xml:lang="en"`
	stage1    = toRomeo + cmdOpen + `status="executing"` + langEn + `><actions execute="next"><next/></actions>` + formA + `</command></iq>`
	stage2    = toRomeo + cmdOpen + `status="executing"` + langEn + `><actions execute="complete"><prev/><complete/></actions>` + formB + `</command></iq>`
	completed = toRomeo + cmdOpen + `status="completed"` + langEn + `><note type="info">a=1 b=2</note></command></iq>`
	canceled  = toRomeo + cmdOpen + `status="canceled"` + langEn + `/></iq>`
)

func cmdErr(typ, cond, app, text string) string {
	s := `<iq xmlns="jabber:client" id="c" from="example.org" to="romeo@example.org/orchard" type="error"><error type="` + typ + `"><` + cond + ` xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>`
	if text != "" {
		s += `<text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">` + text + `</text>`
	}
	if app != "" {
		s += `<` + app + ` xmlns="http://jabber.org/protocol/commands"/>`
	}
	return s + `</error></iq>`
}

// TestFlow drives sessions of romeo's through the XEP-0050 stages and
// errors, one exchange at a time.
func TestFlow(t *testing.T) {
	start := cmd(`node="two" action="execute"`, "")
	next := func(v, val string) string { return cmd(`node="two" sessionid="s1"`, submit(v, val)) }
	type step struct{ in, want string }
	tests := []struct {
		name  string
		cfg   func(*Config)
		steps []step
		after func(e *testEnv) // between the steps given and the last
		last  []step
	}{{
		name:  "execute, next, complete",
		steps: []step{{start, stage1}, {next("a", "1"), stage2}, {cmd(`node="two" sessionid="s1" action="complete"`, submit("b", "2")), completed}},
	}, {
		name:  "execute means next, then complete; no action means execute",
		steps: []step{{cmd(`node="two"`, ""), stage1}, {cmd(`node="two" sessionid="s1" action="execute"`, submit("a", "1")), stage2}, {next("b", "2"), completed}},
	}, {
		name:  "prev goes back and forgets",
		steps: []step{{start, stage1}, {next("a", "x"), stage2}, {cmd(`node="two" sessionid="s1" action="prev"`, ""), stage1}, {next("a", "1"), stage2}, {next("b", "2"), completed}},
	}, {
		name:  "cancel, then the id is expired",
		steps: []step{{start, stage1}, {cmd(`node="two" sessionid="s1" action="cancel"`, ""), canceled}, {next("a", "1"), cmdErr("cancel", "not-allowed", "session-expired", "")}},
	}, {
		name:  "completed, then the id is expired",
		steps: []step{{start, stage1}, {next("a", "1"), stage2}, {next("b", "2"), completed}, {next("b", "2"), cmdErr("cancel", "not-allowed", "session-expired", "")}},
	}, {
		name: "bad actions",
		steps: []step{
			{cmd(`node="two" action="next"`, ""), cmdErr("modify", "bad-request", "bad-action", "start the command with execute")},
			{start, stage1},
			{cmd(`node="two" sessionid="s1" action="prev"`, ""), cmdErr("modify", "bad-request", "bad-action", "this is the first stage")},
			{cmd(`node="two" sessionid="s1" action="complete"`, submit("a", "1")), cmdErr("modify", "bad-request", "bad-action", "there are more stages")},
			{next("a", "1"), stage2},
			{cmd(`node="two" sessionid="s1" action="next"`, submit("b", "1")), cmdErr("modify", "bad-request", "bad-action", "this is the last stage: complete it")},
			{next("b", "2"), completed},
		},
	}, {
		name:  "malformed action",
		steps: []step{{start, stage1}, {cmd(`node="two" sessionid="s1" action="jump"`, ""), cmdErr("modify", "bad-request", "malformed-action", "")}, {next("a", "1"), stage2}},
	}, {
		name: "bad payloads keep the stage",
		steps: []step{
			{start, stage1},
			{cmd(`node="two" sessionid="s1"`, ""), cmdErr("modify", "bad-request", "bad-payload", "submit the form")},
			{next("a", ""), cmdErr("modify", "bad-request", "bad-payload", "required field missing: a")},
			{next("other", "1"), cmdErr("modify", "bad-request", "bad-payload", "required field missing: a")},
			{cmd(`node="two" sessionid="s1"`, `<x xmlns="jabber:x:data" type="result"><field var="a"><value>1</value></field></x>`), cmdErr("modify", "bad-request", "bad-payload", "the form must be of type submit")},
			{cmd(`node="two" sessionid="s1"`, `<x xmlns="jabber:x:data" type="cancel"><field var="a"><value>1</value></field></x>`), stage2},
		},
	}, {
		name: "bad session ids",
		steps: []step{
			{start, stage1},
			{cmd(`node="two" sessionid="nope"`, submit("a", "1")), cmdErr("modify", "bad-request", "bad-sessionid", "")},
			{cmd(`node="now" sessionid="s1"`, ""), cmdErr("modify", "bad-request", "bad-sessionid", "")},
			{next("a", "1"), stage2},
		},
	}, {
		name: "locale",
		steps: []step{
			{`<iq type="set" id="c" to="example.org" xml:lang="en"><command xmlns="http://jabber.org/protocol/commands" node="two"/></iq>`, stage1},
			{`<iq type="set" id="c" to="example.org"><command xmlns="http://jabber.org/protocol/commands" node="two" sessionid="s1" xml:lang="de">` + submit("a", "1") + `</command></iq>`,
				cmdErr("modify", "bad-request", "bad-locale", "a session keeps the language it started with")},
			{`<iq type="set" id="c" to="example.org" xml:lang="en-GB"><command xmlns="http://jabber.org/protocol/commands" node="two" sessionid="s1">` + submit("a", "1") + `</command></iq>`,
				cmdErr("modify", "bad-request", "bad-locale", "a session keeps the language it started with")},
			{next("a", "1"), stage2},
		},
	}, {
		name:  "timeout",
		steps: []step{{start, stage1}},
		after: func(e *testEnv) { e.clock = e.clock.Add(DefaultConfig().SessionTimeout + time.Second) },
		last:  []step{{next("a", "1"), cmdErr("cancel", "not-allowed", "session-expired", "")}},
	}, {
		name:  "a request restarts the timeout",
		steps: []step{{start, stage1}},
		after: func(e *testEnv) {
			e.clock = e.clock.Add(DefaultConfig().SessionTimeout - time.Second)
		},
		last: []step{{next("a", "1"), stage2}},
	}, {
		name: "sessions per account",
		cfg:  func(c *Config) { c.MaxSessionsPerAccount = 1 },
		steps: []step{
			{start, stage1},
			{start, cmdErr("wait", "resource-constraint", "", "too many commands in progress; complete or cancel some")},
			{cmd(`node="two" sessionid="s1" action="cancel"`, ""), canceled},
			{start, strings.ReplaceAll(stage1, `sessionid="s1"`, `sessionid="s2"`)},
		},
	}, {
		name: "no form: completed at once",
		steps: []step{{cmd(`node="now"`, ""), toRomeo + `<command xmlns="http://jabber.org/protocol/commands" node="now" sessionid="s1" status="completed"` + langEn +
			`><x xmlns="jabber:x:data" type="result"><field var="n"><value>1</value></field></x></command></iq>`},
			{cmd(`node="now" sessionid="s1"`, ""), cmdErr("cancel", "not-allowed", "session-expired", "")}},
	}, {
		name: "nodes and rights",
		steps: []step{
			{cmd(`node="nope"`, ""), cmdErr("cancel", "item-not-found", "", "")},
			{cmd(``, ""), cmdErr("modify", "bad-request", "", "the command has no node")},
			{cmd(`node="secret"`, ""), cmdErr("auth", "forbidden", "", "")},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			e := newTestEnv(t, cfg)
			s, rec := e.Bind(user1+"/orchard", true, 0)
			run := func(steps []step) {
				for i, st := range steps {
					e.Send(s, st.in)
					got := rec.Take()
					if len(got) != 1 || got[0] != st.want {
						t.Fatalf("step %d: %s\ngot:  %s\nwant: %s", i, st.in, strings.Join(got, "\n      "), st.want)
					}
				}
			}
			run(tt.steps)
			if tt.after != nil {
				tt.after(e)
			}
			run(tt.last)
		})
	}
}

// TestSessionsBoundToFullJID: another resource of the same account may
// not continue a session, and a session ends with its stream.
func TestSessionsBoundToFullJID(t *testing.T) {
	e := newTestEnv(t, DefaultConfig())
	s, rec := e.Bind(user1+"/orchard", true, 0)
	other, otherRec := e.Bind(user1+"/balcony", true, 0)
	e.Send(s, cmd(`node="two"`, ""))
	routertest.Expect(t, rec, stage1)
	e.Send(other, cmd(`node="two" sessionid="s1"`, submit("a", "1")))
	routertest.Expect(t, otherRec, strings.ReplaceAll(cmdErr("modify", "bad-request", "bad-sessionid", ""), "orchard", "balcony"))
	if n := e.m.sessions.count(); n != 1 {
		t.Fatalf("%d sessions", n)
	}
	e.Router.Unbind(context.Background(), s)
	if n := e.m.sessions.count(); n != 0 {
		t.Fatalf("%d sessions after the stream ended", n)
	}
}

// TestSessionsInAll: the table's cap over all accounts.
func TestSessionsInAll(t *testing.T) {
	e := newTestEnv(t, DefaultConfig())
	e.m.sessions.maxOpen = 1
	s, rec := e.Bind(user1+"/orchard", true, 0)
	boss, bossRec := e.Bind(admin1+"/desk", true, 0)
	e.Send(s, cmd(`node="two"`, ""))
	routertest.Expect(t, rec, stage1)
	e.Send(boss, cmd(`node="two"`, ""))
	routertest.Expect(t, bossRec, strings.ReplaceAll(cmdErr("wait", "resource-constraint", "", "too many commands in progress on this server; try again later"), "romeo@example.org/orchard", "boss@example.org/desk"))
}

// TestAdminCommandForAdmin: the admin command runs for an admin.
func TestAdminCommandForAdmin(t *testing.T) {
	e := newTestEnv(t, DefaultConfig())
	s, rec := e.Bind(admin1+"/desk", true, 0)
	e.Send(s, cmd(`node="secret"`, ""))
	got := rec.Take()
	if len(got) != 1 || !strings.Contains(got[0], `status="executing"`) {
		t.Fatalf("got %v", got)
	}
	e.Send(s, cmd(`node="secret" sessionid="s1"`, submit("a", "1")))
	got = rec.Take()
	if len(got) != 1 || !strings.Contains(got[0], `status="completed"`) {
		t.Fatalf("got %v", got)
	}
}

// TestDisco: the command list shows what the requester may run, and the
// nodes describe themselves (XEP-0050, Retrieving the Command List).
func TestDisco(t *testing.T) {
	e := newTestEnv(t, DefaultConfig())
	s, rec := e.Bind(user1+"/orchard", true, 0)
	boss, bossRec := e.Bind(admin1+"/desk", true, 0)
	items := `<iq type="get" id="d" to="example.org"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"/></iq>`
	e.Send(s, items)
	routertest.Expect(t, rec, `<iq xmlns="jabber:client" type="result" id="d" from="example.org" to="romeo@example.org/orchard"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands">`+
		`<item jid="example.org" node="two" name="Two forms"/><item jid="example.org" node="now" name="At once"/></query></iq>`)
	e.Send(boss, items)
	routertest.Expect(t, bossRec, `<iq xmlns="jabber:client" type="result" id="d" from="example.org" to="boss@example.org/desk"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands">`+
		`<item jid="example.org" node="two" name="Two forms"/><item jid="example.org" node="now" name="At once"/><item jid="example.org" node="secret" name="Admins only"/></query></iq>`)

	info := func(node string) string {
		return `<iq type="get" id="d" to="example.org"><query xmlns="http://jabber.org/protocol/disco#info" node="` + node + `"/></iq>`
	}
	e.Send(s, info("secret"))
	routertest.Expect(t, rec, `<iq xmlns="jabber:client" id="d" from="example.org" to="romeo@example.org/orchard" type="error"><error type="auth"><forbidden xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)
	e.Send(boss, info("secret"))
	routertest.Expect(t, bossRec, `<iq xmlns="jabber:client" type="result" id="d" from="example.org" to="boss@example.org/desk"><query xmlns="http://jabber.org/protocol/disco#info" node="secret">`+
		`<identity category="automation" type="command-node" name="Admins only"/><feature var="http://jabber.org/protocol/commands"/><feature var="jabber:x:data"/></query></iq>`)
	e.Send(s, info("http://jabber.org/protocol/commands"))
	routertest.Expect(t, rec, `<iq xmlns="jabber:client" type="result" id="d" from="example.org" to="romeo@example.org/orchard"><query xmlns="http://jabber.org/protocol/disco#info" node="http://jabber.org/protocol/commands">`+
		`<identity category="automation" type="command-list"/><feature var="http://jabber.org/protocol/commands"/></query></iq>`)
	e.Send(s, info("nope"))
	routertest.Expect(t, rec, `<iq xmlns="jabber:client" id="d" from="example.org" to="romeo@example.org/orchard" type="error"><error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>`)
	e.Send(s, `<iq type="get" id="d" to="example.org"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`)
	if got := rec.Take(); len(got) != 1 || !strings.Contains(got[0], `<feature var="http://jabber.org/protocol/commands"/>`) {
		t.Errorf("server disco#info: %v", got)
	}
}

var _ router.Module = (*Module)(nil)
