package presence_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/skald-xmpp/skald/internal/routertest"
	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/storage"
)

// A state names one side's item: "none", "none+out", "none+in",
// "none+out+in", "to", "to+in", "from", "from+out", "both", with
// "+approved" for a pre-approval and "-" for no item at all.
func mkItem(contact, state string) (storage.RosterItem, bool) {
	if state == "-" {
		return storage.RosterItem{}, false
	}
	parts := strings.Split(state, "+")
	it := storage.RosterItem{JID: contact, Subscription: parts[0]}
	for _, p := range parts[1:] {
		switch p {
		case "out":
			it.AskOut = true
		case "in":
			it.PendingIn = true
		case "approved":
			it.PreApproved = true
		case "hidden":
			it.Hidden = true
		default:
			panic("bad state " + state)
		}
	}
	return it, true
}

func stateOf(it *storage.RosterItem) string {
	if it == nil {
		return "-"
	}
	s := it.Subscription
	if it.AskOut {
		s += "+out"
	}
	if it.PendingIn {
		s += "+in"
	}
	if it.PreApproved {
		s += "+approved"
	}
	if it.Hidden {
		s += "+hidden"
	}
	return s
}

// mirror is the contact's state matching the user's.
var mirror = map[string]string{
	"none": "none", "none+out": "none+in", "none+in": "none+out", "none+out+in": "none+out+in",
	"to": "from", "to+in": "from+out", "from": "to", "from+out": "to+in", "both": "both",
}

// summary condenses a stanza for the state tables: roster pushes as
// "push JID SUB [ask] [approved]", presence as "TYPE from=JID".
func summary(t *testing.T, raw string) string {
	el := routertest.Parse(t, raw)
	switch el.Local {
	case "iq":
		it := el.FirstElement().FirstElement()
		s := "push " + it.Attr("jid") + " " + it.Attr("subscription")
		if it.Attr("ask") != "" {
			s += " ask"
		}
		if it.Attr("approved") != "" {
			s += " approved"
		}
		return s
	case "presence":
		typ := el.Attr("type")
		if typ == "" {
			typ = "available"
		}
		return typ + " from=" + el.Attr("from")
	}
	return raw
}

