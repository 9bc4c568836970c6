package adhoc

import (
	"context"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/jid"
)

// fakePush is the push module's PushSettings.
type fakePush struct {
	own, def string
	set      []string
}

func (f *fakePush) GroupchatSetting(context.Context, jid.JID) (string, string, error) {
	if f.own == "" {
		return "", f.def, nil
	}
	return f.own, f.own, nil
}

func (f *fakePush) SetGroupchatSetting(_ context.Context, a jid.JID, mode string) error {
	f.set = append(f.set, a.String()+"="+mode)
	f.own = mode
	return nil
}

// TestPushCommand: a user sees the push command, its form shows their
// choice (or the server's) and sets it; a value not offered is
// bad-payload and changes nothing. Users of other domains may not run it.
func TestPushCommand(t *testing.T) {
	tests := []struct {
		name, value string
		own         string // before
		form        string // the form's value shown
		result      string // "" for a bad-payload error
		set         string
	}{
		{name: "all", value: "all", form: "default", result: "all", set: "romeo@example.org/orchard=all"},
		{name: "none", value: "none", own: "all", form: "all", result: "none", set: "romeo@example.org/orchard=none"},
		{name: "back to the server's", value: "default", own: "all", form: "all", result: "mentions", set: "romeo@example.org/orchard="},
		{name: "not an option", value: "some", form: "default"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, DefaultConfig())
			f := &fakePush{own: tc.own, def: "mentions"}
			e.m.AddPushCommand(f)
			s, rec := e.Bind(user1+"/orchard", true, 0)
			e.Send(s, `<iq type="get" id="d" to="example.org"><query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"/></iq>`)
			if got := rec.Take(); len(got) != 1 || !strings.Contains(got[0], `node="`+NodePushGroupchat+`"`) {
				t.Fatalf("command list: %v", got)
			}
			e.Send(s, cmd(`node="`+NodePushGroupchat+`" action="execute"`, ""))
			got := strings.Join(rec.Take(), "")
			if !strings.Contains(got, `status="executing"`) || !strings.Contains(got, `type="list-single"`) || !strings.Contains(got, `<required/><value>`+tc.form+`</value>`) {
				t.Fatalf("form: %s", got)
			}
			e.Send(s, cmd(`node="`+NodePushGroupchat+`" sessionid="s1"`, submit("groupchat", tc.value)))
			got = strings.Join(rec.Take(), "")
			if tc.result == "" {
				if !strings.Contains(got, `<bad-payload xmlns="http://jabber.org/protocol/commands"/>`) || len(f.set) != 0 {
					t.Fatalf("got %s, set %v; want bad-payload and nothing set", got, f.set)
				}
				return
			}
			if !strings.Contains(got, `status="completed"`) || !strings.Contains(got, `Group chat messages that push: `+tc.result+`.`) {
				t.Fatalf("completed: %s", got)
			}
			if len(f.set) != 1 || f.set[0] != tc.set {
				t.Fatalf("set %v, want %s", f.set, tc.set)
			}
		})
	}

	e := newTestEnv(t, DefaultConfig())
	e.m.AddPushCommand(&fakePush{def: "mentions"})
	c := e.m.byNode[NodePushGroupchat]
	server := jid.MustParse("example.org")
	for requester, want := range map[string]bool{
		"romeo@example.org/orchard":    true,
		"mallory@evil.example/x":       false,
		"example.org":                  false,
		"romeo@other.example.org/desk": false,
	} {
		if got := e.m.may(server, jid.MustParse(requester), c); got != want {
			t.Errorf("may %s run it: %v, want %v", requester, got, want)
		}
	}
}

// TestPushCommandFlows: the push command's session follows XEP-0050 as
// every command's does: cancel ends it with nothing set, an ended
// session's id is session-expired and an unknown one bad-sessionid
// (doc.go), and completing without the form is bad-payload.
func TestPushCommandFlows(t *testing.T) {
	node := `node="` + NodePushGroupchat + `"`
	tests := []struct {
		name  string
		steps []string // after execute: the command's attributes and payload, "|" between
		want  []string // in the answers, one each
	}{
		{"cancel", []string{`sessionid="s1" action="cancel"|`, `sessionid="s1" action="complete"|` + submit("groupchat", "all")},
			[]string{`status="canceled"`, `<session-expired xmlns="http://jabber.org/protocol/commands"/>`}},
		{"unknown session", []string{`sessionid="s9" action="complete"|` + submit("groupchat", "all")},
			[]string{`<bad-sessionid xmlns="http://jabber.org/protocol/commands"/>`}},
		{"no form", []string{`sessionid="s1" action="complete"|`},
			[]string{`<bad-payload xmlns="http://jabber.org/protocol/commands"/>`}},
		{"prev on the only stage", []string{`sessionid="s1" action="prev"|`},
			[]string{`<bad-action xmlns="http://jabber.org/protocol/commands"/>`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, DefaultConfig())
			f := &fakePush{def: "mentions"}
			e.m.AddPushCommand(f)
			s, rec := e.Bind(user1+"/orchard", true, 0)
			e.Send(s, cmd(node+` action="execute"`, ""))
			rec.Take()
			for i, st := range tc.steps {
				attrs, payload, _ := strings.Cut(st, "|")
				e.Send(s, cmd(node+" "+attrs, payload))
				if got := strings.Join(rec.Take(), ""); !strings.Contains(got, tc.want[i]) {
					t.Fatalf("step %d: %s, want %s", i, got, tc.want[i])
				}
			}
			if len(f.set) != 0 {
				t.Fatalf("set %v", f.set)
			}
		})
	}
}
