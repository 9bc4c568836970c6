package router_test

import (
	"context"
	"testing"

	"github.com/skald-xmpp/skald/internal/xml"
	"github.com/skald-xmpp/skald/jid"
	"github.com/skald-xmpp/skald/router"
)

// stamper is a PresenceRewriter that marks what it rewrites and a
// PresenceHandler that records what reaches the presence module.
type stamper struct{ handled []*xml.Element }

func (*stamper) Name() string { return "stamper" }

func (*stamper) RewritePresence(_ context.Context, _ *router.Session, p *xml.Element) {
	p.Append(xml.New("urn:x:stamp", "stamp"))
}

func (s *stamper) HandlePresence(_ context.Context, _ *router.Session, p *xml.Element, _ jid.JID) error {
	s.handled = append(s.handled, p)
	return nil
}

// TestPresenceRewriter: available presence, broadcast or directed, is
// rewritten before the presence module sees it; other presence types are
// not.
func TestPresenceRewriter(t *testing.T) {
	for _, tc := range []struct {
		name, presence string
		stamped        bool
	}{
		{"broadcast available", `<presence/>`, true},
		{"directed available", `<presence to='bob@localhost'/>`, true},
		{"unavailable", `<presence type='unavailable'/>`, false},
		{"subscribe", `<presence to='bob@localhost' type='subscribe'/>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := router.New(router.Config{Domains: []string{"localhost"}, Users: directory{"alice@localhost": true, "bob@localhost": true}})
			st := &stamper{}
			r.Register(st)
			e := &env{t: t, r: r}
			alice, _ := e.bind("alice@localhost/a", "a", prio(0))
			e.mustSend(alice, tc.presence)
			if len(st.handled) != 1 {
				t.Fatalf("presence module saw %d stanzas", len(st.handled))
			}
			if got := st.handled[0].Child("urn:x:stamp", "stamp") != nil; got != tc.stamped {
				t.Errorf("stamped %v, want %v: %s", got, tc.stamped, st.handled[0])
			}
		})
	}
}