// TestStateTables walks RFC 6121 Appendix A: user a@x sends each
// subscription stanza to contact b@x in each of the nine states, both
// sides local and available; it checks both rosters and what both clients
// were sent.
func TestStateTables(t *testing.T) {
	type row struct {
		typ, before   string   // a's state (b's is its mirror)
		after, bAfter string   // a's and b's states after
		toA, toB      []string // summaries of what a@x/1 and b@x/1 got
	}
	sub := func(f string) string { return f + " from=a@x" }
	rows := []row{
		// A.2.1 / A.3.1
		{"subscribe", "none", "none+out", "none+in", []string{"push b@x none ask"}, []string{sub("subscribe")}},
		{"subscribe", "none+out", "none+out", "none+in", nil, nil},
		{"subscribe", "none+in", "none+out+in", "none+out+in", []string{"push b@x none ask"}, []string{sub("subscribe")}},
		{"subscribe", "none+out+in", "none+out+in", "none+out+in", nil, nil},
		{"subscribe", "to", "to", "from", []string{"available from=b@x/1"}, nil},
		{"subscribe", "to+in", "to+in", "from+out", []string{"available from=b@x/1"}, nil},
		{"subscribe", "from", "from+out", "to+in", []string{"push b@x from ask"}, []string{sub("subscribe")}},
		{"subscribe", "from+out", "from+out", "to+in", nil, nil},
		{"subscribe", "both", "both", "both", []string{"available from=b@x/1"}, nil},
		// A.2.3 / A.3.3, with pre-approval (§3.4) where nothing is pending
		{"subscribed", "none", "none+approved", "none", []string{"push b@x none approved"}, nil},
		{"subscribed", "none+out", "none+out+approved", "none+in", []string{"push b@x none ask approved"}, nil},
		{"subscribed", "none+in", "from", "to",
			[]string{"push b@x from"},
			[]string{sub("subscribed"), "push a@x to", "available from=a@x/1"}},
		{"subscribed", "none+out+in", "from+out", "to+in",
			[]string{"push b@x from ask"},
			[]string{sub("subscribed"), "push a@x to", "available from=a@x/1"}},
		{"subscribed", "to", "to+approved", "from", []string{"push b@x to approved"}, nil},
		{"subscribed", "to+in", "both", "both",
			[]string{"push b@x both"},
			[]string{sub("subscribed"), "push a@x both", "available from=a@x/1"}},
		{"subscribed", "from", "from", "to", nil, nil},
		{"subscribed", "from+out", "from+out", "to+in", nil, nil},
		{"subscribed", "both", "both", "both", nil, nil},
		// A.2.2 / A.3.2
		{"unsubscribe", "none", "none", "none", nil, nil},
		{"unsubscribe", "none+out", "none", "none", []string{"push b@x none"}, []string{sub("unsubscribe")}},
		{"unsubscribe", "none+in", "none+in", "none+out", nil, nil},
		{"unsubscribe", "none+out+in", "none+in", "none+out", []string{"push b@x none"}, []string{sub("unsubscribe")}},
		{"unsubscribe", "to", "none", "none",
			[]string{"push b@x none", "unavailable from=b@x/1"},
			[]string{sub("unsubscribe"), "push a@x none"}},
		{"unsubscribe", "to+in", "none+in", "none+out",
			[]string{"push b@x none", "unavailable from=b@x/1"},
			[]string{sub("unsubscribe"), "push a@x none ask"}},
		{"unsubscribe", "from", "from", "to", nil, nil},
		{"unsubscribe", "from+out", "from", "to", []string{"push b@x from"}, []string{sub("unsubscribe")}},
		{"unsubscribe", "both", "from", "to",
			[]string{"push b@x from", "unavailable from=b@x/1"},
			[]string{sub("unsubscribe"), "push a@x to"}},
		// A.2.4 / A.3.4
		{"unsubscribed", "none", "none", "none", nil, nil},
		{"unsubscribed", "none+approved", "none", "none", []string{"push b@x none"}, nil},
		{"unsubscribed", "none+out", "none+out", "none+in", nil, nil},
		{"unsubscribed", "none+in", "none", "none", nil, []string{sub("unsubscribed"), "push a@x none"}},
		{"unsubscribed", "none+out+in", "none+out", "none+in", nil, []string{sub("unsubscribed"), "push a@x none"}},
		{"unsubscribed", "to", "to", "from", nil, nil},
		{"unsubscribed", "to+in", "to", "from", nil, []string{sub("unsubscribed"), "push a@x from"}},
		// §3.2.2: unavailable goes before unsubscribed, while b is still
		// subscribed to a's presence.
		{"unsubscribed", "from", "none", "none",
			[]string{"push b@x none"},
			[]string{"unavailable from=a@x/1", sub("unsubscribed"), "push a@x none"}},
		{"unsubscribed", "from+out", "none+out", "none+in",
			[]string{"push b@x none ask"},
			[]string{"unavailable from=a@x/1", sub("unsubscribed"), "push a@x none"}},
		{"unsubscribed", "both", "to", "from",
			[]string{"push b@x to"},
			[]string{"unavailable from=a@x/1", sub("unsubscribed"), "push a@x from"}},
	}
	for _, tc := range rows {
		t.Run(tc.typ+"/"+tc.before, func(t *testing.T) {
			e := newEnv(t, "a@x", "b@x")
			bBefore := mirror[strings.TrimSuffix(tc.before, "+approved")]
			if it, ok := mkItem("b@x", tc.before); ok {
				e.put("a@x", it)
			}
			if it, ok := mkItem("a@x", bBefore); ok {
				e.put("b@x", it)
			}
			for _, full := range []string{"a@x/1", "b@x/1"} {
				s := e.bind(full)
				s.SetInterested()
				s.SetPresence(xml.New("jabber:client", "presence", "from", full), 0)
			}
			e.send("a@x/1", fmt.Sprintf(`<presence to="b@x" type="%s"/>`, tc.typ))

			if got := stateOf(e.item("a@x", "b@x")); got != tc.after {
				t.Errorf("a's item: %s, want %s", got, tc.after)
			}
			if got := stateOf(e.item("b@x", "a@x")); got != tc.bAfter {
				t.Errorf("b's item: %s, want %s", got, tc.bAfter)
			}
			for full, want := range map[string][]string{"a@x/1": tc.toA, "b@x/1": tc.toB} {
				var got []string
				for _, raw := range e.take(full) {
					got = append(got, summary(t, raw))
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s got %q, want %q", full, got, want)
				}
			}
		})
	}
}
